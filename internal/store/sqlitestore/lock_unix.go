//go:build unix

package sqlitestore

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// dirLock is a shared flock on <data dir>/lock held by every open Store, so
// that an operation that needs the data directory to itself (collecting
// orphan blobs) can tell whether another process has it open.
type dirLock struct{ f *os.File }

func lockDir(path string) (*dirLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &dirLock{f: f}, nil
}

// exclusive upgrades to an exclusive lock without waiting; release goes
// back to shared.
func (l *dirLock) exclusive() (release func(), err error) {
	if err := unix.Flock(int(l.f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, errInUse
		}
		return nil, err
	}
	return func() { _ = unix.Flock(int(l.f.Fd()), unix.LOCK_SH) }, nil
}

func (l *dirLock) close() error { return l.f.Close() }
