package goproxy

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/protomod/protomod/internal/gengo"
)

// testRegistry is an in-memory Registry for tests. It counts calls so that
// tests can check that probes are cheap and generation happens once.
type testRegistry struct {
	mu      sync.Mutex
	modules map[string]*testModule // by owner/name
	commits map[string]*testCommit // by ID
	tokens  map[string]bool        // valid tokens
	calls   map[string]int         // method or "Files <commit>" -> count
}

type testModule struct {
	Module
	readers map[string]bool // tokens that may read a private module
	labels  map[string]string
	history map[string][]string // label -> commits it pointed to, in order
}

type testCommit struct {
	gengo.Commit
	moduleID string
	files    map[string][]byte
	deps     []string
}

func newTestRegistry() *testRegistry {
	return &testRegistry{
		modules: map[string]*testModule{},
		commits: map[string]*testCommit{},
		tokens:  map[string]bool{},
		calls:   map[string]int{},
	}
}

func (r *testRegistry) count(name string) {
	r.mu.Lock()
	r.calls[name]++
	r.mu.Unlock()
}

func (r *testRegistry) callCount(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[name]
}

func (r *testRegistry) totalCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		n += c
	}
	return n
}

func (r *testRegistry) addModule(owner, name string, private bool) *testModule {
	m := &testModule{
		Module:  Module{ID: fmt.Sprintf("mod-%s-%s", owner, name), Owner: owner, Name: name, DefaultLabel: "main", Private: private},
		readers: map[string]bool{},
		labels:  map[string]string{},
		history: map[string][]string{},
	}
	r.modules[owner+"/"+name] = m
	return m
}

// addCommit adds a commit of m with the files of testdata/src/<dir>; labels
// move to it.
func (r *testRegistry) addCommit(t *testing.T, m *testModule, dir, id string, created time.Time, deps []string, labels ...string) *testCommit {
	t.Helper()
	c := &testCommit{
		Commit:   gengo.Commit{Owner: m.Owner, Module: m.Name, ID: id, CreateTime: created},
		moduleID: m.ID,
		files:    readDir(t, filepath.Join("testdata", "src", dir)),
		deps:     deps,
	}
	r.commits[id] = c
	for _, l := range labels {
		m.moveLabel(l, id)
	}
	return c
}

// moveLabel points a label at a commit.
func (m *testModule) moveLabel(label, id string) {
	m.labels[label] = id
	m.history[label] = append(m.history[label], id)
}

func readDir(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func (r *testRegistry) Module(_ context.Context, token, owner, name string) (Module, error) {
	r.count("Module")
	if token != "" && !r.tokens[token] {
		return Module{}, fmt.Errorf("token: %w", ErrUnauthenticated)
	}
	m, ok := r.modules[owner+"/"+name]
	if !ok || m.Private && !m.readers[token] {
		return Module{}, fmt.Errorf("module %s/%s: %w", owner, name, ErrNotFound)
	}
	return m.Module, nil
}

func (r *testRegistry) Commits(_ context.Context, moduleID string) ([]gengo.Commit, error) {
	r.count("Commits")
	var out []gengo.Commit
	for _, c := range r.commits {
		if c.moduleID == moduleID {
			out = append(out, c.Commit)
		}
	}
	return out, nil
}

func (r *testRegistry) Label(_ context.Context, moduleID, name string) (string, error) {
	r.count("Label")
	for _, m := range r.modules {
		if m.ID == moduleID {
			if id, ok := m.labels[name]; ok {
				return id, nil
			}
		}
	}
	return "", fmt.Errorf("label %s: %w", name, ErrNotFound)
}

func (r *testRegistry) LabelHistory(_ context.Context, moduleID, name string) ([]string, error) {
	r.count("LabelHistory")
	for _, m := range r.modules {
		if m.ID == moduleID {
			if h, ok := m.history[name]; ok {
				return h, nil
			}
		}
	}
	return nil, fmt.Errorf("label %s: %w", name, ErrNotFound)
}

func (r *testRegistry) Deps(_ context.Context, commitID string) ([]gengo.Commit, error) {
	r.count("Deps")
	c, ok := r.commits[commitID]
	if !ok {
		return nil, fmt.Errorf("commit %s: %w", commitID, ErrNotFound)
	}
	var out []gengo.Commit
	for _, d := range c.deps {
		out = append(out, r.commits[d].Commit)
	}
	return out, nil
}

func (r *testRegistry) Files(_ context.Context, commitID string) (map[string][]byte, error) {
	r.count("Files " + commitID)
	c, ok := r.commits[commitID]
	if !ok {
		return nil, fmt.Errorf("commit %s: %w", commitID, ErrNotFound)
	}
	return c.files, nil
}

// The test modules: acme/units with one commit, acme/weather with three
// (main moved from the first to the second; the third is "beta"), and the
// private acme/secret.
const (
	unitsID    = "0190a1b2c3d47e8f9a0b1c2d3e4f5a6b"
	weather1ID = "0190f00dcafe7e8f9a0b1c2d3e4f5a6b"
	weather2ID = "0190f00dbeef7e8f9a0b1c2d3e4f5a6b"
	weather3ID = "0192abcdef017e8f9a0b1c2d3e4f5a6b"
	secretID   = "0193aaaabbbb7e8f9a0b1c2d3e4f5a6b"
	readToken  = "pm_reader"
	otherToken = "pm_other"
)

var (
	unitsTime    = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	weather1Time = time.Date(2026, 1, 2, 9, 30, 15, 500000000, time.UTC)
	weather2Time = time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	weather3Time = time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC)
	secretTime   = time.Date(2026, 4, 5, 12, 0, 0, 0, time.UTC)
)

func newWeatherRegistry(t *testing.T) *testRegistry {
	t.Helper()
	r := newTestRegistry()
	r.tokens[readToken] = true
	r.tokens[otherToken] = true
	units := r.addModule("acme", "units", false)
	r.addCommit(t, units, "units", unitsID, unitsTime, nil, "main")
	weather := r.addModule("acme", "weather", false)
	r.addCommit(t, weather, "weather", weather1ID, weather1Time, []string{unitsID}, "main")
	r.addCommit(t, weather, "weather", weather2ID, weather2Time, []string{unitsID}, "main")
	r.addCommit(t, weather, "weather", weather3ID, weather3Time, []string{unitsID}, "beta")
	secret := r.addModule("acme", "secret", true)
	secret.readers[readToken] = true
	r.addCommit(t, secret, "units", secretID, secretTime, nil, "main")
	return r
}
