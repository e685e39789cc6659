package clientconfig

import (
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix locations")
	}
	tests := []struct {
		bufConfigDir, xdg, home string
		want, wantErr           string
	}{
		{"/b", "/x", "/h", "/b", ""},
		{"", "/x", "/h", "/x/buf", ""},
		{"", "", "/h", "/h/.config/buf", ""},
		{"", "", "", "", "set $BUF_CONFIG_DIR"},
	}
	for _, tc := range tests {
		t.Setenv("BUF_CONFIG_DIR", tc.bufConfigDir)
		t.Setenv("XDG_CONFIG_HOME", tc.xdg)
		t.Setenv("HOME", tc.home)
		got, err := Dir()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Dir() err = %v, want %q", err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Dir() = %q, %v; want %q", got, err, tc.want)
		}
	}
}

func TestLoadReadsEnvironmentAtCallTime(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	write(t, filepath.Join(b, FileName), "version: v1\ntls:\n  use: false\n")
	t.Setenv("BUF_CONFIG_DIR", a)
	c, err := Load()
	if err != nil || c.TLSMode != TLSSystem || c.Dir != a {
		t.Fatalf("Load with dir a = %+v, %v", c, err)
	}
	t.Setenv("BUF_CONFIG_DIR", b)
	c, err = Load()
	if err != nil || c.TLSMode != TLSDisabled || c.Dir != b {
		t.Fatalf("Load with dir b = %+v, %v", c, err)
	}
}

func TestLoadBufFile(t *testing.T) {
	tests := []struct {
		name, file string
		want       TLSMode
		wantErr    string // %DIR% is replaced by the config directory
	}{
		{name: "missing", file: "-", want: TLSSystem},
		{name: "empty", file: "", want: TLSSystem},
		{name: "comments only", file: "# nothing\n", want: TLSSystem},
		{name: "empty mapping", file: "{}\n", want: TLSSystem},
		{name: "version only", file: "version: v1\n", want: TLSSystem},
		{name: "plain http", file: "version: v1\ntls:\n  use: false\n", want: TLSDisabled},
		{name: "quoted false", file: "version: v1\ntls:\n  use: \"false\"\n", want: TLSDisabled},
		{name: "trimmed and folded", file: "version: v1\ntls:\n  use: \" FALSE \"\n", want: TLSDisabled},
		{name: "system", file: "version: v1\ntls:\n  use: System\n", want: TLSSystem},
		{name: "empty use", file: "version: v1\ntls:\n  use: \"\"\n", want: TLSSystem},
		{name: "no version", file: "tls:\n  use: false\n",
			wantErr: `buf configuration at "%DIR%" must declare 'version: v1'`},
		{name: "wrong version", file: "version: v2\n",
			wantErr: `buf configuration at "%DIR%" must declare 'version: v1'`},
		{name: "unknown tls.use", file: "version: v1\ntls:\n  use: Bogus \n", wantErr: `unknown tls.use: "bogus"`},
		{name: "true is unknown", file: "version: v1\ntls:\n  use: true\n", wantErr: `unknown tls.use: "true"`},
		{name: "unknown key", file: "version: v1\nregistries:\n  localhost:8080: {url: http://localhost:8080}\n",
			wantErr: `invalid buf configuration file %DIR%/config.yaml: line 2: unknown key "registries"`},
		{name: "unknown tls key", file: "version: v1\ntls:\n  insecure: true\n",
			wantErr: `invalid buf configuration file %DIR%/config.yaml: line 3: unknown key "insecure"`},
		{name: "bad yaml", file: "version: [v1\n", wantErr: `invalid buf configuration file %DIR%/config.yaml: yaml:`},
		{name: "local without root.pem", file: "version: v1\ntls:\n  use: local\n",
			wantErr: `read a root certificate file for tls.use local: open %DIR%/tls/root.pem`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "-" {
				write(t, filepath.Join(dir, FileName), tc.file)
			}
			c, err := LoadDir(dir)
			if tc.wantErr != "" {
				want := strings.ReplaceAll(tc.wantErr, "%DIR%", dir)
				if err == nil || !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("err = %v, want prefix %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.TLSMode != tc.want {
				t.Errorf("TLSMode = %v, want %v", c.TLSMode, tc.want)
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	dir := t.TempDir()
	c, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.BaseURL("localhost:8080"); got != "https://localhost:8080" {
		t.Errorf("default BaseURL = %q", got)
	}
	write(t, filepath.Join(dir, FileName), "version: v1\ntls:\n  use: false\n")
	write(t, filepath.Join(dir, ProtomodFileName), `version: v1
registries:
  buf.build:
    url: https://buf.build
  localhost:9090:
    url: http://127.0.0.1:9091/
`)
	c, err = LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for registry, want := range map[string]string{
		"localhost:8080": "http://localhost:8080",
		"buf.build":      "https://buf.build",
		"localhost:9090": "http://127.0.0.1:9091",
	} {
		if got := c.BaseURL(registry); got != want {
			t.Errorf("BaseURL(%q) = %q, want %q", registry, got, want)
		}
	}

	write(t, filepath.Join(dir, FileName), "version: v1\n")
	write(t, filepath.Join(dir, ProtomodFileName), "version: v1\nregistries:\n  localhost:8080: {url: http://localhost:8080}\n")
	c, err = LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.BaseURL("localhost:8080"); got != "http://localhost:8080" {
		t.Errorf("overridden BaseURL = %q", got)
	}
	if got := c.BaseURL("localhost:8081"); got != "https://localhost:8081" {
		t.Errorf("other registry BaseURL = %q", got)
	}
}

func TestLoadProtomodFile(t *testing.T) {
	tests := []struct{ name, file, wantErr string }{
		{"empty", "", ""},
		{"version only", "version: v1\n", ""},
		{"no version", "registries:\n  a.example: {url: http://a.example}\n", "must declare 'version: v1'"},
		{"wrong version", "version: v2\n", "must declare 'version: v1'"},
		{"unknown key", "version: v1\ntls: {use: false}\n", `line 2: unknown key "tls"`},
		{"unknown registry key", "version: v1\nregistries:\n  a.example: {url: http://a.example, insecure: true}\n",
			`unknown key "insecure"`},
		{"scheme", "version: v1\nregistries:\n  a.example: {url: ftp://a.example}\n",
			`registries."a.example": url "ftp://a.example": the scheme must be http or https`},
		{"no scheme", "version: v1\nregistries:\n  a.example: {url: a.example}\n", `the scheme must be http or https`},
		{"path", "version: v1\nregistries:\n  a.example: {url: http://a.example/api}\n", `with no path, query`},
		{"user", "version: v1\nregistries:\n  a.example: {url: http://u:p@a.example}\n", `with no path, query`},
		{"query", "version: v1\nregistries:\n  a.example: {url: \"http://a.example?x=1\"}\n", `with no path, query`},
		{"no host", "version: v1\nregistries:\n  a.example: {url: \"http://\"}\n", `has no host`},
		{"empty url", "version: v1\nregistries:\n  a.example: {}\n", `is not a URL`},
		{"bad registry", "version: v1\nregistries:\n  \"a/b\": {url: http://a.example}\n", `registries."a/b": the registry name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, ProtomodFileName)
			write(t, path, tc.file)
			_, err := LoadDir(dir)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want one naming %s and containing %q", err, path, tc.wantErr)
			}
		})
	}
}

// TestLocalRoots checks that tls.use local trusts exactly the configured
// roots, against a real TLS server on loopback.
func TestLocalRoots(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshake is expected
	srv.StartTLS()
	defer srv.Close()
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

	get := func(c *Config) error {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: c.TLSConfig()}}
		resp, err := client.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}

	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "tls"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "tls", "root.pem"), string(certPEM))
	write(t, filepath.Join(dir, FileName), "version: v1\ntls:\n  use: local\n")
	c, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(dir, "tls", "root.pem")}; len(c.RootCertFiles) != 1 || c.RootCertFiles[0] != want[0] {
		t.Errorf("RootCertFiles = %v, want %v", c.RootCertFiles, want)
	}
	if err := get(c); err != nil {
		t.Errorf("local roots with the server's certificate: %v", err)
	}

	other := filepath.Join(t.TempDir(), "ca.pem")
	write(t, other, string(certPEM))
	write(t, filepath.Join(dir, FileName), "version: v1\ntls:\n  use: SystemAndLocal\n  root_cert_file_paths: ["+other+"]\n")
	if c, err = LoadDir(dir); err != nil {
		t.Fatal(err)
	}
	if c.TLSMode != TLSSystemAndLocal || len(c.RootCertFiles) != 1 || c.RootCertFiles[0] != other {
		t.Errorf("config = %+v", c)
	}
	if err := get(c); err != nil {
		t.Errorf("systemandlocal with the server's certificate: %v", err)
	}

	write(t, filepath.Join(dir, FileName), "version: v1\n")
	if c, err = LoadDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := get(c); err == nil {
		t.Error("system roots accepted the test server's self-signed certificate")
	}

	write(t, other, "not a certificate\n")
	write(t, filepath.Join(dir, FileName), "version: v1\ntls:\n  use: local\n  root_cert_file_paths: ["+other+"]\n")
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("bad PEM: err = %v", err)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
