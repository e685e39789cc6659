package fetch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/cache"
	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/e2e/regtest"
	"github.com/protomod/protomod/internal/fetch"
	"github.com/protomod/protomod/internal/lock"
	"github.com/protomod/protomod/internal/registry"
)

// world is a registry holding the chain acme/a <- alice/b <- alice/c (a is
// owned by an organization) and extra independent modules alice/m0..mN.
type world struct {
	reg    *regtest.Registry
	client *registry.Client
	token  string
	pins   map[string]lock.Dep // by owner/module
}

const independent = 9

func newWorld(t *testing.T) *world {
	t.Helper()
	reg := regtest.Start(t)
	tok := reg.User("alice")
	reg.Org("acme", "alice")
	client := reg.Client(tok)
	dir := t.TempDir()
	files := map[string]string{
		"buf.yaml": fmt.Sprintf(`version: v2
modules:
  - path: a
    name: %[1]s/acme/a
  - path: b
    name: %[1]s/alice/b
  - path: c
    name: %[1]s/alice/c
`, reg.Host),
		"a/a.proto":   "syntax = \"proto3\";\npackage a;\nmessage A {}\n",
		"a/LICENSE":   "license of a\n",
		"b/b.proto":   "syntax = \"proto3\";\npackage b;\nimport \"a.proto\";\nmessage B { a.A a = 1; }\n",
		"b/README.md": "# b\n",
		"c/c.proto":   "syntax = \"proto3\";\npackage c;\nimport \"b.proto\";\nmessage C { b.B b = 1; }\n",
	}
	for i := range independent {
		files["buf.yaml"] += fmt.Sprintf("  - path: m%[2]d\n    name: %[1]s/alice/m%[2]d\n", reg.Host, i)
		files[fmt.Sprintf("m%d/m%d.proto", i, i)] = fmt.Sprintf("syntax = \"proto3\";\npackage m%d;\nmessage M {}\n", i)
	}
	regtest.WriteFiles(t, dir, files)
	c, err := cache.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pushed := reg.Push(client, c, dir)
	w := &world{reg: reg, client: client, token: tok, pins: map[string]lock.Dep{}}
	for mod, commit := range pushed {
		w.pins[mod] = reg.Pin(client, mod, commit)
	}
	return w
}

func (w *world) get(mods ...string) []lock.Dep {
	out := make([]lock.Dep, len(mods))
	for i, m := range mods {
		out[i] = w.pins[m]
	}
	return out
}

func (w *world) all() []lock.Dep {
	var out []lock.Dep
	for _, d := range w.pins {
		out = append(out, d)
	}
	lock.SortDeps(out)
	return out
}

func newCache(t *testing.T) *cache.Cache {
	t.Helper()
	c, err := cache.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkCached asserts that every pin is cached, verifies against its
// digest, and records the expected dependency closure.
func checkCached(t *testing.T, c *cache.Cache, w *world, closures map[string][]string) {
	t.Helper()
	for mod, want := range closures {
		pin := w.pins[mod]
		m, ok, err := c.Get(pin.Key())
		if err != nil || !ok {
			t.Fatalf("%s not in the cache (ok=%v, err=%v)", mod, ok, err)
		}
		if err := c.Verify(m, pin.Digest); err != nil {
			t.Fatalf("%s: %v", mod, err)
		}
		wantDeps := w.get(want...)
		lock.SortDeps(wantDeps)
		if !slices.Equal(m.Deps, wantDeps) {
			t.Errorf("%s: deps %v, want %v", mod, m.Deps, wantDeps)
		}
	}
}

func TestFetch(t *testing.T) {
	w := newWorld(t)
	closures := map[string][]string{
		"acme/a":  nil,
		"alice/b": {"acme/a"},
		"alice/c": {"acme/a", "alice/b"},
	}
	for i := range independent {
		closures[fmt.Sprintf("alice/m%d", i)] = nil
	}
	tests := []struct {
		name    string
		missing []string
		// pinned: nil means every pin of the world.
		pinned []string
		// wantRequests is the number of HTTP requests Fetch sends.
		wantRequests int64
		wantCached   map[string][]string
	}{
		{
			name:         "every module at once: one GetGraph and one Download",
			missing:      keys(closures),
			wantRequests: 2,
			wantCached:   closures,
		},
		{
			name:         "graph nodes named by buf.lock",
			missing:      []string{"alice/c"},
			wantRequests: 2,
			wantCached:   map[string][]string{"alice/c": closures["alice/c"]},
		},
		{
			name:         "unnamed module of a known owner: GetModules only",
			missing:      []string{"alice/c"},
			pinned:       []string{"alice/c", "acme/a"},
			wantRequests: 3,
			wantCached:   map[string][]string{"alice/c": closures["alice/c"]},
		},
		{
			name:         "unnamed modules of an unknown owner: GetModules and GetOwners",
			missing:      []string{"alice/c", "alice/m0"},
			pinned:       []string{"alice/c", "alice/m0"},
			wantRequests: 4,
			wantCached:   map[string][]string{"alice/c": closures["alice/c"], "alice/m0": nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			pinned := w.all()
			if tt.pinned != nil {
				pinned = w.get(tt.pinned...)
			}
			client := w.reg.Client(w.token)
			f := fetch.New(client, fetch.Options{})
			if err := f.Fetch(context.Background(), c, w.get(tt.missing...), pinned); err != nil {
				t.Fatal(err)
			}
			if got := client.Requests(); got != tt.wantRequests {
				t.Errorf("sent %d requests, want %d", got, tt.wantRequests)
			}
			checkCached(t, c, w, tt.wantCached)
		})
	}
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestFetchSeededGraphOnlyDownloads(t *testing.T) {
	w := newWorld(t)
	client := w.reg.Client(w.token)
	pins := w.get("alice/c")
	g, err := fetch.GetGraph(context.Background(), client, []bufname.ModuleKey{pins[0].Key()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// c's graph names a and b: GetGraph, GetModules, GetOwners.
	if got := client.Requests(); got != 3 {
		t.Fatalf("GetGraph sent %d requests, want 3", got)
	}
	var names []string
	for _, n := range g.Nodes() {
		names = append(names, n.Pin.Name.String())
		if want := w.pins[n.Pin.Name.Owner+"/"+n.Pin.Name.Name]; n.Pin != want {
			t.Errorf("node %v, want %v", n.Pin, want)
		}
	}
	wantNames := []string{w.reg.Host + "/acme/a", w.reg.Host + "/alice/b", w.reg.Host + "/alice/c"}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("nodes %v, want %v", names, wantNames)
	}
	f := fetch.New(client, fetch.Options{})
	f.Seed(g)
	c := newCache(t)
	if err := f.Fetch(context.Background(), c, w.get("alice/c", "alice/b", "acme/a"), pins); err != nil {
		t.Fatal(err)
	}
	if got := client.Requests(); got != 4 {
		t.Errorf("seeded Fetch sent %d requests, want 1 (Download)", got-3)
	}
	checkCached(t, c, w, map[string][]string{"alice/c": {"acme/a", "alice/b"}, "alice/b": {"acme/a"}, "acme/a": nil})
}

func TestFetchDigestMismatchStoresNothing(t *testing.T) {
	w := newWorld(t)
	c := newCache(t)
	bad := w.pins["alice/b"]
	bad.Digest = w.pins["acme/a"].Digest
	pinned := []lock.Dep{w.pins["acme/a"], bad}
	err := fetch.New(w.reg.Client(w.token), fetch.Options{}).Fetch(context.Background(), c, []lock.Dep{bad}, pinned)
	var mismatch *digest.MismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("got %v, want a digest mismatch", err)
	}
	want := fmt.Sprintf(`*** Digest verification failed for "%s" ***
	Expected digest (from buf.lock): "%s"
	Actual digest: "%s"
	This may be the result of a hand-edited or corrupted buf.lock file, a corrupted local cache, and/or an attack.
	To clear your local cache, run "buf registry cc".`, bad.Key(), bad.Digest, w.pins["alice/b"].Digest)
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	if _, ok, err := c.Get(bad.Key()); ok || err != nil {
		t.Errorf("the mismatching download is in the cache (ok=%v, err=%v)", ok, err)
	}
}

func TestFetchProgress(t *testing.T) {
	w := newWorld(t)
	var out bytes.Buffer
	f := fetch.New(w.reg.Client(w.token), fetch.Options{Progress: &out})
	if err := f.Fetch(context.Background(), newCache(t), w.get("acme/a", "alice/b"), w.all()); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("\r\033[KDownloading 2 modules from %[1]s..."+
		"\r\033[KDownloading 2 modules from %[1]s... 1/2"+
		"\r\033[KDownloading 2 modules from %[1]s... 2/2"+
		"\r\033[K", w.reg.Host)
	if out.String() != want {
		t.Errorf("progress %q, want %q", out.String(), want)
	}
	if !strings.HasSuffix(out.String(), "\r\033[K") {
		t.Error("the progress line is not erased at the end")
	}
}
