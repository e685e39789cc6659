package cache

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/lock"
)

// The helper process: the test binary re-executed with this variable set
// runs one role of a multi-process test and exits.
const helperEnv = "PROTOMOD_CACHE_TEST_HELPER"

// TestHelperProcess is not a test: it is the body of the helper process.
func TestHelperProcess(t *testing.T) {
	role := os.Getenv(helperEnv)
	if role == "" {
		t.Skip("helper process only")
	}
	if err := runHelper(role, os.Getenv("PROTOMOD_CACHE_TEST_DIR"), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runHelper(role, dir string, in io.Reader, out io.Writer) error {
	stdin := bufio.NewReader(in)
	switch {
	case role == "hold-exclusive" || role == "hold-shared":
		l, err := lockFile(dir, role == "hold-exclusive")
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "locked")
		// Hold the lock until the parent says so (or goes away).
		_, _ = stdin.ReadString('\n')
		return l.unlock()
	case strings.HasPrefix(role, "fill:"):
		var seed uint64
		if _, err := fmt.Sscan(strings.TrimPrefix(role, "fill:"), &seed); err != nil {
			return err
		}
		// Wait for the start signal so that every writer starts at once.
		if _, err := stdin.ReadString('\n'); err != nil {
			return fmt.Errorf("waiting for the start signal: %w", err)
		}
		return fill(&Cache{Dir: dir}, seed)
	default:
		return fmt.Errorf("unknown helper role %q", role)
	}
}

// startHelper re-executes the test binary as a helper. The returned writer
// is the helper's stdin; closing it releases the helper.
func startHelper(t *testing.T, role, dir string) (*exec.Cmd, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+role, "PROTOMOD_CACHE_TEST_DIR="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	return cmd, stdin, bufio.NewReader(stdout)
}

// The locks are OS locks: a lock held by another process excludes this one.
func TestLockExcludesOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locks", "x.lock")
	tests := []struct {
		holder         string
		exclusive      bool
		wantWouldBlock bool
	}{
		{"hold-exclusive", false, true},
		{"hold-exclusive", true, true},
		{"hold-shared", true, true},
		{"hold-shared", false, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/exclusive=%v", tt.holder, tt.exclusive), func(t *testing.T) {
			cmd, stdin, stdout := startHelper(t, tt.holder, path)
			if line, err := stdout.ReadString('\n'); err != nil || line != "locked\n" {
				t.Fatalf("helper said %q, %v", line, err)
			}
			l, err := tryLock(path, tt.exclusive)
			if tt.wantWouldBlock {
				if !errors.Is(err, errWouldBlock) {
					t.Fatalf("tryLock while another process holds the lock: %v, want errWouldBlock", err)
				}
			} else {
				if err != nil {
					t.Fatalf("shared tryLock beside a shared holder: %v", err)
				}
				_ = l.unlock()
			}
			// Release the helper; once it has exited the lock is free.
			_ = stdin.Close()
			if err := cmd.Wait(); err != nil {
				t.Fatalf("helper: %v", err)
			}
			l, err = tryLock(path, true)
			if err != nil {
				t.Fatalf("tryLock after the holder exited: %v", err)
			}
			_ = l.unlock()
		})
	}
}

// Two locks in one process exclude each other too (one per open file).
func TestLockExcludesInProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	shared, err := lockFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tryLock(path, true); !errors.Is(err, errWouldBlock) {
		t.Fatalf("exclusive beside shared: %v, want errWouldBlock", err)
	}
	second, err := tryLock(path, false)
	if err != nil {
		t.Fatalf("shared beside shared: %v", err)
	}
	_ = second.unlock()
	if err := shared.unlock(); err != nil {
		t.Fatal(err)
	}
	excl, err := tryLock(path, true)
	if err != nil {
		t.Fatalf("exclusive when free: %v", err)
	}
	if _, err := tryLock(path, false); !errors.Is(err, errWouldBlock) {
		t.Fatalf("shared beside exclusive: %v, want errWouldBlock", err)
	}
	// A blocked locker gets the lock when the holder lets go.
	got := make(chan error, 1)
	go func() {
		l, err := lockFile(path, false)
		if err == nil {
			err = l.unlock()
		}
		got <- err
	}()
	if err := excl.unlock(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

// The modules of the concurrency test: a chain with transitive deps, each
// module with enough files that writes overlap.
const (
	concModules = 6
	concFiles   = 40
)

type concModule struct {
	m  *Module
	b5 digest.Digest
}

func concurrencyModules() ([]concModule, error) {
	var out []concModule
	var deps []lock.Dep
	for i := range concModules {
		key := bufname.ModuleKey{
			FullName: bufname.FullName{Registry: "localhost:18080", Owner: "acme", Name: fmt.Sprintf("m%d", i)},
			CommitID: fmt.Sprintf("%032x", i+1),
		}
		m := &Module{Key: key, Deps: append([]lock.Dep(nil), deps...)}
		for f := range concFiles {
			body := strings.Repeat(fmt.Sprintf("// module %d file %d\n", i, f), 200)
			m.Files = append(m.Files, digest.File{
				Path:    fmt.Sprintf("m%d/v1/f%02d.proto", i, f),
				Content: []byte("syntax = \"proto3\";\n" + body),
			})
		}
		m.Files = append(m.Files, digest.File{Path: "LICENSE", Content: []byte(fmt.Sprintf("license %d\n", i))})
		b5, err := m.B5()
		if err != nil {
			return nil, err
		}
		out = append(out, concModule{m, b5})
		deps = append(deps, lock.Dep{Name: key.FullName, Commit: key.CommitID, Digest: b5})
	}
	return out, nil
}

// fill puts every module, in an order drawn from seed, reading entries back
// in between: any entry found must be complete.
func fill(c *Cache, seed uint64) error {
	mods, err := concurrencyModules()
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for _, i := range r.Perm(len(mods)) {
		if err := c.Put(mods[i].m); err != nil {
			return err
		}
		j := r.IntN(len(mods))
		m, ok, err := c.Get(mods[j].m.Key)
		if err != nil {
			return err
		}
		if ok {
			if err := c.Verify(m, mods[j].b5); err != nil {
				return fmt.Errorf("read a partial or wrong entry: %w", err)
			}
		}
	}
	return nil
}

// Many goroutines and two other processes fill one cache with the same and
// different modules at once; afterwards every entry is complete and valid.
func TestConcurrentFill(t *testing.T) {
	dir := t.TempDir()
	c := &Cache{Dir: dir}
	const goroutines, processes = 8, 2

	var helpers []*exec.Cmd
	var starts []io.WriteCloser
	for p := range processes {
		cmd, stdin, _ := startHelper(t, fmt.Sprintf("fill:%d", 1000+p), dir)
		helpers = append(helpers, cmd)
		starts = append(starts, stdin)
	}
	start := make(chan struct{})
	errs := make(chan error, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- fill(c, uint64(g))
		}()
	}
	// Release everyone at once.
	close(start)
	for _, s := range starts {
		if _, err := io.WriteString(s, "go\n"); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i, cmd := range helpers {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper process %d: %v", i, err)
		}
	}

	mods, err := concurrencyModules()
	if err != nil {
		t.Fatal(err)
	}
	for _, cm := range mods {
		m, ok, err := c.Get(cm.m.Key)
		if err != nil || !ok {
			t.Fatalf("%s: Get = %v, %v", cm.m.Key, ok, err)
		}
		if err := c.Verify(m, cm.b5); err != nil {
			t.Errorf("%s: %v", cm.m.Key, err)
		}
		if len(m.Files) != concFiles+1 {
			t.Errorf("%s: %d files, want %d", cm.m.Key, len(m.Files), concFiles+1)
		}
	}
	// Zero partial entries: every commit directory has its module.yaml and
	// no temporary files are left behind.
	entries, _ := filepath.Glob(filepath.Join(dir, "v3", "modules", "b5", "*", "*", "*", "*"))
	if len(entries) != concModules {
		t.Errorf("%d entries, want %d: %q", len(entries), concModules, entries)
	}
	for _, e := range entries {
		names, err := os.ReadDir(e)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range names {
			got = append(got, n.Name())
		}
		if strings.Join(got, ",") != "files,module.yaml" {
			t.Errorf("%s holds %q, want files and module.yaml only", e, got)
		}
	}
}
