package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/protomod/protomod/internal/store"
	"github.com/protomod/protomod/internal/store/fsblob"
)

func TestBlobCache(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir, err := fsblob.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	c := store.NewBlobCache(dir, 40)
	blob := func(s string) ([32]byte, []byte) { return sha256.Sum256([]byte(s)), []byte(s) }
	a, adata := blob("aaaaaaaaaa") // 10 bytes
	b, bdata := blob("bbbbbbbbbb")
	big, bigdata := blob("this one is over a quarter of the budget")
	for _, x := range []struct {
		sha  [32]byte
		data []byte
	}{{a, adata}, {b, bdata}, {big, bigdata}} {
		if err := c.Put(ctx, x.sha, x.data); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Get(ctx, x.sha); err != nil || string(got) != string(x.data) {
			t.Fatalf("Get = %q, %v", got, err)
		}
	}
	// Remove the files: cached blobs are still served, uncached ones not.
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, a); err != nil || string(got) != string(adata) {
		t.Errorf("cached a: %q, %v", got, err)
	}
	if _, err := c.Get(ctx, big); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("oversized blob should not be cached: %v", err)
	}
	if _, err := dir.Get(ctx, a); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the wrapped store must read the disk: %v", err)
	}
	// Delete drops the cached copy too.
	if err := os.MkdirAll(filepath.Join(root), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, b); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted blob still served: %v", err)
	}
}

func TestBlobCacheEvicts(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir, err := fsblob.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	c := store.NewBlobCache(dir, 40)
	var shas [][32]byte
	for _, s := range []string{"1111111111", "2222222222", "3333333333", "4444444444", "5555555555"} {
		sha := sha256.Sum256([]byte(s))
		shas = append(shas, sha)
		if err := c.Put(ctx, sha, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, sha); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	// 5 blobs of 10 bytes in a 40-byte cache: the first was evicted.
	if _, err := c.Get(ctx, shas[0]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("least recently used blob still cached: %v", err)
	}
	for _, sha := range shas[1:] {
		if _, err := c.Get(ctx, sha); err != nil {
			t.Errorf("recent blob evicted: %v", err)
		}
	}
}
