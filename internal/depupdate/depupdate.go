// Package depupdate maintains a workspace's buf.lock against a registry:
// Update pins every declared dependency and everything it needs, Check
// reports how buf.lock differs from what Update would write, and Prune
// keeps exactly the pins the workspace's imports reach. Graph describes the
// module graph offline, from buf.lock and the module cache.
//
// Resolution sends, per workspace, one GetCommits request (the declared
// refs), one GetGraph request (their closure), and at most one GetModules
// and one GetOwners request to name graph nodes; the build that follows
// downloads what the cache lacks with a single Download request.
package depupdate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/cache"
	"github.com/protomod/protomod/internal/config"
	"github.com/protomod/protomod/internal/deps"
	"github.com/protomod/protomod/internal/fetch"
	"github.com/protomod/protomod/internal/lock"
	"github.com/protomod/protomod/internal/modgraph"
	"github.com/protomod/protomod/internal/registry"
	"github.com/protomod/protomod/internal/workspace"
)

// Options configure Update, Check and Prune.
type Options struct {
	// Client talks to the registry.
	Client *registry.Client
	// OpenCache opens the module cache (default cache.Open).
	OpenCache func() (*cache.Cache, error)
	// Only limits Update and Check to these declared deps (and what they
	// need); every other pin is kept as it is.
	Only []bufname.FullName
	// InputDir is the directory argument as the user wrote it ("." by
	// default), for messages.
	InputDir string
	// Progress receives download progress (a terminal); nil is silent.
	Progress io.Writer
	// Warn receives warnings, without the WARN prefix; may be nil.
	Warn func(msg string)
}

func (o *Options) warn(format string, args ...any) {
	if o.Warn != nil {
		o.Warn(fmt.Sprintf(format, args...))
	}
}

func (o *Options) openCache() (*cache.Cache, error) {
	if o.OpenCache != nil {
		return o.OpenCache()
	}
	return cache.Open()
}

// state is a workspace's dependency configuration and current buf.lock.
type state struct {
	ws *workspace.Workspace
	// old is the current buf.lock (nil if there is none); oldBytes its
	// bytes.
	old *lock.File
	// local are the names of workspace modules: they replace deps of the
	// same name and are never pinned.
	local map[bufname.FullName]bool
	// refs are the declared deps that are not workspace modules, in
	// declaration order.
	refs []bufname.Ref
	// version is the lock file version to write.
	version string
}

// load checks that the workspace can have its deps managed and reads
// buf.lock.
func load(ws *workspace.Workspace, command string) (*state, error) {
	s := &state{ws: ws, local: map[bufname.FullName]bool{}, version: lock.V2}
	switch {
	case ws.Config == nil:
		// A directory without configuration: one module, no deps.
		s.version = lock.V1
	case ws.Config.Source == config.BufWorkYAML || ws.Config.Source == config.BufWork:
		return nil, fmt.Errorf("%s (v1 workspace) is not supported by %s; use a v2 buf.yaml with a modules list (\"buf config migrate\" converts it)", ws.Config.Source, command)
	case ws.Config.Version != config.V2:
		return nil, fmt.Errorf("%s in %s is version %s, which %s does not support; migrate it to a v2 buf.yaml (\"buf config migrate\" does it)", ws.Config.Source, ws.Root, ws.Config.Version, command)
	}
	for _, m := range ws.Modules {
		if !m.Name().IsZero() {
			s.local[m.Name()] = true
		}
	}
	for _, r := range ws.Deps {
		if !s.local[r.FullName] {
			s.refs = append(s.refs, r)
		}
	}
	old, err := lock.Read(ws.Root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		s.old = old
	}
	return s, nil
}

// oldPins returns the current pins of a v2 buf.lock by name.
func (s *state) oldPins() map[bufname.FullName]lock.Dep {
	out := map[bufname.FullName]lock.Dep{}
	if s.old != nil && s.old.Version == lock.V2 {
		for _, d := range s.old.Deps {
			out[d.Name] = d
		}
	}
	return out
}

// newLock returns a lock file with deps and the current file's plugins and
// policies.
func (s *state) newLock(pins []lock.Dep) *lock.File {
	f := &lock.File{Version: s.version, Deps: pins}
	if s.old != nil && s.old.Version == lock.V2 && s.version == lock.V2 {
		f.Plugins = s.old.Plugins
		f.Policies = s.old.Policies
	}
	lock.SortDeps(f.Deps)
	return f
}

// plan is the outcome of resolving the declared deps against the registry.
type plan struct {
	lock  *lock.File
	graph *fetch.Graph // nil when nothing was resolved
	// resolved maps each resolved declared dep to its commit.
	resolved map[bufname.FullName]resolvedRef
}

type resolvedRef struct {
	ref    bufname.Ref
	commit string
}

// checkRegistries rejects deps on more than one registry.
func checkRegistries(refs []bufname.Ref) error {
	var regs []string
	for _, r := range refs {
		if !slices.Contains(regs, r.FullName.Registry) {
			regs = append(regs, r.FullName.Registry)
		}
	}
	if len(regs) > 1 {
		slices.Sort(regs)
		return fmt.Errorf("dependencies across multiple registries are not allowed: %s", strings.Join(regs, ", "))
	}
	return nil
}

// selectRefs returns the refs to resolve: all of them, or with --only the
// named ones plus declared deps buf.lock lacks.
func (s *state) selectRefs(only []bufname.FullName) ([]bufname.Ref, error) {
	if len(only) == 0 {
		return s.refs, nil
	}
	declared := map[bufname.FullName]bool{}
	for _, r := range s.refs {
		declared[r.FullName] = true
	}
	for _, name := range only {
		switch {
		case s.local[name]:
			return nil, fmt.Errorf("--only %s: this is a module of the workspace, not a remote dependency; nothing to update", name)
		case !declared[name]:
			return nil, fmt.Errorf("--only %s: not a dependency declared in buf.yaml deps; add it to deps first", name)
		}
	}
	if s.old != nil && s.old.Version != lock.V2 {
		return nil, fmt.Errorf("--only needs a v2 buf.lock to keep the other pins, but buf.lock is %s; run \"protomod dep update\" without --only", s.old.Version)
	}
	pins := s.oldPins()
	var out []bufname.Ref
	for _, r := range s.refs {
		_, pinned := pins[r.FullName]
		if slices.Contains(only, r.FullName) || !pinned {
			out = append(out, r)
		}
	}
	return out, nil
}

// resolve computes the lock file Update writes: with the registry's
// current commits for the selected refs and everything they need.
func (s *state) resolve(ctx context.Context, opts *Options) (*plan, error) {
	if err := checkRegistries(s.refs); err != nil {
		return nil, err
	}
	refs, err := s.selectRefs(opts.Only)
	if err != nil {
		return nil, err
	}
	p := &plan{resolved: map[bufname.FullName]resolvedRef{}}
	pins := map[bufname.FullName]lock.Dep{}
	if len(opts.Only) > 0 {
		pins = s.oldPins()
	}
	if len(refs) > 0 {
		if opts.Client == nil {
			return nil, errors.New("resolving dependencies needs a registry client")
		}
		commits, err := opts.Client.GetCommits(ctx, refs)
		if err != nil {
			return nil, err
		}
		keys := make([]bufname.ModuleKey, len(refs))
		for i, r := range refs {
			keys[i] = bufname.ModuleKey{FullName: r.FullName, CommitID: commits[i].GetId()}
			p.resolved[r.FullName] = resolvedRef{ref: r, commit: commits[i].GetId()}
		}
		g, err := fetch.GetGraph(ctx, opts.Client, keys, nil)
		if err != nil {
			return nil, err
		}
		p.graph = g
		seen := map[bufname.FullName]bool{}
		for _, n := range g.Nodes() {
			if seen[n.Pin.Name] {
				return nil, fmt.Errorf("duplicate module %q attempted to be added to lock file", n.Pin.Name.String())
			}
			seen[n.Pin.Name] = true
			if !s.local[n.Pin.Name] {
				pins[n.Pin.Name] = n.Pin
			}
		}
	}
	out := make([]lock.Dep, 0, len(pins))
	for _, d := range pins {
		out = append(out, d)
	}
	p.lock = s.newLock(out)
	return p, nil
}

// Result reports what Update did.
type Result struct {
	// NoDeps is set when there was nothing to update and nothing was
	// written (no deps and no buf.lock).
	NoDeps bool
	// Lock is the lock file written.
	Lock *lock.File
}

// Update resolves the declared deps, builds the whole workspace against the
// new pins (downloading and verifying what the cache lacks), and only then
// writes buf.lock: if anything fails, buf.lock is left exactly as it was.
// Declared deps that nothing imports are reported through opts.Warn.
func Update(ctx context.Context, ws *workspace.Workspace, opts Options) (*Result, error) {
	s, err := load(ws, "dep update")
	if err != nil {
		return nil, err
	}
	if len(s.refs) == 0 && s.old == nil && len(opts.Only) == 0 {
		opts.warn("No configured dependencies were found to update in %q.", inputDir(opts))
		return &Result{NoDeps: true}, nil
	}
	p, err := s.resolve(ctx, &opts)
	if err != nil {
		return nil, err
	}
	g, err := s.build(ctx, &opts, p.lock, p.graph)
	if err != nil {
		return nil, err
	}
	if err := lock.Write(ws.Root, p.lock); err != nil {
		return nil, err
	}
	s.warnUnused(&opts, g)
	return &Result{Lock: p.lock}, nil
}

// build compiles the whole workspace against lf (nil: the buf.lock on disk,
// if any), downloading missing pins and verifying every digest, and returns
// its module graph.
func (s *state) build(ctx context.Context, opts *Options, lf *lock.File, seed *fetch.Graph) (*modgraph.Graph, error) {
	if lf != nil && len(lf.Deps) == 0 {
		// Nothing pinned: nothing to load, whatever the file's version.
		lf = &lock.File{Version: lock.V2}
	}
	var fetcher deps.Fetcher
	if opts.Client != nil {
		f := fetch.New(opts.Client, fetch.Options{Progress: opts.Progress})
		if seed != nil {
			f.Seed(seed)
		}
		fetcher = f
	}
	set, err := deps.Resolve(ctx, s.ws, deps.Options{
		OpenCache: opts.openCache,
		Fetcher:   fetcher,
		Lock:      lf,
	})
	if err != nil {
		return nil, err
	}
	return modgraph.Build(ctx, s.ws, set)
}

// used returns the remote modules the workspace's imports reach.
func used(ws *workspace.Workspace, g *modgraph.Graph) []*modgraph.Node {
	return g.RemoteClosure(ws.Modules)
}

// warnUnused warns about declared deps that nothing imports, by name.
func (s *state) warnUnused(opts *Options, g *modgraph.Graph) {
	reached := map[bufname.FullName]bool{}
	for _, n := range used(s.ws, g) {
		reached[n.Name()] = true
	}
	var unused []string
	for _, r := range s.refs {
		if !reached[r.FullName] && !slices.Contains(unused, r.FullName.String()) {
			unused = append(unused, r.FullName.String())
		}
	}
	slices.Sort(unused)
	for _, name := range unused {
		opts.warn("Module %[1]s is declared in your buf.yaml deps but is unused. This command only modifies buf.lock files, not buf.yaml files. Please remove %[1]s from your buf.yaml deps if it is not needed.", name)
	}
}

func inputDir(opts Options) string {
	if opts.InputDir == "" {
		return "."
	}
	return opts.InputDir
}

// Prune rewrites buf.lock with exactly the remote modules the workspace's
// imports reach, at their pinned commits. Each must be a declared dep or a
// dependency of one at the registry's current commits. With no deps it
// writes the empty lock file.
func Prune(ctx context.Context, ws *workspace.Workspace, opts Options) error {
	s, err := load(ws, "dep prune")
	if err != nil {
		return err
	}
	if err := checkRegistries(s.refs); err != nil {
		return err
	}
	allowed := map[bufname.FullName]bool{}
	if len(s.refs) > 0 {
		if opts.Client == nil {
			return errors.New("resolving dependencies needs a registry client")
		}
		commits, err := opts.Client.GetCommits(ctx, s.refs)
		if err != nil {
			return err
		}
		keys := make([]bufname.ModuleKey, len(s.refs))
		for i, r := range s.refs {
			keys[i] = bufname.ModuleKey{FullName: r.FullName, CommitID: commits[i].GetId()}
		}
		g, err := fetch.GetGraph(ctx, opts.Client, keys, nil)
		if err != nil {
			return err
		}
		for _, n := range g.Nodes() {
			allowed[n.Pin.Name] = true
		}
	}
	mg, err := s.build(ctx, &opts, s.old, nil)
	if err != nil {
		return err
	}
	s.warnUnused(&opts, mg)
	var pins []lock.Dep
	for _, n := range used(ws, mg) {
		if !allowed[n.Name()] {
			return fmt.Errorf("Module %[1]s is detected to be a still-used dependency from your existing buf.lock, but is not a declared dependency in your buf.yaml deps, and is not a transitive dependency of any declared dependency. Add %[1]s to your buf.yaml deps.", n.Name())
		}
		pins = append(pins, n.Remote.Pin)
	}
	return lock.Write(ws.Root, s.newLock(pins))
}
