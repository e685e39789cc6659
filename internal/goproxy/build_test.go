package goproxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/protomod/protomod/internal/gengo"
)

// The same commit generates the same bytes in two data directories, a
// restarted server serves what it stored, and a stored version keeps its
// bytes after the plugin's revision moves on.
func TestByteStability(t *testing.T) {
	zipPath := sdkBase + "/protocolbuffers/go/@v/" + pb2 + ".zip"
	modPath := sdkBase + "/protocolbuffers/go/@v/" + pb2 + ".mod"
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	serve := func(dir string, reg *testRegistry, plugins *gengo.Catalog) *Handler {
		s, err := NewDirStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		return newHandler(t, reg, s, plugins)
	}
	regA := newWeatherRegistry(t)
	a := serve(dirA, regA, catalog(t, ""))
	zipA, modA := mustGet(t, a, zipPath).body, mustGet(t, a, modPath).body
	b := serve(dirB, newWeatherRegistry(t), catalog(t, ""))
	if zipB := mustGet(t, b, zipPath).body; zipB != zipA {
		t.Fatal("two data directories generated different zips for the same commit")
	}
	hash, err := gengo.HashZip([]byte(zipA))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "weather-protocolbuffers-go.sum", "example.test/gen/go/acme/weather/protocolbuffers/go "+pb2+" "+hash+"\n")

	// Restart on data directory A with protocolbuffers/go at revision 2.
	rev2 := gengo.DefaultPlugins("/nonexistent/protoc-gen-connect-go")
	rev2[0].Revision = 2
	rev2[1].Deps[0].Revision = 2
	plugins, err := gengo.NewCatalog(rev2)
	if err != nil {
		t.Fatal(err)
	}
	regA2 := newWeatherRegistry(t)
	a2 := serve(dirA, regA2, plugins)
	if got := mustGet(t, a2, zipPath).body; got != zipA {
		t.Error("the restarted server serves different zip bytes")
	}
	if got := mustGet(t, a2, modPath).body; got != modA {
		t.Error("the restarted server serves a different go.mod")
	}
	if got := decodeInfo(t, mustGet(t, a2, sdkBase+"/protocolbuffers/go/@v/"+pb2+".info").body); got.Version != pb2 {
		t.Errorf(".info of the stored revision = %+v", got)
	}
	if n := regA2.callCount("Files " + weather2ID); n != 0 {
		t.Errorf("the restarted server generated %d times", n)
	}
	list := mustGet(t, a2, sdkBase+"/protocolbuffers/go/@v/list").body
	if !strings.Contains(list, "v1.36.12-20260203100000-0190f00dbeef.2\n") || strings.Contains(list, pb2) {
		t.Errorf("list after the revision bump:\n%s", list)
	}
	// A revision-1 version that was never generated is gone.
	if r := get(t, a2, sdkBase+"/protocolbuffers/go/@v/"+pb1+".zip"); r.status != 404 || !strings.Contains(r.body, "is at revision 2 here, and revision 1 of this commit is not stored") {
		t.Errorf("unstored old revision = %d %q", r.status, r.body)
	}
}

// Concurrent first requests generate once.
func TestConcurrentFirstRequests(t *testing.T) {
	reg := newWeatherRegistry(t)
	h := newHandler(t, reg, NewMemStore(), catalog(t, ""))
	srv := httptest.NewServer(h)
	defer srv.Close()
	url := srv.URL + sdkBase + "/protocolbuffers/go/@v/" + pb3 + ".zip"
	const n = 8
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := http.Get(url)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Errorf("status %d: %s", resp.StatusCode, b)
			}
			bodies[i] = string(b)
		})
	}
	wg.Wait()
	for _, b := range bodies {
		if b != bodies[0] || b == "" {
			t.Fatal("concurrent requests got different bytes")
		}
	}
	if got := reg.callCount("Files " + weather3ID); got != 1 {
		t.Errorf("generated %d times, want 1", got)
	}
}

// A plugin that crashes or hangs gives a readable 500 and stores nothing.
func TestPluginFailures(t *testing.T) {
	crash := fakePlugin(t, "crash", "crash", 0)
	hang := fakePlugin(t, "hang", "hang", 300*time.Millisecond)
	reg := newWeatherRegistry(t)
	store := NewMemStore()
	h := newHandler(t, reg, store, catalog(t, "", crash, hang))
	tests := []struct {
		plugin, want string
	}{
		{"crash", "generate example.test/gen/go/acme/weather/acme/crash@v1.0.0-20260203100000-0190f00dbeef.1: plugin acme/crash v1.0.0 ("},
		{"crash", "failed: exit status 3; stderr: panic: fake plugin crashed"},
		{"hang", "plugin acme/hang v1.0.0 ("},
		{"hang", "did not finish within 300ms and was stopped"},
	}
	for _, tt := range tests {
		path := sdkBase + "/acme/" + tt.plugin + "/@v/v1.0.0-20260203100000-0190f00dbeef.1.zip"
		r := get(t, h, path)
		if r.status != http.StatusInternalServerError || !strings.Contains(r.body, tt.want) {
			t.Errorf("%s: %d %q, want 500 %q", tt.plugin, r.status, r.body, tt.want)
		}
		if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}
	}
	for _, k := range store.Keys() {
		if strings.HasSuffix(k, ".zip") {
			t.Errorf("stored %s after a failed generation", k)
		}
	}
	// The go command shows at most 8 lines and 648 bytes of the body.
	r := get(t, h, sdkBase+"/acme/crash/@v/v1.0.0-20260203100000-0190f00dbeef.1.zip")
	if lines := strings.Count(r.body, "\n"); lines > 8 || len(r.body) > 648 {
		t.Errorf("error body has %d lines, %d bytes:\n%s", lines, len(r.body), r.body)
	}
}

// A canceled request does not cancel the generation others wait for.
func TestBuildOutlivesRequest(t *testing.T) {
	reg := newWeatherRegistry(t)
	store := NewMemStore()
	h := newHandler(t, reg, store, catalog(t, ""))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodGet, "http://registry.test"+sdkBase+"/protocolbuffers/go/@v/"+pb1+".zip", nil).WithContext(ctx)
	h.ServeHTTP(httptest.NewRecorder(), req)
	// The canceled request started the generation, which went on: a later
	// request joins it or finds the stored zip, and nothing generates twice.
	r := mustGet(t, h, sdkBase+"/protocolbuffers/go/@v/"+pb1+".zip")
	if err := gengo.CheckZip("example.test/gen/go/acme/weather/protocolbuffers/go", pb1, []byte(r.body)); err != nil {
		t.Fatal(err)
	}
	if n := reg.callCount("Files " + weather1ID); n != 1 {
		t.Errorf("generated %d times", n)
	}
}
