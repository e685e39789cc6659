package depupdate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/cache"
	"github.com/protomod/protomod/internal/deps"
	"github.com/protomod/protomod/internal/lock"
	"github.com/protomod/protomod/internal/modgraph"
	"github.com/protomod/protomod/internal/workspace"
)

// GraphNode is a module of the workspace's module graph.
type GraphNode struct {
	// Name is the full name, or for an unnamed workspace module its path.
	Name string
	// Commit is the pinned commit of a remote module ("" for workspace
	// modules).
	Commit string
	// Digest is the module's b5 digest: pinned for remote modules, computed
	// for workspace modules.
	Digest string
	// Local is set for workspace modules.
	Local bool
	// Deps are the modules this one depends on directly, sorted by name.
	Deps []*GraphNode
}

// Label is the node as the graph formats show it: name, plus ":commit" for
// a remote module.
func (n *GraphNode) Label() string {
	if n.Commit != "" {
		return n.Name + ":" + n.Commit
	}
	return n.Name
}

// ModuleGraph is the module graph of a workspace.
type ModuleGraph struct {
	// Nodes are the workspace modules (in configuration order), then the
	// pinned remote modules (by name).
	Nodes []*GraphNode
}

// Graph returns the module graph of the workspace, offline: from buf.lock
// and the module cache, without any network access. Edges of workspace
// modules come from their files' imports; a remote module's edges are its
// direct dependencies within its recorded closure (the closure minus what
// another dependency already reaches).
func Graph(ctx context.Context, ws *workspace.Workspace, openCache func() (*cache.Cache, error)) (*ModuleGraph, error) {
	if openCache == nil {
		openCache = cache.Open
	}
	if err := checkCached(ws, openCache); err != nil {
		return nil, err
	}
	set, err := deps.Resolve(ctx, ws, deps.Options{OpenCache: openCache})
	if err != nil {
		return nil, err
	}
	mg, err := modgraph.Build(ctx, ws, set)
	if err != nil {
		return nil, err
	}
	out := &ModuleGraph{}
	nodes := map[*modgraph.Node]*GraphNode{}
	for _, n := range mg.Locals {
		d, err := mg.Digest(n)
		if err != nil {
			return nil, err
		}
		name := n.Local.Path
		if !n.Local.Name().IsZero() {
			name = n.Local.Name().String()
		}
		gn := &GraphNode{Name: name, Digest: d.String(), Local: true}
		nodes[n] = gn
		out.Nodes = append(out.Nodes, gn)
	}
	remotes := slices.Clone(mg.Remotes)
	slices.SortFunc(remotes, func(a, b *modgraph.Node) int { return strings.Compare(a.Name().String(), b.Name().String()) })
	for _, n := range remotes {
		pin := n.Remote.Pin
		gn := &GraphNode{Name: pin.Name.String(), Commit: pin.Commit, Digest: pin.Digest.String()}
		nodes[n] = gn
		out.Nodes = append(out.Nodes, gn)
	}
	for n, gn := range nodes {
		direct := n.Direct
		if n.Remote != nil {
			direct = reduce(n.Direct)
		}
		for _, d := range direct {
			gn.Deps = append(gn.Deps, nodes[d])
		}
		slices.SortFunc(gn.Deps, func(a, b *GraphNode) int { return strings.Compare(a.Name, b.Name) })
	}
	return out, nil
}

// reduce keeps the members of a closure that no other member reaches.
func reduce(closure []*modgraph.Node) []*modgraph.Node {
	var out []*modgraph.Node
	for _, d := range closure {
		implied := false
		for _, e := range closure {
			if e != d && slices.Contains(e.Direct, d) {
				implied = true
				break
			}
		}
		if !implied {
			out = append(out, d)
		}
	}
	return out
}

// checkCached fails, naming the first missing module, unless every pin
// buf.lock needs is in the cache.
func checkCached(ws *workspace.Workspace, openCache func() (*cache.Cache, error)) error {
	lf, err := lock.Read(ws.Root)
	if err != nil || lf.Version != lock.V2 || len(lf.Deps) == 0 {
		return nil // deps.Resolve reports these cases
	}
	local := map[bufname.FullName]bool{}
	for _, m := range ws.Modules {
		local[m.Name()] = true
	}
	c, err := openCache()
	if err != nil {
		return err
	}
	var missing []string
	for _, d := range lf.Deps {
		if local[d.Name] {
			continue
		}
		if _, ok, err := c.Get(d.Key()); err != nil {
			return err
		} else if !ok {
			missing = append(missing, d.Key().String())
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%s is not in the module cache at %s; dep graph works offline: run \"protomod dep update\" (or \"protomod build\") to download it", missing[0], c.Dir)
	default:
		return fmt.Errorf("%d pinned modules are not in the module cache at %s (%s); dep graph works offline: run \"protomod dep update\" (or \"protomod build\") to download them", len(missing), c.Dir, strings.Join(missing, ", "))
	}
}

// DOT returns the graph in Graphviz DOT, like the reference CLI's dep graph:
// the edges depth-first from each module nothing depends on, one
// "from" -> "to" line each, then the modules without edges.
func (g *ModuleGraph) DOT() string {
	var lines []string
	hasParent := map[*GraphNode]bool{}
	for _, n := range g.Nodes {
		for _, d := range n.Deps {
			hasParent[d] = true
		}
	}
	visited := map[*GraphNode]bool{}
	var visit func(n *GraphNode)
	visit = func(n *GraphNode) {
		if visited[n] {
			return
		}
		visited[n] = true
		for _, d := range n.Deps {
			lines = append(lines, fmt.Sprintf("%q -> %q", n.Label(), d.Label()))
			visit(d)
		}
	}
	for _, n := range g.Nodes {
		if !hasParent[n] && len(n.Deps) > 0 {
			visit(n)
		}
	}
	for _, n := range g.Nodes {
		if !hasParent[n] && len(n.Deps) == 0 {
			lines = append(lines, fmt.Sprintf("%q", n.Label()))
		}
	}
	if len(lines) == 0 {
		return "digraph {}\n"
	}
	var b strings.Builder
	b.WriteString("digraph {\n\n")
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	b.WriteString("\n}\n")
	return b.String()
}

// jsonModule is the JSON form of a node, as the reference CLI writes it.
type jsonModule struct {
	Name   string       `json:"name,omitempty"`
	Commit string       `json:"commit,omitempty"`
	Digest string       `json:"digest,omitempty"`
	Deps   []jsonModule `json:"deps,omitempty"`
	Local  bool         `json:"local,omitempty"`
}

func toJSON(n *GraphNode) jsonModule {
	m := jsonModule{Name: n.Name, Commit: n.Commit, Digest: n.Digest, Local: n.Local}
	for _, d := range n.Deps {
		m.Deps = append(m.Deps, toJSON(d))
	}
	return m
}

// JSON returns the graph as one JSON array line: every module sorted by
// name, each with its dependencies nested.
func (g *ModuleGraph) JSON() (string, error) {
	mods := make([]jsonModule, len(g.Nodes))
	for i, n := range g.Nodes {
		mods[i] = toJSON(n)
	}
	slices.SortStableFunc(mods, func(a, b jsonModule) int { return strings.Compare(a.Name, b.Name) })
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(mods); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Text returns the graph as indented trees, one per module that nothing in
// the graph depends on. A module shown before is marked "(see above)"
// instead of being expanded again.
func (g *ModuleGraph) Text() string {
	hasParent := map[*GraphNode]bool{}
	for _, n := range g.Nodes {
		for _, d := range n.Deps {
			hasParent[d] = true
		}
	}
	var b strings.Builder
	shown := map[*GraphNode]bool{}
	var walk func(n *GraphNode, prefix string, last bool, root bool)
	walk = func(n *GraphNode, prefix string, last, root bool) {
		line := n.Label()
		if n.Local {
			line += " (workspace)"
		}
		childPrefix := prefix
		switch {
		case root:
		case last:
			b.WriteString(prefix + "└── ")
			childPrefix += "    "
		default:
			b.WriteString(prefix + "├── ")
			childPrefix += "│   "
		}
		if shown[n] && len(n.Deps) > 0 {
			b.WriteString(line + " (see above)\n")
			return
		}
		shown[n] = true
		b.WriteString(line + "\n")
		for i, d := range n.Deps {
			walk(d, childPrefix, i == len(n.Deps)-1, false)
		}
	}
	for _, n := range g.Nodes {
		if !hasParent[n] {
			walk(n, "", true, true)
		}
	}
	return b.String()
}
