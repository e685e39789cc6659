package fsblob

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/protomod/protomod/internal/store"
)

func TestPutGetWalkDelete(t *testing.T) {
	ctx := context.Background()
	d, err := Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	contents := [][]byte{[]byte("one"), []byte("two"), {}, []byte("one")}
	var shas [][32]byte
	for _, c := range contents {
		sha := sha256.Sum256(c)
		if err := d.Put(ctx, sha, c); err != nil {
			t.Fatalf("Put(%q): %v", c, err)
		}
		shas = append(shas, sha)
	}
	for i, c := range contents {
		got, err := d.Get(ctx, shas[i])
		if err != nil || string(got) != string(c) {
			t.Errorf("Get(%q) = %q, %v", c, got, err)
		}
	}
	var walked [][32]byte
	if err := d.Walk(ctx, func(sha [32]byte) error { walked = append(walked, sha); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(walked) != 3 {
		t.Errorf("Walk found %d blobs, want 3 (one copy per distinct content)", len(walked))
	}
	for _, sha := range shas {
		if !slices.Contains(walked, sha) {
			t.Errorf("Walk missed %x", sha)
		}
	}
	if err := d.Delete(ctx, shas[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get(ctx, shas[0]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := d.Delete(ctx, shas[0]); err != nil {
		t.Errorf("second Delete: %v", err)
	}
}

func TestRejectsAndDetects(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "blobs")
	d, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, sha256.Sum256([]byte("a")), []byte("b")); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Put under the wrong address: %v, want ErrInvalid", err)
	}
	sha := sha256.Sum256([]byte("content"))
	if err := d.Put(ctx, sha, []byte("content")); err != nil {
		t.Fatal(err)
	}
	// Flip the stored bytes: Get must notice.
	var file string
	_ = filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			file = p
		}
		return err
	})
	if err := os.WriteFile(file, []byte("CONTENT"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get(ctx, sha); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("Get of a modified blob: %v, want ErrCorrupt", err)
	}
	// Leftovers of interrupted writes are not blobs.
	if err := os.WriteFile(filepath.Join(filepath.Dir(file), ".tmp123"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := 0
	_ = d.Walk(ctx, func([32]byte) error { n++; return nil })
	if n != 1 {
		t.Errorf("Walk found %d blobs, want 1", n)
	}
}
