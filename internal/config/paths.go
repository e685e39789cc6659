package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// pathError is an invalid path: "<path as written>: <reason>".
type pathError struct {
	path   string
	reason string
}

func (e *pathError) Error() string { return e.path + ": " + e.reason }

// cleanPath cleans p into a '/'-separated relative path. It rejects absolute
// paths ("expected to be relative") and paths that climb above the root
// ("is outside the context directory"). "" becomes ".".
func cleanPath(p string) (string, error) {
	clean := path.Clean(filepath.ToSlash(p))
	if strings.HasPrefix(clean, "/") || filepath.IsAbs(p) || filepath.VolumeName(p) != "" {
		return "", &pathError{path: p, reason: "expected to be relative"}
	}
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", &pathError{path: p, reason: "is outside the context directory"}
	}
	return clean, nil
}

// equalsOrContains reports whether dir is p or an ancestor of p. Both are
// clean relative paths; "." contains everything.
func equalsOrContains(dir, p string) bool {
	return dir == "." || dir == p || strings.HasPrefix(p, dir+"/")
}

// contains reports whether dir is a strict ancestor of p.
func contains(dir, p string) bool {
	return dir != p && equalsOrContains(dir, p)
}

// relPath returns p relative to dir; dir must equal or contain p.
func relPath(dir, p string) string {
	switch {
	case dir == ".":
		return p
	case dir == p:
		return "."
	default:
		return strings.TrimPrefix(p, dir+"/")
	}
}

// joinPath joins a clean relative dir and a clean relative p.
func joinPath(dir, p string) string {
	return path.Join(dir, p)
}

// checkPathSet cleans paths and checks that none is empty, none repeats and
// none lies inside another. kind names the entries in messages ("include",
// "exclude", "root", "ignore", "ignore_only path"). The result is sorted.
func checkPathSet(paths []string, kind string) ([]string, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	out := make([]string, len(paths))
	for i, p := range paths {
		if p == "" {
			return nil, fmt.Errorf("%s contained an empty path", kind)
		}
		clean, err := cleanPath(p)
		if err != nil {
			return nil, err
		}
		out[i] = clean
	}
	sort.Strings(out)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			a, b := out[i], out[j]
			switch {
			case a == b:
				return nil, fmt.Errorf("duplicate %s %q", kind, a)
			case equalsOrContains(b, a):
				return nil, fmt.Errorf("%s %q is within %s %q which is not allowed", kind, a, kind, b)
			case equalsOrContains(a, b):
				return nil, fmt.Errorf("%s %q is within %s %q which is not allowed", kind, b, kind, a)
			}
		}
	}
	return out, nil
}

// uniqueSorted returns the distinct strings of s, sorted; nil for none.
func uniqueSorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	sort.Strings(out)
	return slices.Compact(out)
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// isExistingFile reports whether p (workspace-root-relative) names an
// existing non-directory in fsys. A nil fsys, a missing path or an
// unreadable one all report false.
func isExistingFile(fsys fs.FS, p string) bool {
	if fsys == nil || !fs.ValidPath(p) {
		return false
	}
	info, err := fs.Stat(fsys, p)
	return err == nil && !info.IsDir()
}

// existsIn reports whether p exists in fsys (used to tell a local plugin or
// policy path from a reference). A nil fsys reports false.
func existsIn(fsys fs.FS, p string) bool {
	if fsys == nil || !fs.ValidPath(p) {
		return false
	}
	_, err := fs.Stat(fsys, p)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}
