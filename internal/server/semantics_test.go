package server_test

import (
	"context"
	"testing"

	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	ownerv1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/owner/v1"
	"connectrpc.com/connect"
)

func protoFile(body string) map[string]string {
	return map[string]string{"m/v1/m.proto": "syntax = \"proto3\";\npackage m.v1;\n" + body}
}

func (c *clients) resolve(t *testing.T, ref *modulev1.ResourceRef) string {
	t.Helper()
	resp, err := c.commit.GetCommits(context.Background(), connect.NewRequest(&modulev1.GetCommitsRequest{ResourceRefs: []*modulev1.ResourceRef{ref}}))
	if err != nil {
		t.Fatalf("GetCommits: %v", err)
	}
	return resp.Msg.Commits[0].Id
}

func (c *clients) history(t *testing.T, owner, module, label string) []string {
	t.Helper()
	resp, err := c.label.ListLabelHistory(context.Background(), connect.NewRequest(&modulev1.ListLabelHistoryRequest{
		LabelRef: &modulev1.LabelRef{Value: &modulev1.LabelRef_Name_{Name: &modulev1.LabelRef_Name{Owner: owner, Module: module, Label: label}}},
		Order:    modulev1.ListLabelHistoryRequest_ORDER_ASC,
		PageSize: 100,
	}))
	if err != nil {
		t.Fatalf("ListLabelHistory: %v", err)
	}
	var out []string
	for _, v := range resp.Msg.Values {
		out = append(out, v.Commit.Id)
	}
	return out
}

// TestLabels covers label semantics: a push without labels moves the
// default label, labels given move only themselves, identical pushes return
// the existing commit, a commit ID wins over a label with the same name.
func TestLabels(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tok := e.user("alice")
	c := e.client(tok)
	c.createModule(t, "alice", "m", modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC)
	push := func(body string, labels ...string) string {
		return c.mustPush(t, nil, content{owner: "alice", module: "m", files: protoFile(body), labels: labels})[0].Id
	}
	def := func() string { return c.resolve(t, nameRef("alice", "m", "")) }
	lbl := func(l string) string { return c.resolve(t, labelNameRef("alice", "m", l)) }

	c1 := push("message A {}")
	if def() != c1 {
		t.Fatalf("default label not at the first push")
	}
	c2 := push("message B {}", "draft")
	if def() != c1 || lbl("draft") != c2 {
		t.Errorf("a labelled push moved the default label (or missed its own)")
	}
	c3 := push("message C {}", "v1", "v2")
	if def() != c1 || lbl("v1") != c3 || lbl("v2") != c3 || lbl("draft") != c2 {
		t.Errorf("labels v1, v2 should be at %s only", c3)
	}
	// Identical content returns the existing commit and moves the label to it.
	if again := push("message A {}", "draft"); again != c1 {
		t.Errorf("identical push made commit %s, want the existing %s", again, c1)
	}
	if lbl("draft") != c1 {
		t.Errorf("draft did not move to the existing commit")
	}
	if again := push("message A {}"); again != c1 {
		t.Errorf("identical default push made %s, want %s", again, c1)
	}
	if got := c.history(t, "alice", "m", "main"); !equal(got, []string{c1}) {
		t.Errorf("main history = %v, want only %s (a push that changes nothing adds no entry)", got, c1)
	}
	if got := c.history(t, "alice", "m", "draft"); !equal(got, []string{c2, c1}) {
		t.Errorf("draft history = %v, want [%s %s]", got, c2, c1)
	}
	// A label named like a commit ID: the commit wins for ref, the label
	// for label_name.
	c4 := push("message D {}", c3)
	if got := c.resolve(t, nameRef("alice", "m", c3)); got != c3 {
		t.Errorf("ref %s resolved to %s, want the commit itself", c3, got)
	}
	if got := lbl(c3); got != c4 {
		t.Errorf("label_name %s resolved to %s, want %s", c3, got, c4)
	}
	// ListCommits lists newest first by default; by label it is one commit.
	resp, err := c.commit.ListCommits(ctx, connect.NewRequest(&modulev1.ListCommitsRequest{ResourceRef: nameRef("alice", "m", "")}))
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(resp.Msg.Commits); !equal(got, []string{c4, c3, c2, c1}) {
		t.Errorf("ListCommits = %v", got)
	}
	resp, err = c.commit.ListCommits(ctx, connect.NewRequest(&modulev1.ListCommitsRequest{ResourceRef: labelNameRef("alice", "m", "v1")}))
	if err != nil || !equal(ids(resp.Msg.Commits), []string{c3}) {
		t.Errorf("ListCommits by label = %v, %v", resp, err)
	}
	// ListLabels by commit lists the labels pointing at it.
	lresp, err := c.label.ListLabels(ctx, connect.NewRequest(&modulev1.ListLabelsRequest{ResourceRef: idRef(c3), Order: modulev1.ListLabelsRequest_ORDER_CREATE_TIME_ASC}))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range lresp.Msg.Labels {
		names = append(names, l.Name)
	}
	if !equal(names, []string{"v1", "v2"}) {
		t.Errorf("labels of %s = %v", c3, names)
	}
	// A ref naming nothing.
	_, err = c.commit.GetCommits(ctx, connect.NewRequest(&modulev1.GetCommitsRequest{ResourceRefs: []*modulev1.ResourceRef{nameRef("alice", "m", "v9")}}))
	wantCode(t, err, connect.CodeNotFound, `module alice/m has no commit or label "v9"`)
}

// TestPrivateModules checks that private modules are invisible to
// non-members (answered exactly like missing ones) and visible to members.
func TestPrivateModules(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	alice := e.user("alice")
	bob := e.user("bob")
	carol := e.user("carol")
	e.org("acme", "alice", "carol")
	ca := e.client(alice)
	ca.createModule(t, "acme", "secret", modulev1.ModuleVisibility_MODULE_VISIBILITY_PRIVATE)
	commit := ca.mustPush(t, nil, content{owner: "acme", module: "secret", files: protoFile("")})[0]

	for _, tc := range []struct {
		who     string
		c       *clients
		visible bool
	}{
		{"member", ca, true},
		{"other member", e.client(carol), true},
		{"non-member", e.client(bob), false},
		{"anonymous", e.client(""), false},
	} {
		t.Run(tc.who, func(t *testing.T) {
			check := func(what string, err error, missingMsg string) {
				t.Helper()
				if tc.visible {
					if err != nil {
						t.Errorf("%s: %v", what, err)
					}
					return
				}
				wantCode(t, err, connect.CodeNotFound, missingMsg)
			}
			_, err := tc.c.module.GetModules(ctx, connect.NewRequest(&modulev1.GetModulesRequest{ModuleRefs: []*modulev1.ModuleRef{moduleRef("acme", "secret")}}))
			check("GetModules by name", err, "module acme/secret not found")
			_, err = tc.c.module.GetModules(ctx, connect.NewRequest(&modulev1.GetModulesRequest{ModuleRefs: []*modulev1.ModuleRef{{Value: &modulev1.ModuleRef_Id{Id: commit.ModuleId}}}}))
			check("GetModules by id", err, "module "+commit.ModuleId+" not found")
			_, err = tc.c.commit.GetCommits(ctx, connect.NewRequest(&modulev1.GetCommitsRequest{ResourceRefs: []*modulev1.ResourceRef{nameRef("acme", "secret", "")}}))
			check("GetCommits", err, "module acme/secret not found")
			_, err = tc.c.graph.GetGraph(ctx, connect.NewRequest(&modulev1.GetGraphRequest{ResourceRefs: []*modulev1.ResourceRef{idRef(commit.Id)}}))
			check("GetGraph", err, "resource "+commit.Id+" not found")
			_, err = tc.c.download.Download(ctx, connect.NewRequest(&modulev1.DownloadRequest{Values: []*modulev1.DownloadRequest_Value{{ResourceRef: idRef(commit.Id)}}}))
			check("Download", err, "resource "+commit.Id+" not found")
			lresp, err := tc.c.module.ListModules(ctx, connect.NewRequest(&modulev1.ListModulesRequest{}))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(lresp.Msg.Modules); got != map[bool]int{true: 1, false: 0}[tc.visible] {
				t.Errorf("ListModules shows %d modules", got)
			}
		})
	}
	// Same answer for a private module and one that does not exist.
	_, errPrivate := e.client(bob).module.GetModules(ctx, connect.NewRequest(&modulev1.GetModulesRequest{ModuleRefs: []*modulev1.ModuleRef{moduleRef("acme", "secret")}}))
	_, errMissing := e.client(bob).module.GetModules(ctx, connect.NewRequest(&modulev1.GetModulesRequest{ModuleRefs: []*modulev1.ModuleRef{moduleRef("acme", "nothing")}}))
	if errPrivate.Error() != "not_found: module acme/secret not found" || errMissing.Error() != "not_found: module acme/nothing not found" {
		t.Errorf("private: %v; missing: %v", errPrivate, errMissing)
	}
}

// TestCreateModules checks who may create modules and the defaults.
func TestCreateModules(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	alice := e.user("alice")
	bob := e.user("bob")
	e.org("acme", "alice")
	create := func(c *clients, owner, name string) (*modulev1.Module, error) {
		resp, err := c.module.CreateModules(ctx, connect.NewRequest(&modulev1.CreateModulesRequest{Values: []*modulev1.CreateModulesRequest_Value{{
			OwnerRef: &ownerv1.OwnerRef{Value: &ownerv1.OwnerRef_Name{Name: owner}}, Name: name,
		}}}))
		if err != nil {
			return nil, err
		}
		return resp.Msg.Modules[0], nil
	}
	m, err := create(e.client(alice), "acme", "one")
	if err != nil {
		t.Fatal(err)
	}
	if m.DefaultLabelName != "main" || m.Visibility != modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC || m.State != modulev1.ModuleState_MODULE_STATE_ACTIVE {
		t.Errorf("defaults: %v", m)
	}
	_, err = create(e.client(alice), "acme", "one")
	wantCode(t, err, connect.CodeAlreadyExists, "module acme/one already exists")
	_, err = create(e.client(alice), "acme", "ONE")
	wantCode(t, err, connect.CodeAlreadyExists, "already exists")
	_, err = create(e.client(bob), "acme", "two")
	wantCode(t, err, connect.CodePermissionDenied, "user bob is not a member of acme")
	_, err = create(e.client(""), "acme", "two")
	wantCode(t, err, connect.CodeUnauthenticated, "creating a module requires authentication")
	_, err = create(e.client(alice), "nobody", "two")
	wantCode(t, err, connect.CodeNotFound, "owner nobody not found")
	_, err = create(e.client(alice), "acme", "bad/name")
	wantCode(t, err, connect.CodeInvalidArgument, `module name "bad/name" may contain only`)
	if _, err := create(e.client(bob), "bob", "mine"); err != nil {
		t.Errorf("a user creating a module of their own: %v", err)
	}
	// All or nothing.
	_, err = e.client(alice).module.CreateModules(ctx, connect.NewRequest(&modulev1.CreateModulesRequest{Values: []*modulev1.CreateModulesRequest_Value{
		{OwnerRef: &ownerv1.OwnerRef{Value: &ownerv1.OwnerRef_Name{Name: "acme"}}, Name: "three"},
		{OwnerRef: &ownerv1.OwnerRef{Value: &ownerv1.OwnerRef_Name{Name: "acme"}}, Name: "one"},
	}}))
	wantCode(t, err, connect.CodeAlreadyExists, "")
	_, err = e.client(alice).module.GetModules(ctx, connect.NewRequest(&modulev1.GetModulesRequest{ModuleRefs: []*modulev1.ModuleRef{moduleRef("acme", "three")}}))
	wantCode(t, err, connect.CodeNotFound, "module acme/three not found")
}

// TestGraphOneCommitPerModule: asking for a graph that would hold two
// commits of one module fails.
func TestGraphOneCommitPerModule(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.client(e.user("alice"))
	c.createModule(t, "alice", "m", modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC)
	c1 := c.mustPush(t, nil, content{owner: "alice", module: "m", files: protoFile("message A {}")})[0]
	c2 := c.mustPush(t, nil, content{owner: "alice", module: "m", files: protoFile("message B {}")})[0]
	_, err := c.graph.GetGraph(ctx, connect.NewRequest(&modulev1.GetGraphRequest{ResourceRefs: []*modulev1.ResourceRef{idRef(c1.Id), idRef(c2.Id)}}))
	wantCode(t, err, connect.CodeFailedPrecondition, "module alice/m appears in the graph at two commits, "+c1.Id+" and "+c2.Id)
	// The same commit twice is one node.
	resp, err := c.graph.GetGraph(ctx, connect.NewRequest(&modulev1.GetGraphRequest{ResourceRefs: []*modulev1.ResourceRef{idRef(c1.Id), nameRef("alice", "m", c1.Id)}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Msg.Graph.Commits) != 1 || len(resp.Msg.Graph.Edges) != 0 {
		t.Errorf("graph = %v", resp.Msg.Graph)
	}
}

// TestDownloadFilters checks file_types and paths.
func TestDownloadFilters(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.client(e.user("alice"))
	c.createModule(t, "alice", "m", modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC)
	files := map[string]string{"a/x.proto": "syntax = \"proto3\";\n", "b/y.proto": "syntax = \"proto3\";\n", "LICENSE": "MIT\n", "README.md": "# m\n"}
	id := c.mustPush(t, nil, content{owner: "alice", module: "m", files: files})[0].Id
	for _, tc := range []struct {
		name  string
		types []modulev1.FileType
		paths []string
		allow bool
		want  []string
		code  connect.Code
	}{
		{name: "all", want: []string{"LICENSE", "README.md", "a/x.proto", "b/y.proto"}},
		{name: "protos", types: []modulev1.FileType{modulev1.FileType_FILE_TYPE_PROTO}, want: []string{"a/x.proto", "b/y.proto"}},
		{name: "license and doc", types: []modulev1.FileType{modulev1.FileType_FILE_TYPE_LICENSE, modulev1.FileType_FILE_TYPE_DOC}, want: []string{"LICENSE", "README.md"}},
		{name: "directory", paths: []string{"a"}, want: []string{"a/x.proto"}},
		{name: "missing path", paths: []string{"c"}, code: connect.CodeNotFound},
		{name: "missing path allowed", paths: []string{"c", "b/y.proto"}, allow: true, want: []string{"b/y.proto"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := c.download.Download(ctx, connect.NewRequest(&modulev1.DownloadRequest{Values: []*modulev1.DownloadRequest_Value{{
				ResourceRef: idRef(id), FileTypes: tc.types, Paths: tc.paths, PathsAllowNotExist: tc.allow,
			}}}))
			if tc.code != 0 {
				wantCode(t, err, tc.code, "")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range resp.Msg.Contents[0].Files {
				got = append(got, f.Path)
				if f.Path == "LICENSE" && string(f.Content) != "MIT\n" {
					t.Errorf("LICENSE content %q", f.Content)
				}
			}
			if !equal(got, tc.want) {
				t.Errorf("files = %v, want %v", got, tc.want)
			}
		})
	}
}
