package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/protomod/protomod/internal/cache"
	"github.com/protomod/protomod/internal/e2e/regtest"
)

// depEnv starts an in-process registry with alice/a <- alice/b, points the
// CLI's environment at it (plain HTTP, alice's token, a fresh cache) and
// returns a consumer workspace that depends on b.
func depEnv(t *testing.T) (reg *regtest.Registry, consumer string) {
	t.Helper()
	reg = regtest.Start(t)
	tok := reg.User("alice")
	producer := t.TempDir()
	regtest.WriteFiles(t, producer, map[string]string{
		"buf.yaml":  fmt.Sprintf("version: v2\nmodules:\n  - path: a\n    name: %[1]s/alice/a\n  - path: b\n    name: %[1]s/alice/b\n", reg.Host),
		"a/a.proto": "syntax = \"proto3\";\npackage a;\nmessage A {}\n",
		"b/b.proto": "syntax = \"proto3\";\npackage b;\nimport \"a.proto\";\nmessage B { a.A a = 1; }\n",
	})
	c, err := cache.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg.Push(reg.Client(tok), c, producer)

	config := t.TempDir()
	regtest.WriteFiles(t, config, map[string]string{"config.yaml": "version: v1\ntls:\n  use: false\n"})
	t.Setenv("BUF_CONFIG_DIR", config)
	t.Setenv("BUF_TOKEN", tok)
	t.Setenv("NETRC", filepath.Join(t.TempDir(), "netrc"))
	t.Setenv("BUF_CACHE_DIR", t.TempDir())

	consumer = t.TempDir()
	regtest.WriteFiles(t, consumer, map[string]string{
		"buf.yaml": fmt.Sprintf("version: v2\ndeps:\n  - %s/alice/b\n", reg.Host),
		"x.proto":  "syntax = \"proto3\";\npackage x;\nimport \"b.proto\";\nmessage X { b.B b = 1; }\n",
	})
	return reg, consumer
}

func TestDepCommands(t *testing.T) {
	reg, dir := depEnv(t)
	h := reg.Host
	steps := []struct {
		name       string
		args       []string
		freshCache bool
		wantCode   int
		wantStdout string
		wantStderr string
		// wantLock: the command must leave buf.lock present (or absent).
		wantLock bool
	}{
		{
			name: "offline update refused", args: []string{"dep", "update", "--offline"}, wantCode: 1,
			wantStderr: "Failure: dep update needs the registry and cannot run with --offline\n",
		},
		{
			name: "bad --only", args: []string{"dep", "update", "--only", "alice/b"}, wantCode: 1,
			wantStderr: "Failure: --only: could not parse full name \"alice/b\": must be in the form registry/owner/name\n",
		},
		{name: "update", args: []string{"dep", "update"}, wantLock: true},
		{name: "check", args: []string{"dep", "check"}, wantLock: true},
		{name: "update --check", args: []string{"dep", "update", "--check"}, wantLock: true},
		{name: "build downloads into an empty cache", args: []string{"build"}, freshCache: true, wantLock: true},
		{
			name: "graph works offline", args: []string{"dep", "graph", "--offline", "--format", "text"}, wantLock: true,
			wantStdout: ". (workspace)\n└── " + h + "/alice/b:COMMIT_B\n    └── " + h + "/alice/a:COMMIT_A\n",
		},
		{
			name: "bad graph format", args: []string{"dep", "graph", "--format", "svg"}, wantCode: 1, wantLock: true,
			wantStderr: "Failure: invalid value for --format: \"svg\"; use dot, json or text\n",
		},
		{
			name: "offline build with an empty cache", args: []string{"build", "--offline"}, freshCache: true, wantCode: 1, wantLock: true,
			wantStderr: "Failure: " + h + "/alice/a:COMMIT_A, " + h + "/alice/b:COMMIT_B is not in the module cache (CACHE) and --offline is set; run without --offline, or run \"protomod dep update\" while online, to download it\n",
		},
		{name: "prune", args: []string{"dep", "prune"}, wantLock: true},
	}
	client := reg.Client(os.Getenv("BUF_TOKEN"))
	commitA, commitB := reg.Pin(client, "alice/a", "").Commit, reg.Pin(client, "alice/b", "").Commit
	replace := func(s string) string {
		return strings.NewReplacer("COMMIT_A", commitA, "COMMIT_B", commitB, "CACHE", os.Getenv("BUF_CACHE_DIR")).Replace(s)
	}
	for _, st := range steps {
		if st.freshCache {
			t.Setenv("BUF_CACHE_DIR", t.TempDir())
		}
		code, stdout, stderr := runCLI(t, dir, st.args...)
		if code != st.wantCode || stdout != replace(st.wantStdout) || stderr != replace(st.wantStderr) {
			t.Errorf("%s: exit %d\nstdout: %q\nstderr: %q\nwant exit %d\nstdout: %q\nstderr: %q",
				st.name, code, stdout, stderr, st.wantCode, replace(st.wantStdout), replace(st.wantStderr))
		}
		if _, err := os.Stat(filepath.Join(dir, "buf.lock")); (err == nil) != st.wantLock {
			t.Errorf("%s: buf.lock present %v, want %v", st.name, err == nil, st.wantLock)
		}
	}
}

func TestDepUpdateWarnings(t *testing.T) {
	reg, dir := depEnv(t)
	regtest.WriteFiles(t, dir, map[string]string{"x.proto": "syntax = \"proto3\";\npackage x;\n"})
	code, _, stderr := runCLI(t, dir, "dep", "update")
	want := fmt.Sprintf("WARN\tModule %[1]s/alice/b is declared in your buf.yaml deps but is unused. This command only modifies buf.lock files, not buf.yaml files. Please remove %[1]s/alice/b from your buf.yaml deps if it is not needed.\n", reg.Host)
	if code != 0 || stderr != want {
		t.Errorf("exit %d, stderr %q; want 0 and %q", code, stderr, want)
	}
	regtest.WriteFiles(t, dir, map[string]string{"buf.yaml": "version: v2\n"})
	if err := os.Remove(filepath.Join(dir, "buf.lock")); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, dir, "dep", "update")
	if want := "WARN\tNo configured dependencies were found to update in \".\".\n"; code != 0 || stderr != want {
		t.Errorf("no deps: exit %d, stderr %q; want 0 and %q", code, stderr, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "buf.lock")); err == nil {
		t.Error("dep update without deps wrote buf.lock")
	}
}

func TestProgressWriter(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for name, w := range map[string]io.Writer{"buffer": &bytes.Buffer{}, "/dev/null": null, "regular file": file} {
		if got := progressWriter(w); got != nil {
			t.Errorf("%s: progress goes to %v, want nowhere", name, got)
		}
	}
}
