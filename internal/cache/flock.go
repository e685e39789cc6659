package cache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// errWouldBlock is returned by tryLock when another holder has the lock.
var errWouldBlock = errors.New("lock is held by another process")

// fileLock is an OS advisory lock on a lock file (flock(2) on unix,
// LockFileEx on Windows): held per open file, so it excludes other processes
// and other fileLocks in this process alike. It is released by unlock or
// when the process exits.
type fileLock struct {
	f    *os.File
	path string
}

// openLockFile creates the lock file (empty, 0600) and its directories.
func openLockFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create cache lock directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open cache lock file: %w", err)
	}
	return f, nil
}

// lockFile blocks until it holds the lock on path: shared (many readers) or
// exclusive (one writer).
func lockFile(path string, exclusive bool) (*fileLock, error) {
	f, err := openLockFile(path)
	if err != nil {
		return nil, err
	}
	if err := lockFD(f, exclusive, true); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &fileLock{f: f, path: path}, nil
}

// tryLock is lockFile without waiting: it returns errWouldBlock when the lock
// is held in a conflicting mode.
func tryLock(path string, exclusive bool) (*fileLock, error) {
	f, err := openLockFile(path)
	if err != nil {
		return nil, err
	}
	if err := lockFD(f, exclusive, false); err != nil {
		_ = f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, err
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &fileLock{f: f, path: path}, nil
}

// unlock releases the lock and closes the file.
func (l *fileLock) unlock() error {
	err := unlockFD(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("unlock %s: %w", l.path, err)
	}
	return nil
}
