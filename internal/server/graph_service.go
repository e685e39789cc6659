package server

import (
	"context"
	"fmt"

	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/module/v1/modulev1connect"
	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/store"
)

type graphService struct {
	modulev1connect.UnimplementedGraphServiceHandler
	s *Server
}

// GetGraph returns the requested commits and everything reachable from them,
// with edges from each commit to its direct dependencies. A module may
// appear only once in the graph.
func (h *graphService) GetGraph(ctx context.Context, req *connect.Request[modulev1.GetGraphRequest]) (*connect.Response[modulev1.GetGraphResponse], error) {
	refs := req.Msg.GetResourceRefs()
	if err := checkRefCount(len(refs), "resource references"); err != nil {
		return nil, err
	}
	g := newGraphBuilder(h.s)
	for _, ref := range refs {
		c, m, err := h.s.resolveCommit(ctx, ref)
		if err != nil {
			return nil, err
		}
		if err := g.add(ctx, c, m); err != nil {
			return nil, err
		}
	}
	return connect.NewResponse(&modulev1.GetGraphResponse{Graph: g.graph}), nil
}

type graphBuilder struct {
	s        *Server
	graph    *modulev1.Graph
	seen     map[string]bool   // commit IDs already in the graph
	byModule map[string]string // module ID -> commit ID in the graph
}

func newGraphBuilder(s *Server) *graphBuilder {
	return &graphBuilder{
		s:        s,
		graph:    &modulev1.Graph{},
		seen:     map[string]bool{},
		byModule: map[string]string{},
	}
}

// add puts c and everything reachable from it into the graph, breadth first.
func (g *graphBuilder) add(ctx context.Context, c store.Commit, m store.Module) error {
	if g.seen[c.ID] {
		return nil
	}
	if err := g.node(c, m); err != nil {
		return err
	}
	queue := []store.Commit{c}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		deps, err := g.s.store.CommitDeps(ctx, cur.ID)
		if err != nil {
			return g.s.internal(ctx, "read dependencies", err)
		}
		for _, depID := range deps.Direct {
			g.graph.Edges = append(g.graph.Edges, &modulev1.Graph_Edge{
				FromNode: &modulev1.Graph_Node{CommitId: cur.ID},
				ToNode:   &modulev1.Graph_Node{CommitId: depID},
			})
			if g.seen[depID] {
				continue
			}
			dc, dm, err := g.s.commitByID(ctx, depID)
			if err != nil {
				return err
			}
			if err := g.node(dc, dm); err != nil {
				return err
			}
			queue = append(queue, dc)
		}
	}
	return nil
}

func (g *graphBuilder) node(c store.Commit, m store.Module) error {
	if g.seen[c.ID] {
		return nil
	}
	if other, ok := g.byModule[c.ModuleID]; ok {
		return connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf(
			"module %s appears in the graph at two commits, %s and %s; a graph may hold only one commit per module, so update the dependencies to agree on one",
			m.FullName(), other, c.ID))
	}
	g.seen[c.ID] = true
	g.byModule[c.ModuleID] = c.ID
	g.graph.Commits = append(g.graph.Commits, commitProto(c))
	return nil
}
