package gengo

import (
	"path"
	"strconv"
	"strings"
)

// GoPackage returns the managed go_package of a .proto file: the import
// path prefix (an SDK module path) joined with the file's directory, plus
// ";<a><b>" when the file's proto package has at least two components and
// the last one, <b>, is a version component (<a> is the one before it).
// Otherwise protoc-gen-go derives the Go package name from the import path.
func GoPackage(importPathPrefix, protoPath, protoPackage string) string {
	importPath := importPathPrefix
	if dir := path.Dir(protoPath); dir != "." {
		importPath += "/" + dir
	}
	parts := strings.Split(protoPackage, ".")
	if n := len(parts); n >= 2 && IsVersionComponent(parts[n-1]) {
		importPath += ";" + parts[n-2] + parts[n-1]
	}
	return importPath
}

// IsVersionComponent reports whether a proto package component names a
// version: v<N> with N >= 1; v<N>alpha or v<N>beta, optionally followed by
// a number >= 1 (v1beta1), optionally with a patch part v<N>p<M> (v1p1alpha2);
// or v<N>test followed by anything (v2test, v1testfoo).
func IsVersionComponent(s string) bool {
	if len(s) < 2 || s[0] != 'v' || strings.Contains(s, ".") {
		return false
	}
	rest := s[1:]
	if major, _, ok := strings.Cut(rest, "test"); ok {
		return isNumberAtLeast(major, 1)
	}
	alpha, beta := strings.Contains(rest, "alpha"), strings.Contains(rest, "beta")
	if !alpha && !beta {
		return isNumberAtLeast(rest, 1)
	}
	if alpha && beta {
		return false
	}
	stability := "alpha"
	if beta {
		stability = "beta"
	}
	before, after, _ := strings.Cut(rest, stability)
	if after != "" && !isNumberAtLeast(after, 1) {
		return false
	}
	if major, patch, ok := strings.Cut(before, "p"); ok {
		return isNumberAtLeast(major, 1) && isNumberAtLeast(patch, 1)
	}
	return isNumberAtLeast(before, 1)
}

// isNumberAtLeast reports whether s is a decimal number (32-bit) >= min.
func isNumberAtLeast(s string, min int64) bool {
	if s == "" {
		return false
	}
	n, err := strconv.ParseInt(s, 10, 32)
	return err == nil && n >= min
}
