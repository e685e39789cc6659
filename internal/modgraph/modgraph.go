// Package modgraph derives the module-level dependency graph of a workspace
// from what its files actually import: a workspace module depends on every
// module (workspace or remote) that provides a file one of its files
// imports, transitively. This graph decides what a push uploads as
// dependencies, what dep prune keeps, and which dependency digests go into a
// workspace module's b5.
package modgraph

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/build"
	"github.com/protomod/protomod/internal/compile"
	"github.com/protomod/protomod/internal/deps"
	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/workspace"
)

// Node is a module of the graph: a workspace module or a remote one.
type Node struct {
	Local  *workspace.Module // set for workspace modules
	Remote *deps.Module      // set for dependencies
	// Direct are the modules this one imports from (for remote modules:
	// the dependencies recorded for the commit that are pinned here).
	Direct []*Node
}

// Name returns the node's full name (zero for an unnamed local module).
func (n *Node) Name() bufname.FullName {
	if n.Local != nil {
		return n.Local.Name()
	}
	return n.Remote.Pin.Name
}

// String describes the node for messages.
func (n *Node) String() string {
	if n.Local != nil {
		if !n.Local.Name().IsZero() {
			return n.Local.Name().String()
		}
		return n.Local.Description()
	}
	return n.Remote.Pin.Key().String()
}

// Graph is the module graph of a workspace.
type Graph struct {
	Locals  []*Node // in workspace order
	Remotes []*Node // in search order
	local   map[*workspace.Module]*Node
	remote  map[bufname.FullName]*Node
	digests map[*Node]digest.Digest
}

// Local returns the node of a workspace module.
func (g *Graph) Local(m *workspace.Module) *Node { return g.local[m] }

// Build compiles every workspace module and derives the graph from the
// imports of its files.
func Build(ctx context.Context, ws *workspace.Workspace, set *deps.Set) (*Graph, error) {
	mods, locals := build.SearchPath(ws, set, "", nil)
	resolver := compile.NewResolver(mods)
	var targets []string
	for _, m := range ws.Modules {
		targets = append(targets, m.ProtoPaths...)
	}
	slices.Sort(targets)
	targets = slices.Compact(targets)
	res, err := compile.Compile(ctx, resolver, compile.Options{Targets: targets})
	if err != nil {
		return nil, err
	}
	g := &Graph{
		local:   make(map[*workspace.Module]*Node),
		remote:  make(map[bufname.FullName]*Node),
		digests: make(map[*Node]digest.Digest),
	}
	byCompile := make(map[*compile.Module]*Node)
	for cm, wm := range locals {
		n := &Node{Local: wm}
		g.local[wm] = n
		byCompile[cm] = n
	}
	for _, m := range ws.Modules {
		g.Locals = append(g.Locals, g.local[m])
	}
	if set != nil {
		for i, d := range set.Modules {
			n := &Node{Remote: d}
			g.remote[d.Pin.Name] = n
			g.Remotes = append(g.Remotes, n)
			byCompile[mods[len(ws.Modules)+i]] = n
		}
		for _, n := range g.Remotes {
			for _, dep := range n.Remote.Cached.Deps {
				if d := g.remote[dep.Name]; d != nil {
					n.Direct = append(n.Direct, d)
				}
			}
		}
	}
	// Workspace modules: follow the imports of their files.
	for _, wm := range ws.Modules {
		n := g.local[wm]
		seen := map[*Node]bool{n: true}
		for _, p := range wm.ProtoPaths {
			f := res.File(p)
			if f == nil || f.Module == nil || byCompile[f.Module] != n {
				continue // provided by another workspace module (an error elsewhere)
			}
			for _, imp := range append(f.Proto.GetDependency(), f.Proto.GetOptionDependency()...) {
				provider := resolver.Lookup(imp)
				if provider == nil {
					continue // a Well-Known Type
				}
				if d := byCompile[provider]; d != nil && !seen[d] {
					seen[d] = true
					n.Direct = append(n.Direct, d)
				}
			}
		}
		slices.SortFunc(n.Direct, func(a, b *Node) int { return strings.Compare(a.String(), b.String()) })
	}
	if err := g.checkCycles(); err != nil {
		return nil, err
	}
	return g, nil
}

// checkCycles reports a cycle between workspace modules.
func (g *Graph) checkCycles() error {
	const (
		visiting = 1
		done     = 2
	)
	state := map[*Node]int{}
	var stack []*Node
	var visit func(n *Node) error
	visit = func(n *Node) error {
		switch state[n] {
		case visiting:
			i := slices.Index(stack, n)
			chain := append(slices.Clone(stack[i:]), n)
			lines := make([]string, len(chain))
			for j, c := range chain {
				desc := c.String()
				if c.Local != nil {
					desc = c.Local.Description()
				}
				if j == 0 {
					lines[j] = "    " + desc
				} else {
					lines[j] = " -> " + desc
				}
			}
			return fmt.Errorf("cycle detected in module dependencies:\n%s", strings.Join(lines, "\n"))
		case done:
			return nil
		}
		state[n] = visiting
		stack = append(stack, n)
		for _, d := range n.Direct {
			if err := visit(d); err != nil {
				return err
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return nil
	}
	for _, n := range g.Locals {
		if err := visit(n); err != nil {
			return err
		}
	}
	return nil
}

// Closure returns every module n depends on, directly or transitively, in
// a stable order (depth-first, each once), without n itself.
func (g *Graph) Closure(n *Node) []*Node {
	seen := map[*Node]bool{n: true}
	var out []*Node
	var walk func(*Node)
	walk = func(x *Node) {
		for _, d := range x.Direct {
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
				walk(d)
			}
		}
		if x.Remote != nil {
			// A remote module's recorded deps are already its closure.
			for _, dep := range x.Remote.Cached.Deps {
				if d := g.remote[dep.Name]; d != nil && !seen[d] {
					seen[d] = true
					out = append(out, d)
				}
			}
		}
	}
	walk(n)
	return out
}

// RemoteClosure returns the remote modules reachable from the given
// workspace modules, sorted by full name.
func (g *Graph) RemoteClosure(mods []*workspace.Module) []*Node {
	seen := map[*Node]bool{}
	var out []*Node
	for _, m := range mods {
		for _, d := range g.Closure(g.local[m]) {
			if d.Remote != nil && !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	slices.SortFunc(out, func(a, b *Node) int { return strings.Compare(a.Name().String(), b.Name().String()) })
	return out
}

// Digest returns the b5 digest of a module: for a remote module the one
// pinned in buf.lock, for a workspace module the digest of its files and of
// every module it reaches.
func (g *Graph) Digest(n *Node) (digest.Digest, error) {
	if n.Remote != nil {
		return n.Remote.Pin.Digest, nil
	}
	if d, ok := g.digests[n]; ok {
		return d, nil
	}
	files, err := n.Local.Files()
	if err != nil {
		return digest.Digest{}, err
	}
	var depDigests []digest.Digest
	for _, d := range g.Closure(n) {
		dd, err := g.Digest(d)
		if err != nil {
			return digest.Digest{}, err
		}
		depDigests = append(depDigests, dd)
	}
	b5, err := digest.B5(files, depDigests)
	if err != nil {
		return digest.Digest{}, fmt.Errorf("digest of module %s: %w", n, err)
	}
	g.digests[n] = b5
	return b5, nil
}
