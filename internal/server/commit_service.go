package server

import (
	"context"
	"strings"

	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/module/v1/modulev1connect"
	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/store"
)

// maxRefs caps the number of references in one request.
const maxRefs = 1000

type commitService struct {
	modulev1connect.UnimplementedCommitServiceHandler
	s *Server
}

func checkRefCount(n int, what string) error {
	if n == 0 {
		return invalidArgf("no %s given", what)
	}
	if n > maxRefs {
		return invalidArgf("%d %s given, at most %d are allowed in one request", n, what, maxRefs)
	}
	return nil
}

// GetCommits resolves each reference to a commit, in request order.
func (h *commitService) GetCommits(ctx context.Context, req *connect.Request[modulev1.GetCommitsRequest]) (*connect.Response[modulev1.GetCommitsResponse], error) {
	refs := req.Msg.GetResourceRefs()
	if err := checkRefCount(len(refs), "resource references"); err != nil {
		return nil, err
	}
	out := make([]*modulev1.Commit, len(refs))
	for i, ref := range refs {
		c, _, err := h.s.resolveCommit(ctx, ref)
		if err != nil {
			return nil, err
		}
		out[i] = commitProto(c)
	}
	return connect.NewResponse(&modulev1.GetCommitsResponse{Commits: out}), nil
}

// ListCommits lists a module's commits (newest first unless asked
// otherwise), or the one commit a label or commit reference names.
func (h *commitService) ListCommits(ctx context.Context, req *connect.Request[modulev1.ListCommitsRequest]) (*connect.Response[modulev1.ListCommitsResponse], error) {
	r, err := h.s.resolve(ctx, req.Msg.GetResourceRef())
	if err != nil {
		return nil, err
	}
	query := strings.ToLower(req.Msg.GetIdQuery())
	if r.kind != kindModule {
		c, err := h.s.commitOf(ctx, r)
		if err != nil {
			return nil, err
		}
		var out []*modulev1.Commit
		if strings.Contains(c.ID, query) {
			out = append(out, commitProto(c))
		}
		return connect.NewResponse(&modulev1.ListCommitsResponse{Commits: out}), nil
	}
	page := store.Page{
		Size:  int(req.Msg.GetPageSize()),
		Token: req.Msg.GetPageToken(),
		Desc:  req.Msg.GetOrder() != modulev1.ListCommitsRequest_ORDER_CREATE_TIME_ASC,
	}
	var out []*modulev1.Commit
	for {
		commits, next, err := h.s.store.ListCommits(ctx, r.module.ID, page)
		if err != nil {
			return nil, h.s.internal(ctx, "list commits", err)
		}
		for _, c := range commits {
			if strings.Contains(c.ID, query) {
				out = append(out, commitProto(c))
			}
		}
		// Without a filter, one page is one page; with one, keep reading
		// until the page is full or the list ends.
		page.Token = next
		if next == "" || query == "" || len(out) >= max(int(req.Msg.GetPageSize()), 1) {
			return connect.NewResponse(&modulev1.ListCommitsResponse{Commits: out, NextPageToken: next}), nil
		}
	}
}
