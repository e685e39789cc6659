package server

import (
	"context"
	"errors"
	"fmt"

	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/module/v1/modulev1connect"
	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	ownerv1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/owner/v1"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/store"
)

type moduleService struct {
	modulev1connect.UnimplementedModuleServiceHandler
	s *Server
}

// GetModules returns modules by id or name, in request order.
func (h *moduleService) GetModules(ctx context.Context, req *connect.Request[modulev1.GetModulesRequest]) (*connect.Response[modulev1.GetModulesResponse], error) {
	refs := req.Msg.GetModuleRefs()
	if err := checkRefCount(len(refs), "module references"); err != nil {
		return nil, err
	}
	out := make([]*modulev1.Module, len(refs))
	for i, ref := range refs {
		m, err := h.s.moduleByRef(ctx, ref)
		if err != nil {
			return nil, err
		}
		out[i] = moduleProto(m)
	}
	return connect.NewResponse(&modulev1.GetModulesResponse{Modules: out}), nil
}

func (s *Server) moduleByRef(ctx context.Context, ref *modulev1.ModuleRef) (store.Module, error) {
	switch v := ref.GetValue().(type) {
	case *modulev1.ModuleRef_Id:
		return s.moduleByID(ctx, v.Id)
	case *modulev1.ModuleRef_Name_:
		return s.moduleByName(ctx, v.Name.GetOwner(), v.Name.GetModule())
	default:
		return store.Module{}, invalidArgf("a module reference needs an id or a name")
	}
}

// ListModules lists the modules the caller can see, optionally only those
// of some owners.
func (h *moduleService) ListModules(ctx context.Context, req *connect.Request[modulev1.ListModulesRequest]) (*connect.Response[modulev1.ListModulesResponse], error) {
	var ownerIDs []string
	for _, ref := range req.Msg.GetOwnerRefs() {
		o, err := h.s.ownerByRef(ctx, ref)
		if err != nil {
			return nil, err
		}
		ownerIDs = append(ownerIDs, o.ID)
	}
	size := int(req.Msg.GetPageSize())
	if size <= 0 {
		size = 10
	}
	page := store.Page{
		Size:  size,
		Token: req.Msg.GetPageToken(),
		Desc:  req.Msg.GetOrder() != modulev1.ListModulesRequest_ORDER_CREATE_TIME_ASC,
	}
	var out []*modulev1.Module
	for {
		modules, next, err := h.s.store.ListModules(ctx, ownerIDs, page)
		if err != nil {
			return nil, h.s.internal(ctx, "list modules", err)
		}
		for _, m := range modules {
			ok, err := h.s.canRead(ctx, m)
			if err != nil {
				return nil, h.s.internal(ctx, "check access", err)
			}
			if ok {
				out = append(out, moduleProto(m))
			}
		}
		// Hidden modules are skipped; keep reading so a page is not
		// short merely because of them.
		page.Token = next
		if next == "" || len(out) >= size {
			return connect.NewResponse(&modulev1.ListModulesResponse{Modules: out, NextPageToken: next}), nil
		}
	}
}

// CreateModules creates modules for owners the caller belongs to: all of
// them, or none if any fails.
func (h *moduleService) CreateModules(ctx context.Context, req *connect.Request[modulev1.CreateModulesRequest]) (*connect.Response[modulev1.CreateModulesResponse], error) {
	values := req.Msg.GetValues()
	if err := checkRefCount(len(values), "modules to create"); err != nil {
		return nil, err
	}
	if _, err := requireUser(ctx, "creating a module"); err != nil {
		return nil, err
	}
	ms := make([]store.Module, len(values))
	for i, v := range values {
		owner, err := h.s.ownerByRef(ctx, v.GetOwnerRef())
		if err != nil {
			return nil, err
		}
		if err := h.s.checkWrite(ctx, owner.ID, owner.Name, fmt.Sprintf("creating module %s/%s", owner.Name, v.GetName())); err != nil {
			return nil, err
		}
		vis := store.VisibilityPublic
		switch v.GetVisibility() {
		case modulev1.ModuleVisibility_MODULE_VISIBILITY_UNSPECIFIED, modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC:
		case modulev1.ModuleVisibility_MODULE_VISIBILITY_PRIVATE:
			vis = store.VisibilityPrivate
		default:
			return nil, invalidArgf("module %s/%s: unknown visibility %d", owner.Name, v.GetName(), v.GetVisibility())
		}
		ms[i] = store.Module{
			OwnerID:      owner.ID,
			OwnerName:    owner.Name,
			Name:         v.GetName(),
			Visibility:   vis,
			Description:  v.GetDescription(),
			URL:          v.GetUrl(),
			DefaultLabel: v.GetDefaultLabelName(),
		}
	}
	created, err := h.s.store.CreateModules(ctx, ms)
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		return nil, connect.NewError(connect.CodeAlreadyExists, err)
	case errors.Is(err, store.ErrInvalid):
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	case err != nil:
		return nil, h.s.internal(ctx, "create modules", err)
	}
	out := make([]*modulev1.Module, len(created))
	for i, m := range created {
		out[i] = moduleProto(m)
		h.s.log.InfoContext(ctx, "module created", "module", m.FullName(), "visibility", m.Visibility, "by", userFrom(ctx).Name)
	}
	return connect.NewResponse(&modulev1.CreateModulesResponse{Modules: out}), nil
}

// ownerByRef looks up a user or organization by id or name.
func (s *Server) ownerByRef(ctx context.Context, ref *ownerv1.OwnerRef) (store.Owner, error) {
	var o store.Owner
	var err error
	var what string
	switch v := ref.GetValue().(type) {
	case *ownerv1.OwnerRef_Id:
		what = v.Id
		o, err = s.store.OwnerByID(ctx, v.Id)
	case *ownerv1.OwnerRef_Name:
		what = v.Name
		o, err = s.store.OwnerByName(ctx, v.Name)
	default:
		return store.Owner{}, invalidArgf("an owner reference needs an id or a name")
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Owner{}, notFoundf("owner %s not found", what)
	}
	if err != nil {
		return store.Owner{}, s.internal(ctx, "look up owner", err)
	}
	return o, nil
}
