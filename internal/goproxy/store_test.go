package goproxy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestStores(t *testing.T) {
	dir, err := NewDirStore(filepath.Join(t.TempDir(), "sdk"))
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]Store{"mem": NewMemStore(), "dir": dir} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			k := "example.test/gen/go/acme/weather/protocolbuffers/go/@v/" + pb1 + ".zip"
			if _, err := s.Get(ctx, k); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get of a missing key = %v", err)
			}
			got, err := s.PutIfAbsent(ctx, k, []byte("first"))
			if err != nil || string(got) != "first" {
				t.Fatalf("PutIfAbsent = %q, %v", got, err)
			}
			got, err = s.PutIfAbsent(ctx, k, []byte("second"))
			if err != nil || string(got) != "first" {
				t.Fatalf("PutIfAbsent over an existing key = %q, %v; want the first bytes", got, err)
			}
			if got, err := s.Get(ctx, k); err != nil || string(got) != "first" {
				t.Fatalf("Get = %q, %v", got, err)
			}
			// Concurrent writers all end up with one value.
			k2 := "example.test/gen/go/acme/weather/protocolbuffers/go/@v/" + pb2 + ".zip"
			var wg sync.WaitGroup
			results := make([]string, 8)
			for i := range results {
				wg.Go(func() {
					b, err := s.PutIfAbsent(ctx, k2, []byte(fmt.Sprintf("writer %d", i)))
					if err != nil {
						t.Error(err)
					}
					results[i] = string(b)
				})
			}
			wg.Wait()
			for _, r := range results {
				if r != results[0] {
					t.Fatalf("concurrent PutIfAbsent returned %q and %q", results[0], r)
				}
			}
		})
	}
}

func TestDirStoreKeys(t *testing.T) {
	root := t.TempDir()
	s, err := NewDirStore(filepath.Join(root, "sdk"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"", "/abs", "a/../../x", "..", "a/./b", "a//b", `a\b`, "a/.tmp-123", "a/"} {
		if _, err := s.PutIfAbsent(context.Background(), k, []byte("x")); err == nil || !strings.Contains(err.Error(), "invalid artifact key") {
			t.Errorf("PutIfAbsent(%q) = %v", k, err)
		}
		if _, err := s.Get(context.Background(), k); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v", k, err)
		}
	}
	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		t.Errorf("files outside the store: %v", entries)
	}
	// A restarted store reads what the first wrote, and no temporary files
	// remain.
	if _, err := s.PutIfAbsent(context.Background(), "m/@v/v1.0.0.mod", []byte("module m\n")); err != nil {
		t.Fatal(err)
	}
	again, err := NewDirStore(filepath.Join(root, "sdk"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Get(context.Background(), "m/@v/v1.0.0.mod"); err != nil || string(got) != "module m\n" {
		t.Fatalf("Get after restart = %q, %v", got, err)
	}
	entries, err := os.ReadDir(filepath.Join(root, "sdk", "m", "@v"))
	if err != nil || len(entries) != 1 {
		t.Errorf("store directory holds %v (%v)", entries, err)
	}
}
