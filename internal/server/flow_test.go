package server_test

import (
	"context"
	"encoding/hex"
	"testing"

	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	ownerv1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/owner/v1"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/digest"
	registryv1alpha1 "github.com/protomod/protomod/internal/gen/buf/alpha/registry/v1alpha1"
)

// The b5 digests of digests.md vector (vi): base, and dep (which imports base).
const (
	wantBaseB5 = "b5:fe9589f5fc4d871f94e31be428594013c97df07e5ae4d6adfb3c0a1fd795947bd74e72825143237bda978d29455dd36687a8547d847d3f03b66af937eb2e3694"
	wantDepB5  = "b5:f4c3a9513309e90f6003d019315f3283a979904b1d982f6b6270800215e02705a2b4cfdadd859d07ded6ba2e988293c125b9c481130f55a9126c2537754ff2ba"
)

func digestString(t *testing.T, d *modulev1.Digest) string {
	t.Helper()
	if d.GetType() != modulev1.DigestType_DIGEST_TYPE_B5 {
		t.Fatalf("digest type %v, want B5", d.GetType())
	}
	dd, err := digest.FromBytes(digest.TypeB5, d.GetValue())
	if err != nil {
		t.Fatal(err)
	}
	return dd.String()
}

// TestPushResolveGraphDownload pushes base and dep (dep imports base) in
// separate uploads and in one, resolves them by label, commit ID and
// default, and checks that every served digest is the b5 of the downloaded
// files and the graph's closure.
func TestPushResolveGraphDownload(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tok := e.user("alice")
	e.org("acme", "alice")
	c := e.client(tok)
	for _, name := range []string{"base", "dep", "base2", "dep2"} {
		c.createModule(t, "acme", name, modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC)
	}
	baseFiles, depFiles := readModule(t, "base"), readModule(t, "dep")

	// Separate uploads: base, then dep with base as a dep commit.
	base := c.mustPush(t, nil, content{owner: "acme", module: "base", files: baseFiles})[0]
	dep := c.mustPush(t, []string{base.Id}, content{owner: "acme", module: "dep", files: depFiles, labels: []string{"v1"}})[0]
	if got := digestString(t, base.Digest); got != wantBaseB5 {
		t.Errorf("base digest = %s, want %s", got, wantBaseB5)
	}
	if got := digestString(t, dep.Digest); got != wantDepB5 {
		t.Errorf("dep digest = %s, want %s", got, wantDepB5)
	}
	if len(base.Id) != 32 || !isLowerHex(base.Id) {
		t.Errorf("commit id %q is not 32 lowercase hex characters", base.Id)
	}

	// One upload with both: the server finds dep2 -> base2 from imports.
	both := c.mustPush(t, nil,
		content{owner: "acme", module: "base2", files: baseFiles},
		content{owner: "acme", module: "dep2", files: depFiles})
	if got := digestString(t, both[0].Digest); got != wantBaseB5 {
		t.Errorf("base2 digest = %s, want %s", got, wantBaseB5)
	}
	if got := digestString(t, both[1].Digest); got != wantDepB5 {
		t.Errorf("dep2 digest = %s, want %s", got, wantDepB5)
	}

	// Resolution: dep was pushed with label v1 only, so it has no default
	// label yet; base has main.
	anon := e.client("")
	for _, tc := range []struct {
		name string
		ref  *modulev1.ResourceRef
		want string
	}{
		{"empty ref is the default label", nameRef("acme", "base", ""), base.Id},
		{"label by ref", nameRef("acme", "dep", "v1"), dep.Id},
		{"label by label_name", labelNameRef("acme", "dep", "v1"), dep.Id},
		{"commit id as ref", nameRef("acme", "dep", dep.Id), dep.Id},
		{"commit id", idRef(dep.Id), dep.Id},
		{"dashed commit id", idRef(dashed(dep.Id)), dep.Id},
		{"default label of dep2", nameRef("acme", "dep2", ""), both[1].Id},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := anon.commit.GetCommits(ctx, connect.NewRequest(&modulev1.GetCommitsRequest{ResourceRefs: []*modulev1.ResourceRef{tc.ref}}))
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Msg.Commits) != 1 || resp.Msg.Commits[0].Id != tc.want {
				t.Fatalf("got %v, want commit %s", resp.Msg.Commits, tc.want)
			}
		})
	}
	_, err := anon.commit.GetCommits(ctx, connect.NewRequest(&modulev1.GetCommitsRequest{ResourceRefs: []*modulev1.ResourceRef{nameRef("acme", "dep", "")}}))
	wantCode(t, err, connect.CodeNotFound, `module acme/dep has no commits yet (its default label "main" does not exist)`)
	_, err = anon.commit.GetCommits(ctx, connect.NewRequest(&modulev1.GetCommitsRequest{ResourceRefs: []*modulev1.ResourceRef{nameRef("acme", "nope", "")}}))
	wantCode(t, err, connect.CodeNotFound, "module acme/nope not found")

	// Several refs keep request order.
	resp, err := anon.commit.GetCommits(ctx, connect.NewRequest(&modulev1.GetCommitsRequest{ResourceRefs: []*modulev1.ResourceRef{
		nameRef("acme", "dep2", ""), nameRef("acme", "base", ""), idRef(dep.Id),
	}}))
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(resp.Msg.Commits); !equal(got, []string{both[1].Id, base.Id, dep.Id}) {
		t.Errorf("GetCommits order = %v", got)
	}

	// GetGraph, Download and the digest invariant, for each dep commit.
	for _, top := range []*modulev1.Commit{dep, both[1]} {
		checkDigestInvariant(t, anon, top.Id)
	}

	// GetModules and GetOwners by id name the graph's nodes.
	mresp, err := anon.module.GetModules(ctx, connect.NewRequest(&modulev1.GetModulesRequest{ModuleRefs: []*modulev1.ModuleRef{
		{Value: &modulev1.ModuleRef_Id{Id: base.ModuleId}}, moduleRef("acme", "dep"),
	}}))
	if err != nil {
		t.Fatal(err)
	}
	if mresp.Msg.Modules[0].Name != "base" || mresp.Msg.Modules[1].Name != "dep" || mresp.Msg.Modules[0].DefaultLabelName != "main" {
		t.Errorf("GetModules = %v", mresp.Msg.Modules)
	}
	oresp, err := anon.owner.GetOwners(ctx, connect.NewRequest(&ownerv1.GetOwnersRequest{OwnerRefs: []*ownerv1.OwnerRef{
		{Value: &ownerv1.OwnerRef_Id{Id: base.OwnerId}},
	}}))
	if err != nil {
		t.Fatal(err)
	}
	if got := oresp.Msg.Owners[0].GetOrganization().GetName(); got != "acme" {
		t.Errorf("GetOwners = %v", oresp.Msg.Owners)
	}

	// GetCurrentUser names the token's user.
	uresp, err := c.authn.GetCurrentUser(ctx, connect.NewRequest(&registryv1alpha1.GetCurrentUserRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if uresp.Msg.GetUser().GetUsername() != "alice" {
		t.Errorf("GetCurrentUser = %v", uresp.Msg)
	}
	_, err = anon.authn.GetCurrentUser(ctx, connect.NewRequest(&registryv1alpha1.GetCurrentUserRequest{}))
	wantCode(t, err, connect.CodeUnauthenticated, "")
}

// checkDigestInvariant downloads a commit's graph and files and checks that
// every node's digest is the b5 of its files and its closure's digests.
func checkDigestInvariant(t *testing.T, c *clients, commitID string) {
	t.Helper()
	ctx := context.Background()
	g, err := c.graph.GetGraph(ctx, connect.NewRequest(&modulev1.GetGraphRequest{ResourceRefs: []*modulev1.ResourceRef{idRef(commitID)}}))
	if err != nil {
		t.Fatalf("GetGraph: %v", err)
	}
	nodes := map[string]*modulev1.Commit{}
	modules := map[string]bool{}
	for _, n := range g.Msg.Graph.Commits {
		nodes[n.Id] = n
		if modules[n.ModuleId] {
			t.Errorf("module %s appears twice in the graph", n.ModuleId)
		}
		modules[n.ModuleId] = true
	}
	if nodes[commitID] == nil {
		t.Fatalf("graph lacks the requested commit %s", commitID)
	}
	edges := map[string][]string{}
	for _, e := range g.Msg.Graph.Edges {
		from, to := e.FromNode.CommitId, e.ToNode.CommitId
		if nodes[from] == nil || nodes[to] == nil {
			t.Fatalf("edge %s -> %s names a commit outside the graph", from, to)
		}
		edges[from] = append(edges[from], to)
	}
	for id, node := range nodes {
		// The closure of node through the edges.
		seen := map[string]bool{}
		stack := []string{id}
		for len(stack) > 0 {
			cur := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, to := range edges[cur] {
				if !seen[to] {
					seen[to] = true
					stack = append(stack, to)
				}
			}
		}
		var depDigests []digest.Digest
		for dep := range seen {
			d, err := digest.FromBytes(digest.TypeB5, nodes[dep].Digest.Value)
			if err != nil {
				t.Fatal(err)
			}
			depDigests = append(depDigests, d)
		}
		dl, err := c.download.Download(ctx, connect.NewRequest(&modulev1.DownloadRequest{Values: []*modulev1.DownloadRequest_Value{{ResourceRef: idRef(id)}}}))
		if err != nil {
			t.Fatalf("Download %s: %v", id, err)
		}
		if got := dl.Msg.Contents[0].Commit.Id; got != id {
			t.Fatalf("Download returned commit %s, want %s", got, id)
		}
		var files []digest.File
		for _, f := range dl.Msg.Contents[0].Files {
			files = append(files, digest.File{Path: f.Path, Content: f.Content})
		}
		if sel := digest.Select(files); len(sel) != len(files) {
			t.Errorf("commit %s: Download returned files outside the digest set", id)
		}
		got, err := digest.B5(files, depDigests)
		if err != nil {
			t.Fatal(err)
		}
		if want := digestString(t, node.Digest); got.String() != want {
			t.Errorf("commit %s: served digest %s, recomputed from download %s", id, want, got)
		}
	}
}

func ids(commits []*modulev1.Commit) []string {
	out := make([]string, len(commits))
	for i, c := range commits {
		out[i] = c.Id
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	_, err := hex.DecodeString(s)
	for _, r := range s {
		if r >= 'A' && r <= 'F' {
			return false
		}
	}
	return err == nil
}

func dashed(id string) string {
	return id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
}
