package digest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// ReadDir reads the module content under dir: every regular file that
// SelectFiles keeps (.proto files, LICENSE, the preferred doc file), with
// paths relative to dir and '/'-separated, sorted by path. Other files are
// not read. Directories are walked without following symbolic links.
func ReadDir(dir string) ([]File, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		// Only the root may hold LICENSE and the doc file; anything else
		// that is not .proto is never content, so skip it early.
		if strings.HasSuffix(rel, ".proto") || rel == LicensePath || IsDocPath(rel) {
			paths = append(paths, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read module files under %s: %w", dir, err)
	}
	paths = SelectFiles(paths)
	files := make([]File, len(paths))
	for i, p := range paths {
		files[i].Path = p
	}
	if err := readContents(dir, files); err != nil {
		return nil, err
	}
	return files, nil
}

// readContents fills in the content of files, several at a time.
func readContents(dir string, files []File) error {
	workers := min(runtime.GOMAXPROCS(0)*2, len(files))
	if workers <= 1 {
		for i := range files {
			if err := readOne(dir, &files[i]); err != nil {
				return err
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, len(files))
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = readOne(dir, &files[i])
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	// Report the first failure in path order, so the error is stable.
	if i := slices.IndexFunc(errs, func(e error) bool { return e != nil }); i >= 0 {
		return errs[i]
	}
	return nil
}

func readOne(dir string, f *File) error {
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
	if err != nil {
		return fmt.Errorf("read module file %s: %w", f.Path, err)
	}
	f.Content = data
	return nil
}
