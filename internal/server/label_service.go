package server

import (
	"context"
	"errors"
	"strings"

	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/module/v1/modulev1connect"
	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/protomod/protomod/internal/store"
)

type labelService struct {
	modulev1connect.UnimplementedLabelServiceHandler
	s *Server
}

// GetLabels returns labels by id or by owner/module/label, in request order.
func (h *labelService) GetLabels(ctx context.Context, req *connect.Request[modulev1.GetLabelsRequest]) (*connect.Response[modulev1.GetLabelsResponse], error) {
	refs := req.Msg.GetLabelRefs()
	if err := checkRefCount(len(refs), "label references"); err != nil {
		return nil, err
	}
	out := make([]*modulev1.Label, len(refs))
	for i, ref := range refs {
		l, _, err := h.s.labelByRef(ctx, ref)
		if err != nil {
			return nil, err
		}
		out[i] = labelProto(l)
	}
	return connect.NewResponse(&modulev1.GetLabelsResponse{Labels: out}), nil
}

func (s *Server) labelByRef(ctx context.Context, ref *modulev1.LabelRef) (store.Label, store.Module, error) {
	switch v := ref.GetValue().(type) {
	case *modulev1.LabelRef_Id:
		notFound := notFoundf("label %s not found", v.Id)
		id, ok := normalizeID(v.Id)
		if !ok {
			return store.Label{}, store.Module{}, notFound
		}
		l, err := s.store.LabelByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return store.Label{}, store.Module{}, notFound
		}
		if err != nil {
			return store.Label{}, store.Module{}, s.internal(ctx, "look up label", err)
		}
		m, err := s.moduleByID(ctx, l.ModuleID)
		if isNotFound(err) {
			return store.Label{}, store.Module{}, notFound
		}
		return l, m, err
	case *modulev1.LabelRef_Name_:
		m, err := s.moduleByName(ctx, v.Name.GetOwner(), v.Name.GetModule())
		if err != nil {
			return store.Label{}, store.Module{}, err
		}
		r, err := s.resolveLabel(ctx, m, v.Name.GetLabel())
		return r.label, m, err
	default:
		return store.Label{}, store.Module{}, invalidArgf("a label reference needs an id or a name")
	}
}

// ListLabels lists a module's labels; for a label reference, that label;
// for a commit reference, the labels pointing at the commit.
func (h *labelService) ListLabels(ctx context.Context, req *connect.Request[modulev1.ListLabelsRequest]) (*connect.Response[modulev1.ListLabelsResponse], error) {
	r, err := h.s.resolve(ctx, req.Msg.GetResourceRef())
	if err != nil {
		return nil, err
	}
	if r.kind == kindLabel {
		return connect.NewResponse(&modulev1.ListLabelsResponse{Labels: []*modulev1.Label{labelProto(r.label)}}), nil
	}
	size := int(req.Msg.GetPageSize())
	if size <= 0 {
		size = 10
	}
	page := store.Page{
		Size:  size,
		Token: req.Msg.GetPageToken(),
		Desc:  req.Msg.GetOrder() != modulev1.ListLabelsRequest_ORDER_CREATE_TIME_ASC,
	}
	var out []*modulev1.Label
	for {
		labels, next, err := h.s.store.ListLabels(ctx, r.module.ID, page)
		if err != nil {
			return nil, h.s.pageError(ctx, "list labels", err)
		}
		for _, l := range labels {
			if r.kind == kindCommit && l.CommitID != r.commit.ID {
				continue
			}
			if q := req.Msg.GetNameQuery(); q != "" && !containsFold(l.Name, q) {
				continue
			}
			out = append(out, labelProto(l))
		}
		page.Token = next
		if next == "" || len(out) >= size {
			return connect.NewResponse(&modulev1.ListLabelsResponse{Labels: out, NextPageToken: next}), nil
		}
	}
}

// ListLabelHistory lists the commits a label has pointed to, newest first
// unless asked otherwise. Every push that moved the label appears once.
func (h *labelService) ListLabelHistory(ctx context.Context, req *connect.Request[modulev1.ListLabelHistoryRequest]) (*connect.Response[modulev1.ListLabelHistoryResponse], error) {
	l, _, err := h.s.labelByRef(ctx, req.Msg.GetLabelRef())
	if err != nil {
		return nil, err
	}
	page := store.Page{
		Size:  int(req.Msg.GetPageSize()),
		Token: req.Msg.GetPageToken(),
		Desc:  req.Msg.GetOrder() != modulev1.ListLabelHistoryRequest_ORDER_ASC,
	}
	moves, next, err := h.s.store.LabelHistory(ctx, l.ID, page)
	if err != nil {
		return nil, h.s.pageError(ctx, "list label history", err)
	}
	out := make([]*modulev1.ListLabelHistoryResponse_Value, 0, len(moves))
	for _, mv := range moves {
		c, err := h.s.store.CommitByID(ctx, mv.CommitID)
		if err != nil {
			return nil, h.s.internal(ctx, "look up commit", err)
		}
		pc := commitProto(c)
		out = append(out, &modulev1.ListLabelHistoryResponse_Value{Commit: pc, CommitCheckState: &modulev1.CommitCheckState{
			Status:     modulev1.CommitCheckStatus_COMMIT_CHECK_STATUS_DISABLED,
			UpdateTime: timestamppb.New(mv.Time),
		}})
	}
	return connect.NewResponse(&modulev1.ListLabelHistoryResponse{Values: out, NextPageToken: next}), nil
}

// pageError reports a bad page token as invalid_argument.
func (s *Server) pageError(ctx context.Context, op string, err error) error {
	if errors.Is(err, store.ErrInvalid) {
		return connect.NewError(connect.CodeInvalidArgument, err)
	}
	return s.internal(ctx, op, err)
}

func containsFold(s, substr string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(substr))
}
