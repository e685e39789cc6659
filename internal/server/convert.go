package server

import (
	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	ownerv1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/owner/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/protomod/protomod/internal/store"
)

func commitProto(c store.Commit) *modulev1.Commit {
	return &modulev1.Commit{
		Id:               c.ID,
		CreateTime:       timestamppb.New(c.CreateTime),
		OwnerId:          c.OwnerID,
		ModuleId:         c.ModuleID,
		Digest:           &modulev1.Digest{Type: modulev1.DigestType_DIGEST_TYPE_B5, Value: c.Digest},
		CreatedByUserId:  c.CreatedByUserID,
		SourceControlUrl: c.SourceControlURL,
	}
}

func moduleProto(m store.Module) *modulev1.Module {
	return &modulev1.Module{
		Id:               m.ID,
		CreateTime:       timestamppb.New(m.CreateTime),
		UpdateTime:       timestamppb.New(m.UpdateTime),
		Name:             m.Name,
		OwnerId:          m.OwnerID,
		Visibility:       modulev1.ModuleVisibility(m.Visibility),
		State:            modulev1.ModuleState(m.State),
		Description:      m.Description,
		Url:              m.URL,
		DefaultLabelName: m.DefaultLabel,
	}
}

func labelProto(l store.Label) *modulev1.Label {
	return &modulev1.Label{
		Id:              l.ID,
		CreateTime:      timestamppb.New(l.CreateTime),
		UpdateTime:      timestamppb.New(l.UpdateTime),
		Name:            l.Name,
		OwnerId:         l.OwnerID,
		ModuleId:        l.ModuleID,
		CommitId:        l.CommitID,
		UpdatedByUserId: l.UpdatedByUserID,
	}
}

func ownerProto(o store.Owner) *ownerv1.Owner {
	if o.Kind == store.OwnerOrganization {
		return &ownerv1.Owner{Value: &ownerv1.Owner_Organization{Organization: &ownerv1.Organization{
			Id:         o.ID,
			CreateTime: timestamppb.New(o.CreateTime),
			UpdateTime: timestamppb.New(o.UpdateTime),
			Name:       o.Name,
		}}}
	}
	return &ownerv1.Owner{Value: &ownerv1.Owner_User{User: &ownerv1.User{
		Id:         o.ID,
		CreateTime: timestamppb.New(o.CreateTime),
		UpdateTime: timestamppb.New(o.UpdateTime),
		Name:       o.Name,
		Type:       ownerv1.UserType_USER_TYPE_STANDARD,
		State:      ownerv1.UserState_USER_STATE_ACTIVE,
	}}}
}
