package fetch

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/lock"
	"github.com/protomod/protomod/internal/registry"
)

// Graph is a registry's commit graph for some commits and everything they
// depend on, with every node named.
type Graph struct {
	// Registry is the registry host all nodes live on.
	Registry string
	nodes    map[string]*Node // by commit ID
}

// Node is one commit of a Graph.
type Node struct {
	// Pin is the commit's full name, commit ID and b5 digest.
	Pin lock.Dep
	// ModuleID and OwnerID are the registry's IDs of the commit's module
	// and owner.
	ModuleID, OwnerID string
	// Deps are the commits this one depends on directly (the graph's
	// edges), sorted by name.
	Deps []*Node
}

// Node returns the node of a commit, or nil.
func (g *Graph) Node(commitID string) *Node { return g.nodes[commitID] }

// Nodes returns every node, sorted by full name, then commit ID.
func (g *Graph) Nodes() []*Node {
	out := make([]*Node, 0, len(g.nodes))
	for _, n := range g.nodes {
		out = append(out, n)
	}
	slices.SortFunc(out, compareNodes)
	return out
}

func compareNodes(a, b *Node) int {
	return cmp.Or(strings.Compare(a.Pin.Name.String(), b.Pin.Name.String()), strings.Compare(a.Pin.Commit, b.Pin.Commit))
}

// Closure returns every commit reachable from commitID, without commitID
// itself, sorted by full name: the dependency list recorded for the commit
// in the module cache and hashed into its b5 digest.
func (g *Graph) Closure(commitID string) []lock.Dep {
	start := g.nodes[commitID]
	if start == nil {
		return nil
	}
	seen := map[*Node]bool{start: true}
	stack := []*Node{start}
	var out []lock.Dep
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, d := range n.Deps {
			if !seen[d] {
				seen[d] = true
				out = append(out, d.Pin)
				stack = append(stack, d)
			}
		}
	}
	lock.SortDeps(out)
	return out
}

// GetGraph asks a registry for the graph of keys, which must all be on one
// registry, in one GetGraph request, and names every node: from keys, from
// known (pins whose names are already known, such as buf.lock's), and for
// the rest with at most one GetModules and one GetOwners request by ID.
func GetGraph(ctx context.Context, client *registry.Client, keys []bufname.ModuleKey, known []lock.Dep) (*Graph, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("GetGraph: no commits asked for")
	}
	reg := keys[0].FullName.Registry
	res, err := client.GetGraph(ctx, keys)
	if err != nil {
		return nil, err
	}
	g := &Graph{Registry: reg, nodes: make(map[string]*Node, len(res.GetCommits()))}
	for _, c := range res.GetCommits() {
		d, err := wireDigest(c.GetDigest())
		if err != nil {
			return nil, faulty(reg, "returned commit %s with an unusable digest: %v", c.GetId(), err)
		}
		if _, dup := g.nodes[c.GetId()]; dup {
			return nil, faulty(reg, "returned commit %s twice in one graph", c.GetId())
		}
		g.nodes[c.GetId()] = &Node{
			Pin:      lock.Dep{Commit: c.GetId(), Digest: d},
			ModuleID: c.GetModuleId(),
			OwnerID:  c.GetOwnerId(),
		}
	}
	for _, e := range res.GetEdges() {
		from, to := g.nodes[e.GetFromNode().GetCommitId()], g.nodes[e.GetToNode().GetCommitId()]
		if from == nil || to == nil {
			return nil, faulty(reg, "returned a graph edge %s -> %s between commits that are not in the graph",
				e.GetFromNode().GetCommitId(), e.GetToNode().GetCommitId())
		}
		if from != to && !slices.Contains(from.Deps, to) {
			from.Deps = append(from.Deps, to)
		}
	}
	for _, k := range keys {
		if g.nodes[k.CommitID] == nil {
			return nil, faulty(reg, "returned a graph without the requested commit %s", k)
		}
	}
	if err := g.name(ctx, client, keys, known); err != nil {
		return nil, err
	}
	for _, n := range g.nodes {
		slices.SortFunc(n.Deps, compareNodes)
	}
	return g, nil
}

// name sets every node's full name.
func (g *Graph) name(ctx context.Context, client *registry.Client, keys []bufname.ModuleKey, known []lock.Dep) error {
	byCommit := make(map[string]bufname.FullName, len(keys)+len(known))
	for _, d := range known {
		if d.Name.Registry == g.Registry {
			byCommit[d.Commit] = d.Name
		}
	}
	for _, k := range keys {
		byCommit[k.CommitID] = k.FullName
	}
	modules := map[string]bufname.FullName{} // module ID → name
	owners := map[string]string{}            // owner ID → owner name
	var unnamed []*Node
	for _, n := range g.nodes {
		name, ok := byCommit[n.Pin.Commit]
		if !ok {
			unnamed = append(unnamed, n)
			continue
		}
		n.Pin.Name = name
		if n.ModuleID != "" {
			modules[n.ModuleID] = name
		}
		if n.OwnerID != "" {
			owners[n.OwnerID] = name.Owner
		}
	}
	if len(unnamed) == 0 {
		return nil
	}
	slices.SortFunc(unnamed, func(a, b *Node) int { return strings.Compare(a.Pin.Commit, b.Pin.Commit) })
	var moduleIDs []string
	for _, n := range unnamed {
		if n.ModuleID == "" {
			return faulty(g.Registry, "returned commit %s without a module ID", n.Pin.Commit)
		}
		if _, ok := modules[n.ModuleID]; !ok && !slices.Contains(moduleIDs, n.ModuleID) {
			moduleIDs = append(moduleIDs, n.ModuleID)
		}
	}
	if len(moduleIDs) > 0 {
		mods, err := client.GetModulesByID(ctx, g.Registry, moduleIDs)
		if err != nil {
			return err
		}
		var ownerIDs []string
		for _, m := range mods {
			if m.GetName() == "" || m.GetOwnerId() == "" {
				return faulty(g.Registry, "returned module %s without a name or owner", m.GetId())
			}
			if _, ok := owners[m.GetOwnerId()]; !ok && !slices.Contains(ownerIDs, m.GetOwnerId()) {
				ownerIDs = append(ownerIDs, m.GetOwnerId())
			}
		}
		if len(ownerIDs) > 0 {
			found, err := client.GetOwnersByID(ctx, g.Registry, ownerIDs)
			if err != nil {
				return err
			}
			for i, o := range found {
				name := o.GetUser().GetName()
				if name == "" {
					name = o.GetOrganization().GetName()
				}
				if name == "" {
					return faulty(g.Registry, "returned owner %s without a name", ownerIDs[i])
				}
				owners[ownerIDs[i]] = name
			}
		}
		for i, m := range mods {
			full := g.Registry + "/" + owners[m.GetOwnerId()] + "/" + m.GetName()
			name, err := bufname.ParseFullName(full)
			if err != nil {
				return faulty(g.Registry, "returned module %s with an invalid name: %v", moduleIDs[i], err)
			}
			modules[moduleIDs[i]] = name
		}
	}
	for _, n := range unnamed {
		n.Pin.Name = modules[n.ModuleID]
	}
	return nil
}

// wireDigest converts a digest as the API carries it.
func wireDigest(d *modulev1.Digest) (digest.Digest, error) {
	if d.GetType() != modulev1.DigestType_DIGEST_TYPE_B5 {
		return digest.Digest{}, fmt.Errorf("digest type %v, want b5", d.GetType())
	}
	return digest.FromBytes(digest.TypeB5, d.GetValue())
}

// FaultyRegistryError is a registry answer that breaks the API's rules.
type FaultyRegistryError struct {
	Registry string
	Msg      string
}

func (e *FaultyRegistryError) Error() string {
	return fmt.Sprintf("the registry %s %s; the registry is faulty, report it to its operators", e.Registry, e.Msg)
}

func faulty(registry, format string, args ...any) error {
	return &FaultyRegistryError{Registry: registry, Msg: fmt.Sprintf(format, args...)}
}
