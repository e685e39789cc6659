// Package fsblob keeps content-addressed blobs in a directory: each distinct
// content is stored once, at <dir>/<first 2 hex chars of its sha256>/<rest>,
// written atomically and durably, and verified against its address on read.
package fsblob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/protomod/protomod/internal/atomicfile"
	"github.com/protomod/protomod/internal/store"
)

// Dir is a blob directory. It implements store.Blobs.
type Dir struct {
	root string
}

var _ store.Blobs = (*Dir)(nil)

// Open returns the blob directory at root, creating it if needed.
func Open(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("create blob directory: %w", err)
	}
	return &Dir{root: root}, nil
}

// Root returns the directory's path.
func (d *Dir) Root() string { return d.root }

func (d *Dir) path(sha [32]byte) (dir, file string) {
	h := hex.EncodeToString(sha[:])
	dir = filepath.Join(d.root, h[:2])
	return dir, filepath.Join(dir, h[2:])
}

// Put stores data under sha. It verifies that data hashes to sha, and does
// nothing if the blob exists already. When Put returns, the blob and its
// directory entry are on stable storage.
func (d *Dir) Put(ctx context.Context, sha [32]byte, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if sha256.Sum256(data) != sha {
		return fmt.Errorf("%w: blob content does not hash to sha256 %x", store.ErrInvalid, sha)
	}
	dir, file := d.path(sha)
	if fi, err := os.Stat(file); err == nil && fi.Size() == int64(len(data)) {
		// Already stored. (A blob of the wrong size, say truncated by a
		// crash of an older writer, is rewritten.)
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("store blob %x: %w", sha, err)
	}
	if err := atomicfile.Write(file, data, atomicfile.Options{Mode: 0o600}); err != nil {
		return fmt.Errorf("store blob %x: %w", sha, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("store blob %x: sync directory: %w", sha, err)
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Get returns the blob stored under sha. A missing blob gives an error
// wrapping store.ErrNotFound; one whose content no longer hashes to sha,
// store.ErrCorrupt.
func (d *Dir) Get(ctx context.Context, sha [32]byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, file := d.path(sha)
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: blob %x is missing from %s", store.ErrNotFound, sha, d.root)
		}
		return nil, fmt.Errorf("read blob %x: %w", sha, err)
	}
	if sha256.Sum256(data) != sha {
		return nil, fmt.Errorf("%w: blob %s does not hash to its address", store.ErrCorrupt, file)
	}
	return data, nil
}

// Walk calls fn with the address of every stored blob. Temporary files of
// interrupted writes are skipped.
func (d *Dir) Walk(ctx context.Context, fn func(sha [32]byte) error) error {
	top, err := os.ReadDir(d.root)
	if err != nil {
		return fmt.Errorf("list blobs: %w", err)
	}
	for _, sub := range top {
		if !sub.IsDir() || len(sub.Name()) != 2 {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(d.root, sub.Name()))
		if err != nil {
			return fmt.Errorf("list blobs: %w", err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			name := e.Name()
			if strings.HasPrefix(name, ".") || e.IsDir() {
				continue
			}
			b, err := hex.DecodeString(sub.Name() + name)
			if err != nil || len(b) != 32 {
				continue
			}
			if err := fn([32]byte(b)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete removes the blob stored under sha. Deleting a missing blob is not
// an error.
func (d *Dir) Delete(ctx context.Context, sha [32]byte) error {
	_, file := d.path(sha)
	if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob %x: %w", sha, err)
	}
	return nil
}
