package deps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/cache"
	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/lock"
	"github.com/protomod/protomod/internal/workspace"
)

// remote is a module commit of the test registry.
type remote struct {
	name   string
	commit string
	files  map[string]string
	deps   []string // names of all (transitive) deps
}

// The test registry: app -> util -> base, other and stale stand alone.
var remotes = []remote{
	{name: "buf.build/acme/base", commit: "0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e", files: map[string]string{
		"base/v1/base.proto": "syntax = \"proto3\";\npackage base.v1;\nmessage Base { string id = 1; }\n",
	}},
	{name: "buf.build/acme/util", commit: "c0c0c0c0c0c04c0c8c0c0c0c0c0c0c0c", deps: []string{"buf.build/acme/base"}, files: map[string]string{
		"util/v1/util.proto": "syntax = \"proto3\";\npackage util.v1;\nimport \"base/v1/base.proto\";\nmessage Util { base.v1.Base b = 1; }\n",
	}},
	{name: "buf.build/acme/app", commit: "a0a0a0a0a0a04a0a8a0a0a0a0a0a0a0a", deps: []string{"buf.build/acme/util", "buf.build/acme/base"}, files: map[string]string{
		"app/v1/app.proto": "syntax = \"proto3\";\npackage app.v1;\nimport \"util/v1/util.proto\";\nmessage App { util.v1.Util u = 1; }\n",
		"README.md":        "# app\n",
		"buf.yaml":         "version: v2\n",
	}},
	{name: "buf.build/acme/other", commit: "0f0f0f0f0f0f4f0f8f0f0f0f0f0f0f0f", files: map[string]string{
		"other/v1/other.proto": "syntax = \"proto3\";\npackage other.v1;\n",
	}},
	{name: "buf.build/acme/stale", commit: "5a5a5a5a5a5a4a5a8a5a5a5a5a5a5a5a", files: map[string]string{
		"stale/v1/stale.proto": "syntax = \"proto3\";\npackage stale.v1;\n",
	}},
}

// registry builds the cache modules and lock pins of the test registry.
type registry struct {
	modules map[string]*cache.Module
	pins    map[string]lock.Dep
}

func newRegistry(t *testing.T) *registry {
	t.Helper()
	r := &registry{modules: map[string]*cache.Module{}, pins: map[string]lock.Dep{}}
	for _, rm := range remotes { // dependencies come first in remotes
		name := bufname.MustParseFullName(rm.name)
		m := &cache.Module{Key: bufname.ModuleKey{FullName: name, CommitID: rm.commit}}
		for p, c := range rm.files {
			m.Files = append(m.Files, digest.File{Path: p, Content: []byte(c)})
		}
		slices.SortFunc(m.Files, func(a, b digest.File) int { return strings.Compare(a.Path, b.Path) })
		for _, d := range rm.deps {
			m.Deps = append(m.Deps, r.pins[d])
		}
		lock.SortDeps(m.Deps)
		b5, err := m.B5()
		if err != nil {
			t.Fatal(err)
		}
		r.modules[rm.name] = m
		r.pins[rm.name] = lock.Dep{Name: name, Commit: rm.commit, Digest: b5}
	}
	return r
}

// put stores the named modules in a new cache under t.TempDir().
func (r *registry) put(t *testing.T, names ...string) *cache.Cache {
	t.Helper()
	c, err := cache.OpenDir(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := c.Put(r.modules[n]); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func (r *registry) lockFile(names ...string) *lock.File {
	f := &lock.File{Version: lock.V2}
	for _, n := range names {
		f.Deps = append(f.Deps, r.pins[n])
	}
	lock.SortDeps(f.Deps)
	return f
}

// newWorkspace writes a workspace with the given buf.yaml (plus one local
// module directory "proto" with a file) and, if lf is not nil, buf.lock.
func newWorkspace(t *testing.T, bufYAML string, lf *lock.File, extra map[string]string) *workspace.Workspace {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"buf.yaml":        bufYAML,
		"proto/p.proto":   "syntax = \"proto3\";\npackage p;\n",
		"local/l.proto":   "syntax = \"proto3\";\npackage l;\n",
		"v1only/v.proto":  "syntax = \"proto3\";\n",
		"unused/u.proto":  "syntax = \"proto3\";\n",
		"unused2/u.proto": "syntax = \"proto3\";\n",
	}
	for p, c := range extra {
		files[p] = c
	}
	for p, c := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if lf != nil {
		if err := lock.Write(root, lf); err != nil {
			t.Fatal(err)
		}
	}
	ws, err := workspace.Open(root, workspace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func bufYAML(deps ...string) string {
	s := "version: v2\nmodules:\n  - path: proto\n"
	if len(deps) > 0 {
		s += "deps:\n"
		for _, d := range deps {
			s += "  - " + d + "\n"
		}
	}
	return s
}

func order(set *Set) string {
	var out []string
	for _, m := range set.Modules {
		s := m.Pin.Name.Name
		if m.Declared {
			s += "*"
		}
		if m.Cached == nil || m.Cached.Key != m.Pin.Key() {
			s += "(no cache entry)"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestSearchOrder(t *testing.T) {
	r := newRegistry(t)
	all := []string{"buf.build/acme/app", "buf.build/acme/base", "buf.build/acme/other", "buf.build/acme/stale", "buf.build/acme/util"}
	tests := []struct {
		name  string
		yaml  string
		lock  []string
		want  string // names in search order, * for declared
		extra map[string]string
	}{
		{
			name: "declared order, each followed by its transitive deps, then stale lock entries",
			yaml: bufYAML("buf.build/acme/other", "buf.build/acme/app"),
			lock: all,
			want: "other* app* base util stale",
		},
		{
			name: "a transitive dep declared later is searched where first reached",
			yaml: bufYAML("buf.build/acme/app", "buf.build/acme/base", "buf.build/acme/other"),
			lock: all,
			want: "app* base util other* stale",
		},
		{
			name: "declared deps in reverse",
			yaml: bufYAML("buf.build/acme/util", "buf.build/acme/other"),
			lock: []string{"buf.build/acme/base", "buf.build/acme/other", "buf.build/acme/util"},
			want: "util* base other*",
		},
		{
			name: "a workspace module replaces a dep of the same name",
			yaml: "version: v2\nmodules:\n  - path: proto\n  - path: local\n    name: buf.build/acme/util\ndeps:\n  - buf.build/acme/app\n",
			lock: all,
			want: "app* base other stale",
		},
		{
			name: "a declared dep replaced by a workspace module needs no pin",
			yaml: "version: v2\nmodules:\n  - path: proto\n  - path: local\n    name: buf.build/acme/other\ndeps:\n  - buf.build/acme/other\n  - buf.build/acme/base\n",
			lock: []string{"buf.build/acme/base"},
			want: "base*",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := newWorkspace(t, tt.yaml, r.lockFile(tt.lock...), tt.extra)
			c := r.put(t, all...)
			set, err := Resolve(context.Background(), ws, Options{OpenCache: func() (*cache.Cache, error) { return c, nil }})
			if err != nil {
				t.Fatal(err)
			}
			if got := order(set); got != tt.want {
				t.Errorf("search order %q, want %q", got, tt.want)
			}
			if set.Lock == nil || len(set.Lock.Deps) != len(tt.lock) || len(set.Unresolved) != 0 {
				t.Errorf("Lock %v, Unresolved %v", set.Lock, set.Unresolved)
			}
		})
	}
}

func TestNoLock(t *testing.T) {
	ws := newWorkspace(t, bufYAML("buf.build/acme/b", "buf.build/acme/a:v1"), nil, nil)
	set, err := Resolve(context.Background(), ws, Options{OpenCache: func() (*cache.Cache, error) {
		t.Fatal("the cache was opened without a buf.lock")
		return nil, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	var unresolved []string
	for _, r := range set.Unresolved {
		unresolved = append(unresolved, r.String())
	}
	if set.Lock != nil || len(set.Modules) != 0 || !slices.Equal(unresolved, []string{"buf.build/acme/b", "buf.build/acme/a:v1"}) {
		t.Errorf("without buf.lock: Lock %v, Modules %v, Unresolved %v", set.Lock, set.Modules, unresolved)
	}
}

// TestCacheNotOpenedWithoutRemotePins: a lock whose only deps are replaced
// by workspace modules, or that has none, never opens the cache.
func TestCacheNotOpenedWithoutRemotePins(t *testing.T) {
	r := newRegistry(t)
	for _, lf := range []*lock.File{r.lockFile(), r.lockFile("buf.build/acme/other")} {
		ws := newWorkspace(t, "version: v2\nmodules:\n  - path: proto\n  - path: local\n    name: buf.build/acme/other\n", lf, nil)
		set, err := Resolve(context.Background(), ws, Options{OpenCache: func() (*cache.Cache, error) {
			return nil, errors.New("cache opened")
		}})
		if err != nil || len(set.Modules) != 0 || set.Lock == nil {
			t.Errorf("lock with %d deps: %v, %v", len(lf.Deps), set, err)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	r := newRegistry(t)
	all := []string{"buf.build/acme/app", "buf.build/acme/base", "buf.build/acme/other", "buf.build/acme/stale", "buf.build/acme/util"}
	v1Lock := "# Generated by buf. DO NOT EDIT.\nversion: v1\ndeps:\n  - remote: buf.build\n    owner: acme\n    repository: base\n    commit: 0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e\n    digest: shake256:fe9589f5fc4d871f94e31be428594013c97df07e5ae4d6adfb3c0a1fd795947bd74e72825143237bda978d29455dd36687a8547d847d3f03b66af937eb2e3694\n"
	tests := []struct {
		name    string
		yaml    string
		lock    []string
		rawLock string
		cached  []string
		opts    Options
		wantErr string
	}{
		{
			name:    "declared dep missing from buf.lock",
			yaml:    bufYAML("buf.build/acme/other", "buf.build/acme/app"),
			lock:    []string{"buf.build/acme/other"},
			cached:  all,
			wantErr: `"buf.build/acme/app" declared in buf.yaml deps but not present in buf.lock; run "protomod dep update" to update the lock file`,
		},
		{
			name:    "transitive dep missing from buf.lock",
			yaml:    bufYAML("buf.build/acme/app"),
			lock:    []string{"buf.build/acme/app", "buf.build/acme/base"},
			cached:  all,
			wantErr: `buf.build/acme/util is a dependency of a pinned module but is not in buf.lock; run "protomod dep update" to update the lock file`,
		},
		{
			name:    "v1 lock for a v2 buf.yaml",
			yaml:    bufYAML("buf.build/acme/base"),
			rawLock: v1Lock,
			wantErr: `got a v1 buf.lock file for a v2 buf.yaml`,
		},
		{
			name:    "v1 lock for a v1 buf.yaml",
			yaml:    "version: v1\ndeps:\n  - buf.build/acme/base\n",
			rawLock: v1Lock,
			wantErr: `buf.lock is a v1 lock file with b4 (shake256) digests, which protomod does not verify; migrate buf.yaml to v2 ("buf config migrate" does it) and run "protomod dep update" to write a v2 buf.lock`,
		},
		{
			name:    "v1beta1 lock",
			yaml:    "version: v1\n",
			rawLock: strings.Replace(v1Lock, "version: v1", "version: v1beta1", 1),
			wantErr: `buf.lock is a v1beta1 lock file with b4 (shake256) digests, which protomod does not verify; migrate buf.yaml to v2 ("buf config migrate" does it) and run "protomod dep update" to write a v2 buf.lock`,
		},
		{
			name:    "unreadable buf.lock",
			yaml:    bufYAML(),
			rawLock: "version: [\n",
			wantErr: "decode buf.lock: ",
		},
		{
			name:    "offline cache miss",
			yaml:    bufYAML("buf.build/acme/app"),
			lock:    []string{"buf.build/acme/app", "buf.build/acme/base", "buf.build/acme/util"},
			cached:  []string{"buf.build/acme/base"},
			wantErr: `buf.build/acme/app:a0a0a0a0a0a04a0a8a0a0a0a0a0a0a0a, buf.build/acme/util:c0c0c0c0c0c04c0c8c0c0c0c0c0c0c0c is not in the module cache (CACHE) and protomod is offline; run without --offline, or run "protomod dep update" while online, to download it`,
		},
		{
			name:    "cache miss with --offline",
			yaml:    bufYAML("buf.build/acme/base"),
			lock:    []string{"buf.build/acme/base"},
			opts:    Options{OfflineFlag: true},
			wantErr: `buf.build/acme/base:0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e is not in the module cache (CACHE) and --offline is set; run without --offline, or run "protomod dep update" while online, to download it`,
		},
		{
			name:    "cache cannot be opened",
			yaml:    bufYAML("buf.build/acme/base"),
			lock:    []string{"buf.build/acme/base"},
			opts:    Options{OpenCache: func() (*cache.Cache, error) { return nil, errors.New("no cache here") }},
			wantErr: "no cache here",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lf *lock.File
			if tt.rawLock == "" {
				lf = r.lockFile(tt.lock...)
			}
			ws := newWorkspace(t, tt.yaml, lf, nil)
			if tt.rawLock != "" {
				if err := os.WriteFile(filepath.Join(ws.Root, "buf.lock"), []byte(tt.rawLock), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			c := r.put(t, tt.cached...)
			opts := tt.opts
			if opts.OpenCache == nil {
				opts.OpenCache = func() (*cache.Cache, error) { return c, nil }
			}
			_, err := Resolve(context.Background(), ws, opts)
			want := strings.ReplaceAll(tt.wantErr, "CACHE", c.Dir)
			if err == nil || !strings.HasPrefix(err.Error(), want) || (!strings.HasSuffix(want, ": ") && err.Error() != want) {
				t.Errorf("error:\n%v\nwant:\n%s", err, want)
			}
		})
	}
}

// TestTamperedCache: a cached file altered on disk fails verification with
// the message of cache-and-auth.md §5, and so does an edited buf.lock.
func TestTamperedCache(t *testing.T) {
	r := newRegistry(t)
	names := []string{"buf.build/acme/base"}
	base := r.pins["buf.build/acme/base"]
	if got := base.Digest.String(); got != "b5:fe9589f5fc4d871f94e31be428594013c97df07e5ae4d6adfb3c0a1fd795947bd74e72825143237bda978d29455dd36687a8547d847d3f03b66af937eb2e3694" {
		t.Fatalf("base is not digest vector (vi): %s", got)
	}
	tampered := "syntax = \"proto3\";\npackage base.v1;\nmessage Base { string id = 2; }\n"
	tamperedB5, err := digest.B5([]digest.File{{Path: "base/v1/base.proto", Content: []byte(tampered)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantMsg := func(expected, actual digest.Digest) string {
		return "*** Digest verification failed for \"buf.build/acme/base:0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e\" ***\n" +
			"\tExpected digest (from buf.lock): \"" + expected.String() + "\"\n" +
			"\tActual digest: \"" + actual.String() + "\"\n" +
			"\tThis may be the result of a hand-edited or corrupted buf.lock file, a corrupted local cache, and/or an attack.\n" +
			"\tTo clear your local cache, run \"buf registry cc\"."
	}

	t.Run("cached file altered", func(t *testing.T) {
		ws := newWorkspace(t, bufYAML(names...), r.lockFile(names...), nil)
		c := r.put(t, names...)
		n := 0
		err := filepath.WalkDir(c.Dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && d.Name() == "base.proto" {
				n++
				return os.WriteFile(p, []byte(tampered), 0o644)
			}
			return err
		})
		if err != nil || n != 1 {
			t.Fatalf("tamper: %d files, %v", n, err)
		}
		_, err = Resolve(context.Background(), ws, Options{OpenCache: func() (*cache.Cache, error) { return c, nil }})
		var mm *digest.MismatchError
		if !errors.As(err, &mm) {
			t.Fatalf("error %v, want a *digest.MismatchError", err)
		}
		if got, want := err.Error(), wantMsg(base.Digest, tamperedB5); got != want {
			t.Errorf("message:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("buf.lock digest edited", func(t *testing.T) {
		lf := r.lockFile(names...)
		lf.Deps[0].Digest = tamperedB5
		ws := newWorkspace(t, bufYAML(names...), lf, nil)
		c := r.put(t, names...)
		_, err := Resolve(context.Background(), ws, Options{OpenCache: func() (*cache.Cache, error) { return c, nil }})
		if err == nil || err.Error() != wantMsg(tamperedB5, base.Digest) {
			t.Errorf("message:\n%v\nwant:\n%s", err, wantMsg(tamperedB5, base.Digest))
		}
	})
}

// storeFetcher "downloads" from the test registry into the cache. It is a
// stand-in for the network, not for protomod code.
type storeFetcher struct {
	r       *registry
	missing []string
	pinned  int
	store   bool
}

func (f *storeFetcher) Fetch(_ context.Context, c *cache.Cache, missing, pinned []lock.Dep) error {
	f.pinned = len(pinned)
	for _, d := range missing {
		f.missing = append(f.missing, d.Key().String())
		if f.store {
			if err := c.Put(f.r.modules[d.Name.String()]); err != nil {
				return err
			}
		}
	}
	return nil
}

func TestFetchMissing(t *testing.T) {
	r := newRegistry(t)
	lockNames := []string{"buf.build/acme/app", "buf.build/acme/base", "buf.build/acme/util"}
	ws := newWorkspace(t, bufYAML("buf.build/acme/app"), r.lockFile(lockNames...), nil)
	c := r.put(t, "buf.build/acme/base")
	f := &storeFetcher{r: r, store: true}
	set, err := Resolve(context.Background(), ws, Options{OpenCache: func() (*cache.Cache, error) { return c, nil }, Fetcher: f})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"buf.build/acme/app:a0a0a0a0a0a04a0a8a0a0a0a0a0a0a0a", "buf.build/acme/util:c0c0c0c0c0c04c0c8c0c0c0c0c0c0c0c"}; !slices.Equal(f.missing, want) || f.pinned != 3 {
		t.Errorf("fetched %v with %d pins, want %v with 3", f.missing, f.pinned, want)
	}
	if got := order(set); got != "app* base util" {
		t.Errorf("order %q", got)
	}
	// A second resolve finds everything in the cache.
	f2 := &storeFetcher{r: r, store: true}
	if _, err := Resolve(context.Background(), ws, Options{OpenCache: func() (*cache.Cache, error) { return c, nil }, Fetcher: f2}); err != nil || len(f2.missing) != 0 {
		t.Errorf("second resolve fetched %v, %v", f2.missing, err)
	}

	// A fetcher that reports success without storing.
	c = r.put(t)
	_, err = Resolve(context.Background(), ws, Options{OpenCache: func() (*cache.Cache, error) { return c, nil }, Fetcher: &storeFetcher{r: r}})
	if want := fmt.Sprintf("buf.build/acme/app:a0a0a0a0a0a04a0a8a0a0a0a0a0a0a0a was downloaded but is not in the module cache at %s", c.Dir); err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

func TestCompileModule(t *testing.T) {
	r := newRegistry(t)
	m := &Module{Pin: r.pins["buf.build/acme/app"], Cached: r.modules["buf.build/acme/app"]}
	cm := m.CompileModule()
	if cm.Name.String() != "buf.build/acme/app" || cm.CommitID != "a0a0a0a0a0a04a0a8a0a0a0a0a0a0a0a" {
		t.Errorf("name %v commit %q", cm.Name, cm.CommitID)
	}
	if !slices.Equal(cm.Paths, []string{"app/v1/app.proto"}) {
		t.Errorf("paths %v, want the .proto files only", cm.Paths)
	}
	if string(cm.Contents["app/v1/app.proto"]) != remotes[2].files["app/v1/app.proto"] || cm.FS != nil || cm.DisplayPrefix != "" {
		t.Errorf("contents %v", cm.Contents)
	}
}

// TestLockOption: Options.Lock is used instead of the workspace's buf.lock.
func TestLockOption(t *testing.T) {
	r := newRegistry(t)
	ws := newWorkspace(t, bufYAML("buf.build/acme/other"), nil, nil)
	c := r.put(t, "buf.build/acme/other")
	set, err := Resolve(context.Background(), ws, Options{
		OpenCache: func() (*cache.Cache, error) { return c, nil },
		Lock:      r.lockFile("buf.build/acme/other"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := order(set); got != "other*" || len(set.Unresolved) != 0 {
		t.Errorf("order %q unresolved %v", got, set.Unresolved)
	}
}

// TestRefetch: with Refetch and a fetcher, a damaged cache entry is
// removed and downloaded again; without a fetcher it still fails.
func TestRefetch(t *testing.T) {
	r := newRegistry(t)
	names := []string{"buf.build/acme/base"}
	ws := newWorkspace(t, bufYAML(names...), r.lockFile(names...), nil)
	c := r.put(t, names...)
	err := filepath.WalkDir(c.Dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "base.proto" {
			return os.WriteFile(p, []byte("// damaged\n"), 0o644)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	open := func() (*cache.Cache, error) { return c, nil }
	var mm *digest.MismatchError
	if _, err := Resolve(context.Background(), ws, Options{OpenCache: open, Refetch: true}); !errors.As(err, &mm) {
		t.Fatalf("offline refetch: %v, want a digest mismatch", err)
	}
	f := &storeFetcher{r: r, store: true}
	set, err := Resolve(context.Background(), ws, Options{OpenCache: open, Refetch: true, Fetcher: f})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.missing, []string{"buf.build/acme/base:0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e"}) || order(set) != "base*" {
		t.Errorf("refetched %v, order %q", f.missing, order(set))
	}
	if _, err := Resolve(context.Background(), ws, Options{OpenCache: open}); err != nil {
		t.Errorf("after the refetch the cache entry is still bad: %v", err)
	}
}
