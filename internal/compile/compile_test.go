package compile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bufbuild/protocompile/experimental/fdp"
	"google.golang.org/protobuf/proto"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/diag"
	"github.com/protomod/protomod/internal/workspace"
)

// repoWorkspaces are the test workspaces at the repository root, shared
// with the build goldens.
var repoWorkspaces = []string{
	"custom-options",
	"editions",
	"multi-module",
	"proto2",
	"proto3",
	"proto3-optional-extensions",
	"wkt",
}

// workspaceModules loads a repository test workspace as compiler modules,
// in workspace order, and returns every .proto path as the targets.
func workspaceModules(t *testing.T, name string) ([]*Module, []string) {
	t.Helper()
	ws, err := workspace.Open(filepath.Join("..", "..", "testdata", "workspaces", name), workspace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mods []*Module
	var targets []string
	for _, m := range ws.Modules {
		mods = append(mods, &Module{Name: m.Name(), FS: m.FS(), Paths: m.ProtoPaths, DisplayPrefix: m.Path + "/"})
		targets = append(targets, m.ProtoPaths...)
	}
	return mods, targets
}

// dirModule is a module made of a directory under testdata.
func dirModule(t *testing.T, dir, name string) *Module {
	t.Helper()
	root := filepath.Join("testdata", filepath.FromSlash(dir))
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".proto") {
			return err
		}
		rel, err := filepath.Rel(root, p)
		paths = append(paths, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(paths)
	m := &Module{FS: os.DirFS(root), Paths: paths, DisplayPrefix: dir + "/"}
	if name != "" {
		m.Name = bufname.MustParseFullName(name)
	}
	return m
}

// snapshot is what a compilation produced for one file, comparable across
// compilations.
type snapshot struct {
	descriptor          string // deterministic encoding
	module              *Module
	isSyntaxUnspecified bool
	unused              string
	deps                string
}

// snapshots records every file of res and checks that each comes after its
// dependencies.
func snapshots(t *testing.T, res *Result) map[string]snapshot {
	t.Helper()
	out := make(map[string]snapshot, len(res.Files))
	for _, f := range res.Files {
		if _, dup := out[f.Path()]; dup {
			t.Errorf("%s is in the result twice", f.Path())
		}
		for _, d := range f.Dependencies() {
			if _, ok := out[d]; !ok {
				t.Errorf("%s comes before its dependency %s", f.Path(), d)
			}
		}
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(f.Proto)
		if err != nil {
			t.Fatal(err)
		}
		if res.File(f.Path()) != f {
			t.Errorf("Result.File(%q) does not return the file", f.Path())
		}
		out[f.Path()] = snapshot{
			descriptor:          string(b),
			module:              f.Module,
			isSyntaxUnspecified: f.IsSyntaxUnspecified,
			unused:              fmt.Sprint(f.UnusedDependency),
			deps:                strings.Join(f.Dependencies(), ","),
		}
	}
	return out
}

func compareSnapshots(t *testing.T, what string, got, want map[string]snapshot) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d files, want %d", what, len(got), len(want))
	}
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("%s: %s missing", what, p)
		case g.descriptor != w.descriptor:
			t.Errorf("%s: descriptor of %s differs", what, p)
		case g != w:
			t.Errorf("%s: %s: got %+v, want %+v", what, p, g, w)
		}
	}
}

// compileGroups compiles the targets in the given groups, one fresh
// compiler session each, as Compile does with its own chunks. It lets the
// tests cut groups anywhere, also inside a directory, which Compile never
// does.
func compileGroups(ctx context.Context, resolver *Resolver, opts Options, groups [][]string) (*Result, error) {
	c := &compiler{
		resolver:    resolver,
		opts:        opts,
		parallelism: runtime.GOMAXPROCS(0),
		res:         &Result{byPath: make(map[string]*File)},
		ext:         newExtensionResolver(),
	}
	c.fdpOptions.Apply(fdp.IncludeSourceCodeInfo(opts.SourceInfo), fdp.GenerateExtraOptionLocations(true))
	c.bareOptions.Apply(fdp.IncludeSourceCodeInfo(false))
	var annotations []diag.Annotation
	for _, g := range groups {
		found, err := c.compileChunk(ctx, g)
		if err != nil {
			return nil, err
		}
		annotations = append(annotations, found...)
	}
	if len(annotations) > 0 {
		return nil, diag.New(annotations)
	}
	return c.res, nil
}

// emitRecorder collects emitted files and fails on a second emission.
type emitRecorder struct {
	mu    sync.Mutex
	paths map[string]int
}

func (r *emitRecorder) emit(f *File) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.paths == nil {
		r.paths = map[string]int{}
	}
	r.paths[f.Path()]++
	if f.Proto == nil {
		return errors.New("emitted without a descriptor")
	}
	return nil
}

// TestChunkedCompilationIsIdentical compiles every test workspace in one
// session and in small chunks, and expects byte-identical descriptors and
// identical image facts.
func TestChunkedCompilationIsIdentical(t *testing.T) {
	ctx := context.Background()
	type workspaceCase struct {
		name    string
		mods    []*Module
		targets []string
	}
	var cases []workspaceCase
	for _, name := range repoWorkspaces {
		mods, targets := workspaceModules(t, name)
		cases = append(cases, workspaceCase{name, mods, targets})
	}
	chunksMod := dirModule(t, "chunks", "")
	cases = append(cases, workspaceCase{"chunks (options across directories)", []*Module{chunksMod}, chunksMod.Paths})

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resolver := NewResolver(tc.mods)
			for _, sourceInfo := range []bool{true, false} {
				single, err := Compile(ctx, resolver, Options{Targets: tc.targets, SourceInfo: sourceInfo})
				if err != nil {
					t.Fatal(err)
				}
				want := snapshots(t, single)
				for _, size := range []int{1, 2} {
					var rec emitRecorder
					res, err := Compile(ctx, resolver, Options{Targets: tc.targets, SourceInfo: sourceInfo, ChunkSize: size, Emit: rec.emit, Parallelism: 1})
					if err != nil {
						t.Fatal(err)
					}
					what := fmt.Sprintf("ChunkSize=%d sourceInfo=%v", size, sourceInfo)
					compareSnapshots(t, what, snapshots(t, res), want)
					for p, n := range rec.paths {
						if n != 1 {
							t.Errorf("%s: %s emitted %d times", what, p, n)
						}
					}
					if len(rec.paths) != len(res.Files) {
						t.Errorf("%s: %d files emitted, %d in the result", what, len(rec.paths), len(res.Files))
					}
				}
				// One file per group, cut inside directories too, in
				// reverse order so that importers come before imports.
				var groups [][]string
				for i := len(tc.targets) - 1; i >= 0; i-- {
					groups = append(groups, []string{tc.targets[i]})
				}
				res, err := compileGroups(ctx, resolver, Options{Targets: tc.targets, SourceInfo: sourceInfo}, groups)
				if err != nil {
					t.Fatal(err)
				}
				compareSnapshots(t, fmt.Sprintf("one file per group, sourceInfo=%v", sourceInfo), snapshots(t, res), want)
			}
		})
	}
}

func TestChunks(t *testing.T) {
	tests := []struct {
		targets []string
		size    int
		want    string
	}{
		{[]string{"b/x.proto", "a/y.proto"}, 0, "[[a/y.proto b/x.proto]]"},
		{[]string{"b/x.proto", "a/y.proto"}, 5, "[[a/y.proto b/x.proto]]"},
		{[]string{"b/x.proto", "a/y.proto", "c/z.proto"}, 1, "[[a/y.proto] [b/x.proto] [c/z.proto]]"},
		// A directory is never split, even past the size.
		{[]string{"a/1.proto", "a/2.proto", "a/3.proto", "b/1.proto"}, 2, "[[a/1.proto a/2.proto a/3.proto] [b/1.proto]]"},
		{[]string{"a/1.proto", "b/1.proto", "b/2.proto", "c/1.proto", "c/2.proto"}, 2, "[[a/1.proto b/1.proto b/2.proto] [c/1.proto c/2.proto]]"},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.targets)
		if got := fmt.Sprint(chunks(tt.targets, tt.size)); got != tt.want {
			t.Errorf("chunks(%v, %d) = %s, want %s", tt.targets, tt.size, got, tt.want)
		}
		if !slices.Equal(in, tt.targets) {
			t.Errorf("chunks reordered its argument")
		}
	}
	// The chunk test workspace really is split by ChunkSize 1 and 2.
	m := dirModule(t, "chunks", "")
	if n := len(chunks(m.Paths, 2)); n < 2 {
		t.Errorf("testdata/chunks gives %d chunks of 2", n)
	}
}

// TestEveryErrorReported: errors of several files and chunks are all
// reported, each once, sorted, with workspace-relative paths.
func TestEveryErrorReported(t *testing.T) {
	want := strings.Join([]string{
		"errors/a/a.proto:8:3:cannot find `Foo` in this scope",
		"errors/a/a.proto:9:9:`x` declared multiple times",
		"errors/a/a.proto:10:9:message fields have the same JSON name",
		"errors/b/b.proto:6:1:imported file does not exist",
		"errors/shared/bad.proto:6:3:cannot find `Missing` in this scope",
	}, "\n")
	m := dirModule(t, "errors", "")
	resolver := NewResolver([]*Module{m})
	for _, size := range []int{0, 1} {
		for _, targets := range [][]string{{"a/a.proto", "b/b.proto"}, m.Paths} {
			var rec emitRecorder
			_, err := Compile(context.Background(), resolver, Options{Targets: targets, ChunkSize: size, Emit: rec.emit})
			var ann *diag.Annotations
			if !errors.As(err, &ann) {
				t.Fatalf("ChunkSize=%d targets=%v: error %v, want *diag.Annotations", size, targets, err)
			}
			if got := ann.Error(); got != want {
				t.Errorf("ChunkSize=%d targets=%v:\n%s\nwant\n%s", size, targets, got, want)
			}
			for _, a := range ann.List {
				if a.Type != "COMPILE" || a.EndLine < a.StartLine {
					t.Errorf("annotation %+v", a)
				}
			}
		}
	}
}

func TestSearchOrder(t *testing.T) {
	m1 := dirModule(t, "search/m1", "buf.build/acme/one")
	m2 := dirModule(t, "search/m2", "buf.build/acme/two")
	m2.CommitID = "0123456789abcdef0123456789abcdef"
	resolver := NewResolver([]*Module{m1, m2})
	if got := resolver.Lookup("x.proto"); got != m1 {
		t.Errorf("Lookup(x.proto) = %v, want the first module", got)
	}
	if got := resolver.Lookup("google/protobuf/timestamp.proto"); got != m2 {
		t.Errorf("Lookup(timestamp) = %v, want the module that has it", got)
	}
	if got := resolver.Lookup("google/protobuf/duration.proto"); got != nil {
		t.Errorf("Lookup(duration) = %v, want nil (a Well-Known Type)", got)
	}
	res, err := Compile(context.Background(), resolver, Options{Targets: []string{"user.proto"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path    string
		module  *Module
		pkgOrFn func(t *testing.T, f *File)
	}{
		{"x.proto", m1, func(t *testing.T, f *File) {
			if f.Proto.GetPackage() != "first" {
				t.Errorf("x.proto comes from package %q, want the first module's", f.Proto.GetPackage())
			}
		}},
		{"google/protobuf/timestamp.proto", m2, func(t *testing.T, f *File) {
			if n := len(f.Proto.GetMessageType()[0].GetField()); n != 3 {
				t.Errorf("Timestamp has %d fields: the module's copy (3 fields) must shadow the built-in one", n)
			}
		}},
		{"google/protobuf/duration.proto", nil, func(t *testing.T, f *File) {
			if f.Proto.GetPackage() != "google.protobuf" || f.Proto.GetMessageType()[0].GetName() != "Duration" {
				t.Errorf("duration.proto is not the built-in Well-Known Type")
			}
		}},
		{"user.proto", m1, func(*testing.T, *File) {}},
	}
	for _, tt := range tests {
		f := res.File(tt.path)
		if f == nil {
			t.Errorf("%s not compiled", tt.path)
			continue
		}
		if f.Module != tt.module {
			t.Errorf("%s: module %v, want %v", tt.path, f.Module, tt.module)
		}
		tt.pkgOrFn(t, f)
	}
	if len(res.Files) != len(tests) {
		t.Errorf("%d files compiled, want %d", len(res.Files), len(tests))
	}
	// Reversed, the second module wins x.proto.
	res, err = Compile(context.Background(), NewResolver([]*Module{m2, m1}), Options{Targets: []string{"user.proto"}})
	if err != nil {
		t.Fatal(err)
	}
	if f := res.File("x.proto"); f.Module != m2 || f.Proto.GetPackage() != "second" {
		t.Errorf("reversed order: x.proto from %q", f.Proto.GetPackage())
	}
}

// TestModuleContents: a module whose files are in memory needs no FS.
func TestModuleContents(t *testing.T) {
	m := &Module{
		Paths: []string{"mem/a.proto"},
		Contents: map[string][]byte{
			"mem/a.proto": []byte("syntax = \"proto3\";\npackage mem;\nimport \"google/protobuf/empty.proto\";\nmessage A { google.protobuf.Empty e = 1; }\n"),
		},
	}
	res, err := Compile(context.Background(), NewResolver([]*Module{m}), Options{Targets: []string{"mem/a.proto"}})
	if err != nil {
		t.Fatal(err)
	}
	if f := res.File("mem/a.proto"); f == nil || f.Module != m {
		t.Fatalf("mem/a.proto not compiled from the module")
	}
}

func TestMissingImportAndMissingFile(t *testing.T) {
	m := &Module{
		Paths:         []string{"a.proto"},
		DisplayPrefix: "proto/",
		Contents: map[string][]byte{
			"a.proto": []byte("syntax = \"proto3\";\npackage a;\nimport \"gone.proto\";\n"),
		},
	}
	_, err := Compile(context.Background(), NewResolver([]*Module{m}), Options{Targets: []string{"a.proto"}})
	if err == nil || err.Error() != "proto/a.proto:3:1:imported file does not exist" {
		t.Errorf("missing import: %v", err)
	}
	// A module path whose file cannot be read.
	broken := &Module{Paths: []string{"b.proto"}, FS: os.DirFS(t.TempDir()), DisplayPrefix: "mod/"}
	_, err = Compile(context.Background(), NewResolver([]*Module{broken}), Options{Targets: []string{"b.proto"}})
	if err == nil || !strings.Contains(err.Error(), "b.proto") {
		t.Errorf("unreadable file: %v", err)
	}
}

func TestNoTargets(t *testing.T) {
	_, err := Compile(context.Background(), NewResolver(nil), Options{})
	if err == nil || err.Error() != "no files to compile" {
		t.Errorf("Compile without targets: %v", err)
	}
}

func TestEmitErrorStops(t *testing.T) {
	m := dirModule(t, "chunks", "")
	boom := errors.New("boom")
	_, err := Compile(context.Background(), NewResolver([]*Module{m}), Options{
		Targets: m.Paths,
		Emit:    func(*File) error { return boom },
	})
	if !errors.Is(err, boom) {
		t.Errorf("Compile with a failing Emit: %v", err)
	}
}

// TestImageFacts checks is_syntax_unspecified and the unused import
// indexes, as the reference CLI computes them (facts/x.proto: public
// imports never count as unused; weak ones do).
func TestImageFacts(t *testing.T) {
	m := dirModule(t, "facts", "")
	res, err := Compile(context.Background(), NewResolver([]*Module{m}), Options{Targets: m.Paths})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path                string
		isSyntaxUnspecified bool
		unused              []int32
	}{
		{"a.proto", false, nil},
		{"e.proto", false, nil},
		{"x.proto", true, []int32{0, 2, 4}},
		{"google/protobuf/empty.proto", false, nil},
	}
	for _, tt := range tests {
		f := res.File(tt.path)
		if f == nil {
			t.Errorf("%s not compiled", tt.path)
			continue
		}
		if f.IsSyntaxUnspecified != tt.isSyntaxUnspecified {
			t.Errorf("%s: IsSyntaxUnspecified = %v", tt.path, f.IsSyntaxUnspecified)
		}
		if !slices.Equal(f.UnusedDependency, tt.unused) {
			t.Errorf("%s: UnusedDependency = %v, want %v", tt.path, f.UnusedDependency, tt.unused)
		}
	}
	x := res.File("x.proto")
	if got := x.Proto.GetDependency(); !slices.Equal(got, []string{"a.proto", "b.proto", "google/protobuf/empty.proto", "c.proto", "google/protobuf/any.proto"}) {
		t.Errorf("x.proto dependencies %v", got)
	}
}

// TestOptionImportFacts: in edition 2024, option imports come after the
// regular ones; an unused option import is indexed after the dependency
// entries, as the reference CLI does (checked with buf 1.75).
func TestOptionImportFacts(t *testing.T) {
	m := &Module{
		Paths: []string{"opts.proto", "unused.proto", "used.proto", "x.proto", "y.proto"},
		Contents: map[string][]byte{
			"opts.proto":   []byte("edition = \"2023\";\npackage p;\nimport \"google/protobuf/descriptor.proto\";\nextend google.protobuf.FileOptions { string label = 50001; }\n"),
			"unused.proto": []byte("edition = \"2023\";\npackage p;\nmessage U {}\n"),
			"used.proto":   []byte("edition = \"2023\";\npackage p;\nmessage V {}\n"),
			"x.proto":      []byte("edition = \"2024\";\npackage p;\nimport \"unused.proto\";\nimport \"used.proto\";\nimport option \"opts.proto\";\noption (p.label) = \"x\";\nmessage X { V v = 1; }\n"),
			"y.proto":      []byte("edition = \"2024\";\npackage p;\nimport \"used.proto\";\nimport \"unused.proto\";\nimport option \"opts.proto\";\nmessage Y { V v = 1; }\n"),
		},
	}
	res, err := Compile(context.Background(), NewResolver([]*Module{m}), Options{Targets: []string{"x.proto", "y.proto"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path   string
		unused []int32
		deps   []string
	}{
		{"x.proto", []int32{0}, []string{"unused.proto", "used.proto", "opts.proto"}},
		{"y.proto", []int32{1, 2}, []string{"used.proto", "unused.proto", "opts.proto"}},
	} {
		f := res.File(tt.path)
		if !slices.Equal(f.UnusedDependency, tt.unused) {
			t.Errorf("%s: UnusedDependency = %v, want %v", tt.path, f.UnusedDependency, tt.unused)
		}
		if !slices.Equal(f.Dependencies(), tt.deps) {
			t.Errorf("%s: Dependencies() = %v, want %v", tt.path, f.Dependencies(), tt.deps)
		}
		if got := f.Proto.GetOptionDependency(); !slices.Equal(got, []string{"opts.proto"}) {
			t.Errorf("%s: option_dependency = %v", tt.path, got)
		}
	}
}
