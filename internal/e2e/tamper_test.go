package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/e2e"
	"github.com/protomod/protomod/internal/lock"
)

// mismatch is the exact digest-verification failure for a module key.
func mismatch(key string, want, got digest.Digest) string {
	return "Failure: " + (&digest.MismatchError{ModuleKey: key, Expected: want, Actual: got}).Error() + "\n"
}

// TestTamperedCacheAndLock: a byte appended to a cached file, or a hand-
// edited digest in buf.lock, fails every build with the exact verification
// error; --refetch repairs a damaged cache entry from the registry, and
// never accepts content that disagrees with buf.lock.
func TestTamperedCacheAndLock(t *testing.T) {
	w := newDepWorld(t)
	c := w.consumer([]string{"alice/c"}, map[string]string{"x.proto": importC})
	c.mustRun("dep", "update")
	a := w.pin("alice/a", "")
	key := a.Key().String()
	cached := filepath.Join(c.env.CacheDir, "v3", "modules", "b5", w.srv.Host, "alice", "a", a.Commit, "files", "a.proto")

	// One byte appended to a cached file.
	f, err := os.OpenFile(cached, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tampered, err := digest.B5([]digest.File{{Path: "a.proto", Content: []byte(protoA + "\n")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"build"}, {"build", "--offline"}, {"build", "--offline", "--refetch"}} {
		r := c.run(args...)
		if r.Code != 1 || r.Stderr != mismatch(key, a.Digest, tampered) {
			t.Fatalf("protomod %s on a tampered cache: %s", strings.Join(args, " "), r)
		}
	}
	// --refetch downloads the entry again (one Download, verified first).
	if r := c.mustRun("build", "--refetch"); len(c.counter.Paths()) == 0 {
		t.Fatalf("build --refetch sent no request: %s", r)
	}
	if got := e2e.ReadFile(t, cached); string(got) != protoA {
		t.Fatalf("refetched file = %q, want the pushed content", got)
	}
	c.mustRun("build", "--offline")

	// A hand-edited digest in buf.lock: the cache is intact, the lock lies.
	lf, err := lock.Read(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range lf.Deps {
		if d.Name == a.Name {
			lf.Deps[i].Digest = tampered
		}
	}
	if err := lock.Write(c.dir, lf); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"build"}, {"build", "--refetch"}} {
		r := c.run(args...)
		if r.Code != 1 || r.Stderr != mismatch(key, tampered, a.Digest) {
			t.Fatalf("protomod %s with an edited buf.lock: %s", strings.Join(args, " "), r)
		}
	}
	// The refetch dropped the entry that disagreed with buf.lock, then
	// refused the download, which disagrees too: nothing is cached.
	if _, err := os.Stat(cached); !os.IsNotExist(err) {
		t.Fatalf("cache entry after a refused download: %v", err)
	}
}
