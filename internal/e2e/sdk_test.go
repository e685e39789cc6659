package e2e_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"

	"github.com/protomod/protomod/internal/e2e"
)

// The SDK module paths of the test modules. The server's public host is
// 127.0.0.1:<port>, so SDK module paths start with 127.0.0.1 (its host
// without the port).
const (
	sdkHost    = "127.0.0.1"
	connectSDK = sdkHost + "/gen/go/acme/weather/connectrpc/go"
	weatherSDK = sdkHost + "/gen/go/acme/weather/protocolbuffers/go"
	unitsSDK   = sdkHost + "/gen/go/acme/units/protocolbuffers/go"
)

// sdkWorkspace writes a workspace with the modules acme/units and
// acme/weather (which imports units) of the registry host, and returns its
// directory.
func sdkWorkspace(t *testing.T, host string, extra map[string]string) string {
	t.Helper()
	ws := t.TempDir()
	files := map[string]string{
		"buf.yaml": fmt.Sprintf("version: v2\nmodules:\n  - path: units\n    name: %[1]s/acme/units\n  - path: weather\n    name: %[1]s/acme/weather\n", host),
	}
	for _, m := range []string{"units", "weather"} {
		root := filepath.Join("testdata", "sdk", m)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			files[m+"/"+filepath.ToSlash(rel)] = string(data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range extra {
		files[name] = content
	}
	e2e.WriteFiles(t, ws, files)
	return ws
}

// pushSDK runs protomod push in ws and returns the commit IDs by
// owner/module.
func pushSDK(t *testing.T, env *e2e.Env, host, ws string, args ...string) map[string]string {
	t.Helper()
	r := env.Run(ws, append([]string{"push"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("push: %s", r)
	}
	out := map[string]string{}
	for _, line := range e2e.Lines(r.Stdout) {
		name, commit, ok := strings.Cut(strings.TrimPrefix(line, host+"/"), ":")
		if !ok {
			t.Fatalf("push printed %q", line)
		}
		out[name] = commit
	}
	return out
}

// needGoAndProxy skips the test unless the go command is on PATH and
// proxy.golang.org answers (generated SDKs require public modules).
func needGoAndProxy(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test with the go command and proxy.golang.org; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://proxy.golang.org/google.golang.org/protobuf/@v/v1.36.12.info", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Skipf("proxy.golang.org is unreachable (%v): SDKs require google.golang.org/protobuf and connectrpc.com/connect", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Skipf("proxy.golang.org answers %s", resp.Status)
	}
	return goBin
}

// buildConnectGo builds protoc-gen-connect-go at the version in go.mod,
// the one the server pins.
func buildConnectGo(t *testing.T, goBin string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "protoc-gen-connect-go")
	out, err := exec.Command(goBin, "build", "-o", path, "connectrpc.com/connect/cmd/protoc-gen-connect-go").CombinedOutput()
	if err != nil {
		t.Fatalf("build protoc-gen-connect-go: %v\n%s", err, out)
	}
	return path
}

// httpGet fetches url and returns the status and body.
func httpGet(t *testing.T, url, auth string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func mustHTTPGet(t *testing.T, url string) []byte {
	t.Helper()
	status, body := httpGet(t, url, "")
	if status != http.StatusOK {
		t.Fatalf("GET %s = %d %s", url, status, body)
	}
	return body
}

// sdkVersionOf asks the server which SDK version a query (label, commit)
// of a module resolves to.
func sdkVersionOf(t *testing.T, srv *e2e.Server, modulePath, query string) string {
	t.Helper()
	var info struct{ Version string }
	if err := json.Unmarshal(mustHTTPGet(t, srv.URL()+"/gen/go/"+modulePath+"/@v/"+query+".info"), &info); err != nil {
		t.Fatal(err)
	}
	return info.Version
}

// goSumLines returns the go.sum lines of a version: the zip hash of the
// served .zip and the hash of the served .mod.
func goSumLines(t *testing.T, modulePath, version string, zipData, mod []byte) []string {
	t.Helper()
	tmp := filepath.Join(t.TempDir(), "sdk.zip")
	if err := os.WriteFile(tmp, zipData, 0o644); err != nil {
		t.Fatal(err)
	}
	zipHash, err := dirhash.HashZip(tmp, dirhash.Hash1)
	if err != nil {
		t.Fatal(err)
	}
	modHash, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(string(mod))), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return []string{modulePath + " " + version + " " + zipHash, modulePath + " " + version + "/go.mod " + modHash}
}

// TestSDKGoGet pushes acme/units and acme/weather (a service) with protomod
// push, then, in a fresh consumer module, runs `go get` of weather's
// connectrpc/go SDK from `protomod serve` (public modules from
// proxy.golang.org), builds a program that serves and calls the generated
// service, and runs it. It pins by @latest, label and commit, and checks
// that the served bytes (and so the go.sum hashes) stay the same after a
// restart and on a copy of the data directory that generates them again.
func TestSDKGoGet(t *testing.T) {
	goBin := needGoAndProxy(t)
	serveArgs := []string{"--connect-go", buildConnectGo(t, goBin)}
	srv := e2e.StartServerWith(t, e2e.ServerOptions{Args: serveArgs})
	token := srv.User("alice")
	srv.Org("acme", "alice")
	pusher := e2e.NewEnv(t)
	pusher.Token = token
	ws := sdkWorkspace(t, srv.Host, nil)
	main1 := pushSDK(t, pusher, srv.Host, ws, "--create", "--create-visibility", "public")
	// A newer commit only on the label beta: @latest stays at main.
	weatherProto := filepath.Join(ws, "weather", "acme", "weather", "v1", "weather.proto")
	src := string(e2e.ReadFile(t, weatherProto))
	e2e.WriteFiles(t, ws, map[string]string{"weather/acme/weather/v1/weather.proto": src + "\n// Beta.\nmessage Extra {}\n"})
	beta := pushSDK(t, pusher, srv.Host, ws, "--label", "beta")
	if beta["acme/weather"] == main1["acme/weather"] || beta["acme/units"] != main1["acme/units"] {
		t.Fatalf("pushes: main %v, beta %v", main1, beta)
	}
	// A copy of the data directory before any SDK exists, for a second
	// registry that generates the same versions on its own.
	srv.Stop()
	copyDir := filepath.Join(t.TempDir(), "data-copy")
	copyTree(t, srv.DataDir, copyDir)
	srv = e2e.StartServerWith(t, e2e.ServerOptions{DataDir: srv.DataDir, Args: serveArgs})

	tmp := t.TempDir()
	consumer := filepath.Join(tmp, "consumer")
	mainSrc, err := os.ReadFile(filepath.Join("testdata", "sdk", "main.go.txt"))
	if err != nil {
		t.Fatal(err)
	}
	e2e.WriteFiles(t, consumer, map[string]string{"go.mod": "module consumer\n\ngo 1.25\n", "main.go": string(mainSrc)})
	env := append(os.Environ(),
		"GOPROXY="+srv.URL()+"/gen/go,https://proxy.golang.org",
		"GONOSUMDB="+sdkHost,
		"GOFLAGS=-mod=mod -modcacherw", // -modcacherw: t.TempDir can remove the module cache
		"GOMODCACHE="+filepath.Join(tmp, "modcache"),
		"GOPATH="+filepath.Join(tmp, "gopath"),
		"GOPRIVATE=", "GONOPROXY=", "GOSUMDB=", "GOINSECURE=",
		"GOAUTH=off", "GOTOOLCHAIN=local", "GOWORK=off", "GOTELEMETRY=off",
	)
	goCmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(goBin, args...)
		cmd.Dir, cmd.Env = consumer, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s\nserver log:\n%s", strings.Join(args, " "), err, out, srv.Log())
		}
		return string(out)
	}
	run := func(what string) {
		t.Helper()
		bin := filepath.Join(tmp, "consumer-bin")
		goCmd("build", "-o", bin, ".")
		out, err := exec.Command(bin).CombinedOutput()
		if err != nil || string(out) != "OK 21.5 UNIT_CELSIUS sunny in Paris\n" {
			t.Fatalf("consumer at %s: %v\n%s", what, err, out)
		}
	}
	version := func(mod string) string {
		t.Helper()
		return strings.TrimSpace(goCmd("list", "-m", "-f", "{{.Version}}", mod))
	}
	mainVersion := sdkVersionOf(t, srv, connectSDK, main1["acme/weather"])
	betaVersion := sdkVersionOf(t, srv, connectSDK, beta["acme/weather"])
	if !strings.Contains(mainVersion, "-"+main1["acme/weather"][:12]+".") || !strings.HasPrefix(mainVersion, "v1.21.1-") {
		t.Fatalf("connect SDK version of main's commit = %s", mainVersion)
	}

	// @latest is the default label's head, not beta's newer commit.
	goCmd("get", connectSDK+"@latest")
	run("@latest")
	if got := version(connectSDK); got != mainVersion {
		t.Errorf("@latest = %s, want main's %s", got, mainVersion)
	}
	if got, want := version(weatherSDK), sdkVersionOf(t, srv, weatherSDK, "main"); got != want {
		t.Errorf("the connect SDK requires protocolbuffers/go %s, want %s", got, want)
	}
	if got, want := version(unitsSDK), sdkVersionOf(t, srv, unitsSDK, main1["acme/units"]); got != want {
		t.Errorf("units SDK %s, want %s", got, want)
	}
	if got := goCmd("list", "-m", "-versions", connectSDK); got != connectSDK+" "+mainVersion+"\n" {
		t.Errorf("go list -m -versions = %q, want main's history", got)
	}
	gosum := string(e2e.ReadFile(t, filepath.Join(consumer, "go.sum")))
	versions := map[string]string{connectSDK: mainVersion, weatherSDK: version(weatherSDK), unitsSDK: version(unitsSDK)}

	// Pin by label, then by commit ID prefix.
	goCmd("get", connectSDK+"@beta")
	run("@beta")
	if got := version(connectSDK); got != betaVersion {
		t.Errorf("@beta = %s, want %s", got, betaVersion)
	}
	goCmd("get", connectSDK+"@"+main1["acme/weather"][:12])
	run("@commit")
	if got := version(connectSDK); got != mainVersion {
		t.Errorf("@%s = %s, want %s", main1["acme/weather"][:12], got, mainVersion)
	}

	// go.sum (as of @latest) holds the hashes of the served bytes; the
	// bytes are the same after a restart (from the store) and from a
	// registry on the copy of the data directory (generated again).
	fetch := func(s *e2e.Server) map[string][2][]byte {
		t.Helper()
		out := map[string][2][]byte{}
		for path, v := range versions {
			base := s.URL() + "/gen/go/" + path + "/@v/" + v
			out[path] = [2][]byte{mustHTTPGet(t, base+".zip"), mustHTTPGet(t, base+".mod")}
		}
		return out
	}
	first := fetch(srv)
	for path, v := range versions {
		for _, line := range goSumLines(t, path, v, first[path][0], first[path][1]) {
			if !strings.Contains(gosum, line+"\n") {
				t.Errorf("go.sum lacks %q:\n%s", line, gosum)
			}
		}
	}
	srv.Stop()
	restarted := e2e.StartServerWith(t, e2e.ServerOptions{DataDir: srv.DataDir, Args: serveArgs})
	again := fetch(restarted)
	if strings.Contains(restarted.Log(), "generated SDK") {
		t.Errorf("the restarted server generated SDKs again:\n%s", restarted.Log())
	}
	other := e2e.StartServerWith(t, e2e.ServerOptions{DataDir: copyDir, Args: serveArgs})
	fresh := fetch(other)
	if n := strings.Count(other.Log(), "generated SDK"); n != len(versions) {
		t.Errorf("the server on the copy generated %d SDKs, want %d", n, len(versions))
	}
	for path, v := range versions {
		want := strings.Join(goSumLines(t, path, v, first[path][0], first[path][1]), "\n")
		for name, got := range map[string][2][]byte{"after a restart": again[path], "on the copy": fresh[path]} {
			if string(got[0]) != string(first[path][0]) || string(got[1]) != string(first[path][1]) {
				t.Errorf("%s@%s: other bytes %s", path, v, name)
			}
			if lines := strings.Join(goSumLines(t, path, v, got[0], got[1]), "\n"); lines != want {
				t.Errorf("%s@%s: go.sum lines %s:\n%s\nwant\n%s", path, v, name, lines, want)
			}
		}
	}
}

// copyTree copies a directory of regular files.
func copyTree(t *testing.T, from, to string) {
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
		return os.WriteFile(target, data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rawRequest sends a request line exactly as given (clients would clean
// or re-encode the path) and returns the status and body.
func rawRequest(t *testing.T, addr, target string) (int, string) {
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

// storedFiles lists the files under the server's SDK store.
func storedFiles(t *testing.T, dataDir string) []string {
	t.Helper()
	var out []string
	root := filepath.Join(dataDir, "sdk")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSDKBadInput sends bad requests to the real server: unknown modules,
// plugins and versions; plugins that crash or hang (configured with
// --plugins-config); path tricks; private modules with and without
// credentials.
func TestSDKBadInput(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "crash-runs")
	crash := filepath.Join(dir, "crash-plugin")
	hang := filepath.Join(dir, "hang-plugin")
	e2e.WriteFiles(t, dir, map[string]string{
		"crash-plugin": "#!/bin/sh\necho run >> '" + runs + "'\ncat > /dev/null\necho 'boom: the fake plugin crashed' >&2\nexit 3\n",
		"hang-plugin":  "#!/bin/sh\ncat > /dev/null\nexec sleep 600\n",
		"plugins.yaml": "version: v1\nplugins:\n" +
			"  - name: acme/crash\n    version: v1.0.0\n    path: " + crash + "\n    go: \"1.22\"\n" +
			"  - name: acme/hang\n    version: v1.0.0\n    path: " + hang + "\n    go: \"1.22\"\n    timeout: 1s\n",
	})
	for _, p := range []string{crash, hang} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	srv := e2e.StartServerWith(t, e2e.ServerOptions{Args: []string{
		"--plugins-config", filepath.Join(dir, "plugins.yaml"), "--connect-go", "/nonexistent/protoc-gen-connect-go",
	}})
	token := srv.User("alice")
	bobToken := srv.User("bob")
	srv.Org("acme", "alice")
	pusher := e2e.NewEnv(t)
	pusher.Token = token
	ws := sdkWorkspace(t, srv.Host, nil)
	pushed := pushSDK(t, pusher, srv.Host, ws, "--create", "--create-visibility", "public")
	secretWS := t.TempDir()
	e2e.WriteFiles(t, secretWS, map[string]string{
		"buf.yaml":     fmt.Sprintf("version: v2\nmodules:\n  - path: s\n    name: %s/acme/secret\n", srv.Host),
		"s/s/v1.proto": "syntax = \"proto3\";\npackage s.v1;\nmessage S {}\n",
	})
	pushSDK(t, pusher, srv.Host, secretWS, "--create")
	gen := srv.URL() + "/gen/go/"

	t.Run("unknown", func(t *testing.T) {
		v := sdkVersionOf(t, srv, weatherSDK, pushed["acme/weather"])
		bad := strings.Replace(v, pushed["acme/weather"][:12], "0123456789ab", 1)
		for _, tt := range []struct{ path, want string }{
			{sdkHost + "/gen/go/acme/nope/protocolbuffers/go/@v/list", "module acme/nope not found on this registry"},
			{sdkHost + "/gen/go/nobody/weather/protocolbuffers/go/@latest", "module nobody/weather not found on this registry"},
			{sdkHost + "/gen/go/acme/weather/grpc/go/@v/list", "this registry has no plugin grpc/go"},
			{sdkHost + "/gen/go/acme/weather/protocolbuffers/go/v2/@v/list", "no plugin protocolbuffers/go with major version 2"},
			{weatherSDK + "/@v/" + bad + ".zip", "unknown version"},
			{weatherSDK + "/@v/" + bad + ".info", "unknown version"},
			{weatherSDK + "/@v/v1.36.12.info", "unknown version"},
			{weatherSDK + "/@v/nosuchlabel.info", `has no label, commit ID or commit ID prefix "nosuchlabel"`},
			{weatherSDK + "/@v/abcd.info", `has no label, commit ID or commit ID prefix "abcd"`},
			{"example.com/gen/go/acme/weather/protocolbuffers/go/@v/list", "not served by this registry"},
		} {
			status, body := httpGet(t, gen+tt.path, "")
			if status != http.StatusNotFound || !strings.Contains(string(body), tt.want) {
				t.Errorf("GET %s = %d %q, want 404 with %q", tt.path, status, body, tt.want)
			}
		}
	})

	t.Run("crashing plugin", func(t *testing.T) {
		path := sdkHost + "/gen/go/acme/units/acme/crash"
		v := sdkVersionOf(t, srv, path, "main")
		for i := 1; i <= 2; i++ {
			status, body := httpGet(t, gen+path+"/@v/"+v+".zip", "")
			if status != http.StatusInternalServerError || !strings.Contains(string(body), "generate "+path+"@"+v+": plugin acme/crash v1.0.0") ||
				!strings.Contains(string(body), "boom: the fake plugin crashed") {
				t.Errorf("request %d: %d %q, want 500 naming the plugin and its stderr", i, status, body)
			}
			if n := len(e2e.Lines(string(e2e.ReadFile(t, runs)))); n != i {
				t.Errorf("after request %d the plugin ran %d times: failures must not be stored", i, n)
			}
		}
		for _, f := range storedFiles(t, srv.DataDir) {
			if strings.Contains(f, "acme/crash") && strings.HasSuffix(f, ".zip") {
				t.Errorf("a failed generation stored %s", f)
			}
		}
	})

	t.Run("hanging plugin", func(t *testing.T) {
		path := sdkHost + "/gen/go/acme/units/acme/hang"
		v := sdkVersionOf(t, srv, path, "main")
		start := time.Now()
		status, body := httpGet(t, gen+path+"/@v/"+v+".zip", "")
		if status != http.StatusInternalServerError || !strings.Contains(string(body), "did not finish within 1s and was stopped") {
			t.Errorf("hanging plugin: %d %q", status, body)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("the hanging plugin held the request for %s", d)
		}
		for _, f := range storedFiles(t, srv.DataDir) {
			if strings.Contains(f, "acme/hang") && strings.HasSuffix(f, ".zip") {
				t.Errorf("a failed generation stored %s", f)
			}
		}
	})

	t.Run("path tricks", func(t *testing.T) {
		before := storedFiles(t, srv.DataDir)
		for _, tt := range []struct {
			target string
			status int
		}{
			{"/gen/go/" + sdkHost + "/gen/go/acme/../acme/weather/protocolbuffers/go/@v/list", 404},
			{"/gen/go/" + sdkHost + "/gen/go/acme/%2e%2e/acme/weather/protocolbuffers/go/@v/list", 404},
			{"/gen/go/%2e%2e/%2e%2e/etc/passwd/@v/list", 404},
			{"/gen/go/../../etc/passwd", 404},
			{"/gen/go/" + weatherSDK + "/@v/..%2f..%2fx.zip", 404},
			{"/gen/go/" + weatherSDK + "/@v/%zz.zip", 400},
			{"/gen/go/" + sdkHost + "/gen/go/Acme/weather/protocolbuffers/go/@v/list", 404},
			{"/gen/go/" + sdkHost + "/gen/go/acme/weather/protocolbuffers/go/v1/@v/list", 404},
		} {
			if status, body := rawRequest(t, srv.Host, tt.target); status != tt.status {
				t.Errorf("GET %s = %d %q, want %d", tt.target, status, body, tt.status)
			}
		}
		if after := storedFiles(t, srv.DataDir); strings.Join(after, "\n") != strings.Join(before, "\n") {
			t.Errorf("path tricks changed the SDK store: %v -> %v", before, after)
		}
	})

	t.Run("private module", func(t *testing.T) {
		path := sdkHost + "/gen/go/acme/secret/protocolbuffers/go"
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+token))
		var version string
		for _, tt := range []struct {
			name, auth string
			status     int
			want       string
		}{
			{"anonymous", "", 404, "private modules need credentials"},
			{"non-member", "Bearer " + bobToken, 404, "module acme/secret not found on this registry"},
			{"bad token", "Bearer pm_wrong", 401, "the registry does not accept the credentials sent"},
			{"bearer", "Bearer " + token, 200, ""},
			{"basic with the token as password", basic, 200, ""},
		} {
			status, body := httpGet(t, gen+path+"/@latest", tt.auth)
			if status != tt.status || !strings.Contains(string(body), tt.want) {
				t.Errorf("%s: @latest = %d %q, want %d %q", tt.name, status, body, tt.status, tt.want)
				continue
			}
			if status == 200 {
				var info struct{ Version string }
				if err := json.Unmarshal(body, &info); err != nil {
					t.Fatal(err)
				}
				version = info.Version
				status, zipData := httpGet(t, gen+path+"/@v/"+version+".zip", tt.auth)
				if status != 200 {
					t.Fatalf("%s: zip = %d %s", tt.name, status, zipData)
				}
				if _, err := module.EscapeVersion(version); err != nil {
					t.Fatal(err)
				}
			}
		}
		if version == "" {
			return
		}
		if status, _ := httpGet(t, gen+path+"/@v/"+version+".zip", ""); status != 404 {
			t.Errorf("anonymous zip of a private module = %d, want 404", status)
		}
	})

	// The request log has the /gen/go requests, never a token.
	logs := srv.Log()
	if strings.Contains(logs, token) || strings.Contains(logs, bobToken) {
		t.Error("a token appears in the server log")
	}
	if !strings.Contains(logs, "procedure=/gen/go/"+sdkHost+"/gen/go/acme/secret/protocolbuffers/go/@latest status=200") || !strings.Contains(logs, "user=alice") {
		t.Errorf("the server log lacks the /gen/go request lines:\n%s", logs)
	}
}
