package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the buf.yaml parser (as a file and as
// --config text) and to the buf.work.yaml parser. They must never panic,
// and what they accept must satisfy the File invariants. The seed corpus in
// testdata/fuzz/FuzzParse holds valid v1/v2 files and every invalid case of
// testdata/errors.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, nil)
		checkParseResult(t, file, err)
		file, err = parseBufYAML(data, parseOptions{name: OverrideSource, source: OverrideSource, allowJSON: true})
		checkParseResult(t, file, err)
		dirs, err := ParseWork(data, BufWorkYAML)
		if err == nil {
			if len(dirs) == 0 {
				t.Fatal("ParseWork accepted a file without directories")
			}
			for _, d := range dirs {
				if c, err := cleanPath(d); err != nil || c != d || d == "." {
					t.Fatalf("ParseWork returned directory %q (clean %q, %v)", d, c, err)
				}
			}
		}
	})
}

func checkParseResult(t *testing.T, f *File, err error) {
	t.Helper()
	if err != nil {
		if err.Error() == "" {
			t.Fatal("empty error message")
		}
		var decodeErr *DecodeError
		if !errors.As(err, &decodeErr) && !strings.HasPrefix(err.Error(), "multiple module configs found with the same description: ") {
			t.Fatalf("error %q is neither a *DecodeError nor a duplicate description", err)
		}
		return
	}
	if f == nil {
		t.Fatal("nil File without error")
	}
	switch f.Version {
	case V1Beta1, V1:
		if len(f.Modules) != 1 || f.Modules[0].Path != "." {
			t.Fatalf("%s file with modules %+v", f.Version, f.Modules)
		}
	case V2:
	default:
		t.Fatalf("unexpected version %q", f.Version)
	}
	if len(f.Modules) == 0 {
		t.Fatal("no modules")
	}
	names := map[string]bool{}
	descriptions := map[string]bool{}
	for i, m := range f.Modules {
		mustBeClean(t, "module path", m.Path)
		if i > 0 && f.Modules[i-1].Path > m.Path {
			t.Fatalf("modules not sorted by path: %q before %q", f.Modules[i-1].Path, m.Path)
		}
		for _, p := range append(append([]string(nil), m.Includes...), m.Excludes...) {
			mustBeClean(t, "include/exclude", p)
			if !contains(m.Path, p) {
				t.Fatalf("include/exclude %q not strictly inside module %q", p, m.Path)
			}
		}
		if !m.Name.IsZero() {
			if names[m.Name.String()] {
				t.Fatalf("duplicate module name %s", m.Name)
			}
			names[m.Name.String()] = true
		}
		d := m.Description()
		if descriptions[d] {
			t.Fatalf("duplicate description %s", d)
		}
		descriptions[d] = true
	}
	deps := map[string]bool{}
	for _, d := range f.Deps {
		if deps[d.FullName.String()] {
			t.Fatalf("duplicate dep %s", d.FullName)
		}
		deps[d.FullName.String()] = true
	}
	for _, p := range f.Plugins {
		if p.Name == "" && p.Kind != PluginRemote {
			t.Fatalf("plugin without name: %+v", p)
		}
		for k, v := range p.Options {
			if k == "" || v == nil {
				t.Fatalf("plugin option %q=%v accepted", k, v)
			}
		}
	}
	for _, p := range f.Policies {
		if p.Name == "" {
			t.Fatal("policy without name")
		}
	}
}

func mustBeClean(t *testing.T, what, p string) {
	t.Helper()
	if c, err := cleanPath(p); err != nil || c != p {
		t.Fatalf("%s %q is not clean (clean %q, %v)", what, p, c, err)
	}
}
