package depupdate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/module/v1/modulev1connect"
	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/cache"
	"github.com/protomod/protomod/internal/clientconfig"
	"github.com/protomod/protomod/internal/depupdate"
	"github.com/protomod/protomod/internal/e2e/regtest"
	"github.com/protomod/protomod/internal/registry"
	"github.com/protomod/protomod/internal/workspace"
)

// twoCommitsRegistry resolves any ref to commit X and answers a graph in
// which X depends on Y, another commit of the same module: a registry that
// breaks the one-commit-per-module rule.
type twoCommitsRegistry struct {
	modulev1connect.UnimplementedCommitServiceHandler
	modulev1connect.UnimplementedGraphServiceHandler
}

const (
	commitX = "0123456789abcdef0123456789abcdef"
	commitY = "fedcba9876543210fedcba9876543210"
)

func commit(id string) *modulev1.Commit {
	return &modulev1.Commit{Id: id, ModuleId: "m1", OwnerId: "o1",
		Digest: &modulev1.Digest{Type: modulev1.DigestType_DIGEST_TYPE_B5, Value: make([]byte, 64)}}
}

func (twoCommitsRegistry) GetCommits(context.Context, *connect.Request[modulev1.GetCommitsRequest]) (*connect.Response[modulev1.GetCommitsResponse], error) {
	return connect.NewResponse(&modulev1.GetCommitsResponse{Commits: []*modulev1.Commit{commit(commitX)}}), nil
}

func (twoCommitsRegistry) GetGraph(context.Context, *connect.Request[modulev1.GetGraphRequest]) (*connect.Response[modulev1.GetGraphResponse], error) {
	return connect.NewResponse(&modulev1.GetGraphResponse{Graph: &modulev1.Graph{
		Commits: []*modulev1.Commit{commit(commitX), commit(commitY)},
		Edges: []*modulev1.Graph_Edge{{
			FromNode: &modulev1.Graph_Node{CommitId: commitX},
			ToNode:   &modulev1.Graph_Node{CommitId: commitY},
		}},
	}}), nil
}

func TestDuplicateModuleInGraph(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(modulev1connect.NewCommitServiceHandler(twoCommitsRegistry{}))
	mux.Handle(modulev1connect.NewGraphServiceHandler(twoCommitsRegistry{}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	dir := t.TempDir()
	regtest.WriteFiles(t, dir, map[string]string{
		"buf.yaml": "version: v2\ndeps:\n  - " + host + "/acme/x\n",
		"a.proto":  "syntax = \"proto3\";\n",
	})
	ws, err := workspace.Open(dir, workspace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = depupdate.Update(context.Background(), ws, depupdate.Options{
		Client:    registry.New(registry.Options{Config: &clientconfig.Config{TLSMode: clientconfig.TLSDisabled}}),
		OpenCache: func() (*cache.Cache, error) { return cache.OpenDir(t.TempDir()) },
	})
	want := `duplicate module "` + host + `/acme/x" attempted to be added to lock file`
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}
