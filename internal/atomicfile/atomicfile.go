// Package atomicfile writes files so that readers see either the old content
// or the new content, never a partial file: the data goes to a temporary file
// in the same directory, is synced, and is then renamed over the target.
package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Options tune Write.
type Options struct {
	// Mode is the permission of a newly created file (default 0600).
	Mode fs.FileMode
	// KeepMode keeps the permission bits of an existing target file
	// instead of applying Mode.
	KeepMode bool
	// TempPrefix is the prefix of the temporary file's name
	// (default "." + base name + ".tmp"). The reference CLI uses
	// ".tmpbuf.lock" for buf.lock.
	TempPrefix string
}

// Write atomically replaces path with data.
func Write(path string, data []byte, opts Options) (err error) {
	mode := opts.Mode
	if mode == 0 {
		mode = 0o600
	}
	if opts.KeepMode {
		if fi, statErr := os.Stat(path); statErr == nil {
			mode = fi.Mode().Perm()
		} else if !errors.Is(statErr, fs.ErrNotExist) {
			return statErr
		}
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	prefix := opts.TempPrefix
	if prefix == "" {
		prefix = "." + base + ".tmp"
	}
	f, err := os.CreateTemp(dir, prefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
