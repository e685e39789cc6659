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
