package server

import (
	"context"

	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/owner/v1/ownerv1connect"
	ownerv1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/owner/v1"
	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	registryv1alpha1 "github.com/protomod/protomod/internal/gen/buf/alpha/registry/v1alpha1"
	"github.com/protomod/protomod/internal/gen/buf/alpha/registry/v1alpha1/registryv1alpha1connect"
)

type ownerService struct {
	ownerv1connect.UnimplementedOwnerServiceHandler
	s *Server
}

// GetOwners returns users and organizations by id or name, in request order.
// Owners are public: their names appear in every module name.
func (h *ownerService) GetOwners(ctx context.Context, req *connect.Request[ownerv1.GetOwnersRequest]) (*connect.Response[ownerv1.GetOwnersResponse], error) {
	refs := req.Msg.GetOwnerRefs()
	if err := checkRefCount(len(refs), "owner references"); err != nil {
		return nil, err
	}
	out := make([]*ownerv1.Owner, len(refs))
	for i, ref := range refs {
		o, err := h.s.ownerByRef(ctx, ref)
		if err != nil {
			return nil, err
		}
		out[i] = ownerProto(o)
	}
	return connect.NewResponse(&ownerv1.GetOwnersResponse{Owners: out}), nil
}

type authnService struct {
	registryv1alpha1connect.UnimplementedAuthnServiceHandler
	s *Server
}

// GetCurrentUser returns the user the request's token belongs to.
func (h *authnService) GetCurrentUser(ctx context.Context, _ *connect.Request[registryv1alpha1.GetCurrentUserRequest]) (*connect.Response[registryv1alpha1.GetCurrentUserResponse], error) {
	u, err := requireUser(ctx, "GetCurrentUser")
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&registryv1alpha1.GetCurrentUserResponse{User: &registryv1alpha1.User{
		Id:         u.ID,
		CreateTime: timestamppb.New(u.CreateTime),
		UpdateTime: timestamppb.New(u.UpdateTime),
		Username:   u.Name,
		UserType:   registryv1alpha1.UserType_USER_TYPE_PERSONAL,
	}}), nil
}
