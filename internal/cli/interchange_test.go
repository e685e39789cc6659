package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// copyDir copies a testdata tree so that tests can modify it.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// testdata/interchange/cache is laid out by hand exactly as the reference
// CLI's v3 cache (module.yaml + files/) with the two modules of digest
// vector (vi); the consumer's buf.lock is the spec's example. protomod must
// build from it offline, byte for byte as buf did (image.binpb was written
// by buf 1.75 from the same cache, with no registry reachable).
func TestBuildFromHandLaidCache(t *testing.T) {
	root := copyDir(t, filepath.Join("..", "..", "testdata", "interchange"))
	t.Setenv("BUF_CACHE_DIR", filepath.Join(root, "cache"))
	out := filepath.Join(t.TempDir(), "image.binpb")
	code, _, stderr := runCLI(t, filepath.Join(root, "consumer"), "build", "--offline", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile(filepath.Join(root, "image.binpb"))
	if !bytes.Equal(got, want) {
		t.Fatalf("image differs from buf's (%d bytes, want %d)", len(got), len(want))
	}
}

func TestBuildFromTamperedCache(t *testing.T) {
	root := copyDir(t, filepath.Join("..", "..", "testdata", "interchange"))
	t.Setenv("BUF_CACHE_DIR", filepath.Join(root, "cache"))
	f := filepath.Join(root, "cache", "v3", "modules", "b5", "localhost:18080", "acme", "base", "0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e", "files", "base", "v1", "base.proto")
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, append(data, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, filepath.Join(root, "consumer"), "build", "--offline")
	want := "Failure: *** Digest verification failed for \"localhost:18080/acme/base:0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e\" ***\n" +
		"\tExpected digest (from buf.lock): \"b5:fe9589f5fc4d871f94e31be428594013c97df07e5ae4d6adfb3c0a1fd795947bd74e72825143237bda978d29455dd36687a8547d847d3f03b66af937eb2e3694\"\n"
	if code != 1 || !bytes.HasPrefix([]byte(stderr), []byte(want)) ||
		!bytes.HasSuffix([]byte(stderr), []byte("\tThis may be the result of a hand-edited or corrupted buf.lock file, a corrupted local cache, and/or an attack.\n\tTo clear your local cache, run \"buf registry cc\".\n")) {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestBuildWithEditedLockDigest(t *testing.T) {
	root := copyDir(t, filepath.Join("..", "..", "testdata", "interchange"))
	t.Setenv("BUF_CACHE_DIR", filepath.Join(root, "cache"))
	lockPath := filepath.Join(root, "consumer", "buf.lock")
	data, _ := os.ReadFile(lockPath)
	edited := bytes.Replace(data, []byte("b5:fe9589f5"), []byte("b5:fe9589f6"), 1)
	if bytes.Equal(edited, data) {
		t.Fatal("lock digest not found")
	}
	if err := os.WriteFile(lockPath, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, filepath.Join(root, "consumer"), "build", "--offline")
	want := "Failure: *** Digest verification failed for \"localhost:18080/acme/base:0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e\" ***\n" +
		"\tExpected digest (from buf.lock): \"b5:fe9589f6fc4d871f94e31be428594013c97df07e5ae4d6adfb3c0a1fd795947bd74e72825143237bda978d29455dd36687a8547d847d3f03b66af937eb2e3694\"\n" +
		"\tActual digest: \"b5:fe9589f5fc4d871f94e31be428594013c97df07e5ae4d6adfb3c0a1fd795947bd74e72825143237bda978d29455dd36687a8547d847d3f03b66af937eb2e3694\"\n" +
		"\tThis may be the result of a hand-edited or corrupted buf.lock file, a corrupted local cache, and/or an attack.\n" +
		"\tTo clear your local cache, run \"buf registry cc\".\n"
	if code != 1 || stderr != want {
		t.Fatalf("exit %d, stderr:\n%s\nwant:\n%s", code, stderr, want)
	}
}
