package goproxy

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/protomod/protomod/internal/gengo"
)

// TestGoCommand runs the real go command against the handler: `go get` of
// the connectrpc/go SDK of acme/weather (which pulls in its protocolbuffers/go
// SDK and acme/units' SDKs), then builds and runs a program that serves and
// calls the generated service. Public modules (google.golang.org/protobuf,
// connectrpc.com/connect) come from proxy.golang.org.
func TestGoCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with the go command and proxy.golang.org; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	if err := reachable("https://proxy.golang.org/google.golang.org/protobuf/@v/v1.36.12.info"); err != nil {
		t.Skipf("proxy.golang.org is unreachable (%v); the end-to-end test needs it for google.golang.org/protobuf and connectrpc.com/connect", err)
	}
	plugins := catalog(t, connectGo(t))
	reg := newWeatherRegistry(t)
	store := NewMemStore()
	h := newHandler(t, reg, store, plugins)
	mux := http.NewServeMux()
	mux.Handle("/gen/go/", h)
	srv := httptest.NewServer(mux) // 127.0.0.1:<port>
	defer srv.Close()

	tmp := t.TempDir()
	consumer := filepath.Join(tmp, "consumer")
	if err := os.MkdirAll(consumer, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(consumer, "go.mod"), []byte("module consumer\n\ngo 1.25\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("testdata", "e2e", "main.go.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(consumer, "main.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"GOPROXY="+srv.URL+"/gen/go,https://proxy.golang.org",
		"GONOSUMDB=example.test",
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
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	const connectSDK = "example.test/gen/go/acme/weather/connectrpc/go"
	const pbSDK = "example.test/gen/go/acme/weather/protocolbuffers/go"
	run := func() string {
		t.Helper()
		bin := filepath.Join(tmp, "consumer-bin")
		goCmd("build", "-o", bin, ".")
		out, err := exec.Command(bin).CombinedOutput()
		if err != nil {
			t.Fatalf("consumer: %v\n%s", err, out)
		}
		return string(out)
	}
	version := func(mod string) string {
		t.Helper()
		return strings.TrimSpace(goCmd("list", "-m", "-f", "{{.Version}}", mod))
	}

	// @latest: the list holds the default label's history up to its head
	// (weather2), so the highest listed version, which the go command takes,
	// is main's head, not the newer weather3 on beta.
	goCmd("get", connectSDK+"@latest")
	if got := run(); got != "OK 21.5 UNIT_CELSIUS sunny in Paris\n" {
		t.Fatalf("consumer printed %q", got)
	}
	if got := version(connectSDK); got != "v1.21.1-20260203100000-0190f00dbeef.1" {
		t.Errorf("@latest resolved to %s", got)
	}
	if got := version(pbSDK); got != pb2 {
		t.Errorf("the connect SDK required protocolbuffers/go %s", got)
	}
	if got := version("example.test/gen/go/acme/units/protocolbuffers/go"); got != "v1.36.12-20260101120000-0190a1b2c3d4.1" {
		t.Errorf("units SDK = %s", got)
	}

	// Pin by label: "beta" is weather3, newer than main and not listed.
	goCmd("get", connectSDK+"@beta")
	if got := version(connectSDK); got != "v1.21.1-20260304110000-0192abcdef01.1" {
		t.Errorf("@beta resolved to %s", got)
	}
	if got := version(pbSDK); got != pb3 {
		t.Errorf("the connect SDK at beta required protocolbuffers/go %s", got)
	}
	if got := run(); got != "OK 21.5 UNIT_CELSIUS sunny in Paris\n" {
		t.Errorf("consumer at @beta printed %q", got)
	}

	// go.sum carries the hashes of the bytes the registry stored.
	sum, err := os.ReadFile(filepath.Join(consumer, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ path, version string }{{connectSDK, version(connectSDK)}, {pbSDK, version(pbSDK)}} {
		escPath, escVer := mustEscape(t, m.path, m.version)
		zipData, err := store.Get(context.Background(), key(escPath, escVer, "zip"))
		if err != nil {
			t.Fatal(err)
		}
		modData, err := store.Get(context.Background(), key(escPath, escVer, "mod"))
		if err != nil {
			t.Fatal(err)
		}
		zh, _ := gengo.HashZip(zipData)
		mh, _ := gengo.HashMod(modData)
		for _, line := range []string{m.path + " " + m.version + " " + zh, m.path + " " + m.version + "/go.mod " + mh} {
			if !strings.Contains(string(sum), line+"\n") {
				t.Errorf("go.sum lacks %q:\n%s", line, sum)
			}
		}
	}

	// The default label's history is listed; `go get -u` does not
	// downgrade from beta's newer commit.
	if got := goCmd("list", "-m", "-versions", connectSDK); got != connectSDK+" v1.21.1-20260102093015-0190f00dcafe.1 v1.21.1-20260203100000-0190f00dbeef.1\n" {
		t.Errorf("go list -m -versions = %q", got)
	}
	goCmd("get", "-u", connectSDK)
	if got := version(connectSDK); got != "v1.21.1-20260304110000-0192abcdef01.1" {
		t.Errorf("go get -u moved beta's commit to %s", got)
	}

	// Pin by commit ID prefix: weather1.
	goCmd("get", connectSDK+"@0190f00dcafe")
	if got := version(connectSDK); got != "v1.21.1-20260102093015-0190f00dcafe.1" {
		t.Errorf("@0190f00dcafe resolved to %s", got)
	}
	if got := run(); !strings.HasPrefix(got, "OK ") {
		t.Errorf("consumer at @0190f00dcafe printed %q", got)
	}
}

func mustEscape(t *testing.T, path, version string) (string, string) {
	t.Helper()
	p, v, err := escape(path, version)
	if err != nil {
		t.Fatal(err)
	}
	return p, v
}

// reachable checks that a URL answers 200 within a few seconds.
func reachable(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}
