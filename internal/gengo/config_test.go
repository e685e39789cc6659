package gengo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dumpCatalog prints every plugin's settings, one block per plugin.
func dumpCatalog(c *Catalog) []byte {
	var b strings.Builder
	for _, p := range c.Plugins() {
		fmt.Fprintf(&b, "%s revision=%d go=%s options=%q timeout=%s\n", p, p.Revision, p.GoVersion, p.Options, p.Timeout)
		for _, r := range p.Requires {
			fmt.Fprintf(&b, "  require %s\n", r)
		}
		for _, d := range p.deps {
			fmt.Fprintf(&b, "  dep %s revision=%d\n", d.plugin, d.revision)
		}
		if p.Exec == nil {
			b.WriteString("  in process\n")
		} else {
			fmt.Fprintf(&b, "  exec %s args=%q env=%q version_output=%q\n", p.Exec.Path, p.Exec.Args, p.Exec.Env, p.Exec.VersionOutput)
		}
	}
	return []byte(b.String())
}

func TestParseConfig(t *testing.T) {
	for _, name := range []string{"full", "empty"} {
		t.Run(name, func(t *testing.T) {
			c, err := LoadConfig(filepath.Join("testdata", "config", name+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "config-"+name+".txt", dumpCatalog(c))
		})
	}
	t.Run("no file", func(t *testing.T) {
		c, err := LoadConfig("")
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Plugin("connectrpc", "go", ConnectGoVersion).Exec.Path; got != ConnectGoBinary {
			t.Errorf("connect-go path = %q", got)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := LoadConfig(filepath.Join(t.TempDir(), "nope.yaml"))
		if err == nil || !strings.Contains(err.Error(), "read plugin configuration") {
			t.Fatalf("error = %v", err)
		}
	})
}

func TestLoadPluginsConnectPath(t *testing.T) {
	dir := t.TempDir()
	withPath := filepath.Join(dir, "with-path.yaml")
	without := filepath.Join(dir, "without-path.yaml")
	for name, content := range map[string]string{
		withPath: "version: v1\nplugins:\n  - name: connectrpc/go\n    version: " + ConnectGoVersion + "\n    path: /from/config\n",
		without:  "version: v1\nplugins:\n  - name: connectrpc/go\n    version: " + ConnectGoVersion + "\n    revision: 2\n",
	} {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		config, flag, want string
	}{
		{"", "", ConnectGoBinary},
		{"", "/from/flag", "/from/flag"},
		{without, "/from/flag", "/from/flag"},
		{without, "", ConnectGoBinary},
		{withPath, "/from/flag", "/from/config"},
		{withPath, "", "/from/config"},
	}
	for _, tt := range tests {
		c, err := LoadPlugins(tt.config, tt.flag)
		if err != nil {
			t.Fatalf("LoadPlugins(%q, %q): %v", tt.config, tt.flag, err)
		}
		if got := c.Plugin("connectrpc", "go", ConnectGoVersion).Exec.Path; got != tt.want {
			t.Errorf("LoadPlugins(%q, %q): connect-go path = %q, want %q", filepath.Base(tt.config), tt.flag, got, tt.want)
		}
	}
	if _, err := LoadPlugins(filepath.Join(dir, "nope.yaml"), "/from/flag"); err == nil || !strings.Contains(err.Error(), "read plugin configuration") {
		t.Errorf("missing file: error = %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: v2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPlugins(bad, ""); err == nil || !strings.HasPrefix(err.Error(), bad+": ") {
		t.Errorf("bad file: error = %v, want it to start with the file name", err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "config", "invalid.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cases := strings.Split(string(data), "\n== ")[1:]
	if len(cases) < 10 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		want, yaml, _ := strings.Cut(c, "\n")
		t.Run(want, func(t *testing.T) {
			_, err := ParseConfig([]byte(yaml), "plugins.yaml")
			if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "plugins.yaml: ") {
				t.Fatalf("error = %v, want %q", err, want)
			}
		})
	}
}

func TestPluginOutsideCatalog(t *testing.T) {
	p := DefaultPlugins("")[1] // connectrpc/go, which depends on protocolbuffers/go
	_, err := GoMod("example.test", p, unitsCommit, nil)
	if err == nil || !strings.Contains(err.Error(), "is not in a catalog") {
		t.Fatalf("GoMod error = %v", err)
	}
}
