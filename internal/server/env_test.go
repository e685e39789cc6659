package server_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/module/v1/modulev1connect"
	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/owner/v1/ownerv1connect"
	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	ownerv1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/owner/v1"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/gen/buf/alpha/registry/v1alpha1/registryv1alpha1connect"
	"github.com/protomod/protomod/internal/server"
	"github.com/protomod/protomod/internal/store"
)

// env is a real server on 127.0.0.1:0 over a store in a temporary directory.
type env struct {
	t    testing.TB
	srv  *server.Server
	st   store.Store
	dir  string
	logs *syncBuffer
}

type envOption func(*server.Config)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	dir := t.TempDir()
	logs := &syncBuffer{}
	cfg := server.Config{
		DataDir: dir,
		Addr:    "127.0.0.1:0",
		Logger:  slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server.Run: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &env{t: t, srv: srv, st: srv.Store(), dir: dir, logs: logs}
}

// user creates a user and returns a token for it.
func (e *env) user(name string) string {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.st.CreateUser(ctx, name); err != nil {
		e.t.Fatal(err)
	}
	tok, _, err := e.st.CreateToken(ctx, name, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *env) org(name string, members ...string) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.st.CreateOrganization(ctx, name); err != nil {
		e.t.Fatal(err)
	}
	for _, m := range members {
		if err := e.st.AddMember(ctx, name, m); err != nil {
			e.t.Fatal(err)
		}
	}
}

// clients are Connect clients built from the generated code.
type clients struct {
	commit   modulev1connect.CommitServiceClient
	graph    modulev1connect.GraphServiceClient
	module   modulev1connect.ModuleServiceClient
	download modulev1connect.DownloadServiceClient
	upload   modulev1connect.UploadServiceClient
	label    modulev1connect.LabelServiceClient
	owner    ownerv1connect.OwnerServiceClient
	authn    registryv1alpha1connect.AuthnServiceClient
}

func bearer(token string) connect.UnaryInterceptorFunc {
	return func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			if token != "" {
				req.Header().Set("Authorization", "Bearer "+token)
			}
			return next(ctx, req)
		}
	}
}

// client returns clients that send token ("" for anonymous).
func (e *env) client(token string) *clients {
	return newClients(http.DefaultClient, e.srv.URL(), token)
}

func newClients(hc connect.HTTPClient, url, token string) *clients {
	opts := []connect.ClientOption{connect.WithInterceptors(bearer(token))}
	return &clients{
		commit:   modulev1connect.NewCommitServiceClient(hc, url, opts...),
		graph:    modulev1connect.NewGraphServiceClient(hc, url, opts...),
		module:   modulev1connect.NewModuleServiceClient(hc, url, opts...),
		download: modulev1connect.NewDownloadServiceClient(hc, url, opts...),
		upload:   modulev1connect.NewUploadServiceClient(hc, url, opts...),
		label:    modulev1connect.NewLabelServiceClient(hc, url, opts...),
		owner:    ownerv1connect.NewOwnerServiceClient(hc, url, opts...),
		authn:    registryv1alpha1connect.NewAuthnServiceClient(hc, url, opts...),
	}
}

func (c *clients) createModule(t testing.TB, owner, name string, vis modulev1.ModuleVisibility) *modulev1.Module {
	t.Helper()
	resp, err := c.module.CreateModules(context.Background(), connect.NewRequest(&modulev1.CreateModulesRequest{
		Values: []*modulev1.CreateModulesRequest_Value{{
			OwnerRef:   &ownerv1.OwnerRef{Value: &ownerv1.OwnerRef_Name{Name: owner}},
			Name:       name,
			Visibility: vis,
		}},
	}))
	if err != nil {
		t.Fatalf("CreateModules %s/%s: %v", owner, name, err)
	}
	return resp.Msg.Modules[0]
}

// content is one module to upload.
type content struct {
	owner, module string
	files         map[string]string
	labels        []string
}

func (c content) proto() *modulev1.UploadRequest_Content {
	pc := &modulev1.UploadRequest_Content{
		ModuleRef: moduleRef(c.owner, c.module),
	}
	for _, p := range sortedKeys(c.files) {
		pc.Files = append(pc.Files, &modulev1.File{Path: p, Content: []byte(c.files[p])})
	}
	for _, l := range c.labels {
		pc.ScopedLabelRefs = append(pc.ScopedLabelRefs, &modulev1.ScopedLabelRef{Value: &modulev1.ScopedLabelRef_Name{Name: l}})
	}
	return pc
}

func moduleRef(owner, module string) *modulev1.ModuleRef {
	return &modulev1.ModuleRef{Value: &modulev1.ModuleRef_Name_{Name: &modulev1.ModuleRef_Name{Owner: owner, Module: module}}}
}

func (c *clients) push(ctx context.Context, deps []string, contents ...content) ([]*modulev1.Commit, error) {
	req := &modulev1.UploadRequest{DepCommitIds: deps}
	for _, ct := range contents {
		req.Contents = append(req.Contents, ct.proto())
	}
	resp, err := c.upload.Upload(ctx, connect.NewRequest(req))
	if err != nil {
		return nil, err
	}
	return resp.Msg.Commits, nil
}

func (c *clients) mustPush(t testing.TB, deps []string, contents ...content) []*modulev1.Commit {
	t.Helper()
	commits, err := c.push(context.Background(), deps, contents...)
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if len(commits) != len(contents) {
		t.Fatalf("Upload returned %d commits for %d contents", len(commits), len(contents))
	}
	return commits
}

func nameRef(owner, module, ref string) *modulev1.ResourceRef {
	return &modulev1.ResourceRef{Value: &modulev1.ResourceRef_Name_{Name: &modulev1.ResourceRef_Name{
		Owner: owner, Module: module, Child: &modulev1.ResourceRef_Name_Ref{Ref: ref},
	}}}
}

func labelNameRef(owner, module, label string) *modulev1.ResourceRef {
	return &modulev1.ResourceRef{Value: &modulev1.ResourceRef_Name_{Name: &modulev1.ResourceRef_Name{
		Owner: owner, Module: module, Child: &modulev1.ResourceRef_Name_LabelName{LabelName: label},
	}}}
}

func idRef(id string) *modulev1.ResourceRef {
	return &modulev1.ResourceRef{Value: &modulev1.ResourceRef_Id{Id: id}}
}

// readModule reads a module directory from testdata into path -> content.
func readModule(t testing.TB, dir string) map[string]string {
	t.Helper()
	root := filepath.Join("testdata", "modules", dir)
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func codeOf(err error) connect.Code {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Code()
	}
	return connect.CodeUnknown
}

func wantCode(t testing.TB, err error, code connect.Code, msgPart string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", code)
	}
	if got := codeOf(err); got != code {
		t.Fatalf("got code %v (%v), want %v", got, err, code)
	}
	if msgPart != "" && !strings.Contains(err.Error(), msgPart) {
		t.Fatalf("error %q does not contain %q", err.Error(), msgPart)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// syncBuffer is a bytes.Buffer safe for concurrent writers (the log).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
