package goproxy

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/protomod/protomod/internal/gengo"
)

// Versions of the acme/weather and acme/units commits.
const (
	pb1 = "v1.36.12-20260102093015-0190f00dcafe.1" // weather1
	pb2 = "v1.36.12-20260203100000-0190f00dbeef.1" // weather2, "main"
	pb3 = "v1.36.12-20260304110000-0192abcdef01.1" // weather3, "beta"
)

// Everything the handler does not serve is a text/plain 404, so that the
// go command tries the next GOPROXY entry. Prefix probes and foreign paths
// never reach the registry.
func TestNotServed(t *testing.T) {
	tests := []struct {
		path string
		want string
		// registry is true when answering needs a registry lookup.
		registry bool
	}{
		// Prefix probes of `go get example.test/gen/go/acme/weather/protocolbuffers/go`.
		{path: "/gen/go/example.test/@v/list", want: "not served by this registry"},
		{path: "/gen/go/example.test/gen/@v/list", want: "not served by this registry"},
		{path: "/gen/go/example.test/gen/go/@v/list", want: "not served by this registry"},
		{path: "/gen/go/example.test/gen/go/acme/@v/list", want: "not a Go SDK module path"},
		{path: sdkBase + "/@v/list", want: "not a Go SDK module path"},
		{path: sdkBase + "/protocolbuffers/@v/list", want: "not a Go SDK module path"},
		{path: sdkBase + "/protocolbuffers/@v/main.info", want: "not a Go SDK module path"},
		{path: sdkBase + "/protocolbuffers/go/acme/weather/v1/@v/list", want: "invalid module path"},
		{path: sdkBase + "/protocolbuffers/go/acme/weather/@v/list", want: "not a Go SDK module path"},
		{path: sdkBase + "/protocolbuffers/go/acme/@latest", want: "not a Go SDK module path"},
		// Checksum databases and other modules.
		{path: "/gen/go/sumdb/sum.golang.org/supported", want: "does not proxy checksum databases"},
		{path: "/gen/go/sumdb/sum.golang.org/lookup/golang.org/x/sync@v0.22.0", want: "does not proxy checksum databases"},
		{path: "/gen/go/golang.org/x/sync/@v/v0.22.0.info", want: "not served by this registry"},
		{path: "/gen/go/google.golang.org/protobuf/@v/list", want: "not served by this registry"},
		{path: "/gen/go/buf.build/gen/go/acme/weather/protocolbuffers/go/@v/list", want: "not served by this registry"},
		// Unknown plugins and majors.
		{path: sdkBase + "/unknown/plugin/@v/list", want: "has no plugin unknown/plugin"},
		{path: sdkBase + "/protocolbuffers/go/v2/@v/list", want: "no plugin protocolbuffers/go with major version 2"},
		{path: sdkBase + "/protocolbuffers/go/v1/@v/list", want: "invalid module path"},
		{path: sdkBase + "/protocolbuffers/go/v02/@v/list", want: "invalid module path"},
		// Unknown modules need a lookup.
		{path: "/gen/go/example.test/gen/go/acme/nope/protocolbuffers/go/@v/list", want: "module acme/nope not found on this registry", registry: true},
		// Path tricks.
		{path: "/gen/go/example.test/gen/go/acme/../acme/weather/protocolbuffers/go/@v/list", want: "invalid module path"},
		{path: "/gen/go/example.test/gen/go//acme/weather/protocolbuffers/go/@v/list", want: "invalid module path"},
		{path: "/gen/go/example.test/gen/go/./acme/weather/protocolbuffers/go/@v/list", want: "invalid module path"},
		{path: "/gen/go/example.test/gen/go/ACME/weather/protocolbuffers/go/@v/list", want: "invalid module path"},
		{path: "/gen/go/example.test/gen/go/!!acme/weather/protocolbuffers/go/@v/list", want: "invalid module path"},
		{path: "/gen/go/example.test/gen/go/acme\\weather/x/protocolbuffers/go/@v/list", want: "invalid module path"},
		{path: "/gen/go/example.test/gen/go/acme/weather\x00/protocolbuffers/go/@v/list", want: "invalid module path"},
		{path: "/gen/go/../../etc/passwd", want: "not a GOPROXY request"},
		{path: "/gen/go/", want: "not a GOPROXY request"},
		{path: "/gen/go", want: "outside this Go module proxy"},
		{path: "/elsewhere/example.test/gen/go/acme/weather/protocolbuffers/go/@v/list", want: "outside this Go module proxy"},
		{path: sdkBase + "/protocolbuffers/go/@v/", want: "not a GOPROXY request"},
		{path: sdkBase + "/protocolbuffers/go/@v/.info", want: "not a GOPROXY request"},
		{path: sdkBase + "/protocolbuffers/go/@v/list/extra", want: "not a GOPROXY request"},
		{path: sdkBase + "/protocolbuffers/go/@v/" + pb1 + ".tar", want: "not a GOPROXY request"},
		{path: sdkBase + "/protocolbuffers/go/@v/V1.0.0.info", want: "invalid version"},
		{path: sdkBase + "/protocolbuffers/go/@v/../../x.info", want: "invalid version"},
		{path: sdkBase + "/protocolbuffers/go/@v/..%2f..%2fx.info", want: "has no label, commit ID or commit ID prefix", registry: true},
		// Versions that do not exist.
		{path: sdkBase + "/protocolbuffers/go/@v/v1.36.12.info", want: "unknown version", registry: true},
		{path: sdkBase + "/protocolbuffers/go/@v/v1.36.11-20260102093015-0190f00dcafe.1.info", want: "no plugin protocolbuffers/go v1.36.11", registry: true},
		{path: sdkBase + "/protocolbuffers/go/@v/v1.36.12-20260102093015-0190f00dcafe.2.info", want: "is at revision 1 here, and revision 2 of this commit is not stored", registry: true},
		{path: sdkBase + "/protocolbuffers/go/@v/v1.36.12-20260102093016-0190f00dcafe.1.info", want: "has no commit 0190f00dcafe created at 2026-01-02T09:30:16Z", registry: true},
		{path: sdkBase + "/protocolbuffers/go/@v/v1.36.12-20260102093015-ffffffffffff.1.mod", want: "has no commit ffffffffffff", registry: true},
		{path: sdkBase + "/protocolbuffers/go/@v/v1.36.12-20260102093015-0190f00dcafe.1.0.zip", want: "unknown version", registry: true},
		{path: sdkBase + "/protocolbuffers/go/@v/main.mod", want: "not a canonical version; resolve it through .info first", registry: true},
		{path: sdkBase + "/protocolbuffers/go/@v/main.zip", want: "not a canonical version", registry: true},
		// Queries that match nothing.
		{path: sdkBase + "/protocolbuffers/go/@v/nolabel.info", want: `has no label, commit ID or commit ID prefix "nolabel"`, registry: true},
		{path: sdkBase + "/protocolbuffers/go/@v/019.info", want: `has no label, commit ID or commit ID prefix "019"`, registry: true},
		{path: sdkBase + "/protocolbuffers/go/@v/0190f00d.info", want: "ambiguous: 2 commits of acme/weather start with 0190f00d", registry: true},
		{path: sdkBase + "/protocolbuffers/go/@v/" + unitsID + ".info", want: "has no label, commit ID", registry: true},
	}
	reg := newWeatherRegistry(t)
	h := newHandler(t, reg, NewMemStore(), catalog(t, ""))
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			before := reg.totalCalls()
			r := get(t, h, tt.path)
			if r.status != http.StatusNotFound {
				t.Fatalf("status = %d, want 404; body %q", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if !strings.Contains(r.body, tt.want) {
				t.Errorf("body = %q, want %q", r.body, tt.want)
			}
			if called := reg.totalCalls() > before; called != tt.registry {
				t.Errorf("registry called = %v, want %v", called, tt.registry)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := newHandler(t, newWeatherRegistry(t), NewMemStore(), catalog(t, ""))
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(m, "http://registry.test"+sdkBase+"/protocolbuffers/go/@v/list", nil)
		rec := newRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d %v", m, rec.Code, rec.Header())
		}
	}
}

func TestList(t *testing.T) {
	old := &gengo.Plugin{Owner: "protocolbuffers", Name: "go", Version: "v1.36.11", Revision: 2, GoVersion: "1.23",
		Exec: &gengo.Exec{Path: "/nonexistent/protoc-gen-go"}}
	h := newHandler(t, newWeatherRegistry(t), NewMemStore(), catalog(t, "", old))
	for _, plugin := range []string{"protocolbuffers/go", "connectrpc/go"} {
		r := mustGet(t, h, sdkBase+"/"+plugin+"/@v/list")
		if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		golden(t, "list-"+strings.ReplaceAll(plugin, "/", "-")+".txt", r.body)
	}
}

// TestListFollowsDefaultLabel: @v/list holds the default label's history
// up to its current commit, so that the go command's @latest (the highest
// listed version) is the default label's head.
func TestListFollowsDefaultLabel(t *testing.T) {
	const (
		// weather4 is created in the same second as weather2 but sorts
		// higher (its ID is greater).
		weather4ID = "0190f00dffff7e8f9a0b1c2d3e4f5a6b"
		pb4        = "v1.36.12-20260203100000-0190f00dffff.1"
	)
	tests := []struct {
		name   string
		change func(m *testModule)
		want   []string
	}{
		{"main moved from weather1 to weather2", func(*testModule) {}, []string{pb1, pb2}},
		{"main moved forward to beta's commit", func(m *testModule) { m.moveLabel("main", weather3ID) }, []string{pb1, pb2, pb3}},
		{"main moved back to weather1", func(m *testModule) {
			m.moveLabel("main", weather3ID)
			m.moveLabel("main", weather1ID)
		}, []string{pb1}},
		{"a later commit of the same second", func(m *testModule) {
			m.moveLabel("main", weather4ID)
			m.moveLabel("main", weather2ID)
		}, []string{pb1, pb2}},
		{"default label beta", func(m *testModule) { m.DefaultLabel = "beta" }, []string{pb3}},
		{"no default label", func(m *testModule) { m.DefaultLabel = "nope" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := newWeatherRegistry(t)
			m := reg.modules["acme/weather"]
			reg.addCommit(t, m, "weather", weather4ID, weather2Time, []string{unitsID})
			tt.change(m)
			h := newHandler(t, reg, NewMemStore(), catalog(t, ""))
			base := sdkBase + "/protocolbuffers/go"
			r := mustGet(t, h, base+"/@v/list")
			if want := strings.Join(tt.want, "\n") + strings.Repeat("\n", min(len(tt.want), 1)); r.body != want {
				t.Errorf("list = %q, want %q", r.body, want)
			}
			latest := get(t, h, base+"/@latest")
			if len(tt.want) == 0 {
				if latest.status != http.StatusNotFound || !strings.Contains(latest.body, `no label, commit ID or commit ID prefix "nope"`) {
					t.Errorf("@latest = %d %q, want 404", latest.status, latest.body)
				}
				return
			}
			if latest.status != http.StatusOK {
				t.Fatalf("@latest = %d %s", latest.status, latest.body)
			}
			if got := decodeInfo(t, latest.body).Version; got != tt.want[len(tt.want)-1] {
				t.Errorf("@latest = %s, want the highest listed version %s", got, tt.want[len(tt.want)-1])
			}
			// Unlisted commits stay reachable.
			for _, q := range []string{"beta", weather4ID[:16], weather1ID} {
				if r := get(t, h, base+"/@v/"+q+".info"); r.status != http.StatusOK {
					t.Errorf("%s.info = %d %s", q, r.status, r.body)
				}
			}
		})
	}
}

func TestQueries(t *testing.T) {
	reg := newWeatherRegistry(t)
	// A label that looks like a commit ID prefix wins over the prefix.
	reg.modules["acme/weather"].labels["0190f00dca"] = weather3ID
	h := newHandler(t, reg, NewMemStore(), catalog(t, ""))
	base := sdkBase + "/protocolbuffers/go"
	tests := []struct {
		path, version, time string
	}{
		{base + "/@latest", pb2, "2026-02-03T10:00:00Z"},
		{base + "/@v/main.info", pb2, "2026-02-03T10:00:00Z"},
		{base + "/@v/beta.info", pb3, "2026-03-04T11:00:00Z"},
		{base + "/@v/" + weather1ID + ".info", pb1, "2026-01-02T09:30:15Z"},
		{base + "/@v/0190f00d-cafe-7e8f-9a0b-1c2d3e4f5a6b.info", pb1, "2026-01-02T09:30:15Z"},
		{base + "/@v/0190f00dcafe.info", pb1, "2026-01-02T09:30:15Z"},
		{base + "/@v/0190f00db.info", pb2, "2026-02-03T10:00:00Z"},
		{base + "/@v/0192.info", pb3, "2026-03-04T11:00:00Z"},
		{base + "/@v/0190f00dca.info", pb3, "2026-03-04T11:00:00Z"},
		{base + "/@v/" + pb1 + ".info", pb1, "2026-01-02T09:30:15Z"},
		{sdkBase + "/connectrpc/go/@latest", "v1.21.1-20260203100000-0190f00dbeef.1", "2026-02-03T10:00:00Z"},
		{sdkBase + "/connectrpc/go/@v/beta.info", "v1.21.1-20260304110000-0192abcdef01.1", "2026-03-04T11:00:00Z"},
	}
	for _, tt := range tests {
		r := mustGet(t, h, tt.path)
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type = %q", tt.path, ct)
		}
		if got := decodeInfo(t, r.body); got.Version != tt.version || got.Time != tt.time {
			t.Errorf("%s = %+v, want %s at %s", tt.path, got, tt.version, tt.time)
		}
	}
}

func TestModAndZip(t *testing.T) {
	reg := newWeatherRegistry(t)
	store := NewMemStore()
	h := newHandler(t, reg, store, catalog(t, ""))
	base := sdkBase + "/protocolbuffers/go/@v/" + pb2
	mod := mustGet(t, h, base+".mod")
	golden(t, "weather-protocolbuffers-go.mod", mod.body)
	if reg.callCount("Files "+weather2ID) != 0 {
		t.Error(".mod must not generate code")
	}
	zr := mustGet(t, h, base+".zip")
	if ct := zr.header.Get("Content-Type"); ct != "application/zip" {
		t.Errorf("Content-Type = %q", ct)
	}
	path := "example.test/gen/go/acme/weather/protocolbuffers/go"
	if err := gengo.CheckZip(path, pb2, []byte(zr.body)); err != nil {
		t.Fatal(err)
	}
	if gomod, err := gengo.ZipGoMod(path, pb2, []byte(zr.body)); err != nil || string(gomod) != mod.body {
		t.Errorf("the zip's go.mod differs from .mod: %q, %v", gomod, err)
	}
	// Served from the store from now on.
	again := mustGet(t, h, base+".zip")
	if again.body != zr.body || reg.callCount("Files "+weather2ID) != 1 {
		t.Errorf("second download: same bytes %v, generations %d", again.body == zr.body, reg.callCount("Files "+weather2ID))
	}
	for _, k := range []string{
		"example.test/gen/go/acme/weather/protocolbuffers/go/@v/" + pb2 + ".mod",
		"example.test/gen/go/acme/weather/protocolbuffers/go/@v/" + pb2 + ".zip",
	} {
		if _, err := store.Get(context.Background(), k); err != nil {
			t.Errorf("store lacks %s", k)
		}
	}
	if cc := zr.header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control = %q", cc)
	}
}

func TestPrivateModule(t *testing.T) {
	h := newHandler(t, newWeatherRegistry(t), NewMemStore(), catalog(t, ""))
	list := "/gen/go/example.test/gen/go/acme/secret/protocolbuffers/go/@v/list"
	tests := []struct {
		name   string
		header []string
		status int
		want   string
	}{
		{"anonymous", nil, 404, "module acme/secret not found on this registry (private modules need credentials: a .netrc entry for this host, over https)"},
		{"bearer", []string{"Authorization", "Bearer " + readToken}, 200, "v1.36.12-20260405120000-0193aaaabbbb.1\n"},
		{"basic password", []string{"Authorization", basic("alice", readToken)}, 200, "v1.36.12-20260405120000-0193aaaabbbb.1\n"},
		{"basic user only", []string{"Authorization", basic(readToken, "")}, 200, "v1.36.12-20260405120000-0193aaaabbbb.1\n"},
		{"not a reader", []string{"Authorization", "Bearer " + otherToken}, 404, "module acme/secret not found on this registry\n"},
		{"bad token", []string{"Authorization", "Bearer pm_wrong"}, 401, "the registry does not accept the credentials sent"},
		{"bad scheme", []string{"Authorization", "Digest x"}, 401, `must be "Bearer <token>" or basic auth`},
		{"bad basic", []string{"Authorization", "Basic !!!"}, 401, `must be "Bearer <token>" or basic auth`},
		{"empty bearer", []string{"Authorization", "Bearer "}, 401, `must be "Bearer <token>" or basic auth`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, h, list, tt.header...)
			if r.status != tt.status || !strings.Contains(r.body, tt.want) {
				t.Fatalf("= %d %q, want %d %q", r.status, r.body, tt.status, tt.want)
			}
			if r.status == 401 && r.header.Get("WWW-Authenticate") != `Basic realm="protomod"` {
				t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	// Stored artifacts of private modules stay private.
	mod := "/gen/go/example.test/gen/go/acme/secret/protocolbuffers/go/@v/v1.36.12-20260405120000-0193aaaabbbb.1.mod"
	r := mustGet(t, h, mod, "Authorization", "Bearer "+readToken)
	if cc := r.header.Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
		t.Errorf("Cache-Control = %q", cc)
	}
	if r := get(t, h, mod); r.status != 404 {
		t.Errorf("anonymous .mod after a reader fetched it = %d", r.status)
	}
}

func TestCaseEscaping(t *testing.T) {
	reg := newTestRegistry()
	m := reg.addModule("Acme", "Weather", false)
	reg.addCommit(t, m, "units", weather1ID, weather1Time, nil, "main", "Beta")
	store := NewMemStore()
	h := newHandler(t, reg, store, catalog(t, ""))
	base := "/gen/go/example.test/gen/go/!acme/!weather/protocolbuffers/go"
	if r := mustGet(t, h, base+"/@v/list"); r.body != pb1+"\n" {
		t.Errorf("list = %q", r.body)
	}
	if got := decodeInfo(t, mustGet(t, h, base+"/@v/!beta.info").body); got.Version != pb1 {
		t.Errorf("@Beta = %+v", got)
	}
	if r := get(t, h, base+"/@v/beta.info"); r.status != 404 {
		t.Errorf("@beta = %d: labels are case-sensitive", r.status)
	}
	mod := mustGet(t, h, base+"/@v/"+pb1+".mod")
	if !strings.HasPrefix(mod.body, "module example.test/gen/go/Acme/Weather/protocolbuffers/go\n") {
		t.Errorf(".mod = %q", mod.body)
	}
	if keys := store.Keys(); len(keys) != 1 || keys[0] != "example.test/gen/go/!acme/!weather/protocolbuffers/go/@v/"+pb1+".mod" {
		t.Errorf("store keys = %v", keys)
	}
	if r := get(t, h, "/gen/go/example.test/gen/go/Acme/Weather/protocolbuffers/go/@v/list"); r.status != 404 {
		t.Errorf("unescaped uppercase path = %d", r.status)
	}
}
