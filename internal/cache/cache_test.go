package cache

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/lock"
)

// Vector (vi) of digests.md: dep depends on base.
var (
	baseKey = bufname.ModuleKey{FullName: bufname.MustParseFullName("localhost:18080/acme/base"), CommitID: "0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e"}
	depKey  = bufname.ModuleKey{FullName: bufname.MustParseFullName("localhost:18080/acme/dep"), CommitID: "0de90de90de94de98de90de90de90de9"}
	baseB5  = digest.MustParse("b5:fe9589f5fc4d871f94e31be428594013c97df07e5ae4d6adfb3c0a1fd795947bd74e72825143237bda978d29455dd36687a8547d847d3f03b66af937eb2e3694")
	depB5   = digest.MustParse("b5:f4c3a9513309e90f6003d019315f3283a979904b1d982f6b6270800215e02705a2b4cfdadd859d07ded6ba2e988293c125b9c481130f55a9126c2537754ff2ba")
)

// testModule reads testdata/<name>/files as a module.
func testModule(t testing.TB, name string, key bufname.ModuleKey, deps ...lock.Dep) *Module {
	t.Helper()
	files, err := digest.ReadDir(filepath.Join("testdata", name, "files"))
	if err != nil {
		t.Fatal(err)
	}
	return &Module{Key: key, Files: files, Deps: deps}
}

func baseModule(t testing.TB) *Module { return testModule(t, "base", baseKey) }
func depModule(t testing.TB) *Module {
	return testModule(t, "dep", depKey, lock.Dep{Name: baseKey.FullName, Commit: baseKey.CommitID, Digest: baseB5})
}

func TestDefaultDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix environment variables")
	}
	tests := []struct {
		name                   string
		bufCache, xdg, home    string
		want                   string
		wantErrContainsEnvName bool
	}{
		{name: "BUF_CACHE_DIR wins", bufCache: "/c/buf", xdg: "/x", home: "/h", want: "/c/buf"},
		{name: "XDG_CACHE_HOME next", xdg: "/x", home: "/h", want: "/x/buf"},
		{name: "HOME last", home: "/h", want: "/h/.cache/buf"},
		{name: "nothing set", wantErrContainsEnvName: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("BUF_CACHE_DIR", tt.bufCache)
			t.Setenv("XDG_CACHE_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			got, err := DefaultDir()
			if tt.wantErrContainsEnvName {
				if err == nil || !strings.Contains(err.Error(), "$BUF_CACHE_DIR") {
					t.Fatalf("DefaultDir() = %q, %v; want an error naming $BUF_CACHE_DIR", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("DefaultDir() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	t.Setenv("BUF_CACHE_DIR", dir)
	c, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir != dir {
		t.Errorf("Dir = %q, want %q", c.Dir, dir)
	}
	for _, rel := range []string{"v3/modules", "v3/modulelocks"} {
		fi, err := os.Stat(filepath.Join(dir, rel))
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v, %v", rel, fi, err)
		}
	}
}

func TestOpenDirErrors(t *testing.T) {
	t.Run("a file in the way", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "v3"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "v3", "modules"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := OpenDir(dir)
		if err == nil || !strings.Contains(err.Error(), "is not a directory") || !strings.Contains(err.Error(), "$BUF_CACHE_DIR") {
			t.Fatalf("OpenDir error %v", err)
		}
	})
	t.Run("not writable", func(t *testing.T) {
		dir := t.TempDir()
		modules := filepath.Join(dir, "v3", "modules")
		if err := os.MkdirAll(modules, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(modules, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(modules, 0o755) })
		_, err := OpenDir(dir)
		if err == nil || !strings.Contains(err.Error(), "not writable") || !strings.Contains(err.Error(), "$BUF_CACHE_DIR") {
			t.Fatalf("OpenDir error %v", err)
		}
	})
}

// copyTree copies a testdata directory to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A cache laid out by hand exactly as cache-and-auth.md §2–§3 describe is
// read back, and its digests verify against vector (vi).
func TestReadHandLaidCache(t *testing.T) {
	root := t.TempDir()
	for _, e := range []struct{ name, entry string }{
		{"base", "v3/modules/b5/localhost:18080/acme/base/0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e"},
		{"dep", "v3/modules/b5/localhost:18080/acme/dep/0de90de90de94de98de90de90de90de9"},
	} {
		copyTree(t, filepath.Join("testdata", e.name), filepath.Join(root, filepath.FromSlash(e.entry)))
	}
	c := &Cache{Dir: root}
	dep, ok, err := c.Get(depKey)
	if err != nil || !ok {
		t.Fatalf("Get(dep) = %v, %v", ok, err)
	}
	var paths []string
	for _, f := range dep.Files {
		paths = append(paths, f.Path)
	}
	if want := []string{"README.md", "dep/v1/dep.proto"}; !slices.Equal(paths, want) {
		t.Errorf("files %q, want %q", paths, want)
	}
	if want := []lock.Dep{{Name: baseKey.FullName, Commit: baseKey.CommitID, Digest: baseB5}}; !slices.Equal(dep.Deps, want) {
		t.Errorf("deps %+v, want %+v", dep.Deps, want)
	}
	if err := c.Verify(dep, depB5); err != nil {
		t.Errorf("Verify(dep): %v", err)
	}
	base, ok, err := c.Get(baseKey)
	if err != nil || !ok {
		t.Fatalf("Get(base) = %v, %v", ok, err)
	}
	if err := c.Verify(base, baseB5); err != nil {
		t.Errorf("Verify(base): %v", err)
	}
	// Reading takes the entry's lock file, which is created empty, 0600.
	fi, err := os.Stat(filepath.Join(root, "v3/modulelocks/b5/localhost:18080/acme/dep/0de90de90de94de98de90de90de90de9.lock"))
	if err != nil || fi.Size() != 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v, %v", fi, err)
	}
	// Another commit is not cached.
	other := bufname.ModuleKey{FullName: depKey.FullName, CommitID: strings.Repeat("a", 32)}
	if _, ok, err := c.Get(other); ok || err != nil {
		t.Errorf("Get(uncached) = %v, %v", ok, err)
	}
}

// Put lays out exactly the v3 tree with the spec's modes and module.yaml.
func TestPutLayout(t *testing.T) {
	root := t.TempDir()
	c, err := OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put(depModule(t)); err != nil {
		t.Fatal(err)
	}
	entry := "v3/modules/b5/localhost:18080/acme/dep/0de90de90de94de98de90de90de90de9"
	want := map[string]os.FileMode{
		"v3":                                         0o755 | os.ModeDir,
		"v3/modules":                                 0o755 | os.ModeDir,
		"v3/modules/b5":                              0o755 | os.ModeDir,
		"v3/modules/b5/localhost:18080":              0o755 | os.ModeDir,
		"v3/modules/b5/localhost:18080/acme":         0o755 | os.ModeDir,
		"v3/modules/b5/localhost:18080/acme/dep":     0o755 | os.ModeDir,
		entry:                                        0o755 | os.ModeDir,
		entry + "/module.yaml":                       0o600,
		entry + "/files":                             0o755 | os.ModeDir,
		entry + "/files/README.md":                   0o644,
		entry + "/files/dep":                         0o755 | os.ModeDir,
		entry + "/files/dep/v1":                      0o755 | os.ModeDir,
		entry + "/files/dep/v1/dep.proto":            0o644,
		"v3/modulelocks":                             0o755 | os.ModeDir,
		"v3/modulelocks/b5":                          0o755 | os.ModeDir,
		"v3/modulelocks/b5/localhost:18080":          0o755 | os.ModeDir,
		"v3/modulelocks/b5/localhost:18080/acme":     0o755 | os.ModeDir,
		"v3/modulelocks/b5/localhost:18080/acme/dep": 0o755 | os.ModeDir,
		"v3/modulelocks/b5/localhost:18080/acme/dep/0de90de90de94de98de90de90de90de9.lock": 0o600,
	}
	got := map[string]os.FileMode{}
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		got[filepath.ToSlash(rel)] = fi.Mode()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, mode := range want {
		if got[p] != mode {
			t.Errorf("%s: mode %v, want %v", p, got[p], mode)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected %s", p)
		}
	}
	for _, name := range []string{"dep", "base"} {
		m := depModule(t)
		if name == "base" {
			m = baseModule(t)
			if err := c.Put(m); err != nil {
				t.Fatal(err)
			}
		}
		dir, _ := keyPath(m.Key)
		gotYAML, err := os.ReadFile(filepath.Join(c.entryDir(dir), "module.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		wantYAML, err := os.ReadFile(filepath.Join("testdata", name, "module.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gotYAML, wantYAML) {
			t.Errorf("%s module.yaml:\n%s\nwant:\n%s", name, gotYAML, wantYAML)
		}
	}
}

func TestPutGetRoundTrip(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	m := depModule(t)
	m.Files = append(m.Files, digest.File{Path: "notes.txt", Content: []byte("not module content\n")})
	m.V1BufYAML = &digest.File{Path: "buf.mod", Content: []byte("version: v1\n")}
	m.V1BufLock = &digest.File{Path: "buf.lock", Content: []byte("# Generated by buf. DO NOT EDIT.\nversion: v1\n")}
	if err := c.Put(m); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.Get(m.Key)
	if err != nil || !ok {
		t.Fatalf("Get = %v, %v", ok, err)
	}
	if want := depModule(t).Files; !slices.EqualFunc(got.Files, want, func(a, b digest.File) bool {
		return a.Path == b.Path && bytes.Equal(a.Content, b.Content)
	}) {
		t.Errorf("files %v, want the module content %v", got.Files, want)
	}
	if got.V1BufYAML == nil || got.V1BufYAML.Path != "buf.mod" || string(got.V1BufYAML.Content) != "version: v1\n" {
		t.Errorf("v1 buf.yaml %+v", got.V1BufYAML)
	}
	if got.V1BufLock == nil || got.V1BufLock.Path != "buf.lock" || !bytes.Equal(got.V1BufLock.Content, m.V1BufLock.Content) {
		t.Errorf("v1 buf.lock %+v", got.V1BufLock)
	}
	data, _ := os.ReadFile(filepath.Join(c.Dir, "v3/modules/b5/localhost:18080/acme/dep/0de90de90de94de98de90de90de90de9/module.yaml"))
	if !strings.HasSuffix(string(data), "v1_buf_yaml_file: v1_buf_yaml/buf.mod\nv1_buf_lock_file: v1_buf_lock/buf.lock\n") {
		t.Errorf("module.yaml:\n%s", data)
	}
	if err := c.Verify(got, depB5); err != nil {
		t.Error(err)
	}
}

const tamperedMessage = "*** Digest verification failed for \"localhost:18080/acme/base:0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e\" ***\n" +
	"\tExpected digest (from buf.lock): \"b5:fe9589f5fc4d871f94e31be428594013c97df07e5ae4d6adfb3c0a1fd795947bd74e72825143237bda978d29455dd36687a8547d847d3f03b66af937eb2e3694\"\n" +
	"\tActual digest: \"%s\"\n" +
	"\tThis may be the result of a hand-edited or corrupted buf.lock file, a corrupted local cache, and/or an attack.\n" +
	"\tTo clear your local cache, run \"buf registry cc\"."

func TestTamperedFileFailsVerification(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	if err := c.Put(baseModule(t)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(c.Dir, "v3/modules/b5/localhost:18080/acme/base/0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e/files/base/v1/base.proto")
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("\n")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	m, ok, err := c.Get(baseKey)
	if err != nil || !ok {
		t.Fatalf("Get = %v, %v", ok, err)
	}
	err = c.Verify(m, baseB5)
	var me *digest.MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("Verify error %v, want *digest.MismatchError", err)
	}
	actual, _ := digest.B5([]digest.File{{Path: "base/v1/base.proto", Content: []byte("syntax = \"proto3\";\npackage base.v1;\nmessage Base { string id = 1; }\n\n")}}, nil)
	if want := strings.Replace(tamperedMessage, "%s", actual.String(), 1); err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
}

func TestEditedLockDigestFailsVerification(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	if err := c.Put(depModule(t)); err != nil {
		t.Fatal(err)
	}
	m, ok, err := c.Get(depKey)
	if err != nil || !ok {
		t.Fatalf("Get = %v, %v", ok, err)
	}
	// buf.lock edited to carry base's digest for dep.
	err = c.Verify(m, baseB5)
	want := strings.Replace(tamperedMessage, "%s", depB5.String(), 1)
	want = strings.Replace(want, "acme/base:0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e", "acme/dep:0de90de90de94de98de90de90de90de9", 1)
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	// A dep digest changed in module.yaml changes the actual digest too.
	m.Deps[0].Digest = depB5
	if err := c.Verify(m, depB5); err == nil {
		t.Error("Verify with a changed dep digest: want error")
	}
}

func TestInvalidModuleYAMLIsNotCached(t *testing.T) {
	tests := []struct{ name, yaml string }{
		{"absent", ""},
		{"empty", "\n"},
		{"wrong version", "version: v2\nfiles_dir: files\n"},
		{"no version", "files_dir: files\n"},
		{"no files_dir", "version: v1\n"},
		{"files_dir escapes", "version: v1\nfiles_dir: ../x\n"},
		{"dep without digest", "version: v1\nfiles_dir: files\ndeps:\n  - name: a.b/c/d\n    commit: 0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e\n"},
		{"dep with bad digest", "version: v1\nfiles_dir: files\ndeps:\n  - name: a.b/c/d\n    commit: 0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e\n    digest: b5:00\n"},
		{"not yaml", "version: [\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Cache{Dir: t.TempDir()}
			entry := filepath.Join(c.Dir, "v3/modules/b5/localhost:18080/acme/base/0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e")
			copyTree(t, filepath.Join("testdata", "base", "files"), filepath.Join(entry, "files"))
			if err := os.WriteFile(filepath.Join(entry, "files", "stale.proto"), []byte("partial"), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.name != "absent" {
				if err := os.WriteFile(filepath.Join(entry, "module.yaml"), []byte(tt.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if _, ok, err := c.Get(baseKey); ok || err != nil {
				t.Fatalf("Get = %v, %v; want not cached", ok, err)
			}
			// Put repairs the entry, dropping leftovers.
			if err := c.Put(baseModule(t)); err != nil {
				t.Fatal(err)
			}
			m, ok, err := c.Get(baseKey)
			if err != nil || !ok {
				t.Fatalf("Get after Put = %v, %v", ok, err)
			}
			if err := c.Verify(m, baseB5); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestPutNeverOverwrites(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	if err := c.Put(baseModule(t)); err != nil {
		t.Fatal(err)
	}
	other := &Module{Key: baseKey, Files: []digest.File{{Path: "other.proto", Content: []byte("x")}}}
	if err := c.Put(other); err != nil {
		t.Fatal(err)
	}
	m, _, err := c.Get(baseKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(m, baseB5); err != nil {
		t.Errorf("the first entry was replaced: %v", err)
	}
}

func TestPutRejects(t *testing.T) {
	good := baseModule(t)
	tests := []struct {
		name string
		m    *Module
		want string
	}{
		{"path escapes", &Module{Key: baseKey, Files: []digest.File{{Path: "../evil.proto"}}}, `must not contain ".."`},
		{"absolute path", &Module{Key: baseKey, Files: []digest.File{{Path: "/etc/evil.proto"}}}, "must be relative"},
		{"duplicate path", &Module{Key: baseKey, Files: []digest.File{{Path: "a.proto"}, {Path: "a.proto"}}}, "more than once"},
		{"owner ..", &Module{Key: bufname.ModuleKey{FullName: bufname.FullName{Registry: "a.b", Owner: "..", Name: "x"}, CommitID: baseKey.CommitID}, Files: good.Files}, "cannot be stored in the cache"},
		{"bad commit", &Module{Key: bufname.ModuleKey{FullName: baseKey.FullName, CommitID: "abc"}, Files: good.Files}, "expected dashless uuid to be of length 32 but was 3: abc"},
		{"dep without digest", &Module{Key: baseKey, Files: good.Files, Deps: []lock.Dep{{Name: depKey.FullName, Commit: depKey.CommitID}}}, "needs a full name, a commit ID and a b5 digest"},
		{"v1 config misnamed", &Module{Key: baseKey, Files: good.Files, V1BufYAML: &digest.File{Path: "x.yaml"}}, "must be named buf.yaml or buf.mod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Cache{Dir: t.TempDir()}
			err := c.Put(tt.m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Put error %v, want %q", err, tt.want)
			}
			if entries, _ := os.ReadDir(filepath.Join(c.Dir, "v3", "modules")); len(entries) != 0 {
				t.Error("a rejected Put wrote module data")
			}
		})
	}
}

func TestVerifyWithoutName(t *testing.T) {
	m := baseModule(t)
	m.Key = bufname.ModuleKey{}
	err := Verify(m, depB5)
	if err == nil || !strings.HasPrefix(err.Error(), "*** Digest verification failed ***\n\tExpected digest") {
		t.Errorf("error %v", err)
	}
}

func TestClear(t *testing.T) {
	root := t.TempDir()
	c := &Cache{Dir: root}
	if err := c.Put(baseModule(t)); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"v1/module/data/x", "v1/module/sum", "mod/y", "lock/mod", "v2/module/z", "v3/commits/b5", "v3/wellknowntypes", "v3/plugins", "other"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	deleted, err := c.Clear()
	if err != nil {
		t.Fatal(err)
	}
	var rels []string
	for _, d := range deleted {
		rel, _ := filepath.Rel(root, d)
		rels = append(rels, filepath.ToSlash(rel))
	}
	want := []string{"v1/module/data", "v1/module/sum", "mod", "lock/mod", "v2/module", "v3/commits", "v3/modulelocks", "v3/modules", "v3/plugins", "v3/wellknowntypes"}
	if !slices.Equal(rels, want) {
		t.Errorf("deleted %q, want %q", rels, want)
	}
	if _, ok, err := c.Get(baseKey); ok || err != nil {
		t.Errorf("Get after Clear = %v, %v", ok, err)
	}
	if _, err := os.Stat(filepath.Join(root, "other")); err != nil {
		t.Error("Clear removed a directory it does not own")
	}
	if deleted, err := c.Clear(); err != nil || len(deleted) != 1 { // Get recreated v3/modulelocks
		t.Errorf("second Clear = %q, %v", deleted, err)
	}
	if err := os.WriteFile(filepath.Join(root, "mod"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Clear(); err == nil || !strings.Contains(err.Error(), "to be a directory") {
		t.Errorf("Clear with a file in the way: %v", err)
	}
}
