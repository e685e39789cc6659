package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/server"
)

// TestProtocols drives the same calls over HTTP/1.1, h2c, and TLS with
// HTTP/1.1 and HTTP/2.
func TestProtocols(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	plain := newEnv(t)
	secure := newEnv(t, func(c *server.Config) { c.TLSCertFile, c.TLSKeyFile = certFile, keyFile })
	if !strings.HasPrefix(secure.srv.URL(), "https://") {
		t.Fatalf("TLS server URL %s", secure.srv.URL())
	}
	h2c := new(http.Protocols)
	h2c.SetUnencryptedHTTP2(true)
	h1 := new(http.Protocols)
	h1.SetHTTP1(true)
	h2 := new(http.Protocols)
	h2.SetHTTP2(true)
	tlsConf := &tls.Config{RootCAs: pool}
	for _, tc := range []struct {
		name  string
		e     *env
		tr    *http.Transport
		proto string
	}{
		{"http/1.1", plain, &http.Transport{Protocols: h1}, "HTTP/1.1"},
		{"h2c", plain, &http.Transport{Protocols: h2c}, "HTTP/2.0"},
		{"tls http/1.1", secure, &http.Transport{Protocols: h1, TLSClientConfig: tlsConf}, "HTTP/1.1"},
		{"tls h2", secure, &http.Transport{Protocols: h2, TLSClientConfig: tlsConf}, "HTTP/2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.tr.CloseIdleConnections()
			hc := &http.Client{Transport: tc.tr}
			tok := tc.e.user("u" + strings.NewReplacer("/", "", ".", "", " ", "").Replace(tc.name))
			c := newClients(hc, tc.e.srv.URL(), tok)
			owner := "u" + strings.NewReplacer("/", "", ".", "", " ", "").Replace(tc.name)
			c.createModule(t, owner, "m", modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC)
			id := c.mustPush(t, nil, content{owner: owner, module: "m", files: protoFile("")})[0].Id
			if got := c.resolve(t, nameRef(owner, "m", "")); got != id {
				t.Errorf("resolved %s, want %s", got, id)
			}
			resp, err := hc.Get(tc.e.srv.URL() + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "ok\n" || resp.Proto != tc.proto {
				t.Errorf("healthz: %s %q over %s, want 200 \"ok\\n\" over %s", resp.Status, body, resp.Proto, tc.proto)
			}
		})
	}
}

// TestWireErrors checks error responses as the reference CLI reads them:
// JSON bodies with the Connect code, unimplemented methods, unknown routes.
func TestWireErrors(t *testing.T) {
	e := newEnv(t)
	tok := e.user("alice")
	for _, tc := range []struct {
		name   string
		path   string
		body   string
		status int
		code   string
		msg    string
	}{
		{"unimplemented method", "/buf.registry.module.v1.ModuleService/DeleteModules", "", 501, "unimplemented", "DeleteModules is not implemented"},
		{"unimplemented service", "/buf.registry.module.v1.ResourceService/GetResources", "", 501, "unimplemented", ""},
		{"not found", "/buf.registry.module.v1.ModuleService/GetModules", "\x0a\x0b\x12\x09\x0a\x01a\x12\x04nope", 404, "not_found", "module a/nope not found"},
		{"empty request", "/buf.registry.module.v1.CommitService/GetCommits", "", 400, "invalid_argument", "no resource references given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := postRaw(t, e.srv.URL()+tc.path, tok, strings.NewReader(tc.body), int64(len(tc.body)))
			wantWireError(t, resp, tc.status, tc.code, tc.msg)
		})
	}
	// An unknown route is a bare 404, which the reference CLI reads as
	// unimplemented.
	resp := postRaw(t, e.srv.URL()+"/buf.registry.module.v1.NoSuchService/Get", tok, strings.NewReader(""), 0)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown route: status %d", resp.StatusCode)
	}
}

// TestRequestLog checks the structured request log: one line per request
// with method, procedure, status, code, duration, remote and user, and
// never the token.
func TestRequestLog(t *testing.T) {
	e := newEnv(t)
	tok := e.user("alice")
	c := e.client(tok)
	_, err := c.module.GetModules(context.Background(), connect.NewRequest(&modulev1.GetModulesRequest{ModuleRefs: []*modulev1.ModuleRef{moduleRef("alice", "nope")}}))
	wantCode(t, err, connect.CodeNotFound, "")
	_, err = e.client("pm_notatoken").module.GetModules(context.Background(), connect.NewRequest(&modulev1.GetModulesRequest{ModuleRefs: []*modulev1.ModuleRef{moduleRef("alice", "nope")}}))
	wantCode(t, err, connect.CodeUnauthenticated, "")
	logs := e.logs.String()
	if strings.Contains(logs, tok) || strings.Contains(logs, "pm_notatoken") {
		t.Fatalf("a token appears in the log:\n%s", logs)
	}
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d request log lines, want 2:\n%s", len(lines), logs)
	}
	want := []map[string]any{
		{"method": "POST", "procedure": "/buf.registry.module.v1.ModuleService/GetModules", "status": 404.0, "code": "not_found", "user": "alice"},
		{"method": "POST", "status": 401.0, "code": "unauthenticated"},
	}
	for i, w := range want {
		for k, v := range w {
			if lines[i][k] != v {
				t.Errorf("log line %d: %s = %v, want %v", i, k, lines[i][k], v)
			}
		}
		for _, k := range []string{"duration", "remote"} {
			if _, ok := lines[i][k]; !ok {
				t.Errorf("log line %d lacks %s", i, k)
			}
		}
	}
	if _, ok := lines[1]["user"]; ok {
		t.Errorf("an unauthenticated request logged a user: %v", lines[1])
	}
}

// TestGracefulShutdown: canceling Run's context stops the server, frees the
// port and closes the store; AddrFile names the bound address.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	addrFile := filepath.Join(dir, "addr")
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Config{DataDir: filepath.Join(dir, "data"), Addr: "127.0.0.1:0", AddrFile: addrFile, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(addrFile)
	if err != nil || strings.TrimSpace(string(data)) != srv.Addr() {
		t.Fatalf("address file %q (%v), server at %s", data, err, srv.Addr())
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	resp, err := http.Get(srv.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if conn, err := net.Dial("tcp", srv.Addr()); err == nil {
		conn.Close()
		t.Error("the port still accepts connections after shutdown")
	}
	// The store is closed: the data directory can be reopened for admin work.
	st, err := server.OpenStore(context.Background(), filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
}

func TestConfigErrors(t *testing.T) {
	ctx := context.Background()
	_, err := server.New(ctx, server.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", TLSCertFile: "x.pem", Logger: discard()})
	if err == nil || !strings.Contains(err.Error(), "--tls-cert and --tls-key must be given together") {
		t.Errorf("cert without key: %v", err)
	}
	_, err = server.New(ctx, server.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", TLSCertFile: "nope.pem", TLSKeyFile: "nope.key", Logger: discard()})
	if err == nil || !strings.Contains(err.Error(), "load TLS certificate") {
		t.Errorf("missing cert: %v", err)
	}
	_, err = server.New(ctx, server.Config{DataDir: t.TempDir(), Addr: "256.0.0.1:99999", Logger: discard()})
	if err == nil || !strings.Contains(err.Error(), "listen on 256.0.0.1:99999") {
		t.Errorf("bad address: %v", err)
	}
	t.Setenv("XDG_DATA_HOME", "/some/where")
	if got := server.DefaultDataDir(); got != "/some/where/protomod" {
		t.Errorf("DefaultDataDir = %s", got)
	}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// selfSigned writes a certificate for 127.0.0.1 and returns its files and a
// pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "protomod test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
