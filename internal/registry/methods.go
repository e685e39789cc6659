package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/module/v1/modulev1connect"
	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/owner/v1/ownerv1connect"
	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	ownerv1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/owner/v1"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/credentials"
	registryv1alpha1 "github.com/protomod/protomod/internal/gen/buf/alpha/registry/v1alpha1"
	"github.com/protomod/protomod/internal/gen/buf/alpha/registry/v1alpha1/registryv1alpha1connect"
)

// GetCommits resolves refs, which must all name modules of one registry, to
// one commit each, in order. A ref's empty Ref means the module's default
// label; it is sent as a present but empty ref, like the reference CLI does.
func (c *Client) GetCommits(ctx context.Context, refs []bufname.Ref) ([]*modulev1.Commit, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	names := make([]bufname.FullName, len(refs))
	req := &modulev1.GetCommitsRequest{ResourceRefs: make([]*modulev1.ResourceRef, len(refs))}
	for i, r := range refs {
		names[i] = r.FullName
		req.ResourceRefs[i] = nameRef(r.FullName, r.Ref)
	}
	registry, err := oneRegistry("GetCommits", names)
	if err != nil {
		return nil, err
	}
	const procedure = modulev1connect.CommitServiceGetCommitsProcedure
	r := c.remote(registry)
	res, err := call(ctx, c, callSpec{remote: r, procedure: procedure, retry: true}, r.commits.GetCommits, req)
	if err != nil {
		return nil, err
	}
	if err := checkCommits(registry, procedure, len(refs), res.GetCommits()); err != nil {
		return nil, err
	}
	return res.GetCommits(), nil
}

// GetGraph returns the graph of the given commits and everything reachable
// from them. The keys must all be on one registry.
func (c *Client) GetGraph(ctx context.Context, keys []bufname.ModuleKey) (*modulev1.Graph, error) {
	if len(keys) == 0 {
		return &modulev1.Graph{}, nil
	}
	names := make([]bufname.FullName, len(keys))
	req := &modulev1.GetGraphRequest{ResourceRefs: make([]*modulev1.ResourceRef, len(keys))}
	for i, k := range keys {
		names[i] = k.FullName
		req.ResourceRefs[i] = nameRef(k.FullName, k.CommitID)
	}
	registry, err := oneRegistry("GetGraph", names)
	if err != nil {
		return nil, err
	}
	const procedure = modulev1connect.GraphServiceGetGraphProcedure
	r := c.remote(registry)
	res, err := call(ctx, c, callSpec{remote: r, procedure: procedure, retry: true}, r.graph.GetGraph, req)
	if err != nil {
		return nil, err
	}
	g := res.GetGraph()
	if g == nil {
		return nil, violation(registry, procedure, "the registry %s answered GetGraph without a graph", registry)
	}
	for _, commit := range g.GetCommits() {
		if err := checkCommit(registry, procedure, commit); err != nil {
			return nil, err
		}
	}
	for _, edge := range g.GetEdges() {
		for _, node := range []*modulev1.Graph_Node{edge.GetFromNode(), edge.GetToNode()} {
			id, err := bufname.ParseCommitID(node.GetCommitId())
			if err != nil {
				return nil, violation(registry, procedure,
					"the registry %s returned a graph edge with an invalid commit ID: %v", registry, err)
			}
			node.CommitId = id
		}
	}
	return g, nil
}

// GetModulesByID returns the modules with the given IDs on registry, in
// order.
func (c *Client) GetModulesByID(ctx context.Context, registry string, ids []string) ([]*modulev1.Module, error) {
	refs := make([]*modulev1.ModuleRef, len(ids))
	for i, id := range ids {
		refs[i] = &modulev1.ModuleRef{Value: &modulev1.ModuleRef_Id{Id: id}}
	}
	return c.getModules(ctx, registry, refs)
}

// GetModulesByName returns the named modules, which must all be on one
// registry, in order. A missing module fails the call with the registry's
// not_found message.
func (c *Client) GetModulesByName(ctx context.Context, names []bufname.FullName) ([]*modulev1.Module, error) {
	if len(names) == 0 {
		return nil, nil
	}
	registry, err := oneRegistry("GetModules", names)
	if err != nil {
		return nil, err
	}
	refs := make([]*modulev1.ModuleRef, len(names))
	for i, n := range names {
		refs[i] = &modulev1.ModuleRef{Value: &modulev1.ModuleRef_Name_{
			Name: &modulev1.ModuleRef_Name{Owner: n.Owner, Module: n.Name},
		}}
	}
	return c.getModules(ctx, registry, refs)
}

func (c *Client) getModules(ctx context.Context, registry string, refs []*modulev1.ModuleRef) ([]*modulev1.Module, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	const procedure = modulev1connect.ModuleServiceGetModulesProcedure
	r := c.remote(registry)
	res, err := call(ctx, c, callSpec{remote: r, procedure: procedure, retry: true},
		r.modules.GetModules, &modulev1.GetModulesRequest{ModuleRefs: refs})
	if err != nil {
		return nil, err
	}
	if err := checkCount(registry, procedure, "Modules", len(refs), len(res.GetModules())); err != nil {
		return nil, err
	}
	return res.GetModules(), nil
}

// GetOwnersByID returns the owners (users or organizations) with the given
// IDs on registry, in order.
func (c *Client) GetOwnersByID(ctx context.Context, registry string, ids []string) ([]*ownerv1.Owner, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	refs := make([]*ownerv1.OwnerRef, len(ids))
	for i, id := range ids {
		refs[i] = &ownerv1.OwnerRef{Value: &ownerv1.OwnerRef_Id{Id: id}}
	}
	const procedure = ownerv1connect.OwnerServiceGetOwnersProcedure
	r := c.remote(registry)
	res, err := call(ctx, c, callSpec{remote: r, procedure: procedure, retry: true},
		r.owners.GetOwners, &ownerv1.GetOwnersRequest{OwnerRefs: refs})
	if err != nil {
		return nil, err
	}
	if err := checkCount(registry, procedure, "Owners", len(ids), len(res.GetOwners())); err != nil {
		return nil, err
	}
	return res.GetOwners(), nil
}

// Download returns the files of the given commits on registry, one content
// per commit ID, in order.
func (c *Client) Download(ctx context.Context, registry string, commitIDs []string) ([]*modulev1.DownloadResponse_Content, error) {
	if len(commitIDs) == 0 {
		return nil, nil
	}
	req := &modulev1.DownloadRequest{Values: make([]*modulev1.DownloadRequest_Value, len(commitIDs))}
	for i, id := range commitIDs {
		req.Values[i] = &modulev1.DownloadRequest_Value{
			ResourceRef: &modulev1.ResourceRef{Value: &modulev1.ResourceRef_Id{Id: id}},
		}
	}
	const procedure = modulev1connect.DownloadServiceDownloadProcedure
	r := c.remote(registry)
	res, err := call(ctx, c, callSpec{remote: r, procedure: procedure, retry: true}, r.download.Download, req)
	if err != nil {
		return nil, err
	}
	if err := checkCount(registry, procedure, "Contents", len(commitIDs), len(res.GetContents())); err != nil {
		return nil, err
	}
	for _, content := range res.GetContents() {
		if err := checkCommit(registry, procedure, content.GetCommit()); err != nil {
			return nil, err
		}
	}
	return res.GetContents(), nil
}

// Upload pushes req to registry and returns one commit per content, in
// order. It is never retried: a lost answer does not mean a lost upload.
func (c *Client) Upload(ctx context.Context, registry string, req *modulev1.UploadRequest) ([]*modulev1.Commit, error) {
	const procedure = modulev1connect.UploadServiceUploadProcedure
	r := c.remote(registry)
	res, err := call(ctx, c, callSpec{remote: r, procedure: procedure}, r.upload.Upload, req)
	if err != nil {
		return nil, err
	}
	if err := checkCommits(registry, procedure, len(req.GetContents()), res.GetCommits()); err != nil {
		return nil, err
	}
	return res.GetCommits(), nil
}

// CreateModules creates the modules of req on registry and returns them in
// order. It is never retried.
func (c *Client) CreateModules(ctx context.Context, registry string, req *modulev1.CreateModulesRequest) ([]*modulev1.Module, error) {
	const procedure = modulev1connect.ModuleServiceCreateModulesProcedure
	r := c.remote(registry)
	res, err := call(ctx, c, callSpec{remote: r, procedure: procedure}, r.modules.CreateModules, req)
	if err != nil {
		return nil, err
	}
	if err := checkCount(registry, procedure, "Modules", len(req.GetValues()), len(res.GetModules())); err != nil {
		return nil, err
	}
	return res.GetModules(), nil
}

// GetCurrentUser asks registry which user token belongs to, sending only
// token (never BUF_TOKEN or .netrc credentials). It is the check of
// `registry login`: an unavailable registry gives the usual unavailable
// error; any other failure gives "invalid token provided for <registry>".
func (c *Client) GetCurrentUser(ctx context.Context, registry, token string) (*registryv1alpha1.User, error) {
	const procedure = registryv1alpha1connect.AuthnServiceGetCurrentUserProcedure
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("token cannot be empty string")
	}
	r := c.remote(registry)
	tok := credentials.Token{Value: token}
	res, err := call(ctx, c, callSpec{remote: r, procedure: procedure, retry: true, token: &tok},
		r.authn.GetCurrentUser, &registryv1alpha1.GetCurrentUserRequest{})
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code == connect.CodeUnavailable {
			return nil, err
		}
		return nil, &Error{Registry: registry, Procedure: procedure, Code: connect.CodeOf(err),
			msg: "invalid token provided for " + registry, err: err}
	}
	if res.GetUser() == nil {
		return nil, violation(registry, procedure,
			"the registry %s answered GetCurrentUser without a user; the registry is faulty", registry)
	}
	return res.GetUser(), nil
}

func nameRef(name bufname.FullName, ref string) *modulev1.ResourceRef {
	return &modulev1.ResourceRef{Value: &modulev1.ResourceRef_Name_{Name: &modulev1.ResourceRef_Name{
		Owner:  name.Owner,
		Module: name.Name,
		Child:  &modulev1.ResourceRef_Name_Ref{Ref: ref},
	}}}
}

// oneRegistry returns the registry shared by names.
func oneRegistry(method string, names []bufname.FullName) (string, error) {
	registry := names[0].Registry
	for _, n := range names[1:] {
		if n.Registry != registry {
			return "", fmt.Errorf("%s: modules of registries %s and %s cannot be asked for in one request",
				method, registry, n.Registry)
		}
	}
	if err := bufname.ValidateRegistry(registry); err != nil {
		return "", fmt.Errorf("%s: registry %q is not a valid hostname: %w", method, registry, err)
	}
	return registry, nil
}

func checkCount(registry, procedure, what string, want, got int) error {
	if want != got {
		return violation(registry, procedure, "expected %d %s, got %d", want, what, got)
	}
	return nil
}

func checkCommits(registry, procedure string, want int, commits []*modulev1.Commit) error {
	if err := checkCount(registry, procedure, "Commits", want, len(commits)); err != nil {
		return err
	}
	for _, commit := range commits {
		if err := checkCommit(registry, procedure, commit); err != nil {
			return err
		}
	}
	return nil
}

// checkCommit validates (and lowercases) a commit's ID.
func checkCommit(registry, procedure string, commit *modulev1.Commit) error {
	if commit == nil {
		return violation(registry, procedure, "the registry %s returned an empty commit", registry)
	}
	id, err := bufname.ParseCommitID(commit.GetId())
	if err != nil {
		return violation(registry, procedure, "the registry %s returned an invalid commit ID: %v", registry, err)
	}
	commit.Id = id
	return nil
}
