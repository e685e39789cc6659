package server

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/store"
)

// maxPathBytes caps a file path's length.
const maxPathBytes = 4096

// validateFiles checks one module's uploaded files and returns them sorted
// by path. Paths must be valid UTF-8, normalized, relative, unique; only
// module files (the ones its digest covers) may be sent; sizes are capped.
func validateFiles(module string, files []*modulev1.File, limits Limits) ([]store.File, error) {
	out := make([]store.File, 0, len(files))
	seen := make(map[string]bool, len(files))
	var docs []string
	hasProto := false
	for _, f := range files {
		p := f.GetPath()
		bad := func(reason string) error {
			return invalidArgf("module %s: file path %q %s", module, p, reason)
		}
		switch {
		case !utf8.ValidString(p):
			return nil, invalidArgf("module %s: file path %q is not valid UTF-8", module, strings.ToValidUTF8(p, "\uFFFD"))
		case len(p) > maxPathBytes:
			return nil, bad(fmt.Sprintf("is longer than %d bytes", maxPathBytes))
		case strings.ContainsRune(p, 0) || strings.IndexFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
			return nil, bad("contains control characters")
		case strings.Contains(p, `\`):
			return nil, bad(`contains '\'; paths use '/' as the separator`)
		}
		if err := digest.ValidatePath(p); err != nil {
			return nil, invalidArgf("module %s: %v", module, err)
		}
		if seen[p] {
			return nil, bad("appears more than once")
		}
		seen[p] = true
		switch {
		case strings.HasSuffix(p, ".proto"):
			hasProto = true
		case p == digest.LicensePath:
		case digest.IsDocPath(p):
			docs = append(docs, p)
		default:
			return nil, bad("is not a module file: only .proto files, LICENSE and one of buf.md, README.md, README.markdown (all at the module root except .proto files) may be uploaded")
		}
		if n := int64(len(f.GetContent())); n > limits.MaxFileBytes {
			return nil, connect.NewError(connect.CodeResourceExhausted,
				fmt.Errorf("module %s: file %q has %d bytes, more than this server's limit of %d bytes per file", module, p, n, limits.MaxFileBytes))
		}
		out = append(out, store.File{Path: p, Content: f.GetContent()})
	}
	if len(docs) > 1 {
		slices.Sort(docs)
		return nil, invalidArgf("module %s: only one documentation file may be uploaded, got %s", module, strings.Join(docs, ", "))
	}
	if !hasProto {
		return nil, invalidArgf("module %s has no .proto files", module)
	}
	slices.SortFunc(out, func(a, b store.File) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// b5 computes a commit digest: its files plus its dependencies' digests.
func b5(files []store.File, depDigests [][]byte) ([]byte, error) {
	df := make([]digest.File, len(files))
	for i, f := range files {
		df[i] = digest.File{Path: f.Path, Content: f.Content}
	}
	deps := make([]digest.Digest, len(depDigests))
	for i, d := range depDigests {
		dd, err := digest.FromBytes(digest.TypeB5, d)
		if err != nil {
			return nil, fmt.Errorf("dependency digest: %w", err)
		}
		deps[i] = dd
	}
	d, err := digest.B5(df, deps)
	if err != nil {
		return nil, err
	}
	return d.Value[:], nil
}
