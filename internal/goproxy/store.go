package goproxy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// MemStore is a Store in memory, for tests and throwaway servers.
type MemStore struct {
	mu   sync.Mutex
	data map[string][]byte
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{data: map[string][]byte{}} }

// Get implements Store.
func (s *MemStore) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.data[key]
	if !ok {
		return nil, fmt.Errorf("artifact %s: %w", key, ErrNotFound)
	}
	return d, nil
}

// PutIfAbsent implements Store.
func (s *MemStore) PutIfAbsent(_ context.Context, key string, data []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.data[key]; ok {
		return d, nil
	}
	s.data[key] = append([]byte(nil), data...)
	return s.data[key], nil
}

// Keys returns the stored keys, for tests.
func (s *MemStore) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.data))
	for k := range s.data {
		keys = append(keys, k)
	}
	return keys
}

// DirStore is a Store in a directory: each key is a file under the root.
// A file is written to a temporary name and then hard-linked to its final
// name, which fails if the name exists: the first writer wins, readers
// never see a partial file, and nothing is ever replaced.
type DirStore struct {
	root string
}

// NewDirStore returns a store rooted at dir, creating it if needed.
func NewDirStore(dir string) (*DirStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create SDK store directory: %w", err)
	}
	return &DirStore{root: dir}, nil
}

func (s *DirStore) file(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") || path.Clean(key) != key || strings.HasPrefix(key, "../") || key == ".." {
		return "", fmt.Errorf("invalid artifact key %q", key)
	}
	for _, elem := range strings.Split(key, "/") {
		if elem == "." || elem == ".." || strings.HasPrefix(elem, ".tmp-") {
			return "", fmt.Errorf("invalid artifact key %q", key)
		}
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// Get implements Store.
func (s *DirStore) Get(_ context.Context, key string) ([]byte, error) {
	name, err := s.file(key)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("artifact %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read artifact: %w", err)
	}
	return data, nil
}

// PutIfAbsent implements Store.
func (s *DirStore) PutIfAbsent(ctx context.Context, key string, data []byte) ([]byte, error) {
	name, err := s.file(key)
	if err != nil {
		return nil, err
	}
	if existing, err := s.Get(ctx, key); err == nil {
		return existing, nil
	}
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store artifact %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("store artifact %s: %w", key, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("store artifact %s: %w", key, werr)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return nil, fmt.Errorf("store artifact %s: %w", key, err)
	}
	if err := os.Link(tmp.Name(), name); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return s.Get(ctx, key)
		}
		return nil, fmt.Errorf("store artifact %s: %w", key, err)
	}
	return data, nil
}
