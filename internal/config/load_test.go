package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/protomod/protomod/internal/bufname"
)

var update = flag.Bool("update", false, "rewrite the want.json golden files")

// TestLoadValid loads each directory under testdata/valid and compares the
// File, as indented JSON, with the directory's want.json.
func TestLoadValid(t *testing.T) {
	t.Parallel()
	dirs, err := os.ReadDir(filepath.Join("testdata", "valid"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no cases in testdata/valid")
	}
	for _, d := range dirs {
		t.Run(d.Name(), func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("testdata", "valid", d.Name())
			f, err := Load(dir, "")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			checkGolden(t, filepath.Join(dir, "want.json"), f)
		})
	}
}

func checkGolden(t *testing.T, golden string, f *File) {
	t.Helper()
	got, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("File differs from %s (run with -update to accept)\n got: %s\nwant: %s", golden, got, want)
	}
}

// TestLoadSemantics spells out the decisions the golden files encode, so a
// regenerated golden cannot silently change them.
func TestLoadSemantics(t *testing.T) {
	t.Parallel()
	load := func(t *testing.T, name string) *File {
		t.Helper()
		f, err := Load(filepath.Join("testdata", "valid", name), "")
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	t.Run("deps keep declaration order", func(t *testing.T) {
		t.Parallel()
		f := load(t, "v2-shorthand")
		var got []string
		for _, d := range f.Deps {
			got = append(got, d.String())
		}
		want := "buf.example.com/acme/units buf.example.com/acme/geo:v1.2.0 localhost:18080/acme/base:0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e"
		if strings.Join(got, " ") != want {
			t.Errorf("deps = %v, want %s", got, want)
		}
		if !f.HasDocsComment || f.Source != BufYAML || f.Version != V2 {
			t.Errorf("HasDocsComment=%v Source=%q Version=%q", f.HasDocsComment, f.Source, f.Version)
		}
		if len(f.Modules) != 1 || f.Modules[0].Path != "." || f.Modules[0].Name.String() != "buf.build/acme/weather" {
			t.Errorf("shorthand module = %+v", f.Modules)
		}
	})
	t.Run("modules sorted by path, stable", func(t *testing.T) {
		t.Parallel()
		f := load(t, "v2-same-path")
		var got []string
		for _, m := range f.Modules {
			got = append(got, m.Description())
		}
		want := []string{
			`path: "."`,
			`path: "proto", excludes: "proto/sub"`,
			`path: "proto", excludes: "proto/other"`,
			`path: "proto/sub"`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("modules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("plugin kinds", func(t *testing.T) {
		t.Parallel()
		f := load(t, "v2-modules")
		want := []struct {
			kind PluginKind
			name string
			args int
		}{
			{PluginLocal, "buf-plugin-timestamps", 0},
			{PluginLocalWasm, "./plugins/check.wasm", 1},
			{PluginRemote, "buf.example.com/acme/check-plugin:v1", 0},
			// A reference that is also an existing path is a local plugin.
			{PluginLocal, "buf.example.com/acme/localplugin", 0},
		}
		if len(f.Plugins) != len(want) {
			t.Fatalf("got %d plugins, want %d", len(f.Plugins), len(want))
		}
		for i, w := range want {
			p := f.Plugins[i]
			if p.Kind != w.kind || p.Name != w.name || len(p.Args) != w.args {
				t.Errorf("plugin %d = %v %q %v, want %v %q with %d args", i, p.Kind, p.Name, p.Args, w.kind, w.name, w.args)
			}
		}
		if f.Plugins[2].Ref.FullName.String() != "buf.example.com/acme/check-plugin" || f.Plugins[2].Ref.Ref != "v1" {
			t.Errorf("remote plugin ref = %+v", f.Plugins[2].Ref)
		}
		if f.Policies[0].Ref.FullName.IsZero() || !f.Policies[1].Ref.FullName.IsZero() {
			t.Errorf("policy refs = %+v, %+v; want remote then local", f.Policies[0].Ref, f.Policies[1].Ref)
		}
	})
	t.Run("v1 workspace rebased onto the root", func(t *testing.T) {
		t.Parallel()
		f := load(t, "work")
		if f.Version != V1 || f.Source != BufWorkYAML {
			t.Errorf("Version=%q Source=%q", f.Version, f.Source)
		}
		var paths []string
		for _, m := range f.Modules {
			paths = append(paths, m.Path)
		}
		if strings.Join(paths, " ") != "lib proto vendor/proto" {
			t.Errorf("module paths = %v", paths)
		}
		proto := f.Modules[1]
		if strings.Join(proto.Excludes, " ") != "proto/internal" {
			t.Errorf("excludes = %v, want [proto/internal]", proto.Excludes)
		}
		if proto.Lint == nil || strings.Join(proto.Lint.Ignore, " ") != "proto/legacy" {
			t.Errorf("lint = %+v, want ignore [proto/legacy]", proto.Lint)
		}
		var deps []string
		for _, d := range f.Deps {
			deps = append(deps, d.String())
		}
		// Module order (lib, proto, vendor/proto), first declaration wins.
		if got := strings.Join(deps, " "); got != "buf.build/acme/geo:v2 buf.build/acme/zone buf.build/acme/units" {
			t.Errorf("deps = %s", got)
		}
	})
}

func TestLoadNoConfig(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		f, err := Load(dir, "")
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load(%s) = %+v, %v; want an error wrapping fs.ErrNotExist", dir, f, err)
		}
	}
}

func TestLoadWorkAndBufYAML(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"buf.work.yaml": "version: v1\ndirectories:\n  - proto\n",
		"buf.yaml":      "version: v2\n",
	})
	_, err := Load(dir, "")
	want := `cannot have a buf.work.yaml and buf.yaml in the same directory "` + dir + `"`
	if err == nil || err.Error() != want {
		t.Errorf("Load = %v, want %s", err, want)
	}
}

func TestLoadBufYAMLBeforeBufMod(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"buf.yaml": "version: v1\nname: buf.build/acme/new\n",
		"buf.mod":  "version: v1\nfoo: bar\n",
	})
	f, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if f.Source != BufYAML || f.Modules[0].Name.String() != "buf.build/acme/new" {
		t.Errorf("Load read %s (%+v), want buf.yaml", f.Source, f.Modules[0])
	}
}

func TestLoadReadError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "buf.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir, "")
	if err == nil || err.Error() != "read buf.yaml: is a directory" {
		t.Errorf("Load = %v, want read buf.yaml: is a directory", err)
	}
}

func TestLoadOverride(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"buf.yaml":           "version: v2\nname: buf.build/acme/ondisk\n",
		"proto/a/a.proto":    "syntax = \"proto3\";\n",
		"proto/notes.txt":    "x\n",
		"config/good.json":   `{"version": "v2", "modules": [{"path": "proto", "name": "buf.build/acme/json"}]}`,
		"config/bad.yml":     "version: v2\nmodules:\n  - path: proto\n    exclude: [proto/a]\n",
		"config/v1.yaml":     "version: v1\nbuild:\n  excludes: [gen]\n",
		"work/buf.work.yaml": "version: v1\ndirectories:\n  - a\n  - b\n",
	})
	cases := []struct {
		name     string
		dir      string
		override string
		want     string // module descriptions and names, or the error
	}{
		{"inline yaml", dir, "version: v2\nmodules:\n  - path: proto\n    name: buf.build/acme/inline\n", `path: "proto" buf.build/acme/inline`},
		{"inline json", dir, `{"version":"v2","modules":[{"path":"proto","excludes":["proto\/a"]}]}`, `path: "proto", excludes: "proto/a" `},
		{"inline yaml flow mapping", dir, `{version: v2, name: buf.build/acme/flow}`, `path: "." buf.build/acme/flow`},
		{"json file", dir, filepath.Join(dir, "config", "good.json"), `path: "proto" buf.build/acme/json`},
		{"v1 override", dir, filepath.Join(dir, "config", "v1.yaml"), `path: ".", excludes: "gen" `},
		{"v1 override for each buf.work.yaml module", filepath.Join(dir, "work"), filepath.Join(dir, "config", "v1.yaml"),
			`path: "a", excludes: "a/gen" ; path: "b", excludes: "b/gen" `},
		{"inline unknown key", dir, "version: v2\nfoo: 1", "decode --config: yaml: unmarshal errors:\n  line 2: field foo not found"},
		{"inline json unknown key", dir, `{"version":"v2","foo":1}`, `decode --config: json: unknown field "foo"`},
		{"inline json bad type", dir, `{"version":"v2","modules":"proto"}`, "decode --config: json: cannot unmarshal string into Go struct field bufYAMLv2.modules of type []config.moduleEntry"},
		{"inline json no version", dir, `{"modules":[]}`, `decode --config: "version" is not set. Please add "version: v2"`},
		{"inline exclude file", dir, "version: v2\nmodules:\n  - path: proto\n    excludes: [proto/notes.txt]\n", `decode --config: excludes can only be directories but file "notes.txt" discovered`},
		{"file unknown key", dir, filepath.Join(dir, "config", "bad.yml"), "decode " + filepath.Join(dir, "config", "bad.yml") + ": yaml: unmarshal errors:\n  line 4: field exclude not found"},
		{"missing file", dir, filepath.Join(dir, "nope.yaml"), "could not read --config file: open " + filepath.Join(dir, "nope.yaml") + ": no such file or directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := Load(tc.dir, tc.override)
			var got string
			if err != nil {
				got = err.Error()
				if errors.Is(err, fs.ErrNotExist) {
					t.Errorf("error wraps fs.ErrNotExist: %v", err)
				}
			} else {
				if f.Source != OverrideSource && f.Source != BufWorkYAML {
					t.Errorf("Source = %q", f.Source)
				}
				var parts []string
				for _, m := range f.Modules {
					parts = append(parts, m.Description()+" "+m.Name.String())
				}
				got = strings.Join(parts, "; ")
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestDescription(t *testing.T) {
	t.Parallel()
	cases := []struct {
		m    Module
		want string
	}{
		{Module{Path: "."}, `path: "."`},
		{Module{Path: "proto", Includes: []string{"proto/a"}}, `path: "proto", includes: "proto/a"`},
		{Module{Path: "proto", Excludes: []string{"proto/a", "proto/b"}}, `path: "proto", excludes: ["proto/a", "proto/b"]`},
		{Module{Path: "p", Includes: []string{"p/a", "p/b"}, Excludes: []string{"p/a/x"}}, `path: "p", includes: ["p/a", "p/b"], excludes: "p/a/x"`},
		{Module{Path: `we"ird`, Name: bufname.MustParseFullName("buf.build/a/b")}, `path: "we\"ird"`},
	}
	for _, tc := range cases {
		if got := tc.m.Description(); got != tc.want {
			t.Errorf("Description() = %s, want %s", got, tc.want)
		}
	}
}

func TestParseIgnoresFilesystemWithoutFS(t *testing.T) {
	t.Parallel()
	// With fsys nil only the .proto extension marks a file; with an FS, an
	// existing non-directory does too.
	data := []byte("version: v2\nmodules:\n  - path: proto\n    excludes: [proto/notes.txt]\n")
	if _, err := Parse(data, nil); err != nil {
		t.Errorf("Parse(nil fsys) = %v, want success", err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"proto/notes.txt": "x\n"})
	_, err := Parse(data, os.DirFS(dir))
	want := `decode buf.yaml: excludes can only be directories but file "notes.txt" discovered`
	if err == nil || err.Error() != want {
		t.Errorf("Parse(fsys) = %v, want %s", err, want)
	}
	var decodeErr *DecodeError
	if !errors.As(err, &decodeErr) || decodeErr.File != BufYAML {
		t.Errorf("error %T is not a *DecodeError for buf.yaml", err)
	}
}

func TestDocsComment(t *testing.T) {
	t.Parallel()
	cases := []struct {
		data string
		want bool
	}{
		{DocsComment(V2) + "\nversion: v2\n", true},
		{DocsComment(V2) + "\r\nversion: v2\n", true},
		{DocsComment(V1) + "\nversion: v2\n", false}, // wrong version in the URL
		{DocsComment(V2) + " extra\nversion: v2\n", false},
		{"version: v2\n" + DocsComment(V2) + "\n", false},
	}
	for _, tc := range cases {
		f, err := Parse([]byte(tc.data), nil)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.data, err)
		}
		if f.HasDocsComment != tc.want {
			t.Errorf("Parse(%q).HasDocsComment = %v, want %v", tc.data, f.HasDocsComment, tc.want)
		}
	}
}

func TestCommentIgnoresAllowed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		c       *LintConfig
		version string
		want    bool
	}{
		{nil, V2, true},
		{&LintConfig{DisallowCommentIgnores: true}, V2, false},
		{nil, V1, false},
		{&LintConfig{AllowCommentIgnores: true}, V1, true},
		{&LintConfig{AllowCommentIgnores: true}, V1Beta1, true},
	}
	for _, tc := range cases {
		if got := tc.c.CommentIgnoresAllowed(tc.version); got != tc.want {
			t.Errorf("%+v.CommentIgnoresAllowed(%s) = %v, want %v", tc.c, tc.version, got, tc.want)
		}
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
