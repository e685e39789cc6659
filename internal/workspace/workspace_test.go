package workspace

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/protomod/protomod/internal/config"
	"github.com/protomod/protomod/internal/digest"
)

// writeTree writes files (slash paths relative to root) with their contents.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const proto3 = "syntax = \"proto3\";\n"

func open(t *testing.T, root, input string) (*Workspace, error) {
	t.Helper()
	return Open(filepath.Join(root, filepath.FromSlash(input)), Options{})
}

func mustOpen(t *testing.T, root, input string) *Workspace {
	t.Helper()
	ws, err := open(t, root, input)
	if err != nil {
		t.Fatalf("Open(%s): %v", input, err)
	}
	return ws
}

func modulePaths(mods []*Module) []string {
	var out []string
	for _, m := range mods {
		out = append(out, m.Path)
	}
	return out
}

// realRoot resolves symlinks in a temporary directory (macOS /var).
func realRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestFindWorkspace(t *testing.T) {
	root := realRoot(t)
	writeTree(t, root, map[string]string{
		"buf.yaml":                   "version: v2\nmodules:\n  - path: proto\n    name: buf.build/acme/proto\n  - path: other\ndeps:\n  - buf.build/acme/z\n  - buf.build/acme/a:main\n",
		"proto/acme/v1/a.proto":      proto3,
		"other/b.proto":              proto3,
		"docs/readme.txt":            "x",
		"nested/buf.yaml":            "version: v2\n",
		"nested/n.proto":             proto3,
		"nested/deeper/sub/n2.proto": proto3,
		"plain/p.proto":              proto3,
		"plain/sub/q.proto":          proto3,
	})
	tests := []struct {
		input       string
		wantRoot    string
		wantInput   string
		wantTargets []string
		wantErr     string
	}{
		{input: ".", wantRoot: root, wantInput: ".", wantTargets: []string{"other", "proto"}},
		{input: "proto", wantRoot: root, wantInput: "proto", wantTargets: []string{"proto"}},
		{input: "other", wantRoot: root, wantInput: "other", wantTargets: []string{"other"}},
		// The nearest buf.yaml wins.
		{input: "nested", wantRoot: filepath.Join(root, "nested"), wantInput: ".", wantTargets: []string{"."}},
		{input: "nested/deeper", wantErr: `failed to build input "` + filepath.Join(root, "nested/deeper") + `" because it is contained by module at path "." specified in your configuration, you must provide the workspace or module as the input, and filter to this path using --path`},
		{input: "proto/acme", wantErr: `failed to build input "` + filepath.Join(root, "proto/acme") + `" because it is contained by module at path "proto" specified in your configuration, you must provide the workspace or module as the input, and filter to this path using --path`},
		{input: "docs", wantErr: `input "` + filepath.Join(root, "docs") + `" is inside the workspace at "` + root + `" but is not one of its module directories; build the workspace itself or one module directory`},
		{input: "missing", wantErr: `input "` + filepath.Join(root, "missing") + `" does not exist`},
		{input: "docs/readme.txt", wantErr: `input "` + filepath.Join(root, "docs/readme.txt") + `" is not a directory`},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			ws, err := open(t, root, tt.input)
			if tt.wantErr != "" {
				var ue *UserError
				if err == nil || err.Error() != tt.wantErr || !errors.As(err, &ue) {
					t.Fatalf("error %v, want user error %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ws.Root != tt.wantRoot || ws.InputPath != tt.wantInput {
				t.Errorf("Root, InputPath = %q, %q; want %q, %q", ws.Root, ws.InputPath, tt.wantRoot, tt.wantInput)
			}
			if got := modulePaths(ws.Targets); !slices.Equal(got, tt.wantTargets) {
				t.Errorf("targets %v, want %v", got, tt.wantTargets)
			}
		})
	}
	ws := mustOpen(t, root, "proto")
	if got := modulePaths(ws.Modules); !slices.Equal(got, []string{"other", "proto"}) {
		t.Errorf("modules %v (sorted by path)", got)
	}
	var deps []string
	for _, d := range ws.Deps {
		deps = append(deps, d.String())
	}
	if !slices.Equal(deps, []string{"buf.build/acme/z", "buf.build/acme/a:main"}) {
		t.Errorf("deps %v, want declaration order", deps)
	}
	if ws.Modules[1].Name().String() != "buf.build/acme/proto" || !ws.Modules[0].Name().IsZero() {
		t.Errorf("module names %v, %v", ws.Modules[0].Name(), ws.Modules[1].Name())
	}
}

func TestNoConfiguration(t *testing.T) {
	root := realRoot(t)
	writeTree(t, root, map[string]string{
		"p.proto":     proto3,
		"sub/q.proto": proto3,
		"README.md":   "# r\n",
	})
	ws := mustOpen(t, root, ".")
	if ws.Config != nil || ws.Root != root || len(ws.Modules) != 1 || ws.Modules[0].Path != "." {
		t.Fatalf("workspace without configuration: %+v", ws)
	}
	m := ws.Modules[0]
	if !slices.Equal(m.ProtoPaths, []string{"p.proto", "sub/q.proto"}) {
		t.Errorf("ProtoPaths %v", m.ProtoPaths)
	}
	if m.DocName != "README.md" || m.DisplayPath("sub/q.proto") != "sub/q.proto" {
		t.Errorf("DocName %q, DisplayPath %q", m.DocName, m.DisplayPath("sub/q.proto"))
	}
	// A subdirectory without configuration is its own module.
	ws = mustOpen(t, root, "sub")
	if ws.Root != filepath.Join(root, "sub") || !slices.Equal(ws.Modules[0].ProtoPaths, []string{"q.proto"}) {
		t.Errorf("subdirectory: root %q, files %v", ws.Root, ws.Modules[0].ProtoPaths)
	}
}

func TestV1Workspaces(t *testing.T) {
	root := realRoot(t)
	writeTree(t, root, map[string]string{
		"buf.work.yaml":        "version: v1\ndirectories:\n  - a\n  - b\n",
		"README.md":            "root doc\n",
		"LICENSE":              "root license\n",
		"a/buf.yaml":           "version: v1\nname: buf.build/acme/a\ndeps:\n  - buf.build/acme/dep\nbuild:\n  excludes:\n    - internal\n",
		"a/a.proto":            proto3,
		"a/internal/i.proto":   proto3,
		"b/b.proto":            proto3,
		"solo/buf.yaml":        "version: v1\nname: buf.build/acme/solo\n",
		"solo/s.proto":         proto3,
		"solo/README.markdown": "solo doc\n",
	})
	ws := mustOpen(t, root, ".")
	if ws.Root != root || ws.Config.Source != config.BufWorkYAML {
		t.Fatalf("root %q source %q", ws.Root, ws.Config.Source)
	}
	if got := modulePaths(ws.Modules); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("modules %v", got)
	}
	a, b := ws.Modules[0], ws.Modules[1]
	if a.Name().String() != "buf.build/acme/a" || !b.Name().IsZero() {
		t.Errorf("names %v, %v", a.Name(), b.Name())
	}
	if !slices.Equal(a.ProtoPaths, []string{"a.proto"}) {
		t.Errorf("v1 excludes (module-relative in buf.yaml): files %v", a.ProtoPaths)
	}
	if len(ws.Deps) != 1 || ws.Deps[0].String() != "buf.build/acme/dep" {
		t.Errorf("deps %v", ws.Deps)
	}
	// No root doc/LICENSE fallback outside v2.
	if a.DocPath != "" || a.LicensePath != "" {
		t.Errorf("v1 module uses the root's doc %q / license %q", a.DocPath, a.LicensePath)
	}

	// From a module directory listed by buf.work.yaml: the work file's
	// workspace, that module targeted.
	ws = mustOpen(t, root, "a")
	if ws.Root != root || ws.InputPath != "a" || !slices.Equal(modulePaths(ws.Targets), []string{"a"}) {
		t.Errorf("from a: root %q input %q targets %v", ws.Root, ws.InputPath, modulePaths(ws.Targets))
	}
	// A v1 buf.yaml the work file does not list is a workspace of its own.
	ws = mustOpen(t, root, "solo")
	if ws.Root != filepath.Join(root, "solo") || ws.Config.Version != config.V1 || len(ws.Modules) != 1 || ws.Modules[0].Path != "." {
		t.Errorf("solo: root %q modules %v", ws.Root, modulePaths(ws.Modules))
	}
	if ws.Modules[0].DocName != "README.markdown" {
		t.Errorf("solo doc %q", ws.Modules[0].DocName)
	}
}

// TestV1InsideV2: the nearest v1 buf.yaml is used even below a v2 one.
func TestV1InsideV2(t *testing.T) {
	root := realRoot(t)
	writeTree(t, root, map[string]string{
		"buf.yaml":       "version: v2\nmodules:\n  - path: proto\n",
		"proto/p.proto":  proto3,
		"v1mod/buf.yaml": "version: v1\n",
		"v1mod/x.proto":  proto3,
	})
	ws := mustOpen(t, root, "v1mod")
	if ws.Root != filepath.Join(root, "v1mod") || ws.Config.Version != config.V1 {
		t.Errorf("root %q version %q", ws.Root, ws.Config.Version)
	}
}

func TestIncludesExcludes(t *testing.T) {
	root := realRoot(t)
	writeTree(t, root, map[string]string{
		"buf.yaml": `version: v2
modules:
  - path: proto
    excludes: [proto/internal, proto/acme/tmp]
  - path: shared
    includes: [shared/acme, shared/missing]
  - path: mixed
    includes: [mixed/a]
    excludes: [mixed/a/skip]
`,
		"proto/acme/v1/a.proto":     proto3,
		"proto/acme/v1/notes.txt":   "not a proto",
		"proto/acme/tmp/t.proto":    proto3,
		"proto/internal/i.proto":    proto3,
		"proto/internal2/j.proto":   proto3,
		"proto/z.proto":             proto3,
		"shared/acme/s.proto":       proto3,
		"shared/other/o.proto":      proto3,
		"shared/top.proto":          proto3,
		"mixed/a/keep.proto":        proto3,
		"mixed/a/skip/s.proto":      proto3,
		"mixed/a/skipper/k.proto":   proto3,
		"mixed/b/b.proto":           proto3,
		"proto/acme/v1/dir.proto/x": "a directory named like a proto file",
	})
	if err := os.Symlink(filepath.Join(root, "proto", "z.proto"), filepath.Join(root, "proto", "acme", "v1", "link.proto")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "nowhere.proto"), filepath.Join(root, "proto", "dangling.proto")); err != nil {
		t.Fatal(err)
	}
	ws := mustOpen(t, root, ".")
	want := map[string][]string{
		"proto":  {"acme/v1/a.proto", "acme/v1/link.proto", "internal2/j.proto", "z.proto"},
		"shared": {"acme/s.proto"},
		"mixed":  {"a/keep.proto", "a/skipper/k.proto"},
	}
	for _, m := range ws.Modules {
		if !slices.Equal(m.ProtoPaths, want[m.Path]) {
			t.Errorf("module %s: files %v, want %v", m.Path, m.ProtoPaths, want[m.Path])
		}
	}
	if got := ws.Modules[0].Description(); got != `path: "mixed", includes: "mixed/a", excludes: "mixed/a/skip"` {
		t.Errorf("Description() = %s", got)
	}
	if got := ws.Modules[1].DisplayPath("acme/v1/a.proto"); got != "proto/acme/v1/a.proto" {
		t.Errorf("DisplayPath = %s", got)
	}
	if _, err := os.Stat(filepath.Join(root, "proto", "acme", "v1", "a.proto")); err != nil {
		t.Fatal(err)
	}
	if data, err := fsRead(ws.Modules[1], "acme/v1/a.proto"); err != nil || data != proto3 {
		t.Errorf("FS().Open: %q, %v", data, err)
	}
}

func fsRead(m *Module, p string) (string, error) {
	f, err := m.FS().Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var sb strings.Builder
	buf := make([]byte, 512)
	for {
		n, err := f.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String(), nil
}

func fileNames(t *testing.T, m *Module) map[string]string {
	t.Helper()
	files, err := m.Files()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var paths []string
	for _, f := range files {
		out[f.Path] = string(f.Content)
		paths = append(paths, f.Path)
	}
	if !slices.IsSorted(paths) {
		t.Errorf("Files() not sorted: %v", paths)
	}
	return out
}

func TestDocAndLicense(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		// want are the content files of module "m" (path -> content).
		want map[string]string
	}{
		{
			name:  "buf.md preferred to README.md and README.markdown",
			files: map[string]string{"m/buf.md": "bufmd", "m/README.md": "readme", "m/README.markdown": "rm"},
			want:  map[string]string{"buf.md": "bufmd"},
		},
		{
			name:  "README.md preferred to README.markdown",
			files: map[string]string{"m/README.md": "readme", "m/README.markdown": "rm"},
			want:  map[string]string{"README.md": "readme"},
		},
		{
			name:  "README.markdown alone",
			files: map[string]string{"m/README.markdown": "rm", "m/readme.txt": "no"},
			want:  map[string]string{"README.markdown": "rm"},
		},
		{
			name:  "root doc and LICENSE when the module has none",
			files: map[string]string{"buf.md": "root bufmd", "README.md": "root readme", "LICENSE": "root license"},
			want:  map[string]string{"buf.md": "root bufmd", "LICENSE": "root license"},
		},
		{
			name:  "the module's own doc beats the root's, whatever the names",
			files: map[string]string{"buf.md": "root bufmd", "m/README.markdown": "mine", "LICENSE": "root license"},
			want:  map[string]string{"README.markdown": "mine", "LICENSE": "root license"},
		},
		{
			name:  "the two fallbacks are independent",
			files: map[string]string{"README.md": "root readme", "LICENSE": "root license", "m/LICENSE": "my license"},
			want:  map[string]string{"README.md": "root readme", "LICENSE": "my license"},
		},
		{
			name:  "nothing else is content",
			files: map[string]string{"m/buf.lock": "x", "m/notes.txt": "x", "m/LICENSE.txt": "x", "m/readme.md": "x", "m/sub/LICENSE": "x", "m/sub/README.md": "x"},
			want:  map[string]string{},
		},
		{
			name:  "a directory named LICENSE is not a license",
			files: map[string]string{"m/LICENSE/x": "x", "LICENSE": "root license"},
			want:  map[string]string{"LICENSE": "root license"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := realRoot(t)
			writeTree(t, root, map[string]string{
				"buf.yaml":  "version: v2\nmodules:\n  - path: m\n",
				"m/a.proto": proto3,
			})
			writeTree(t, root, tt.files)
			ws := mustOpen(t, root, ".")
			got := fileNames(t, ws.Modules[0])
			if got["a.proto"] != proto3 {
				t.Errorf("a.proto missing from Files()")
			}
			delete(got, "a.proto")
			if len(got) != len(tt.want) {
				t.Errorf("content files %v, want %v", got, tt.want)
			}
			for p, c := range tt.want {
				if got[p] != c {
					t.Errorf("%s = %q, want %q", p, got[p], c)
				}
			}
		})
	}
}

// TestFilesMatchDigestVector: the content of a module with the files of
// digest vector (iv) hashes to the spec's b5 (buf.yaml, buf.lock and
// notes.txt are not content).
func TestFilesMatchDigestVector(t *testing.T) {
	root := realRoot(t)
	writeTree(t, root, map[string]string{
		"buf.yaml":         "version: v2\n",
		"buf.lock":         "# Generated by buf. DO NOT EDIT.\nversion: v2\n",
		"notes.txt":        "ignored\n",
		"README.md":        "# hello\n",
		"LICENSE":          "MIT\n",
		"foo/v1/foo.proto": "syntax = \"proto3\";\n\npackage foo.v1;\n\nmessage Foo {\n  string name = 1;\n}\n",
		"bar/v1/bar.proto": "syntax = \"proto3\";\n\npackage bar.v1;\n\nmessage Bar {\n  string id = 1;\n}\n",
	})
	ws := mustOpen(t, root, ".")
	files, err := ws.Modules[0].Files()
	if err != nil {
		t.Fatal(err)
	}
	b5, err := digest.B5(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	const want = "b5:5274550ef577b34286de7bdac76f64a4edd97a89e991396a4486792fe81b206b83acd0a885f0b84156726bcc69c7af86f0c03a0586e77969cc06b7be895f68b9"
	if b5.String() != want {
		t.Errorf("b5 %s, want %s", b5, want)
	}
}

func TestWorkspaceRules(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
		// fromConfig: the error comes from reading buf.yaml, not from
		// this package, so it is no *UserError.
		fromConfig bool
		check      func(t *testing.T, ws *Workspace)
	}{
		{
			name: "overlap",
			files: map[string]string{
				"buf.yaml":            "version: v2\nmodules:\n  - path: proto\n  - path: proto/sub\n",
				"proto/top/top.proto": proto3,
				"proto/sub/sub.proto": proto3,
			},
			wantErr: `modules overlap: proto/sub/sub.proto belongs to both path: "proto" and path: "proto/sub"; workspace modules must not contain each other's files: add "proto/sub" to the excludes of the module at "proto", or move one module out of the other`,
		},
		{
			name: "overlap split by excludes",
			files: map[string]string{
				"buf.yaml":            "version: v2\nmodules:\n  - path: proto\n    excludes: [proto/sub]\n  - path: proto/sub\n",
				"proto/top/top.proto": proto3,
				"proto/sub/sub.proto": proto3,
			},
			check: func(t *testing.T, ws *Workspace) {
				if !slices.Equal(ws.Modules[0].ProtoPaths, []string{"top/top.proto"}) || !slices.Equal(ws.Modules[1].ProtoPaths, []string{"sub.proto"}) {
					t.Errorf("files %v / %v", ws.Modules[0].ProtoPaths, ws.Modules[1].ProtoPaths)
				}
			},
		},
		{
			name: "one directory split by includes",
			files: map[string]string{
				"buf.yaml":        "version: v2\nmodules:\n  - path: proto\n    includes: [proto/a]\n  - path: proto\n    includes: [proto/b]\n",
				"proto/a/a.proto": proto3,
				"proto/b/b.proto": proto3,
			},
			check: func(t *testing.T, ws *Workspace) {
				if len(ws.Modules) != 2 || !slices.Equal(ws.Modules[0].ProtoPaths, []string{"a/a.proto"}) || !slices.Equal(ws.Modules[1].ProtoPaths, []string{"b/b.proto"}) {
					t.Errorf("modules %v", modulePaths(ws.Modules))
				}
			},
		},
		{
			name: "one directory twice, overlapping includes",
			files: map[string]string{
				"buf.yaml":        "version: v2\nmodules:\n  - path: proto\n    includes: [proto/a]\n  - path: proto\n",
				"proto/a/a.proto": proto3,
				"proto/b/b.proto": proto3,
			},
			wantErr: `modules overlap: proto/a/a.proto belongs to both path: "proto", includes: "proto/a" and path: "proto"; workspace modules must not contain each other's files: split them with includes/excludes so that every .proto file belongs to one module`,
		},
		{
			name: "same description",
			files: map[string]string{
				"buf.yaml":      "version: v2\nmodules:\n  - path: proto\n  - path: proto\n",
				"proto/p.proto": proto3,
			},
			wantErr:    `multiple module configs found with the same description: path: "proto"`,
			fromConfig: true,
		},
		{
			name: "duplicate import path",
			files: map[string]string{
				"buf.yaml":         "version: v2\nmodules:\n  - path: m2\n  - path: m1\n  - path: m3\n",
				"m1/foo/foo.proto": proto3,
				"m2/foo/foo.proto": proto3,
				"m3/foo/foo.proto": proto3,
				"m1/zzz.proto":     proto3,
				"m2/zzz.proto":     proto3,
			},
			wantErr: "foo/foo.proto is contained in multiple modules:\n  path: \"m1\"\n  path: \"m2\"\n  path: \"m3\"",
		},
		{
			name: "empty module",
			files: map[string]string{
				"buf.yaml":        "version: v2\nmodules:\n  - path: proto\n  - path: empty\n",
				"proto/p.proto":   proto3,
				"empty/README.md": "no protos\n",
			},
			wantErr: `Module "path: "empty"" had no .proto files`,
		},
		{
			name: "empty after excludes",
			files: map[string]string{
				"buf.yaml":          "version: v2\nmodules:\n  - path: proto\n    excludes: [proto/x]\n",
				"proto/x/p.proto":   proto3,
				"proto/y/notes.txt": "x",
			},
			wantErr: `Module "path: "proto", excludes: "proto/x"" had no .proto files`,
		},
		{
			name: "missing module directory",
			files: map[string]string{
				"buf.yaml":      "version: v2\nmodules:\n  - path: proto\n  - path: gone\n",
				"proto/p.proto": proto3,
			},
			wantErr: `module directory "gone" does not exist: check the modules of buf.yaml`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := realRoot(t)
			writeTree(t, root, tt.files)
			ws, err := open(t, root, ".")
			if tt.wantErr != "" {
				var ue *UserError
				if err == nil || err.Error() != tt.wantErr || errors.As(err, &ue) == tt.fromConfig {
					t.Fatalf("error:\n%v\nwant:\n%s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, ws)
		})
	}
}

func TestConfigOverride(t *testing.T) {
	root := realRoot(t)
	writeTree(t, root, map[string]string{
		"buf.yaml":  "version: v2\nmodules:\n  - path: a\n",
		"a/a.proto": proto3,
		"b/b.proto": proto3,
	})
	ws, err := Open(root, Options{ConfigOverride: "version: v2\nmodules:\n  - path: b\n    name: buf.build/acme/b\n"})
	if err != nil {
		t.Fatal(err)
	}
	if got := modulePaths(ws.Modules); !slices.Equal(got, []string{"b"}) || ws.Config.Source != config.OverrideSource {
		t.Errorf("override: modules %v, source %q", got, ws.Config.Source)
	}
	if ws.Modules[0].Name().String() != "buf.build/acme/b" {
		t.Errorf("override name %v", ws.Modules[0].Name())
	}
}
