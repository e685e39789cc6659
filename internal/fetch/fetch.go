// Package fetch downloads pinned module commits from registries into the
// module cache. For all the commits a build lacks it sends, per registry,
// one GetGraph request (the dependency closure of each commit, with
// digests), at most one GetModules and one GetOwners request (only to name
// graph nodes buf.lock does not name) and one Download request, whatever the
// number of modules. Each download is verified against its buf.lock digest
// before it is stored; a mismatching download never reaches the cache.
package fetch

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/cache"
	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/lock"
	"github.com/protomod/protomod/internal/registry"
)

// Options tune a Fetcher.
type Options struct {
	// Progress, if set, receives a progress line that updates in place
	// (for a terminal); nil is silent.
	Progress io.Writer
}

// Fetcher downloads pins into the cache. It implements deps.Fetcher and is
// safe for concurrent use.
type Fetcher struct {
	client   *registry.Client
	progress io.Writer

	mu     sync.Mutex
	graphs []*Graph
}

// New returns a Fetcher that talks to registries through client.
func New(client *registry.Client, opts Options) *Fetcher {
	return &Fetcher{client: client, progress: opts.Progress}
}

// Seed hands the Fetcher a graph already obtained (dep update has one), so
// that Fetch sends only the Download request for the commits it covers.
func (f *Fetcher) Seed(g *Graph) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.graphs = append(f.graphs, g)
}

// seeded returns a seeded graph holding commitID of registry, or nil.
func (f *Fetcher) seeded(registry, commitID string) *Graph {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range f.graphs {
		if g.Registry == registry && g.Node(commitID) != nil {
			return g
		}
	}
	return nil
}

// Fetch downloads the missing pins, verifies each against its buf.lock
// digest and stores it in c with its dependency closure. pinned (all of
// buf.lock) names the closure's modules.
func (f *Fetcher) Fetch(ctx context.Context, c *cache.Cache, missing, pinned []lock.Dep) error {
	byRegistry := map[string][]lock.Dep{}
	var registries []string
	for _, pin := range missing {
		r := pin.Name.Registry
		if _, ok := byRegistry[r]; !ok {
			registries = append(registries, r)
		}
		byRegistry[r] = append(byRegistry[r], pin)
	}
	slices.Sort(registries)
	for _, r := range registries {
		if err := f.fetchRegistry(ctx, c, r, byRegistry[r], pinned); err != nil {
			return err
		}
	}
	return nil
}

// fetchRegistry fetches the pins of one registry.
func (f *Fetcher) fetchRegistry(ctx context.Context, c *cache.Cache, reg string, pins, pinned []lock.Dep) error {
	graphs := make([]*Graph, len(pins))
	var unknown []bufname.ModuleKey
	var unknownIdx []int
	for i, pin := range pins {
		if g := f.seeded(reg, pin.Commit); g != nil {
			graphs[i] = g
			continue
		}
		unknown = append(unknown, pin.Key())
		unknownIdx = append(unknownIdx, i)
	}
	p := newProgress(f.progress, len(pins), reg)
	defer p.done()
	if len(unknown) > 0 {
		g, err := GetGraph(ctx, f.client, unknown, pinned)
		if err != nil {
			return err
		}
		for _, i := range unknownIdx {
			graphs[i] = g
		}
	}
	ids := make([]string, len(pins))
	for i, pin := range pins {
		ids[i] = pin.Commit
	}
	contents, err := f.client.Download(ctx, reg, ids)
	if err != nil {
		return err
	}
	for i, content := range contents {
		pin := pins[i]
		if got := content.GetCommit().GetId(); got != pin.Commit {
			return faulty(reg, "answered the download of %s with commit %s", pin.Key(), got)
		}
		files := make([]digest.File, 0, len(content.GetFiles()))
		for _, file := range content.GetFiles() {
			if err := digest.ValidatePath(file.GetPath()); err != nil {
				return faulty(reg, "sent %s with an invalid file path: %v", pin.Key(), err)
			}
			files = append(files, digest.File{Path: file.GetPath(), Content: file.GetContent()})
		}
		m := &cache.Module{
			Key:   pin.Key(),
			Files: digest.Select(files),
			Deps:  graphs[i].Closure(pin.Commit),
		}
		if err := cache.Verify(m, pin.Digest); err != nil {
			return err
		}
		if err := c.Put(m); err != nil {
			return err
		}
		p.step()
	}
	return nil
}

// progress draws "Downloading N modules from R... i/N" on one line.
type progress struct {
	w        io.Writer
	total, n int
	prefix   string
}

func newProgress(w io.Writer, total int, reg string) *progress {
	p := &progress{w: w, total: total}
	noun := "modules"
	if total == 1 {
		noun = "module"
	}
	p.prefix = fmt.Sprintf("Downloading %d %s from %s...", total, noun, reg)
	p.draw()
	return p
}

func (p *progress) draw() {
	if p.w == nil {
		return
	}
	line := p.prefix
	if p.n > 0 {
		line += fmt.Sprintf(" %d/%d", p.n, p.total)
	}
	// Return to the line start and clear it before drawing.
	fmt.Fprint(p.w, "\r\033[K"+line)
}

func (p *progress) step() {
	p.n++
	p.draw()
}

// done erases the line: progress is transient.
func (p *progress) done() {
	if p.w != nil {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
