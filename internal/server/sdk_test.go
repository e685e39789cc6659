package server_test

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/protomod/protomod/internal/gengo"
	"github.com/protomod/protomod/internal/server"
	"github.com/protomod/protomod/internal/store"
)

// sdkHost starts the SDK module paths of the test servers.
const sdkHost = "example.test"

// sdkServer is a running server with the Go SDK proxy.
type sdkServer struct {
	srv  *server.Server
	logs *syncBuffer
	hc   *http.Client // trusts the server's certificate
	stop func()
}

// startSDKServer runs a server on dataDir whose SDK module paths start with
// example.test, with the built-in plugins (connect-go is not installed).
func startSDKServer(t *testing.T, dataDir string, opts ...envOption) *sdkServer {
	t.Helper()
	plugins, err := gengo.LoadPlugins("", "/nonexistent/protoc-gen-connect-go")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cfg := server.Config{
		DataDir: dataDir,
		Addr:    "127.0.0.1:0",
		Logger:  slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		SDK:     server.SDKConfig{Host: sdkHost, Plugins: plugins},
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("server.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server.Run: %v", err)
			}
			if t.Failed() {
				t.Logf("server log:\n%s", logs.String())
			}
		})
	}
	t.Cleanup(stop)
	return &sdkServer{srv: srv, logs: logs, hc: http.DefaultClient, stop: stop}
}

// sdkModules are the pushed commits of a test world.
type sdkModules struct {
	alice, bob string // tokens; alice is a member of acme, bob is not
	units      *modulev1.Commit
	weather    []*modulev1.Commit // pushed to main, oldest first
	beta       *modulev1.Commit   // pushed to the label beta only
	secret     *modulev1.Commit   // of the private acme/secret
}

// readSDKModule reads testdata/sdk/<dir> into path -> content.
func readSDKModule(t *testing.T, dir string) map[string]string {
	t.Helper()
	root := filepath.Join("testdata", "sdk", dir)
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// populate creates the users, the organization acme and its modules:
// acme/units (public), acme/weather (public, depends on units; nWeather
// commits on main and one on beta) and acme/secret (private).
func populate(t *testing.T, s *sdkServer, nWeather int) *sdkModules {
	t.Helper()
	ctx := context.Background()
	st := s.srv.Store()
	w := &sdkModules{}
	for _, u := range []struct {
		name string
		tok  *string
	}{{"alice", &w.alice}, {"bob", &w.bob}} {
		if _, err := st.CreateUser(ctx, u.name); err != nil {
			t.Fatal(err)
		}
		tok, _, err := st.CreateToken(ctx, u.name, "test")
		if err != nil {
			t.Fatal(err)
		}
		*u.tok = tok
	}
	if _, err := st.CreateOrganization(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := st.AddMember(ctx, "acme", "alice"); err != nil {
		t.Fatal(err)
	}
	c := newClients(s.hc, s.srv.URL(), w.alice)
	c.createModule(t, "acme", "units", modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC)
	c.createModule(t, "acme", "weather", modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC)
	c.createModule(t, "acme", "secret", modulev1.ModuleVisibility_MODULE_VISIBILITY_PRIVATE)
	units := readSDKModule(t, "units")
	w.units = c.mustPush(t, nil, content{owner: "acme", module: "units", files: units})[0]
	w.secret = c.mustPush(t, nil, content{owner: "acme", module: "secret", files: units})[0]
	weather := readSDKModule(t, "weather")
	const proto = "acme/weather/v1/weather.proto"
	base := weather[proto]
	for i := range nWeather {
		weather[proto] = base + fmt.Sprintf("\n// Revision %d.\n", i+1)
		w.weather = append(w.weather, c.mustPush(t, []string{w.units.Id}, content{owner: "acme", module: "weather", files: weather})[0])
	}
	weather[proto] = base + "\n// Beta.\n"
	w.beta = c.mustPush(t, []string{w.units.Id}, content{owner: "acme", module: "weather", files: weather, labels: []string{"beta"}})[0]
	return w
}

// pbVersion is the protocolbuffers/go SDK version of a commit.
func pbVersion(t *testing.T, c *modulev1.Commit) string {
	t.Helper()
	v, err := gengo.NewVersion(gengo.ProtocGenGoVersion, c.CreateTime.AsTime(), c.Id, 1)
	if err != nil {
		t.Fatal(err)
	}
	return v.String()
}

type sdkResponse struct {
	status int
	header http.Header
	body   string
}

// sdkGet sends GET path to the server with an optional Authorization
// header.
func sdkGet(t *testing.T, s *sdkServer, path, auth string) sdkResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return sdkResponse{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func mustSDKGet(t *testing.T, s *sdkServer, path, auth string) sdkResponse {
	t.Helper()
	r := sdkGet(t, s, path, auth)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s = %d %s", path, r.status, r.body)
	}
	return r
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

const (
	weatherPB = "/gen/go/example.test/gen/go/acme/weather/protocolbuffers/go"
	secretPB  = "/gen/go/example.test/gen/go/acme/secret/protocolbuffers/go"
)

// TestSDKProxy serves SDKs of modules pushed through the Connect API: the
// version list (paged commits and label history), label and commit
// queries, go.mod with the dependency's SDK, the zip from the files'
// blobs, stored under the data directory, and the request log.
func TestSDKProxy(t *testing.T) {
	dir := t.TempDir()
	s := startSDKServer(t, dir)
	// 12 commits on main: more than one page of commits and of label
	// history (the store's default page size is 10).
	w := populate(t, s, 12)

	// The list holds main's commits up to main's head. (Commits made in
	// the same second sort by their random IDs, so some of those pushed
	// before the head may sort after it and be left out.)
	head := pbVersion(t, w.weather[len(w.weather)-1])
	var want []string
	for _, c := range w.weather {
		if v := pbVersion(t, c); semver.Compare(v, head) <= 0 {
			want = append(want, v)
		}
	}
	semver.Sort(want)
	list := mustSDKGet(t, s, weatherPB+"/@v/list", "")
	if got := strings.Fields(list.body); !slices.Equal(got, want) {
		t.Errorf("list = %q, want %q", got, want)
	}
	if !strings.HasSuffix(list.body, head+"\n") {
		t.Errorf("the highest listed version is not main's head %s:\n%s", head, list.body)
	}

	info := func(path string) string {
		t.Helper()
		var i struct{ Version, Time string }
		if err := json.Unmarshal([]byte(mustSDKGet(t, s, path, "").body), &i); err != nil {
			t.Fatal(err)
		}
		return i.Version
	}
	for path, want := range map[string]string{
		weatherPB + "/@latest":                              head,
		weatherPB + "/@v/main.info":                         head,
		weatherPB + "/@v/beta.info":                         pbVersion(t, w.beta),
		weatherPB + "/@v/" + w.weather[0].Id + ".info":      pbVersion(t, w.weather[0]),
		weatherPB + "/@v/" + w.weather[3].Id[:12] + ".info": pbVersion(t, w.weather[3]),
	} {
		if got := info(path); got != want {
			t.Errorf("%s = %s, want %s", path, got, want)
		}
	}

	unitsVersion := pbVersion(t, w.units)
	mod := mustSDKGet(t, s, weatherPB+"/@v/"+head+".mod", "")
	wantMod := "module example.test/gen/go/acme/weather/protocolbuffers/go\n\ngo 1.23\n\nrequire (\n" +
		"\texample.test/gen/go/acme/units/protocolbuffers/go " + unitsVersion + "\n" +
		"\tgoogle.golang.org/protobuf v1.36.12\n)\n"
	if mod.body != wantMod {
		t.Errorf(".mod =\n%s\nwant\n%s", mod.body, wantMod)
	}

	zipResp := mustSDKGet(t, s, weatherPB+"/@v/"+head+".zip", "")
	modulePath := "example.test/gen/go/acme/weather/protocolbuffers/go"
	if err := gengo.CheckZip(modulePath, head, []byte(zipResp.body)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"LICENSE", "acme/weather/v1/weather.pb.go", "acme/weather/v1/weather_protoopaque.pb.go"} {
		if !strings.Contains(zipResp.body, modulePath+"@"+head+"/"+name) {
			t.Errorf("the zip lacks %s", name)
		}
	}
	// The generated code imports the dependency's SDK.
	zr, err := zip.NewReader(strings.NewReader(zipResp.body), int64(len(zipResp.body)))
	if err != nil {
		t.Fatal(err)
	}
	pbGo, err := fs.ReadFile(zr, modulePath+"@"+head+"/acme/weather/v1/weather.pb.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(pbGo), `v1 "example.test/gen/go/acme/units/protocolbuffers/go/acme/units/v1"`) {
		t.Errorf("weather.pb.go does not import the units SDK:\n%s", pbGo)
	}
	escPath, err := module.EscapePath(modulePath)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := os.ReadFile(filepath.Join(dir, "sdk", filepath.FromSlash(escPath), "@v", head+".zip"))
	if err != nil {
		t.Fatalf("the zip is not stored under the data directory: %v", err)
	}
	if string(stored) != zipResp.body {
		t.Error("the stored zip differs from the served one")
	}
	if again := mustSDKGet(t, s, weatherPB+"/@v/"+head+".zip", ""); again.body != zipResp.body {
		t.Error("a second download returned other bytes")
	}
	// The units SDK the go.mod requires exists.
	if r := mustSDKGet(t, s, "/gen/go/example.test/gen/go/acme/units/protocolbuffers/go/@v/"+unitsVersion+".info", ""); !strings.Contains(r.body, unitsVersion) {
		t.Errorf("units .info = %s", r.body)
	}

	// Unknown things are 404s with a message.
	unknownVersion := "v1.36.12-20200101000000-0123456789ab.1"
	for _, tt := range []struct{ path, want string }{
		{"/gen/go/example.test/gen/go/acme/nope/protocolbuffers/go/@v/list", "module acme/nope not found on this registry"},
		{"/gen/go/example.test/gen/go/nobody/weather/protocolbuffers/go/@v/list", "module nobody/weather not found on this registry"},
		{"/gen/go/example.test/gen/go/acme/weather/grpc/go/@v/list", "this registry has no plugin grpc/go"},
		{weatherPB + "/@v/" + unknownVersion + ".info", "unknown version"},
		{weatherPB + "/@v/" + unknownVersion + ".zip", "unknown version"},
		{weatherPB + "/@v/v1.36.11-20200101000000-0123456789ab.1.zip", "has no plugin protocolbuffers/go v1.36.11"},
		{weatherPB + "/@v/nolabel.info", `no label, commit ID or commit ID prefix "nolabel"`},
		// The store matches names in any case; SDK paths spell them as pushed.
		{"/gen/go/example.test/gen/go/!acme/weather/protocolbuffers/go/@v/list", "module Acme/weather not found"},
	} {
		r := sdkGet(t, s, tt.path, "")
		if r.status != http.StatusNotFound || !strings.Contains(r.body, tt.want) || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("GET %s = %d %q (%s), want 404 with %q", tt.path, r.status, r.body, r.header.Get("Content-Type"), tt.want)
		}
	}

	// The request log has a line per /gen/go request, with the user but
	// never the token.
	mustSDKGet(t, s, secretPB+"/@v/list", "Bearer "+w.alice)
	logs := s.logs.String()
	if strings.Contains(logs, w.alice) || strings.Contains(logs, w.bob) {
		t.Fatal("a token appears in the server log")
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "request" && m["procedure"] == secretPB+"/@v/list" {
			found = m["method"] == "GET" && m["status"] == 200.0 && m["user"] == "alice"
		}
	}
	if !found {
		t.Errorf("no request log line for the authenticated list with user alice:\n%s", logs)
	}
}

// TestSDKPrivate: private modules are served to members of their owner
// only, with a bearer token or basic auth (the token as password).
func TestSDKPrivate(t *testing.T) {
	s := startSDKServer(t, t.TempDir())
	w := populate(t, s, 1)
	version := pbVersion(t, w.secret)
	tests := []struct {
		name, auth string
		status     int
		want       string
	}{
		{"anonymous", "", 404, "module acme/secret not found on this registry (private modules need credentials: a .netrc entry for this host, over https)"},
		{"bearer member", "Bearer " + w.alice, 200, ""},
		{"basic member", basicAuth("alice", w.alice), 200, ""},
		{"basic token as user name", basicAuth(w.alice, ""), 200, ""},
		{"basic any user name", basicAuth("whoever", w.alice), 200, ""},
		{"non-member", "Bearer " + w.bob, 404, "module acme/secret not found on this registry"},
		{"unknown token", "Bearer pm_nope", 401, "the registry does not accept the credentials sent"},
		{"bad header", "Token " + w.alice, 401, "Authorization header must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{secretPB + "/@v/list", secretPB + "/@v/" + version + ".zip"} {
				r := sdkGet(t, s, path, tt.auth)
				if r.status != tt.status || !strings.Contains(r.body, tt.want) {
					t.Errorf("GET %s = %d %q, want %d with %q", path, r.status, r.body, tt.status, tt.want)
				}
				if tt.status == 401 && r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("401 without WWW-Authenticate")
				}
				if tt.status == 200 && strings.HasSuffix(path, ".zip") && !strings.HasPrefix(r.header.Get("Cache-Control"), "private") {
					t.Errorf("private zip Cache-Control = %q", r.header.Get("Cache-Control"))
				}
			}
		})
	}
}

// countingStore counts the store calls the SDK proxy makes.
type countingStore struct {
	store.Store
	n atomic.Int64
}

func (c *countingStore) UserByTokenHash(ctx context.Context, h [32]byte) (store.Owner, error) {
	c.n.Add(1)
	return c.Store.UserByTokenHash(ctx, h)
}

func (c *countingStore) ModuleByName(ctx context.Context, owner, name string) (store.Module, error) {
	c.n.Add(1)
	return c.Store.ModuleByName(ctx, owner, name)
}

func (c *countingStore) ModuleByID(ctx context.Context, id string) (store.Module, error) {
	c.n.Add(1)
	return c.Store.ModuleByID(ctx, id)
}

func (c *countingStore) ListCommits(ctx context.Context, id string, p store.Page) ([]store.Commit, string, error) {
	c.n.Add(1)
	return c.Store.ListCommits(ctx, id, p)
}

func (c *countingStore) LabelByName(ctx context.Context, id, name string) (store.Label, error) {
	c.n.Add(1)
	return c.Store.LabelByName(ctx, id, name)
}

func (c *countingStore) CommitByID(ctx context.Context, id string) (store.Commit, error) {
	c.n.Add(1)
	return c.Store.CommitByID(ctx, id)
}

func (c *countingStore) CommitFiles(ctx context.Context, id string) ([]store.FileRef, error) {
	c.n.Add(1)
	return c.Store.CommitFiles(ctx, id)
}

// rawGet sends a request line exactly as given and returns the status and
// body (a client library would clean or re-encode the path).
func rawGet(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, addr); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestSDKPathTricks: paths that are not SDK module paths are refused with
// 404 (or 400 from the HTTP server) before the store is asked anything,
// and are never redirected to a cleaned path.
func TestSDKPathTricks(t *testing.T) {
	dir := t.TempDir()
	st, err := server.OpenStore(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cs := &countingStore{Store: st}
	s := startSDKServer(t, dir, func(c *server.Config) { c.Store = cs })
	populate(t, s, 1)
	const pb = "/gen/go/example.test/gen/go/acme/weather/protocolbuffers/go"
	tests := []struct {
		target string
		status int
		want   string
	}{
		{"/gen/go/example.test/gen/go/acme/../acme/weather/protocolbuffers/go/@v/list", 404, "invalid module path"},
		{"/gen/go/example.test/gen/go/acme/%2e%2e/acme/weather/protocolbuffers/go/@v/list", 404, "invalid module path"},
		{"/gen/go/example.test/gen/go/acme/%2E%2E/weather/protocolbuffers/go/@v/list", 404, "invalid module path"},
		{"/gen/go/example.test/gen/go/./acme/weather/protocolbuffers/go/@v/list", 404, "invalid module path"},
		{"/gen/go/example.test/gen/go//acme/weather/protocolbuffers/go/@v/list", 404, "invalid module path"},
		{"/gen/go/../../../etc/passwd", 404, "not a GOPROXY request"},
		{"/gen/go/%2e%2e/%2e%2e/etc/passwd/@v/list", 404, "invalid module path"},
		{pb + "/@v/..%2f..%2f..%2fx.zip", 404, "invalid version"},
		{pb + "/@v/%2e%2e.zip", 404, "invalid version"},
		{pb + "/@v/%zz.zip", 400, ""},
		{"/gen/go/example.test/gen/go/acme/we%zzther/protocolbuffers/go/@v/list", 400, ""},
		{"/gen/go/example.test/gen/go/ACME/weather/protocolbuffers/go/@v/list", 404, "invalid module path"},
		{"/gen/go/example.test/gen/go/!!acme/weather/protocolbuffers/go/@v/list", 404, "invalid module path"},
		{"/gen/go/example.test/gen/go/acme%5cweather/x/protocolbuffers/go/@v/list", 404, "invalid module path"},
		{"/gen/go/example.test/gen/go/acme/weather%00/protocolbuffers/go/@v/list", 404, "invalid module path"},
		{pb + "/v1/@v/list", 404, "invalid module path"},
		{pb + "/acme/weather/v1/@v/list", 404, "invalid module path"},
		{"/gen/go/example.test/gen/go/acme/weather/@v/list", 404, "not a Go SDK module path"},
		{"/gen/go/other.test/gen/go/acme/weather/protocolbuffers/go/@v/list", 404, "not served by this registry"},
		{"/gen/go/google.golang.org/protobuf/@v/v1.36.12.info", 404, "not served by this registry"},
		{"/gen/go/sumdb/sum.golang.org/supported", 404, "does not proxy checksum databases"},
		{"/gen/go", 404, "outside this Go module proxy"},
		{"/gen/go/", 404, "not a GOPROXY request"},
		{pb + "/@v/list?x=1", 200, ""}, // the query is ignored, as by other proxies
	}
	for _, tt := range tests {
		before := cs.n.Load()
		status, body := rawGet(t, s.srv.Addr(), tt.target)
		if status != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("GET %s = %d %q, want %d with %q", tt.target, status, body, tt.status, tt.want)
		}
		if n := cs.n.Load() - before; tt.status != 200 && n != 0 {
			t.Errorf("GET %s made %d store calls", tt.target, n)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, "sdk"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("the SDK store is not empty: %v", entries)
	}
}

// copyDir copies a directory tree of regular files.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		target := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSDKByteStability: a version's .mod and .zip, and so its go.sum
// hashes, are the same after a restart on the same data directory (served
// from the store) and on a copy of the data directory made before any
// generation (generated again).
func TestSDKByteStability(t *testing.T) {
	dirA := filepath.Join(t.TempDir(), "a")
	s := startSDKServer(t, dirA)
	w := populate(t, s, 2)
	s.stop()
	dirB := filepath.Join(t.TempDir(), "b")
	copyDir(t, dirA, dirB)

	versions := map[string]string{
		weatherPB: pbVersion(t, w.weather[1]),
		"/gen/go/example.test/gen/go/acme/units/protocolbuffers/go": pbVersion(t, w.units),
	}
	type artifacts struct{ mod, zip, modHash, zipHash string }
	fetch := func(s *sdkServer) map[string]artifacts {
		t.Helper()
		out := map[string]artifacts{}
		for path, v := range versions {
			var a artifacts
			a.mod = mustSDKGet(t, s, path+"/@v/"+v+".mod", "").body
			a.zip = mustSDKGet(t, s, path+"/@v/"+v+".zip", "").body
			var err error
			if a.modHash, err = gengo.HashMod([]byte(a.mod)); err != nil {
				t.Fatal(err)
			}
			if a.zipHash, err = gengo.HashZip([]byte(a.zip)); err != nil {
				t.Fatal(err)
			}
			out[path] = a
		}
		return out
	}
	a1 := startSDKServer(t, dirA)
	first := fetch(a1)
	a1.stop()
	a2 := startSDKServer(t, dirA)
	restarted := fetch(a2)
	if strings.Contains(a2.logs.String(), "generated SDK") {
		t.Error("the restarted server generated again instead of serving the stored SDKs")
	}
	a2.stop()
	b := startSDKServer(t, dirB)
	other := fetch(b)
	if !strings.Contains(b.logs.String(), "generated SDK") {
		t.Error("the server on the copy did not generate the SDKs")
	}
	for path := range versions {
		for name, got := range map[string]artifacts{"after a restart": restarted[path], "on a copy of the data directory": other[path]} {
			want := first[path]
			if got.mod != want.mod || got.zip != want.zip {
				t.Errorf("%s: other bytes %s", path, name)
			}
			if got.modHash != want.modHash || got.zipHash != want.zipHash {
				t.Errorf("%s: go.sum hashes %s: %s %s, want %s %s", path, name, got.zipHash, got.modHash, want.zipHash, want.modHash)
			}
		}
	}
}

// TestSDKHost: SDK module paths start with the public host without its
// port unless a host is configured; a public host that cannot start module
// paths turns the proxy off, an invalid configured host is an error.
func TestSDKHost(t *testing.T) {
	for _, tt := range []struct{ public, want string }{
		{"registry.example.com:8443", "registry.example.com"},
		{"registry.example.com", "registry.example.com"},
		{"127.0.0.1:8080", "127.0.0.1"},
		{"[::1]:8080", "::1"},
	} {
		if got := server.SDKHost(tt.public); got != tt.want {
			t.Errorf("SDKHost(%q) = %q, want %q", tt.public, got, tt.want)
		}
	}
	tests := []struct {
		name   string
		config func(*server.Config)
		path   string
		status int
		want   string
	}{
		{"public host with port", func(c *server.Config) { c.SDK.Host, c.PublicHost = "", "registry.example.com:8443" },
			"/gen/go/registry.example.com/gen/go/acme/weather/protocolbuffers/go/@v/list", 200, ""},
		{"public host without a dot", func(c *server.Config) { c.SDK.Host, c.PublicHost = "", "localhost:8080" },
			"/gen/go/localhost/gen/go/acme/weather/protocolbuffers/go/@v/list", 404, "Go SDKs are off on this registry"},
		{"turned off", func(c *server.Config) { c.SDK.Off = true },
			weatherPB + "/@v/list", 404, "Go SDKs are turned off on this registry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSDKServer(t, t.TempDir(), tt.config)
			populate(t, s, 1)
			r := sdkGet(t, s, tt.path, "")
			if r.status != tt.status || !strings.Contains(r.body, tt.want) {
				t.Errorf("GET %s = %d %q, want %d with %q", tt.path, r.status, r.body, tt.status, tt.want)
			}
		})
	}
	_, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Logger: discard(),
		SDK: server.SDKConfig{Host: "registry.example.com:8443"}})
	if err == nil || !strings.Contains(err.Error(), "must not contain a port") {
		t.Errorf("server.New with a host with a port: %v", err)
	}
}

// TestSDKNetrcOverTLS runs the go command against an HTTPS server: a
// private SDK downloads with the token from .netrc, and without it the go
// command shows the registry's message.
func TestSDKNetrcOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	certFile, keyFile, pool := selfSigned(t)
	s := startSDKServer(t, t.TempDir(), func(c *server.Config) { c.TLSCertFile, c.TLSKeyFile = certFile, keyFile })
	s.hc = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	w := populate(t, s, 1)
	version := pbVersion(t, w.secret)
	tmp := t.TempDir()
	netrc := filepath.Join(tmp, "netrc")
	if err := os.WriteFile(netrc, []byte("machine "+s.srv.Addr()+"\nlogin alice\npassword "+w.alice+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	download := func(netrcFile string) (string, error) {
		cmd := exec.Command(goBin, "mod", "download", "-json", "example.test/gen/go/acme/secret/protocolbuffers/go@"+version)
		cmd.Dir = tmp
		cmd.Env = append(os.Environ(),
			"GOPROXY="+s.srv.URL()+"/gen/go",
			"GONOSUMDB=example.test", "GOPRIVATE=", "GONOPROXY=", "GOSUMDB=", "GOINSECURE=",
			"GOFLAGS=-modcacherw",
			"GOMODCACHE="+filepath.Join(tmp, "modcache-"+filepath.Base(netrcFile)),
			"GOPATH="+filepath.Join(tmp, "gopath"),
			"NETRC="+netrcFile, "GOAUTH=netrc",
			"SSL_CERT_FILE="+certFile,
			"GOTOOLCHAIN=local", "GOWORK=off", "GOTELEMETRY=off", "GO111MODULE=on",
		)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := download(netrc)
	if err != nil {
		t.Fatalf("go mod download with .netrc: %v\n%s", err, out)
	}
	var res struct{ Version, Sum, GoModSum string }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("go mod download printed %q: %v", out, err)
	}
	zipData := mustSDKGet(t, s, secretPB+"/@v/"+version+".zip", "Bearer "+w.alice).body
	zipHash, err := gengo.HashZip([]byte(zipData))
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != version || res.Sum != zipHash {
		t.Errorf("go mod download = %+v, want %s with %s", res, version, zipHash)
	}
	out, err = download(filepath.Join(tmp, "no-netrc"))
	if err == nil || !strings.Contains(out, "private modules need credentials") {
		t.Errorf("go mod download without credentials: %v\n%s", err, out)
	}
}
