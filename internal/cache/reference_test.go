package cache

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/protomod/protomod/internal/lock"
)

// referenceCLI finds the reference CLI (buf) if it is installed.
func referenceCLI(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("buf"); err == nil {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, "go", "bin", "buf")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("the reference CLI (buf) is not installed")
	return ""
}

// The reference CLI builds a workspace from a cache that Put filled, without
// contacting the (absent) registry, and reports a tampered entry with the
// same text as Verify.
func TestReferenceCLIReadsCache(t *testing.T) {
	buf := referenceCLI(t)
	tmp := t.TempDir()
	c := &Cache{Dir: filepath.Join(tmp, "cache")}
	if err := c.Put(baseModule(t)); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(depModule(t)); err != nil {
		t.Fatal(err)
	}
	ws := filepath.Join(tmp, "ws")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(ws, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("buf.yaml", "version: v2\ndeps:\n  - localhost:18080/acme/dep\n")
	write("c.proto", "syntax = \"proto3\";\npackage c;\nimport \"dep/v1/dep.proto\";\nmessage C { dep.v1.Dep d = 1; }\n")
	if err := lock.Write(ws, &lock.File{Deps: []lock.Dep{
		{Name: baseKey.FullName, Commit: baseKey.CommitID, Digest: baseB5},
		{Name: depKey.FullName, Commit: depKey.CommitID, Digest: depB5},
	}}); err != nil {
		t.Fatal(err)
	}
	run := func() (string, error) {
		cmd := exec.Command(buf, "build", "-o", filepath.Join(tmp, "image.binpb"))
		cmd.Dir = ws
		cmd.Env = append(os.Environ(),
			"BUF_CACHE_DIR="+c.Dir,
			"BUF_CONFIG_DIR="+filepath.Join(tmp, "config"),
			"NETRC="+filepath.Join(tmp, "netrc"),
			"BUF_TOKEN=",
		)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		return stderr.String(), err
	}
	if out, err := run(); err != nil {
		t.Fatalf("buf build from the cache: %v\n%s", err, out)
	}

	// Tamper with base, then compare the two tools' messages.
	file := filepath.Join(c.Dir, "v3/modules/b5/localhost:18080/acme/base/0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e/files/base/v1/base.proto")
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("x"))
	_ = f.Close()
	out, err := run()
	if err == nil {
		t.Fatal("buf build with a tampered cache succeeded")
	}
	m, ok, gerr := c.Get(baseKey)
	if gerr != nil || !ok {
		t.Fatalf("Get = %v, %v", ok, gerr)
	}
	verr := c.Verify(m, baseB5)
	if verr == nil {
		t.Fatal("Verify of the tampered entry succeeded")
	}
	if want := "Failure: " + verr.Error() + "\n"; out != want {
		t.Errorf("buf said:\n%s\nVerify says:\n%s", out, want)
	}
}
