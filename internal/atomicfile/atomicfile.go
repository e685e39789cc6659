// Package atomicfile writes files so that readers see either the old content
// or the new content, never a partial file: the data goes to a temporary file
// in the same directory, is synced, and is then renamed over the target.
package atomicfile

import (
	"bufio"
	"errors"
	"io"
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
	// NoSync skips flushing the data to stable storage before the rename:
	// readers still never see a partial file, but after a system crash
	// the file may be empty. For outputs that are cheap to produce again.
	NoSync bool
}

// Write atomically replaces path with data.
func Write(path string, data []byte, opts Options) error {
	return WriteFunc(path, opts, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFunc atomically replaces path with what write writes. If write
// fails, path is left as it was.
func WriteFunc(path string, opts Options, write func(io.Writer) error) (err error) {
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
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if !opts.NoSync {
		if err = f.Sync(); err != nil {
			return err
		}
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
