package depupdate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/protomod/protomod/internal/cache"
	"github.com/protomod/protomod/internal/depupdate"
	"github.com/protomod/protomod/internal/diag"
	"github.com/protomod/protomod/internal/e2e/regtest"
	"github.com/protomod/protomod/internal/lock"
	"github.com/protomod/protomod/internal/registry"
	"github.com/protomod/protomod/internal/workspace"
)

// world is a registry with the chain alice/a <- alice/b <- alice/c (pushed
// together from one workspace) and alice/d, alice/e (pushed from another).
type world struct {
	t        *testing.T
	reg      *regtest.Registry
	token    string
	client   *registry.Client
	chain    string // producer workspace of a, b, c
	others   string // producer workspace of d, e
	pushCach *cache.Cache
}

func newWorld(t *testing.T) *world {
	t.Helper()
	reg := regtest.Start(t)
	tok := reg.User("alice")
	c, err := cache.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, reg: reg, token: tok, client: reg.Client(tok), chain: t.TempDir(), others: t.TempDir(), pushCach: c}
	regtest.WriteFiles(t, w.chain, map[string]string{
		"buf.yaml":  fmt.Sprintf("version: v2\nmodules:\n  - path: a\n    name: %[1]s/alice/a\n  - path: b\n    name: %[1]s/alice/b\n  - path: c\n    name: %[1]s/alice/c\n", reg.Host),
		"a/a.proto": "syntax = \"proto3\";\npackage a;\nmessage A {}\nmessage Old {}\n",
		"b/b.proto": "syntax = \"proto3\";\npackage b;\nimport \"a.proto\";\nmessage B { a.A a = 1; }\n",
		"c/c.proto": "syntax = \"proto3\";\npackage c;\nimport \"b.proto\";\nmessage C { b.B b = 1; }\n",
	})
	regtest.WriteFiles(t, w.others, map[string]string{
		"buf.yaml":  fmt.Sprintf("version: v2\nmodules:\n  - path: d\n    name: %[1]s/alice/d\n  - path: e\n    name: %[1]s/alice/e\n", reg.Host),
		"d/d.proto": "syntax = \"proto3\";\npackage d;\nmessage D {}\n",
		"e/e.proto": "syntax = \"proto3\";\npackage e;\nmessage E {}\n",
	})
	w.reg.Push(w.client, w.pushCach, w.chain)
	w.reg.Push(w.client, w.pushCach, w.others)
	return w
}

// edit changes a producer file and pushes its workspace again.
func (w *world) edit(dir, file, content string) {
	w.t.Helper()
	regtest.WriteFiles(w.t, dir, map[string]string{file: content})
	w.reg.Push(w.client, w.pushCach, dir)
}

// pins returns the registry's current pins of owner/module names, sorted.
func (w *world) pins(mods ...string) []lock.Dep {
	out := make([]lock.Dep, len(mods))
	for i, m := range mods {
		out[i] = w.reg.Pin(w.client, m, "")
	}
	lock.SortDeps(out)
	return out
}

// lockBytes is buf.lock as Update writes it for pins.
func lockBytes(t *testing.T, pins []lock.Dep) []byte {
	t.Helper()
	data, err := (&lock.File{Version: lock.V2, Deps: pins}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// consumer is a workspace that depends on the world's modules.
type consumer struct {
	w        *world
	dir      string
	cacheDir string
	warnings []string
	client   *registry.Client
}

func (w *world) consumer(files map[string]string) *consumer {
	w.t.Helper()
	c := &consumer{w: w, dir: w.t.TempDir(), cacheDir: w.t.TempDir()}
	regtest.WriteFiles(w.t, c.dir, files)
	return c
}

// deps writes buf.yaml with the given deps (owner/module[:ref]).
func (c *consumer) deps(refs ...string) {
	c.w.t.Helper()
	yaml := "version: v2\n"
	if len(refs) > 0 {
		yaml += "deps:\n"
		for _, r := range refs {
			yaml += "  - " + c.w.reg.Host + "/" + r + "\n"
		}
	}
	regtest.WriteFiles(c.w.t, c.dir, map[string]string{"buf.yaml": yaml})
}

func (c *consumer) options(only ...string) depupdate.Options {
	c.w.t.Helper()
	c.client = c.w.reg.Client(c.w.token)
	c.warnings = nil
	opts := depupdate.Options{
		Client:    c.client,
		OpenCache: func() (*cache.Cache, error) { return cache.OpenDir(c.cacheDir) },
		Warn:      func(msg string) { c.warnings = append(c.warnings, msg) },
	}
	for _, o := range only {
		opts.Only = append(opts.Only, c.w.reg.Name(o))
	}
	return opts
}

func (c *consumer) workspace() *workspace.Workspace {
	c.w.t.Helper()
	ws, err := workspace.Open(c.dir, workspace.Options{})
	if err != nil {
		c.w.t.Fatal(err)
	}
	return ws
}

func (c *consumer) update(only ...string) error {
	c.w.t.Helper()
	_, err := depupdate.Update(context.Background(), c.workspace(), c.options(only...))
	return err
}

func (c *consumer) mustUpdate(only ...string) {
	c.w.t.Helper()
	if err := c.update(only...); err != nil {
		c.w.t.Fatalf("update: %v", err)
	}
}

// lock returns buf.lock's bytes, nil if there is none.
func (c *consumer) lock() []byte {
	c.w.t.Helper()
	data, err := os.ReadFile(filepath.Join(c.dir, lock.FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		c.w.t.Fatal(err)
	}
	return data
}

func unusedWarning(name string) string {
	return fmt.Sprintf("Module %[1]s is declared in your buf.yaml deps but is unused. This command only modifies buf.lock files, not buf.yaml files. Please remove %[1]s from your buf.yaml deps if it is not needed.", name)
}

const importC = "syntax = \"proto3\";\npackage x;\nimport \"c.proto\";\nmessage X { c.C c = 1; }\n"

func TestUpdate(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name         string
		deps         []string
		wantPins     []string
		wantRequests int64
		wantWarnings []string
	}{
		{
			// GetCommits, GetGraph, GetModules (a and b are not
			// declared; their owner is c's), Download.
			name:         "transitive deps named by the registry",
			deps:         []string{"alice/c"},
			wantPins:     []string{"alice/a", "alice/b", "alice/c"},
			wantRequests: 4,
		},
		{
			name:         "every node declared: no naming requests",
			deps:         []string{"alice/c", "alice/b", "alice/a", "alice/d", "alice/e"},
			wantPins:     []string{"alice/a", "alice/b", "alice/c", "alice/d", "alice/e"},
			wantRequests: 3,
			wantWarnings: []string{unusedWarning(w.reg.Host + "/alice/d"), unusedWarning(w.reg.Host + "/alice/e")},
		},
		{
			name:         "label and commit refs",
			deps:         []string{"alice/c:main", "alice/d:" + w.pins("alice/d")[0].Commit},
			wantPins:     []string{"alice/a", "alice/b", "alice/c", "alice/d"},
			wantRequests: 4,
			wantWarnings: []string{unusedWarning(w.reg.Host + "/alice/d")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := w.consumer(map[string]string{"x.proto": importC})
			c.deps(tt.deps...)
			c.mustUpdate()
			want := lockBytes(t, w.pins(tt.wantPins...))
			if got := c.lock(); !bytes.Equal(got, want) {
				t.Errorf("buf.lock:\n%s\nwant:\n%s", got, want)
			}
			if got := c.client.Requests(); got != tt.wantRequests {
				t.Errorf("cold update sent %d requests, want %d", got, tt.wantRequests)
			}
			if !slices.Equal(c.warnings, tt.wantWarnings) {
				t.Errorf("warnings %q, want %q", c.warnings, tt.wantWarnings)
			}
			fi, err := os.Stat(filepath.Join(c.dir, lock.FileName))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("buf.lock mode %v (err %v), want 0600", fi.Mode().Perm(), err)
			}
			// Warm: the cache has everything; nothing is downloaded.
			c.mustUpdate()
			if got := c.client.Requests(); got >= tt.wantRequests {
				t.Errorf("warm update sent %d requests, want fewer than the cold %d", got, tt.wantRequests)
			}
			if got := c.lock(); !bytes.Equal(got, want) {
				t.Errorf("warm update changed buf.lock:\n%s", got)
			}
		})
	}
}

func TestUpdateNoDeps(t *testing.T) {
	w := newWorld(t)
	const empty = "# Generated by buf. DO NOT EDIT.\nversion: v2\n"
	tests := []struct {
		name         string
		lock         *string
		wantLock     *string
		wantWarnings []string
	}{
		{name: "no buf.lock: warn, write nothing", wantWarnings: []string{`No configured dependencies were found to update in ".".`}},
		{name: "empty buf.lock is rewritten", lock: ptr(empty), wantLock: ptr(empty)},
		{name: "stale pins are dropped", lock: ptr(string(lockBytes(t, w.pins("alice/d")))), wantLock: ptr(empty)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := w.consumer(map[string]string{"x.proto": "syntax = \"proto3\";\npackage x;\n"})
			c.deps()
			if tt.lock != nil {
				regtest.WriteFiles(t, c.dir, map[string]string{lock.FileName: *tt.lock})
			}
			c.mustUpdate()
			if got := c.lock(); (got == nil) != (tt.wantLock == nil) || (got != nil && string(got) != *tt.wantLock) {
				t.Errorf("buf.lock %q, want %v", got, tt.wantLock)
			}
			if !slices.Equal(c.warnings, tt.wantWarnings) {
				t.Errorf("warnings %q, want %q", c.warnings, tt.wantWarnings)
			}
			if got := c.client.Requests(); got != 0 {
				t.Errorf("sent %d requests, want none", got)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestUpdateBuildFailureKeepsLock(t *testing.T) {
	for _, hadLock := range []bool{true, false} {
		t.Run(fmt.Sprintf("previous buf.lock %v", hadLock), func(t *testing.T) {
			w := newWorld(t)
			c := w.consumer(map[string]string{
				"x.proto": "syntax = \"proto3\";\npackage x;\nimport \"a.proto\";\nmessage X { a.Old old = 1; }\n",
			})
			c.deps("alice/a")
			var before []byte
			if hadLock {
				c.mustUpdate()
				before = c.lock()
			}
			// The new a drops the message the consumer uses.
			w.edit(w.chain, "a/a.proto", "syntax = \"proto3\";\npackage a;\nmessage A {}\n")
			err := c.update()
			var ann *diag.Annotations
			if !errors.As(err, &ann) {
				t.Fatalf("update: got %v, want compile errors", err)
			}
			if got := c.lock(); !bytes.Equal(got, before) {
				t.Errorf("buf.lock changed:\n%s\nwant:\n%s", got, before)
			}
		})
	}
}

func TestUpdateOnly(t *testing.T) {
	w := newWorld(t)
	c := w.consumer(map[string]string{"x.proto": importC + "import \"d.proto\";\nmessage Y { d.D d = 1; }\n"})
	c.deps("alice/c", "alice/d")
	c.mustUpdate()
	old := w.pins("alice/a", "alice/b", "alice/c", "alice/d")
	w.edit(w.others, "d/d.proto", "syntax = \"proto3\";\npackage d;\nmessage D {}\nmessage D2 {}\n")
	w.edit(w.chain, "a/a.proto", "syntax = \"proto3\";\npackage a;\nmessage A {}\nmessage Old {}\nmessage A2 {}\n")
	now := w.pins("alice/a", "alice/b", "alice/c", "alice/d")
	for i := range old {
		if old[i].Commit == now[i].Commit {
			t.Fatalf("%s did not get a new commit", old[i].Name)
		}
	}
	// Only d: a, b and c keep their pins.
	c.mustUpdate("alice/d")
	want := lockBytes(t, []lock.Dep{old[0], old[1], old[2], now[3]})
	if got := c.lock(); !bytes.Equal(got, want) {
		t.Fatalf("after --only d:\n%s\nwant:\n%s", got, want)
	}
	// Only c: c and what it needs move; d stays where it is.
	c.mustUpdate("alice/c")
	want = lockBytes(t, now)
	if got := c.lock(); !bytes.Equal(got, want) {
		t.Fatalf("after --only c:\n%s\nwant:\n%s", got, want)
	}
}

func TestCheck(t *testing.T) {
	w := newWorld(t)
	c := w.consumer(map[string]string{"x.proto": importC})
	c.deps("alice/c", "alice/d")
	c.mustUpdate()
	check := func() []depupdate.Difference {
		t.Helper()
		before := c.lock()
		diffs, err := depupdate.Check(context.Background(), c.workspace(), c.options())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.lock(), before) {
			t.Fatal("Check changed buf.lock")
		}
		return diffs
	}
	if diffs := check(); len(diffs) != 0 {
		t.Fatalf("fresh buf.lock: differences %v", diffs)
	}
	old := w.pins("alice/a", "alice/b", "alice/c", "alice/d")
	w.edit(w.chain, "a/a.proto", "syntax = \"proto3\";\npackage a;\nmessage A {}\nmessage Old {}\nmessage A2 {}\n")
	c.deps("alice/c", "alice/e")
	now := w.pins("alice/a", "alice/b", "alice/c", "alice/e")
	h := w.reg.Host
	want := []string{
		fmt.Sprintf("%s/alice/a: buf.lock pins commit %s but the declared deps now need commit %s", h, old[0].Commit, now[0].Commit),
		fmt.Sprintf("%s/alice/b: buf.lock pins commit %s but the declared deps now need commit %s", h, old[1].Commit, now[1].Commit),
		fmt.Sprintf("%s/alice/c: buf.lock pins commit %s but its default label now resolves to commit %s", h, old[2].Commit, now[2].Commit),
		fmt.Sprintf("%s/alice/d: buf.lock pins commit %s but no declared dep needs it", h, old[3].Commit),
		fmt.Sprintf("%s/alice/e: declared in buf.yaml deps but not pinned in buf.lock (its default label resolves to commit %s)", h, now[3].Commit),
	}
	var got []string
	for _, d := range check() {
		got = append(got, d.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("differences:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	err := &depupdate.OutOfDateError{Differences: make([]depupdate.Difference, 5)}
	if got, want := err.Error(), `buf.lock is out of date (5 differences); run "protomod dep update" to update it`; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
}

func TestPrune(t *testing.T) {
	w := newWorld(t)
	h := w.reg.Host
	const empty = "# Generated by buf. DO NOT EDIT.\nversion: v2\n"
	tests := []struct {
		name string
		// lockDeps are pinned first with an update on these deps.
		lockDeps     []string
		deps         []string
		x            string
		wantPins     []string
		wantEmpty    bool
		wantErr      string
		wantWarnings []string
	}{
		{
			name:         "unused declared dep dropped",
			lockDeps:     []string{"alice/c", "alice/d"},
			deps:         []string{"alice/c", "alice/d"},
			x:            importC,
			wantPins:     []string{"alice/a", "alice/b", "alice/c"},
			wantWarnings: []string{unusedWarning(h + "/alice/d")},
		},
		{
			name:         "pin reached but not declared",
			lockDeps:     []string{"alice/c", "alice/d"},
			deps:         []string{"alice/d"},
			x:            importC,
			wantErr:      fmt.Sprintf("Module %[1]s/alice/a is detected to be a still-used dependency from your existing buf.lock, but is not a declared dependency in your buf.yaml deps, and is not a transitive dependency of any declared dependency. Add %[1]s/alice/a to your buf.yaml deps.", h),
			wantWarnings: []string{unusedWarning(h + "/alice/d")},
		},
		{
			name:      "no deps: the empty buf.lock is created",
			x:         "syntax = \"proto3\";\npackage x;\n",
			wantEmpty: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := w.consumer(map[string]string{"x.proto": tt.x})
			if tt.lockDeps != nil {
				c.deps(tt.lockDeps...)
				c.mustUpdate()
			}
			c.deps(tt.deps...)
			before := c.lock()
			err := depupdate.Prune(context.Background(), c.workspace(), c.options())
			if !slices.Equal(c.warnings, tt.wantWarnings) {
				t.Errorf("warnings %q, want %q", c.warnings, tt.wantWarnings)
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if !bytes.Equal(c.lock(), before) {
					t.Error("a failed prune changed buf.lock")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := []byte(empty)
			if !tt.wantEmpty {
				want = lockBytes(t, w.pins(tt.wantPins...))
			}
			if got := c.lock(); !bytes.Equal(got, want) {
				t.Errorf("buf.lock:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestLocalModuleReplacesDep(t *testing.T) {
	w := newWorld(t)
	c := w.consumer(map[string]string{
		"buf.yaml": fmt.Sprintf("version: v2\nmodules:\n  - path: a\n    name: %[1]s/alice/a\n  - path: x\ndeps:\n  - %[1]s/alice/c\n  - %[1]s/alice/a\n", w.reg.Host),
		// The local a has a message the registry's a lacks.
		"a/a.proto": "syntax = \"proto3\";\npackage a;\nmessage A {}\nmessage Local {}\n",
		"x/x.proto": "syntax = \"proto3\";\npackage x;\nimport \"c.proto\";\nimport \"a.proto\";\nmessage X { c.C c = 1; a.Local l = 2; }\n",
	})
	c.mustUpdate()
	want := lockBytes(t, w.pins("alice/b", "alice/c"))
	if got := c.lock(); !bytes.Equal(got, want) {
		t.Errorf("buf.lock:\n%s\nwant (no pin of the workspace's own a):\n%s", got, want)
	}
	if len(c.warnings) != 0 {
		t.Errorf("warnings %q", c.warnings)
	}
}

func TestUpdateRejects(t *testing.T) {
	w := newWorld(t)
	h := w.reg.Host
	tests := []struct {
		name    string
		files   map[string]string
		only    []string
		wantErr string
	}{
		{
			name:    "deps on two registries",
			files:   map[string]string{"buf.yaml": fmt.Sprintf("version: v2\ndeps:\n  - %s/alice/c\n  - buf.example.com/acme/x\n", h)},
			wantErr: fmt.Sprintf("dependencies across multiple registries are not allowed: %s, buf.example.com", h),
		},
		{
			name:    "--only a module that is not a dep",
			files:   map[string]string{"buf.yaml": fmt.Sprintf("version: v2\ndeps:\n  - %s/alice/c\n", h)},
			only:    []string{"alice/d"},
			wantErr: fmt.Sprintf("--only %s/alice/d: not a dependency declared in buf.yaml deps; add it to deps first", h),
		},
		{
			name:    "--only a workspace module",
			files:   map[string]string{"buf.yaml": fmt.Sprintf("version: v2\nname: %s/alice/x\ndeps:\n  - %s/alice/c\n", h, h)},
			only:    []string{"alice/x"},
			wantErr: fmt.Sprintf("--only %s/alice/x: this is a module of the workspace, not a remote dependency; nothing to update", h),
		},
		{
			name:    "v1 workspace file",
			files:   map[string]string{"buf.work.yaml": "version: v1\ndirectories:\n  - proto\n", "buf.yaml": "", "proto/buf.yaml": "version: v1\n", "proto/p.proto": "syntax = \"proto3\";\n"},
			wantErr: `buf.work.yaml (v1 workspace) is not supported by dep update; use a v2 buf.yaml with a modules list ("buf config migrate" converts it)`,
		},
		{
			name:    "unknown module",
			files:   map[string]string{"buf.yaml": fmt.Sprintf("version: v2\ndeps:\n  - %s/alice/nope\n", h)},
			wantErr: "module alice/nope not found",
		},
		{
			name:    "malformed buf.lock",
			files:   map[string]string{"buf.yaml": fmt.Sprintf("version: v2\ndeps:\n  - %s/alice/c\n", h), "buf.lock": "version: v2\ndeps:\n  - name: " + h + "/alice/c\n"},
			wantErr: fmt.Sprintf("decode buf.lock: no commit specified for module %s/alice/c", h),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"x.proto": importC}
			for k, v := range tt.files {
				files[k] = v
			}
			if files["buf.yaml"] == "" {
				delete(files, "buf.yaml")
				delete(files, "x.proto")
			}
			c := w.consumer(files)
			before := c.lock()
			err := c.update(tt.only...)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if !bytes.Equal(c.lock(), before) {
				t.Error("buf.lock changed")
			}
		})
	}
}

func TestGraph(t *testing.T) {
	w := newWorld(t)
	c := w.consumer(map[string]string{"x.proto": importC})
	c.deps("alice/c", "alice/d")
	c.mustUpdate()
	p := w.pins("alice/a", "alice/b", "alice/c", "alice/d")
	g, err := depupdate.Graph(context.Background(), c.workspace(), func() (*cache.Cache, error) { return cache.OpenDir(c.cacheDir) })
	if err != nil {
		t.Fatal(err)
	}
	key := func(d lock.Dep) string { return d.Key().String() }
	wantDOT := fmt.Sprintf("digraph {\n\n  %q -> %q\n  %q -> %q\n  %q -> %q\n  %q\n\n}\n",
		".", key(p[2]), key(p[2]), key(p[1]), key(p[1]), key(p[0]), key(p[3]))
	if got := g.DOT(); got != wantDOT {
		t.Errorf("DOT:\n%s\nwant:\n%s", got, wantDOT)
	}
	wantText := fmt.Sprintf(". (workspace)\n└── %s\n    └── %s\n        └── %s\n%s\n", key(p[2]), key(p[1]), key(p[0]), key(p[3]))
	if got := g.Text(); got != wantText {
		t.Errorf("text:\n%s\nwant:\n%s", got, wantText)
	}
	js, err := g.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(js, `[{"name":".","digest":"b5:`) || !strings.Contains(js, fmt.Sprintf(`{"name":%q,"commit":%q,"digest":%q}`, p[3].Name.String(), p[3].Commit, p[3].Digest.String())) {
		t.Errorf("JSON: %s", js)
	}

	// Offline with an empty cache: a clear error, no download.
	empty := t.TempDir()
	_, err = depupdate.Graph(context.Background(), c.workspace(), func() (*cache.Cache, error) { return cache.OpenDir(empty) })
	want := fmt.Sprintf(`4 pinned modules are not in the module cache at %s (%s, %s, %s, %s); dep graph works offline: run "protomod dep update" (or "protomod build") to download them`,
		empty, key(p[0]), key(p[1]), key(p[2]), key(p[3]))
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}
