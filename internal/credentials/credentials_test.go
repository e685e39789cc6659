package credentials

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseEnvTokens(t *testing.T) {
	tests := []struct {
		value   string
		lookups map[string]string // remote -> token ("" = none)
		wantErr string
	}{
		{value: "", lookups: map[string]string{"buf.build": ""}},
		{value: "abc", lookups: map[string]string{"buf.build": "abc", "localhost:8080": "abc"}},
		{value: "tok:with:colons", lookups: map[string]string{"x": "tok:with:colons"}},
		{
			value: "t1@localhost:18080,t2@buf.build",
			lookups: map[string]string{
				"localhost:18080": "t1", "buf.build": "t2", "localhost": "", "localhost:8080": "",
			},
		},
		{value: "one@host", lookups: map[string]string{"host": "one", "HOST": ""}},
		{value: "a@b,a@b", wantErr: "invalid token: a@b, repeated remote address: b"},
		{value: "x@h,y@h", wantErr: "invalid token: y@h, repeated remote address: h"},
		{value: "tok:x@h", wantErr: "invalid token: tok:x@h, token cannot contain special character `:`"},
		{value: "a@b@c", wantErr: "invalid token: a@b@c"},
		{value: "@h", wantErr: "invalid token: @h"},
		{value: "t@", wantErr: "invalid token: t@"},
		{value: "x,y", wantErr: "invalid token: x"},
		{value: "t@h,", wantErr: "invalid token: "},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			e, err := ParseEnvTokens(tc.value)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for remote, want := range tc.lookups {
				got, ok := e.Lookup(remote)
				if got != want || ok != (want != "") {
					t.Errorf("Lookup(%q) = %q, %v; want %q", remote, got, ok, want)
				}
			}
		})
	}
}

func TestProviderToken(t *testing.T) {
	dir := t.TempDir()
	netrcPath := filepath.Join(dir, "netrc")
	if err := os.WriteFile(netrcPath, []byte(`machine localhost:8080
  login alice
  password netrc-tok
machine nopass login bob
default login anon password default-tok
`), 0o600); err != nil {
		t.Fatal(err)
	}
	noDefault := filepath.Join(dir, "netrc-nodefault")
	if err := os.WriteFile(noDefault, []byte("machine a login b password c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, bufToken, netrc, remote string
		want                          Token
	}{
		{"env single wins", "env-tok", netrcPath, "localhost:8080", Token{Value: "env-tok", Source: Env}},
		{"env per remote", "t1@localhost:8080", netrcPath, "localhost:8080", Token{Value: "t1", Source: Env}},
		{"env other remote falls back to netrc", "t1@buf.build", netrcPath, "localhost:8080",
			Token{Value: "netrc-tok", Source: Netrc, NetrcPath: netrcPath}},
		{"netrc exact", "", netrcPath, "localhost:8080", Token{Value: "netrc-tok", Source: Netrc, NetrcPath: netrcPath}},
		{"netrc default", "", netrcPath, "other:1", Token{Value: "default-tok", Source: Netrc, NetrcPath: netrcPath}},
		{"netrc without password", "", netrcPath, "nopass", Token{}},
		{"netrc no match", "", noDefault, "localhost:8080", Token{}},
		{"netrc missing", "", filepath.Join(dir, "missing"), "localhost:8080", Token{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewFrom(tc.bufToken, tc.netrc)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Token(tc.remote)
			if err != nil || got != tc.want {
				t.Errorf("Token(%q) = %+v, %v; want %+v", tc.remote, got, err, tc.want)
			}
		})
	}
}

func TestNewReadsEnvironment(t *testing.T) {
	dir := t.TempDir()
	netrcPath := filepath.Join(dir, "n")
	if err := os.WriteFile(netrcPath, []byte("machine r login u password from-netrc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NETRC", netrcPath)
	t.Setenv(EnvVar, "")
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := p.Token("r"); err != nil || got.Value != "from-netrc" || got.Source != Netrc {
		t.Errorf("Token = %+v, %v; want the .netrc password", got, err)
	}
	t.Setenv(EnvVar, "a@b,a@b")
	if _, err := New(); err == nil || err.Error() != "invalid token: a@b, repeated remote address: b" {
		t.Errorf("New with a bad BUF_TOKEN: err = %v", err)
	}
	t.Setenv(EnvVar, "from-env")
	p, err = New()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := p.Token("r"); got.Value != "from-env" || got.Source != Env {
		t.Errorf("Token = %+v, want BUF_TOKEN", got)
	}
}

func TestUnreadableNetrc(t *testing.T) {
	dir := t.TempDir()
	p, err := NewFrom("", dir) // a directory cannot be read as a file
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Token("r"); err == nil || !strings.Contains(err.Error(), "look up credentials for r") {
		t.Errorf("err = %v, want a credentials lookup error", err)
	}
}

func TestSourceString(t *testing.T) {
	for s, want := range map[Source]string{None: "none", Env: "BUF_TOKEN", Netrc: ".netrc"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", s, s.String(), want)
		}
	}
}
