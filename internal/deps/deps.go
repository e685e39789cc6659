// Package deps turns a workspace's declared dependencies and its buf.lock
// into verified module content: every pinned commit is read from the module
// cache (or fetched into it), its b5 digest is recomputed and compared with
// buf.lock, and the modules are ordered as protomod searches them.
package deps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/cache"
	"github.com/protomod/protomod/internal/compile"
	"github.com/protomod/protomod/internal/lock"
	"github.com/protomod/protomod/internal/workspace"
)

// Fetcher downloads pinned commits that the cache lacks, verifies them
// against their buf.lock digests and stores them in c. missing are the pins
// to download; pinned are all of buf.lock's pins, which name the modules the
// downloaded commits depend on. A nil Fetcher means offline.
type Fetcher interface {
	Fetch(ctx context.Context, c *cache.Cache, missing, pinned []lock.Dep) error
}

// Set is the resolved dependencies of a workspace.
type Set struct {
	// Lock is the workspace's buf.lock; nil when there is none.
	Lock *lock.File
	// Modules are the dependency modules in search order: each declared dep
	// followed by its transitive deps (sorted by name), each once, then
	// buf.lock entries no declared dep reaches.
	Modules []*Module
	// Unresolved lists declared deps that could not be resolved because
	// there is no buf.lock.
	Unresolved []bufname.Ref
}

// Module is a verified dependency.
type Module struct {
	Pin    lock.Dep
	Cached *cache.Module
	// Declared is true for a dep listed in buf.yaml.
	Declared bool
}

// CompileModule returns the module as compiler input.
func (m *Module) CompileModule() *compile.Module {
	contents := make(map[string][]byte, len(m.Cached.Files))
	for _, f := range m.Cached.Files {
		contents[f.Path] = f.Content
	}
	cm := compile.InMemory(contents)
	cm.Name, cm.CommitID = m.Pin.Name, m.Pin.Commit
	return cm
}

// Options tune Resolve.
type Options struct {
	// OpenCache opens the module cache; it is called only when there is a
	// buf.lock with deps.
	OpenCache func() (*cache.Cache, error)
	// Fetcher downloads missing cache entries; nil means offline.
	Fetcher Fetcher
	// OfflineFlag is set when the user asked for --offline (for messages).
	OfflineFlag bool
	// Lock, if set, is used instead of reading the workspace's buf.lock
	// (dep update checks a new lock file before writing it).
	Lock *lock.File
	// Refetch replaces cache entries whose content does not match its
	// buf.lock digest with a fresh download, which must match.
	Refetch bool
}

// Resolve loads buf.lock (if any) and every pinned module it needs, in
// search order. Workspace modules with the same full name as a dep replace
// it.
func Resolve(ctx context.Context, ws *workspace.Workspace, opts Options) (*Set, error) {
	set := &Set{}
	lf, err := opts.Lock, error(nil)
	if lf == nil {
		lf, err = lock.Read(ws.Root)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		set.Unresolved = slices.Clone(ws.Deps)
		return set, nil
	case err != nil:
		return nil, err
	}
	if lf.Version != lock.V2 {
		if ws.Config != nil && ws.Config.Version == lock.V2 {
			return nil, lf.RequireV2()
		}
		return nil, fmt.Errorf("buf.lock is a %s lock file with b4 (shake256) digests, which protomod does not verify; migrate buf.yaml to v2 (\"buf config migrate\" does it) and run \"protomod dep update\" to write a v2 buf.lock", lf.Version)
	}
	set.Lock = lf
	local := make(map[bufname.FullName]bool)
	for _, m := range ws.Modules {
		if !m.Name().IsZero() {
			local[m.Name()] = true
		}
	}
	pins := make(map[bufname.FullName]lock.Dep, len(lf.Deps))
	for _, d := range lf.Deps {
		pins[d.Name] = d
	}
	for _, ref := range ws.Deps {
		if local[ref.FullName] {
			continue
		}
		if _, ok := pins[ref.FullName]; !ok {
			return nil, fmt.Errorf("%q declared in buf.yaml deps but not present in buf.lock; run \"protomod dep update\" to update the lock file", ref.FullName.String())
		}
	}
	// Load every pinned module that is not replaced by a workspace module.
	var keys []lock.Dep
	for _, d := range lf.Deps {
		if !local[d.Name] {
			keys = append(keys, d)
		}
	}
	if len(keys) == 0 {
		return set, nil
	}
	c, err := opts.OpenCache()
	if err != nil {
		return nil, err
	}
	loaded, err := load(ctx, c, keys, lf.Deps, opts)
	if err != nil {
		return nil, err
	}
	for _, d := range lf.Deps {
		if m := loaded[d.Name]; m != nil {
			if err := c.Verify(m, d.Digest); err != nil {
				return nil, err
			}
		}
	}
	// Order: declared deps, each followed by its own transitive deps.
	seen := make(map[bufname.FullName]bool)
	add := func(name bufname.FullName, declared bool) error {
		if seen[name] || local[name] {
			return nil
		}
		seen[name] = true
		pin, ok := pins[name]
		if !ok {
			return fmt.Errorf("%s is a dependency of a pinned module but is not in buf.lock; run \"protomod dep update\" to update the lock file", name)
		}
		set.Modules = append(set.Modules, &Module{Pin: pin, Cached: loaded[name], Declared: declared})
		return nil
	}
	for _, ref := range ws.Deps {
		if err := add(ref.FullName, true); err != nil {
			return nil, err
		}
		if m := loaded[ref.FullName]; m != nil {
			for _, t := range m.Deps {
				if err := add(t.Name, false); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, d := range lf.Deps {
		if err := add(d.Name, false); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// load reads the pinned modules from the cache, fetching what is missing.
// pinned is every pin of buf.lock.
func load(ctx context.Context, c *cache.Cache, pins, pinned []lock.Dep, opts Options) (map[bufname.FullName]*cache.Module, error) {
	out := make(map[bufname.FullName]*cache.Module, len(pins))
	var missing []lock.Dep
	for _, pin := range pins {
		k := pin.Key()
		m, ok, err := c.Get(k)
		if err != nil {
			return nil, err
		}
		if ok && opts.Refetch && opts.Fetcher != nil && cache.Verify(m, pin.Digest) != nil {
			// A damaged entry: download it again. The fetcher checks the
			// new content against buf.lock before storing it.
			if err := c.Remove(k); err != nil {
				return nil, err
			}
			ok = false
		}
		if !ok {
			missing = append(missing, pin)
			continue
		}
		out[k.FullName] = m
	}
	if len(missing) == 0 {
		return out, nil
	}
	if opts.Fetcher == nil {
		names := make([]string, len(missing))
		for i, pin := range missing {
			names[i] = pin.Key().String()
		}
		why := "protomod is offline"
		if opts.OfflineFlag {
			why = "--offline is set"
		}
		return nil, fmt.Errorf("%s is not in the module cache (%s) and %s; run without --offline, or run \"protomod dep update\" while online, to download it", strings.Join(names, ", "), c.Dir, why)
	}
	if err := opts.Fetcher.Fetch(ctx, c, missing, pinned); err != nil {
		return nil, err
	}
	for _, pin := range missing {
		k := pin.Key()
		m, ok, err := c.Get(k)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%s was downloaded but is not in the module cache at %s", k, c.Dir)
		}
		out[k.FullName] = m
	}
	return out, nil
}
