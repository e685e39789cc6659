//go:build !unix

package sqlitestore

// dirLock is a no-op where flock is unavailable: collecting orphan blobs
// then relies on the operator stopping other users of the data directory.
type dirLock struct{}

func lockDir(string) (*dirLock, error) { return &dirLock{}, nil }

func (l *dirLock) exclusive() (func(), error) { return func() {}, nil }

func (l *dirLock) close() error { return nil }
