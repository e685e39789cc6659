package goproxy

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/module"

	"github.com/protomod/protomod/internal/gengo"
)

var update = flag.Bool("update", false, "rewrite golden files")

const pluginModeEnv = "GOPROXY_TEST_PLUGIN"

func TestMain(m *testing.M) {
	switch os.Getenv(pluginModeEnv) {
	case "":
	case "crash":
		io.Copy(io.Discard, os.Stdin)
		fmt.Fprintln(os.Stderr, "panic: fake plugin crashed")
		os.Exit(3)
	case "hang":
		io.Copy(io.Discard, os.Stdin)
		time.Sleep(time.Hour)
		os.Exit(0)
	default:
		os.Exit(2)
	}
	code := m.Run()
	if connectDir != "" {
		os.RemoveAll(connectDir)
	}
	os.Exit(code)
}

// fakePlugin is a plugin that runs the test binary in mode.
func fakePlugin(t *testing.T, name, mode string, timeout time.Duration) *gengo.Plugin {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &gengo.Plugin{Owner: "acme", Name: name, Version: "v1.0.0", Revision: 1, GoVersion: "1.22",
		Exec: &gengo.Exec{Path: self, Env: []string{pluginModeEnv + "=" + mode}}, Timeout: timeout}
}

var (
	connectOnce sync.Once
	connectDir  string
	connectPath string
	connectErr  error
)

// connectGo builds the pinned protoc-gen-connect-go from the module's
// dependencies (no network) once per test run.
func connectGo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH: cannot build protoc-gen-connect-go")
	}
	connectOnce.Do(func() {
		connectDir, connectErr = os.MkdirTemp("", "goproxy-connect-")
		if connectErr != nil {
			return
		}
		connectPath = filepath.Join(connectDir, "protoc-gen-connect-go")
		out, err := exec.Command("go", "build", "-o", connectPath, "connectrpc.com/connect/cmd/protoc-gen-connect-go").CombinedOutput()
		if err != nil {
			connectErr = fmt.Errorf("build protoc-gen-connect-go: %v\n%s", err, out)
		}
	})
	if connectErr != nil {
		t.Fatal(connectErr)
	}
	return connectPath
}

// catalog returns the built-in plugins plus extra. connect-go points at a
// missing binary unless connectPath is given.
func catalog(t *testing.T, connectPath string, extra ...*gengo.Plugin) *gengo.Catalog {
	t.Helper()
	if connectPath == "" {
		connectPath = "/nonexistent/protoc-gen-connect-go"
	}
	c, err := gengo.NewCatalog(append(gengo.DefaultPlugins(connectPath), extra...))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newHandler(t *testing.T, reg Registry, store Store, plugins *gengo.Catalog) *Handler {
	t.Helper()
	h, err := New(Options{Host: "example.test", Registry: reg, Store: store, Plugins: plugins})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

type response struct {
	status int
	header http.Header
	body   string
}

// get sends GET path to h, with optional header pairs.
func get(t *testing.T, h http.Handler, path string, header ...string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://registry.test/", nil)
	req.URL.Path = path // exactly as given, even if no client would send it
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

// mustGet fails unless the answer is 200.
func mustGet(t *testing.T, h http.Handler, path string, header ...string) response {
	t.Helper()
	r := get(t, h, path, header...)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s = %d %s", path, r.status, r.body)
	}
	return r
}

func decodeInfo(t *testing.T, body string) info {
	t.Helper()
	var i info
	if err := json.Unmarshal([]byte(body), &i); err != nil {
		t.Fatalf("bad .info %q: %v", body, err)
	}
	return i
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

// sdkBase is the URL path of the acme/weather SDKs.
const sdkBase = "/gen/go/example.test/gen/go/acme/weather"

func hasPrefixLine(body, prefix string) bool {
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func escape(path, version string) (string, string, error) {
	p, err := module.EscapePath(path)
	if err != nil {
		return "", "", err
	}
	v, err := module.EscapeVersion(version)
	return p, v, err
}
