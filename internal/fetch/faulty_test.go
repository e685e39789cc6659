package fetch_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/module/v1/modulev1connect"
	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/clientconfig"
	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/fetch"
	"github.com/protomod/protomod/internal/lock"
	"github.com/protomod/protomod/internal/registry"
)

// fakeRegistry answers GetGraph and Download with whatever the test sets,
// to check how Fetch treats a registry that breaks the API's rules.
type fakeRegistry struct {
	modulev1connect.UnimplementedGraphServiceHandler
	modulev1connect.UnimplementedDownloadServiceHandler
	graph    *modulev1.Graph
	contents []*modulev1.DownloadResponse_Content
	// raw, if set, replaces every answer with these bytes.
	raw []byte
}

func (f *fakeRegistry) GetGraph(context.Context, *connect.Request[modulev1.GetGraphRequest]) (*connect.Response[modulev1.GetGraphResponse], error) {
	return connect.NewResponse(&modulev1.GetGraphResponse{Graph: f.graph}), nil
}

func (f *fakeRegistry) Download(context.Context, *connect.Request[modulev1.DownloadRequest]) (*connect.Response[modulev1.DownloadResponse], error) {
	return connect.NewResponse(&modulev1.DownloadResponse{Contents: f.contents}), nil
}

func (f *fakeRegistry) start(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(modulev1connect.NewGraphServiceHandler(f))
	mux.Handle(modulev1connect.NewDownloadServiceHandler(f))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.raw != nil {
			w.Header().Set("Content-Type", "application/proto")
			_, _ = w.Write(f.raw)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

const (
	commitX = "0123456789abcdef0123456789abcdef"
	commitY = "fedcba9876543210fedcba9876543210"
)

func TestFetchFaultyRegistry(t *testing.T) {
	files := []digest.File{{Path: "x.proto", Content: []byte("syntax = \"proto3\";\n")}}
	good, err := digest.B5(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	wire := func(d digest.Digest) *modulev1.Digest {
		return &modulev1.Digest{Type: modulev1.DigestType_DIGEST_TYPE_B5, Value: d.Value[:]}
	}
	node := func(id string) *modulev1.Commit {
		return &modulev1.Commit{Id: id, ModuleId: "m", OwnerId: "o", Digest: wire(good)}
	}
	content := func(id string, files ...*modulev1.File) []*modulev1.DownloadResponse_Content {
		return []*modulev1.DownloadResponse_Content{{Commit: node(id), Files: files}}
	}
	xFile := &modulev1.File{Path: "x.proto", Content: files[0].Content}
	tests := []struct {
		name    string
		fake    fakeRegistry
		wantErr string
	}{
		{
			name:    "graph without the requested commit",
			fake:    fakeRegistry{graph: &modulev1.Graph{Commits: []*modulev1.Commit{node(commitY)}}},
			wantErr: "returned a graph without the requested commit HOST/acme/x:" + commitX,
		},
		{
			name: "edge to a commit outside the graph",
			fake: fakeRegistry{graph: &modulev1.Graph{
				Commits: []*modulev1.Commit{node(commitX)},
				Edges: []*modulev1.Graph_Edge{{
					FromNode: &modulev1.Graph_Node{CommitId: commitX},
					ToNode:   &modulev1.Graph_Node{CommitId: commitY},
				}},
			}},
			wantErr: "returned a graph edge " + commitX + " -> " + commitY + " between commits that are not in the graph",
		},
		{
			name: "digest without a type",
			fake: fakeRegistry{graph: &modulev1.Graph{Commits: []*modulev1.Commit{
				{Id: commitX, ModuleId: "m", OwnerId: "o", Digest: &modulev1.Digest{Value: good.Value[:]}},
			}}},
			wantErr: "returned commit " + commitX + " with an unusable digest",
		},
		{
			name: "download of another commit",
			fake: fakeRegistry{
				graph:    &modulev1.Graph{Commits: []*modulev1.Commit{node(commitX)}},
				contents: content(commitY, xFile),
			},
			wantErr: "answered the download of HOST/acme/x:" + commitX + " with commit " + commitY,
		},
		{
			name: "file path escaping the module",
			fake: fakeRegistry{
				graph:    &modulev1.Graph{Commits: []*modulev1.Commit{node(commitX)}},
				contents: content(commitX, xFile, &modulev1.File{Path: "../evil.proto"}),
			},
			wantErr: "sent HOST/acme/x:" + commitX + " with an invalid file path",
		},
		{
			name: "files that do not match the digest",
			fake: fakeRegistry{
				graph:    &modulev1.Graph{Commits: []*modulev1.Commit{node(commitX)}},
				contents: content(commitX, &modulev1.File{Path: "x.proto", Content: []byte("tampered")}),
			},
			wantErr: `*** Digest verification failed for "HOST/acme/x:` + commitX + `" ***`,
		},
		{
			name:    "garbage instead of a protobuf answer",
			fake:    fakeRegistry{raw: []byte("<html>not a registry</html>")},
			wantErr: "invalid response from http://HOST/buf.registry.module.v1.GraphService/GetGraph",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := tt.fake.start(t)
			name, err := bufname.ParseFullName(host + "/acme/x")
			if err != nil {
				t.Fatal(err)
			}
			pin := lock.Dep{Name: name, Commit: commitX, Digest: good}
			client := registry.New(registry.Options{
				Config:      &clientconfig.Config{TLSMode: clientconfig.TLSDisabled},
				MaxAttempts: 1,
			})
			c := newCache(t)
			err = fetch.New(client, fetch.Options{}).Fetch(context.Background(), c, []lock.Dep{pin}, []lock.Dep{pin})
			want := strings.ReplaceAll(tt.wantErr, "HOST", host)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("got error %v, want one containing %q", err, want)
			}
			if strings.Contains(err.Error(), "\n") && !errors.As(err, new(*digest.MismatchError)) {
				t.Errorf("the error spans several lines: %q", err)
			}
			if _, ok, err := c.Get(pin.Key()); ok || err != nil {
				t.Errorf("the faulty download is in the cache (ok=%v, err=%v)", ok, err)
			}
		})
	}
}
