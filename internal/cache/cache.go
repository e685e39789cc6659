// Package cache is the local module cache, shared with the reference CLI:
// the same directory ($BUF_CACHE_DIR, else $XDG_CACHE_HOME/buf, else
// ~/.cache/buf), the same v3 layout and module.yaml format, and the same
// locking protocol with OS file locks, so that any number of protomod and buf
// processes can fill one cache at once without leaving partial entries.
package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/digest"
)

// Cache is a module cache rooted at Dir.
type Cache struct {
	Dir string
}

// Relative paths of the cache's parts (slash-separated).
const (
	modulesRelDir     = "v3/modules"
	moduleLocksRelDir = "v3/modulelocks"
)

// clearRelDirs are every directory the reference CLI's cache-clear command
// removes, current and legacy, in its order.
var clearRelDirs = []string{
	"v1/module/data",
	"v1/module/lock",
	"v1/module/sum",
	"mod",
	"lock/mod",
	"v2/module",
	"v3/commitlocks",
	"v3/commits",
	"v3/modulelocks",
	"v3/modules",
	"v3/plugins",
	"v3/policies",
	"v3/wellknowntypes",
	"v3/wasmruntime",
}

// DefaultDir returns the cache directory the environment selects, reading
// the environment now: $BUF_CACHE_DIR, else $XDG_CACHE_HOME/buf, else
// $HOME/.cache/buf (on Windows %LocalAppData%\buf).
func DefaultDir() (string, error) {
	if d := os.Getenv("BUF_CACHE_DIR"); d != "" {
		return d, nil
	}
	if runtime.GOOS == "windows" {
		if d := os.Getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "buf"), nil
		}
		return "", errors.New("cannot locate the module cache: %LocalAppData% is not set; set $BUF_CACHE_DIR to a writable directory")
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "buf"), nil
	}
	if home := os.Getenv("HOME"); home != "" {
		return filepath.Join(home, ".cache", "buf"), nil
	}
	return "", errors.New("cannot locate the module cache: $XDG_CACHE_HOME and $HOME are not set; set $BUF_CACHE_DIR to a writable directory")
}

// Open resolves the cache directory from the environment (see DefaultDir)
// and prepares it (see OpenDir).
func Open() (*Cache, error) {
	dir, err := DefaultDir()
	if err != nil {
		return nil, err
	}
	return OpenDir(dir)
}

// OpenDir prepares the cache at dir: it creates the module directories
// (mode 0755) and checks that they are writable directories.
func OpenDir(dir string) (*Cache, error) {
	c := &Cache{Dir: dir}
	for _, rel := range []string{modulesRelDir, moduleLocksRelDir} {
		if err := ensureDir(dir, rel); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func ensureDir(base, rel string) error {
	full := filepath.Join(base, filepath.FromSlash(rel))
	fi, err := os.Stat(full)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(full, 0o755); err != nil {
			return fmt.Errorf("cannot create the module cache directory %s: %w; set $BUF_CACHE_DIR to a writable directory", full, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot use the module cache directory %s: %w; set $BUF_CACHE_DIR to a writable directory", full, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("the module cache path %s exists but is not a directory (cache root %s); remove it or set $BUF_CACHE_DIR to another directory", full, base)
	}
	if fi.Mode().Perm()&0o700 != 0o700 {
		return fmt.Errorf("the module cache directory %s is not writable (cache root %s); fix its permissions or set $BUF_CACHE_DIR to another directory", full, base)
	}
	return nil
}

// Clear removes every module, lock, commit, plugin and policy directory of
// the cache, current (v3) and legacy (v1, v1beta1, v2), like the reference
// CLI's "registry cc". It returns the directories it deleted, in order.
func (c *Cache) Clear() ([]string, error) {
	var deleted []string
	for _, rel := range clearRelDirs {
		full := filepath.Join(c.Dir, filepath.FromSlash(rel))
		fi, err := os.Stat(full)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return deleted, err
		}
		if !fi.IsDir() {
			return deleted, fmt.Errorf("expected %q to be a directory", full)
		}
		if err := os.RemoveAll(full); err != nil {
			return deleted, fmt.Errorf("could not remove %q: %w", full, err)
		}
		deleted = append(deleted, full)
	}
	return deleted, nil
}

// keyPath returns the key's path below a per-digest-type root:
// b5/<registry>/<owner>/<module>/<commit>, slash-separated. It refuses keys
// whose parts could leave that directory.
func keyPath(key bufname.ModuleKey) (string, error) {
	commit, err := bufname.ParseCommitID(key.CommitID)
	if err != nil {
		return "", fmt.Errorf("module %s: %w", key.FullName, err)
	}
	for _, part := range []string{key.FullName.Registry, key.FullName.Owner, key.FullName.Name} {
		if part == "" || part == "." || part == ".." || strings.ContainsAny(part, "/\\\x00") {
			return "", fmt.Errorf("module name %q cannot be stored in the cache: each part must be a plain directory name", key.FullName.String())
		}
	}
	return strings.Join([]string{digest.TypeB5.String(), key.FullName.Registry, key.FullName.Owner, key.FullName.Name, commit}, "/"), nil
}

// entryDir is the directory of a module's entry.
func (c *Cache) entryDir(rel string) string {
	return filepath.Join(c.Dir, filepath.FromSlash(modulesRelDir), filepath.FromSlash(rel))
}

// lockPath is the lock file of a module's entry.
func (c *Cache) lockPath(rel string) string {
	return filepath.Join(c.Dir, filepath.FromSlash(moduleLocksRelDir), filepath.FromSlash(rel)+".lock")
}
