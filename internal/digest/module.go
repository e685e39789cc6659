package digest

import (
	"crypto/sha3"
	"encoding/hex"
	"fmt"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// File is one file of a module: its module-relative, '/'-separated path and
// its raw content.
type File struct {
	Path    string
	Content []byte
}

// LicensePath is the license file that is module content, at the module root.
const LicensePath = "LICENSE"

// DocPaths are the candidate documentation files, in order of preference: the
// first one present is module content, the others are not.
var DocPaths = []string{"buf.md", "README.md", "README.markdown"}

// SelectFiles returns the paths that are module content, in manifest order
// (sorted bytewise): every path ending in ".proto", "LICENSE" at the root,
// and the first present of buf.md, README.md, README.markdown. Duplicates are
// kept so that the digest functions can report them.
func SelectFiles(paths []string) []string {
	doc := docPath(paths)
	var out []string
	for _, p := range paths {
		if isSelected(p, doc) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// Select returns the files that are module content (see SelectFiles), sorted
// by path.
func Select(files []File) []File {
	doc := docPathOfFiles(files)
	var out []File
	for _, f := range files {
		if isSelected(f.Path, doc) {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// IsDocPath reports whether p is one of the candidate documentation files.
func IsDocPath(p string) bool { return slices.Contains(DocPaths, p) }

func isSelected(p, doc string) bool {
	return strings.HasSuffix(p, ".proto") || p == LicensePath || (doc != "" && p == doc)
}

func docPath(paths []string) string {
	best := len(DocPaths)
	for _, p := range paths {
		if i := slices.Index(DocPaths, p); i >= 0 && i < best {
			best = i
		}
	}
	if best == len(DocPaths) {
		return ""
	}
	return DocPaths[best]
}

func docPathOfFiles(files []File) string {
	best := len(DocPaths)
	for _, f := range files {
		if i := slices.Index(DocPaths, f.Path); i >= 0 && i < best {
			best = i
		}
	}
	if best == len(DocPaths) {
		return ""
	}
	return DocPaths[best]
}

// PathError reports a module file path that cannot be digested.
type PathError struct {
	Path   string
	Reason string
}

func (e *PathError) Error() string {
	return fmt.Sprintf("invalid module file path %q: %s", e.Path, e.Reason)
}

// ValidatePath checks that p is a normalized module-relative path: not empty,
// not absolute, no "." or ".." elements, no empty elements, '/'-separated.
func ValidatePath(p string) error {
	switch {
	case p == "":
		return &PathError{Path: p, Reason: "path is empty"}
	case strings.HasPrefix(p, "/"):
		return &PathError{Path: p, Reason: "path must be relative to the module root"}
	case p == ".." || strings.HasPrefix(p, "../") || strings.HasSuffix(p, "/..") || strings.Contains(p, "/../"):
		return &PathError{Path: p, Reason: `path must not contain ".." (it would point outside the module)`}
	}
	if clean := path.Clean(p); clean != p {
		return &PathError{Path: p, Reason: fmt.Sprintf("path is not normalized, expected %q", clean)}
	}
	if p == "." {
		return &PathError{Path: p, Reason: "path names the module root, not a file"}
	}
	return nil
}

// DuplicatePathError reports a path that appears twice in a module.
type DuplicatePathError struct{ Path string }

func (e *DuplicatePathError) Error() string {
	return fmt.Sprintf("module file path %q appears more than once", e.Path)
}

// FileDigest returns the shake256 digest of one file's content.
func FileDigest(content []byte) Digest { return Sum(content) }

// Manifest returns the manifest of the module content among files: one line
// "<file digest>  <path>\n" per selected file, sorted by path. It fails on an
// invalid or duplicate path.
func Manifest(files []File) ([]byte, error) {
	sel, err := selectAndValidate(files)
	if err != nil {
		return nil, err
	}
	return manifest(sel), nil
}

// FilesDigest returns the digest (type shake256) of the manifest of the
// module content among files.
func FilesDigest(files []File) (Digest, error) {
	m, err := Manifest(files)
	if err != nil {
		return Digest{}, err
	}
	return Sum(m), nil
}

// B5 returns the b5 digest of a module: its files plus the b5 digests of all
// its direct and transitive dependencies.
func B5(files []File, depB5s []Digest) (Digest, error) {
	fd, err := FilesDigest(files)
	if err != nil {
		return Digest{}, err
	}
	return B5FromFilesDigest(fd, depB5s)
}

// B5FromFilesDigest combines a files digest (type shake256) with the b5
// digests of all direct and transitive dependencies: the dependency strings
// are sorted and joined after the files digest with "\n", without a trailing
// newline, and hashed.
func B5FromFilesDigest(filesDigest Digest, depB5s []Digest) (Digest, error) {
	in, err := B5Input(filesDigest, depB5s)
	if err != nil {
		return Digest{}, err
	}
	d := Sum(in)
	d.Type = TypeB5
	return d, nil
}

// B5Input returns the exact bytes hashed into a b5 digest (see
// B5FromFilesDigest).
func B5Input(filesDigest Digest, depB5s []Digest) ([]byte, error) {
	if filesDigest.Type != TypeShake256 {
		return nil, fmt.Errorf("computing a b5 digest needs a files digest of type shake256, got %q", filesDigest.Type)
	}
	deps := make([]string, len(depB5s))
	for i, d := range depB5s {
		if d.Type != TypeB5 {
			return nil, fmt.Errorf("computing a b5 digest needs dependency digests of type b5, got %q", d.String())
		}
		deps[i] = d.String()
	}
	slices.Sort(deps)
	b := make([]byte, 0, (len(deps)+1)*(4+2*Size)+9)
	b = filesDigest.appendTo(b)
	for _, d := range deps {
		b = append(b, '\n')
		b = append(b, d...)
	}
	return b, nil
}

// B4 returns the legacy b4 digest (type shake256): the manifest digest of the
// module content plus, for a module pushed with a v1 or v1beta1 config, its
// config file (buf.yaml or buf.mod) and its buf.lock under those names. Pass
// nil for an absent file.
func B4(files []File, v1Config, v1Lock *File) (Digest, error) {
	sel, err := selectAndValidate(files)
	if err != nil {
		return Digest{}, err
	}
	for _, extra := range []*File{v1Config, v1Lock} {
		if extra == nil {
			continue
		}
		if err := ValidatePath(extra.Path); err != nil {
			return Digest{}, err
		}
		i, found := slices.BinarySearchFunc(sel, extra.Path, func(f File, p string) int { return strings.Compare(f.Path, p) })
		if found {
			return Digest{}, &DuplicatePathError{Path: extra.Path}
		}
		sel = slices.Insert(sel, i, *extra)
	}
	return Sum(manifest(sel)), nil
}

// selectAndValidate validates every path, rejects duplicates and returns the
// selected files sorted by path.
func selectAndValidate(files []File) ([]File, error) {
	for _, f := range files {
		if err := ValidatePath(f.Path); err != nil {
			return nil, err
		}
	}
	sel := Select(files)
	for i := 1; i < len(sel); i++ {
		if sel[i].Path == sel[i-1].Path {
			return nil, &DuplicatePathError{Path: sel[i].Path}
		}
	}
	// Duplicates among unselected files are just as wrong: they mean the
	// caller's file set is broken.
	if len(sel) != len(files) {
		seen := make(map[string]struct{}, len(files))
		for _, f := range files {
			if _, ok := seen[f.Path]; ok {
				return nil, &DuplicatePathError{Path: f.Path}
			}
			seen[f.Path] = struct{}{}
		}
	}
	return sel, nil
}

// lineOverhead is the manifest line length without the path:
// "shake256:" + 128 hex + two spaces + "\n".
const lineOverhead = len("shake256:") + 2*Size + 2 + 1

// manifest builds the manifest of sorted, validated files.
func manifest(files []File) []byte {
	digests := hashFiles(files)
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.Path
	}
	return manifestLines(paths, digests)
}

// manifestLines writes one "shake256:<hex>  <path>\n" line per entry, in the
// given order.
func manifestLines(paths []string, digests [][Size]byte) []byte {
	n := 0
	for _, p := range paths {
		n += lineOverhead + len(p)
	}
	b := make([]byte, 0, n)
	for i, p := range paths {
		b = append(b, "shake256:"...)
		b = hex.AppendEncode(b, digests[i][:])
		b = append(b, "  "...)
		b = append(b, p...)
		b = append(b, '\n')
	}
	return b
}

// parallelThreshold is the total content size below which hashing stays on
// the calling goroutine; starting workers costs more than it saves.
const parallelThreshold = 256 << 10

// hashFiles returns the SHAKE-256/64 value of each file's content, hashing
// in parallel when the module is large enough for it to pay off.
func hashFiles(files []File) [][Size]byte {
	out := make([][Size]byte, len(files))
	total := 0
	for _, f := range files {
		total += len(f.Content)
	}
	workers := min(runtime.GOMAXPROCS(0), len(files))
	if workers <= 1 || total < parallelThreshold {
		h := sha3.NewSHAKE256()
		for i := range files {
			hashInto(h, files[i].Content, &out[i])
		}
		return out
	}
	// Files are handed out in small batches from a shared counter so that a
	// few huge files do not leave the other workers idle.
	const batch = 8
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := sha3.NewSHAKE256()
			for {
				start := int(next.Add(batch)) - batch
				if start >= len(files) {
					return
				}
				for i := start; i < min(start+batch, len(files)); i++ {
					hashInto(h, files[i].Content, &out[i])
				}
			}
		}()
	}
	wg.Wait()
	return out
}

func hashInto(h *sha3.SHAKE, content []byte, out *[Size]byte) {
	h.Reset()
	_, _ = h.Write(content)
	_, _ = h.Read(out[:])
}
