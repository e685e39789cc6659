package gengo

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

// CreateZip builds the module zip of path@version from files (go.mod
// included) with golang.org/x/mod/zip and validates it with CheckZip. A file
// that the go command would leave out (a vendor directory, a nested go.mod)
// or reject is an error, so the zip always holds every generated file.
// Entries follow the order of files; the bytes depend only on the input.
func CreateZip(modulePath, version string, files []File) ([]byte, error) {
	mv := module.Version{Path: modulePath, Version: version}
	zfiles := make([]modzip.File, len(files))
	for i, f := range files {
		zfiles[i] = memFile{name: f.Path, data: f.Content}
	}
	cf, err := modzip.CheckFiles(zfiles)
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", mv, err)
	}
	if err := cf.Err(); err != nil {
		return nil, fmt.Errorf("zip %s: %w", mv, err)
	}
	if len(cf.Omitted) > 0 {
		return nil, fmt.Errorf("zip %s: the go command would leave out %s: %v", mv, cf.Omitted[0].Path, cf.Omitted[0].Err)
	}
	var buf bytes.Buffer
	if err := modzip.Create(&buf, mv, zfiles); err != nil {
		return nil, fmt.Errorf("zip %s: %w", mv, err)
	}
	if err := CheckZip(modulePath, version, buf.Bytes()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// CheckZip validates a module zip as the go command does before extracting it.
func CheckZip(modulePath, version string, data []byte) error {
	mv := module.Version{Path: modulePath, Version: version}
	f, err := os.CreateTemp("", "gengo-*.zip")
	if err != nil {
		return fmt.Errorf("check zip %s: %w", mv, err)
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("check zip %s: %w", mv, werr)
	}
	cf, err := modzip.CheckZip(mv, f.Name())
	if err == nil {
		err = cf.Err()
	}
	if err != nil {
		return fmt.Errorf("check zip %s: %w", mv, err)
	}
	return nil
}

// HashZip returns the go.sum hash ("h1:…") of a module zip, as
// dirhash.HashZip computes it: over every entry's name and content.
func HashZip(data []byte) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("hash zip: %w", err)
	}
	byName := map[string]*zip.File{}
	var names []string
	for _, f := range zr.File {
		if byName[f.Name] != nil {
			return "", fmt.Errorf("hash zip: %s appears twice", f.Name)
		}
		byName[f.Name] = f
		names = append(names, f.Name)
	}
	return dirhash.Hash1(names, func(name string) (io.ReadCloser, error) { return byName[name].Open() })
}

// HashMod returns the go.sum hash of a go.mod file (the "/go.mod" line).
func HashMod(gomod []byte) (string, error) {
	return dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gomod)), nil
	})
}

// memFile is a zip entry held in memory.
type memFile struct {
	name string
	data []byte
}

func (f memFile) Path() string                 { return f.name }
func (f memFile) Lstat() (os.FileInfo, error)  { return memInfo{f}, nil }
func (f memFile) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f.data)), nil }

type memInfo struct{ f memFile }

func (i memInfo) Name() string       { return path.Base(i.f.name) }
func (i memInfo) Size() int64        { return int64(len(i.f.data)) }
func (i memInfo) Mode() os.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// ZipGoMod returns the root go.mod of the module zip of path@version.
func ZipGoMod(modulePath, version string, data []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("read zip of %s@%s: %w", modulePath, version, err)
	}
	want := modulePath + "@" + version + "/go.mod"
	for _, f := range zr.File {
		if f.Name != want {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", want, err)
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, modzip.MaxGoMod))
	}
	return nil, fmt.Errorf("the zip of %s@%s has no go.mod", modulePath, version)
}
