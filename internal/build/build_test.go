package build

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/cache"
	"github.com/protomod/protomod/internal/deps"
	"github.com/protomod/protomod/internal/diag"
	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/image"
	"github.com/protomod/protomod/internal/lock"
	"github.com/protomod/protomod/internal/workspace"
)

func openWorkspace(t *testing.T, dir string) *workspace.Workspace {
	t.Helper()
	ws, err := workspace.Open(dir, workspace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func writeBinary(t *testing.T, img *image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := img.WriteBinary(&buf, false); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var orderDir = filepath.Join("testdata", "order")

// TestTargets checks the --path/--exclude-path rules on the workspace of
// testdata/order (modules a and b). Every message was checked against buf
// 1.75 with the same arguments.
func TestTargets(t *testing.T) {
	tests := []struct {
		input    string
		paths    []string
		excludes []string
		want     []string
		wantErr  string
	}{
		{input: ".", want: []string{"acme/a/v1/a.proto", "acme/b/v1/b.proto"}},
		{input: "b", want: []string{"acme/b/v1/b.proto"}},
		{input: ".", paths: []string{"b/acme/b/v1/b.proto"}, want: []string{"acme/b/v1/b.proto"}},
		{input: ".", paths: []string{"b/acme"}, want: []string{"acme/b/v1/b.proto"}},
		{input: ".", paths: []string{"a/acme/", "b/acme/b"}, want: []string{"acme/a/v1/a.proto", "acme/b/v1/b.proto"}},
		{input: ".", excludes: []string{"a/acme"}, want: []string{"acme/b/v1/b.proto"}},
		{input: ".", paths: []string{"b/acme"}, excludes: []string{"a"}, want: []string{"acme/b/v1/b.proto"}},
		{input: "b", excludes: []string{"a"}, want: []string{"acme/b/v1/b.proto"}},
		{input: "b", paths: []string{"b/acme"}, want: []string{"acme/b/v1/b.proto"}},
		{input: ".", paths: []string{"b/acme/../acme"}, want: []string{"acme/b/v1/b.proto"}},
		{input: ".", paths: []string{"b"}, wantErr: `module "b" was specified with --path, specify this module path directly as an input`},
		{input: ".", paths: []string{"a", "b/acme"}, wantErr: `module "a" was specified with --path, specify this module path directly as an input`},
		{input: ".", paths: []string{"."}, wantErr: "given input is equal to a value of --path, this has no effect and is disallowed"},
		{input: "b", paths: []string{"b"}, wantErr: "given input is equal to a value of --path, this has no effect and is disallowed"},
		{input: ".", excludes: []string{"a"}, wantErr: `module "a" was specified with --exclude-path, this flag cannot be used to specify module directories`},
		{input: ".", excludes: []string{"."}, wantErr: `given input "." is equal to a value of --exclude-path ".", this would exclude everything`},
		{input: ".", excludes: []string{"a/acme/a", "."}, wantErr: `given input "." is equal to a value of --exclude-path ".", this would exclude everything`},
		{input: "b", excludes: []string{"b"}, wantErr: `given input "b" is equal to a value of --exclude-path "b", this would exclude everything`},
		{input: ".", paths: []string{"a/acme"}, excludes: []string{"a/acme"}, wantErr: `cannot set the same path for both --path and --exclude-path: "a/acme"`},
		{input: ".", paths: []string{"a/acme/a/v1/a.proto"}, excludes: []string{"a/acme"}, wantErr: `excluded path "a/acme" contains targeted path "a/acme/a/v1/a.proto", which means all paths in "a/acme/a/v1/a.proto" will be excluded`},
		{input: ".", paths: []string{"a/acme"}, excludes: []string{"."}, wantErr: `excluded path "." contains targeted path "a/acme", which means all paths in "a/acme" will be excluded`},
		{input: ".", paths: []string{"nonexist"}, wantErr: ErrNoTargets.Error()},
		{input: ".", paths: []string{"a/acme/"}, excludes: []string{"a/acme/a"}, wantErr: ErrNoTargets.Error()},
		{input: "b", paths: []string{"a"}, wantErr: ErrNoTargets.Error()},
		{input: "b", paths: []string{"a/acme"}, wantErr: ErrNoTargets.Error()},
	}
	for _, tt := range tests {
		name := tt.input + " --path " + strings.Join(tt.paths, ",") + " --exclude-path " + strings.Join(tt.excludes, ",")
		t.Run(name, func(t *testing.T) {
			ws := openWorkspace(t, filepath.Join(orderDir, tt.input))
			targets, err := Targets(ws, tt.paths, tt.excludes)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tg := range targets {
				got = append(got, tg.Path)
				if !slices.Contains(tg.Module.ProtoPaths, tg.Path) {
					t.Errorf("%s: wrong module %s", tg.Path, tg.Module.Path)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("targets %v, want %v", got, tt.want)
			}
		})
	}
	if !errors.Is(mustErr(Targets(openWorkspace(t, orderDir), []string{"zzz"}, nil)), ErrNoTargets) {
		t.Error("nothing targeted is not ErrNoTargets")
	}
}

func mustErr(_ []Target, err error) error { return err }

// TestFileOrder builds the §5.3 example of build-and-imports.md and
// compares the images with what buf 1.75 wrote for the same invocations.
func TestFileOrder(t *testing.T) {
	tests := []struct {
		golden         string
		input          string
		paths          []string
		excludes       []string
		excludeImports bool
		want           string
	}{
		{golden: "order.binpb", input: ".", want: "google/protobuf/timestamp.proto(i) acme/a/v1/a.proto acme/b/v1/b.proto"},
		{golden: "order-path-b.binpb", input: ".", paths: []string{"b/acme/b/v1/b.proto"}, want: "google/protobuf/timestamp.proto(i) acme/a/v1/a.proto(i) acme/b/v1/b.proto"},
		{golden: "order-input-b.binpb", input: "b", want: "google/protobuf/timestamp.proto(i) acme/a/v1/a.proto(i) acme/b/v1/b.proto"},
		{golden: "order-exclude-a.binpb", input: ".", excludes: []string{"a/acme"}, want: "google/protobuf/timestamp.proto(i) acme/a/v1/a.proto(i) acme/b/v1/b.proto"},
		{golden: "order-exclude-imports.binpb", input: ".", excludeImports: true, want: "acme/a/v1/a.proto acme/b/v1/b.proto"},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			ws := openWorkspace(t, filepath.Join(orderDir, tt.input))
			img, err := Build(context.Background(), ws, nil, Options{Paths: tt.paths, ExcludePaths: tt.excludes})
			if err != nil {
				t.Fatal(err)
			}
			if tt.excludeImports {
				img = img.WithoutImports()
			}
			if got := describe(img); got != tt.want {
				t.Errorf("files %q, want %q", got, tt.want)
			}
			want, err := os.ReadFile(filepath.Join("testdata", "golden", tt.golden))
			if err != nil {
				t.Fatal(err)
			}
			if got := writeBinary(t, img); !bytes.Equal(got, want) {
				t.Errorf("image differs from buf's %s", tt.golden)
			}
		})
	}
}

func describe(img *image.Image) string {
	var out []string
	for _, f := range img.Files {
		s := f.Path()
		if f.IsImport {
			s += "(i)"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// TestRepoWorkspaces builds the repository's test workspaces and compares
// them with buf's images, in one chunk and in chunks of one directory.
func TestRepoWorkspaces(t *testing.T) {
	names := []string{"custom-options", "editions", "multi-module", "proto2", "proto3", "proto3-optional-extensions", "wkt"}
	for _, chunk := range []string{"", "1"} {
		for _, name := range names {
			t.Run(name+"/chunk="+chunk, func(t *testing.T) {
				if chunk != "" {
					t.Setenv("PROTOMOD_CHUNK_SIZE", chunk)
				}
				ws := openWorkspace(t, filepath.Join("..", "..", "testdata", "workspaces", name))
				for _, v := range []struct {
					golden            string
					excludeSourceInfo bool
				}{{"default.binpb", false}, {"exclude-source-info.binpb", true}} {
					img, err := Build(context.Background(), ws, nil, Options{ExcludeSourceInfo: v.excludeSourceInfo})
					if err != nil {
						t.Fatal(err)
					}
					want, err := os.ReadFile(filepath.Join("..", "..", "testdata", "golden", "build", name, v.golden))
					if err != nil {
						t.Fatal(err)
					}
					if got := writeBinary(t, img); !bytes.Equal(got, want) {
						t.Errorf("%s: image differs from buf's (%d bytes, want %d)", v.golden, len(got), len(want))
					}
				}
			})
		}
	}
}

func TestChunkSize(t *testing.T) {
	tests := []struct {
		env     string
		targets int
		want    int
	}{
		{"", 1, 0},
		{"", 1999, 0},
		{"", 2000, 1500},
		{"", 50000, 1500},
		{"3", 1, 3},
		{"0", 5000, 0},
		{"many", 5000, 1500},
	}
	for _, tt := range tests {
		t.Setenv("PROTOMOD_CHUNK_SIZE", tt.env)
		if tt.env == "" {
			os.Unsetenv("PROTOMOD_CHUNK_SIZE")
		}
		if got := chunkSize(tt.targets); got != tt.want {
			t.Errorf("chunkSize(%d) with PROTOMOD_CHUNK_SIZE=%q = %d, want %d", tt.targets, tt.env, got, tt.want)
		}
	}
}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// depSet returns a dependency set with one downloaded module.
func depSet(t *testing.T, name, commit string, files map[string]string) *deps.Set {
	t.Helper()
	m := &cache.Module{Key: bufname.ModuleKey{FullName: bufname.MustParseFullName(name), CommitID: commit}}
	for p, c := range files {
		m.Files = append(m.Files, digest.File{Path: p, Content: []byte(c)})
	}
	b5, err := m.B5()
	if err != nil {
		t.Fatal(err)
	}
	pin := lock.Dep{Name: m.Key.FullName, Commit: commit, Digest: b5}
	return &deps.Set{Lock: &lock.File{Version: lock.V2, Deps: []lock.Dep{pin}}, Modules: []*deps.Module{{Pin: pin, Cached: m, Declared: true}}}
}

// TestDependenciesAndShadowing: a workspace file shadows a dependency's
// file with one warning naming both; the dependency's other files are
// imports carrying its name and commit.
func TestDependenciesAndShadowing(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"buf.yaml":              "version: v2\nmodules:\n  - path: proto\n    name: localhost:18080/acme/app\n",
		"proto/acme/v1/a.proto": "syntax = \"proto3\";\npackage acme.v1;\nmessage Local {}\n",
		"proto/app/v1/app.proto": "syntax = \"proto3\";\npackage app.v1;\nimport \"acme/v1/a.proto\";\nimport \"dep/v1/d.proto\";\n" +
			"message App { acme.v1.Local l = 1; dep.v1.D d = 2; }\n",
	})
	const commit = "0de90de90de94de98de90de90de90de9"
	set := depSet(t, "localhost:18080/acme/dep", commit, map[string]string{
		"acme/v1/a.proto": "syntax = \"proto3\";\npackage acme.v1;\nmessage Remote {}\n",
		"dep/v1/d.proto":  "syntax = \"proto3\";\npackage dep.v1;\nmessage D {}\n",
		"README.md":       "# dep\n",
	})
	ws := openWorkspace(t, root)
	var warnings []string
	img, err := Build(context.Background(), ws, set, Options{Warn: func(msg string) { warnings = append(warnings, msg) }})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`acme/v1/a.proto: workspace module path: "proto" shadows localhost:18080/acme/dep:` + commit}
	if !slices.Equal(warnings, want) {
		t.Errorf("warnings %q, want %q", warnings, want)
	}
	// Targets sorted; app.proto's dependency d.proto comes right before it.
	if got := describe(img); got != "acme/v1/a.proto dep/v1/d.proto(i) app/v1/app.proto" {
		t.Errorf("files %q", got)
	}
	for _, f := range img.Files {
		fd, err := f.Descriptor()
		if err != nil {
			t.Fatal(err)
		}
		switch f.Path() {
		case "acme/v1/a.proto":
			if fd.GetMessageType()[0].GetName() != "Local" || f.ModuleName.String() != "localhost:18080/acme/app" || f.CommitID != "" {
				t.Errorf("a.proto: message %s, module %v, commit %q", fd.GetMessageType()[0].GetName(), f.ModuleName, f.CommitID)
			}
		case "dep/v1/d.proto":
			if !f.IsImport || f.ModuleName.String() != "localhost:18080/acme/dep" || f.CommitID != commit {
				t.Errorf("d.proto: import %v, module %v, commit %q", f.IsImport, f.ModuleName, f.CommitID)
			}
		}
	}
	// Without a Warn function nothing is reported and the build works.
	if _, err := Build(context.Background(), ws, set, Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestCompileErrors(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"buf.yaml":        "version: v2\nmodules:\n  - path: proto\ndeps:\n  - buf.build/acme/x\n  - buf.build/acme/y\n",
		"proto/x/x.proto": "syntax = \"proto3\";\npackage x;\nimport \"acme/x/v1/x.proto\";\n",
	})
	ws := openWorkspace(t, root)
	tests := []struct {
		name       string
		set        *deps.Set
		displayDir string
		wantErr    string
		wantHint   string
	}{
		{name: "workspace-relative paths", set: &deps.Set{}, wantErr: "proto/x/x.proto:3:1:imported file does not exist"},
		// As buf prints it from inside proto/x: the module directory, relative.
		{name: "relative to the display directory", displayDir: filepath.Join(root, "proto", "x"), wantErr: "../x/x.proto:3:1:imported file does not exist"},
		{name: "display directory outside", displayDir: filepath.Join(root, "elsewhere"), wantErr: "../proto/x/x.proto:3:1:imported file does not exist"},
		{
			name:     "deps without buf.lock",
			set:      &deps.Set{Unresolved: ws.Deps},
			wantErr:  "proto/x/x.proto:3:1:imported file does not exist",
			wantHint: `buf.yaml declares deps (buf.build/acme/x, buf.build/acme/y) but there is no buf.lock; run "protomod dep update" to pin and download them`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(context.Background(), ws, tt.set, Options{DisplayDir: tt.displayDir})
			var ann *diag.Annotations
			if !errors.As(err, &ann) {
				t.Fatalf("error %v, want annotations", err)
			}
			if err.Error() != tt.wantErr || ann.Hint != tt.wantHint {
				t.Errorf("error %q hint %q, want %q hint %q", err, ann.Hint, tt.wantErr, tt.wantHint)
			}
		})
	}
}

// TestDiscard: a check-only build compiles everything and keeps no
// descriptors.
func TestDiscard(t *testing.T) {
	ws := openWorkspace(t, orderDir)
	img, err := Build(context.Background(), ws, nil, Options{Discard: true, ExcludeSourceInfo: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(img); got != "google/protobuf/timestamp.proto(i) acme/a/v1/a.proto acme/b/v1/b.proto" {
		t.Errorf("files %q", got)
	}
	for _, f := range img.Files {
		if f.Proto != nil {
			t.Errorf("%s kept its descriptor", f.Path())
		}
	}
}

func TestSearchPath(t *testing.T) {
	ws := openWorkspace(t, orderDir)
	set := depSet(t, "buf.build/acme/dep", "0de90de90de94de98de90de90de90de9", map[string]string{"dep.proto": "syntax = \"proto3\";\n"})
	mods, locals := SearchPath(ws, set, "", nil)
	if len(mods) != 3 || len(locals) != 2 {
		t.Fatalf("%d modules, %d local", len(mods), len(locals))
	}
	want := []struct {
		name, prefix string
		local        string
	}{
		{"localhost:8080/acme/a", "a/", "a"},
		{"", "b/", "b"},
		{"buf.build/acme/dep", "", ""},
	}
	for i, w := range want {
		m := mods[i]
		name := ""
		if !m.Name.IsZero() {
			name = m.Name.String()
		}
		local := ""
		if l := locals[m]; l != nil {
			local = l.Path
		}
		if name != w.name || m.DisplayPrefix != w.prefix || local != w.local {
			t.Errorf("module %d: %q prefix %q local %q, want %+v", i, name, m.DisplayPrefix, local, w)
		}
	}
	if mods[2].CommitID != "0de90de90de94de98de90de90de90de9" || !slices.Equal(mods[2].Paths, []string{"dep.proto"}) {
		t.Errorf("dep module %+v", mods[2])
	}
}
