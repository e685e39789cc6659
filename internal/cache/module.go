package cache

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/protomod/protomod/internal/atomicfile"
	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/lock"
)

// Module is one cached commit of a module.
type Module struct {
	Key bufname.ModuleKey
	// Files are the module's content files (module-relative paths). Get
	// returns the module content only (digest.Select), sorted by path.
	Files []digest.File
	// Deps are all direct and transitive dependencies of the commit, with
	// their b5 digests. Get returns them sorted by full name.
	Deps []lock.Dep
	// V1BufYAML and V1BufLock are the v1 config files of a commit pushed
	// with a v1 or v1beta1 config (Path is the file name: buf.yaml, buf.mod
	// or buf.lock), nil otherwise. Only b4 digests use them.
	V1BufYAML *digest.File
	V1BufLock *digest.File
}

// DepDigests returns the b5 digests of m's dependencies.
func (m *Module) DepDigests() []digest.Digest {
	out := make([]digest.Digest, len(m.Deps))
	for i, d := range m.Deps {
		out[i] = d.Digest
	}
	return out
}

// B5 computes m's b5 digest from its files and its deps' digests.
func (m *Module) B5() (digest.Digest, error) {
	return digest.B5(m.Files, m.DepDigests())
}

// Names inside an entry directory.
const (
	moduleYAMLName   = "module.yaml"
	moduleYAMLV1     = "v1"
	filesDirName     = "files"
	v1BufYAMLDirName = "v1_buf_yaml"
	v1BufLockDirName = "v1_buf_lock"
)

// moduleYAML is the on-disk module.yaml. Field order is the key order.
type moduleYAML struct {
	Version       string          `yaml:"version,omitempty"`
	FilesDir      string          `yaml:"files_dir,omitempty"`
	Deps          []moduleYAMLDep `yaml:"deps,omitempty"`
	V1BufYAMLFile string          `yaml:"v1_buf_yaml_file,omitempty"`
	V1BufLockFile string          `yaml:"v1_buf_lock_file,omitempty"`
}

type moduleYAMLDep struct {
	Name   string `yaml:"name,omitempty"`
	Commit string `yaml:"commit,omitempty"`
	Digest string `yaml:"digest,omitempty"`
}

// marshalModuleYAML writes module.yaml: yaml.v3, indent 2, no header.
func marshalModuleYAML(m *moduleYAML) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// entryMeta is a valid module.yaml, parsed.
type entryMeta struct {
	filesDir  string
	deps      []lock.Dep
	v1BufYAML string
	v1BufLock string
}

// readModuleYAML reads an entry's module.yaml. It returns ok=false when the
// file is absent or not valid (a partial or foreign entry counts as not
// cached), and an error only when the file cannot be read.
func readModuleYAML(entry string) (entryMeta, bool, error) {
	data, err := os.ReadFile(filepath.Join(entry, moduleYAMLName))
	if errors.Is(err, fs.ErrNotExist) {
		return entryMeta{}, false, nil
	}
	if err != nil {
		return entryMeta{}, false, fmt.Errorf("read module cache entry: %w", err)
	}
	var m moduleYAML
	if err := yaml.Unmarshal(data, &m); err != nil {
		return entryMeta{}, false, nil
	}
	if m.Version != moduleYAMLV1 || !validRelPath(m.FilesDir) {
		return entryMeta{}, false, nil
	}
	for _, p := range []string{m.V1BufYAMLFile, m.V1BufLockFile} {
		if p != "" && !validRelPath(p) {
			return entryMeta{}, false, nil
		}
	}
	meta := entryMeta{filesDir: m.FilesDir, v1BufYAML: m.V1BufYAMLFile, v1BufLock: m.V1BufLockFile}
	for _, d := range m.Deps {
		if d.Name == "" || d.Commit == "" || d.Digest == "" {
			return entryMeta{}, false, nil
		}
		name, err := bufname.ParseFullName(d.Name)
		if err != nil {
			return entryMeta{}, false, nil
		}
		commit, err := bufname.ParseCommitID(d.Commit)
		if err != nil {
			return entryMeta{}, false, nil
		}
		dg, err := digest.Parse(d.Digest)
		if err != nil {
			return entryMeta{}, false, nil
		}
		meta.deps = append(meta.deps, lock.Dep{Name: name, Commit: commit, Digest: dg})
	}
	return meta, true, nil
}

func validRelPath(p string) bool { return p != "" && digest.ValidatePath(p) == nil }

// Get reads a module from the cache. It returns false when the cache has no
// complete entry for key. It holds a shared lock on the entry while reading.
func (c *Cache) Get(key bufname.ModuleKey) (*Module, bool, error) {
	rel, err := keyPath(key)
	if err != nil {
		return nil, false, err
	}
	l, err := lockFile(c.lockPath(rel), false)
	if err != nil {
		return nil, false, fmt.Errorf("read %s from the module cache: %w", key, err)
	}
	m, ok, err := c.read(key, c.entryDir(rel))
	if uerr := l.unlock(); err == nil && uerr != nil {
		err = uerr
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s from the module cache: %w", key, err)
	}
	return m, ok, nil
}

func (c *Cache) read(key bufname.ModuleKey, entry string) (*Module, bool, error) {
	meta, ok, err := readModuleYAML(entry)
	if err != nil || !ok {
		return nil, false, err
	}
	m := &Module{Key: key, Deps: meta.deps}
	lock.SortDeps(m.Deps)
	filesDir := filepath.Join(entry, filepath.FromSlash(meta.filesDir))
	if _, err := os.Stat(filesDir); err == nil {
		if m.Files, err = digest.ReadDir(filesDir); err != nil {
			return nil, false, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	// A complete entry whose files directory is missing reads as a module
	// without files; digest verification then reports the damage.
	for _, v1 := range []struct {
		rel string
		dst **digest.File
	}{{meta.v1BufYAML, &m.V1BufYAML}, {meta.v1BufLock, &m.V1BufLock}} {
		if v1.rel == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(entry, filepath.FromSlash(v1.rel)))
		if err != nil {
			return nil, false, err
		}
		*v1.dst = &digest.File{Path: path.Base(v1.rel), Content: data}
	}
	return m, true, nil
}

// Put stores m unless the cache already has a complete entry for m.Key,
// which is never overwritten. Content files are written first and
// module.yaml last, atomically, under an exclusive lock, so readers never
// see a partial entry.
func (c *Cache) Put(m *Module) error {
	rel, err := keyPath(m.Key)
	if err != nil {
		return err
	}
	meta, err := moduleYAMLFor(m)
	if err != nil {
		return fmt.Errorf("store %s in the module cache: %w", m.Key, err)
	}
	entry := c.entryDir(rel)
	lockPath := c.lockPath(rel)

	// Cheap check under a shared lock: most Puts find the entry present.
	l, err := lockFile(lockPath, false)
	if err != nil {
		return fmt.Errorf("store %s in the module cache: %w", m.Key, err)
	}
	_, ok, err := readModuleYAML(entry)
	if uerr := l.unlock(); err == nil {
		err = uerr
	}
	if err != nil {
		return fmt.Errorf("store %s in the module cache: %w", m.Key, err)
	}
	if ok {
		return nil
	}

	// A shared lock cannot be upgraded: take the exclusive one and check
	// again, since another writer may have finished in between.
	l, err = lockFile(lockPath, true)
	if err != nil {
		return fmt.Errorf("store %s in the module cache: %w", m.Key, err)
	}
	err = c.write(entry, m, meta)
	if uerr := l.unlock(); err == nil {
		err = uerr
	}
	if err != nil {
		return fmt.Errorf("store %s in the module cache: %w", m.Key, err)
	}
	return nil
}

// write fills an entry; the caller holds the exclusive lock.
func (c *Cache) write(entry string, m *Module, meta *moduleYAML) error {
	if _, ok, err := readModuleYAML(entry); err != nil || ok {
		return err
	}
	// Leftovers of an interrupted write (or an invalid module.yaml) go, so
	// that the entry holds exactly m's files.
	if err := os.RemoveAll(entry); err != nil {
		return err
	}
	filesDir := filepath.Join(entry, filesDirName)
	if err := os.MkdirAll(filesDir, 0o755); err != nil {
		return err
	}
	for _, f := range m.Files {
		if err := writeFile(filesDir, f.Path, f.Content); err != nil {
			return err
		}
	}
	if m.V1BufYAML != nil {
		if err := writeFile(entry, meta.V1BufYAMLFile, m.V1BufYAML.Content); err != nil {
			return err
		}
	}
	if m.V1BufLock != nil {
		if err := writeFile(entry, meta.V1BufLockFile, m.V1BufLock.Content); err != nil {
			return err
		}
	}
	data, err := marshalModuleYAML(meta)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(entry, moduleYAMLName), data, atomicfile.Options{Mode: 0o600})
}

func writeFile(dir, rel string, content []byte) error {
	full := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	return os.WriteFile(full, content, 0o644)
}

// moduleYAMLFor validates m and builds its module.yaml.
func moduleYAMLFor(m *Module) (*moduleYAML, error) {
	seen := make(map[string]struct{}, len(m.Files))
	for _, f := range m.Files {
		if err := digest.ValidatePath(f.Path); err != nil {
			return nil, err
		}
		if _, dup := seen[f.Path]; dup {
			return nil, &digest.DuplicatePathError{Path: f.Path}
		}
		seen[f.Path] = struct{}{}
	}
	meta := &moduleYAML{Version: moduleYAMLV1, FilesDir: filesDirName}
	deps := slices.Clone(m.Deps)
	lock.SortDeps(deps)
	for i, d := range deps {
		if d.Name.IsZero() || !bufname.IsCommitID(d.Commit) || d.Digest.Type != digest.TypeB5 {
			return nil, fmt.Errorf("dependency %q needs a full name, a commit ID and a b5 digest", d.Key())
		}
		if i > 0 && deps[i-1].Name == d.Name {
			return nil, fmt.Errorf("dependency %q is listed twice", d.Name)
		}
		meta.Deps = append(meta.Deps, moduleYAMLDep{Name: d.Name.String(), Commit: strings.ToLower(d.Commit), Digest: d.Digest.String()})
	}
	for _, v1 := range []struct {
		f    *digest.File
		dir  string
		dst  *string
		want []string
	}{
		{m.V1BufYAML, v1BufYAMLDirName, &meta.V1BufYAMLFile, []string{"buf.yaml", "buf.mod"}},
		{m.V1BufLock, v1BufLockDirName, &meta.V1BufLockFile, []string{"buf.lock"}},
	} {
		if v1.f == nil {
			continue
		}
		if !slices.Contains(v1.want, v1.f.Path) {
			return nil, fmt.Errorf("v1 config file %q must be named %s", v1.f.Path, strings.Join(v1.want, " or "))
		}
		*v1.dst = v1.dir + "/" + v1.f.Path
	}
	return meta, nil
}

// Verify recomputes m's b5 digest from its files and its deps' digests and
// compares it with want, the digest pinned in buf.lock. A difference is a
// *digest.MismatchError naming m.Key.
func (c *Cache) Verify(m *Module, want digest.Digest) error {
	return Verify(m, want)
}

// Verify is Cache.Verify for module data that did not come from a cache,
// such as a fresh download.
func Verify(m *Module, want digest.Digest) error {
	got, err := m.B5()
	if err != nil {
		return fmt.Errorf("compute the digest of %s: %w", m.Key, err)
	}
	if got == want {
		return nil
	}
	var key string
	if !m.Key.FullName.IsZero() {
		key = m.Key.FullName.String()
		if m.Key.CommitID != "" {
			key = m.Key.String()
		}
	}
	return &digest.MismatchError{ModuleKey: key, Expected: want, Actual: got}
}

// Remove deletes the entry for key, if any, under the entry's exclusive
// lock. module.yaml goes first, so a concurrent reader sees either the
// complete entry or none.
func (c *Cache) Remove(key bufname.ModuleKey) error {
	rel, err := keyPath(key)
	if err != nil {
		return err
	}
	l, err := lockFile(c.lockPath(rel), true)
	if err != nil {
		return fmt.Errorf("remove %s from the module cache: %w", key, err)
	}
	entry := c.entryDir(rel)
	err = os.Remove(filepath.Join(entry, moduleYAMLName))
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	if err == nil {
		err = os.RemoveAll(entry)
	}
	if uerr := l.unlock(); err == nil {
		err = uerr
	}
	if err != nil {
		return fmt.Errorf("remove %s from the module cache: %w", key, err)
	}
	return nil
}
