package registry

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/module/v1/modulev1connect"
	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/owner/v1/ownerv1connect"
	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	ownerv1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/owner/v1"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/clientconfig"
	registryv1alpha1 "github.com/protomod/protomod/internal/gen/buf/alpha/registry/v1alpha1"
	"github.com/protomod/protomod/internal/gen/buf/alpha/registry/v1alpha1/registryv1alpha1connect"
)

// testRegistry is a real Connect server built from the generated handler
// stubs. Each test sets the handlers it needs; the others answer
// unimplemented, as the generated stubs do.
type testRegistry struct {
	modulev1connect.UnimplementedCommitServiceHandler
	modulev1connect.UnimplementedGraphServiceHandler
	modulev1connect.UnimplementedModuleServiceHandler
	modulev1connect.UnimplementedDownloadServiceHandler
	modulev1connect.UnimplementedUploadServiceHandler
	ownerv1connect.UnimplementedOwnerServiceHandler
	registryv1alpha1connect.UnimplementedAuthnServiceHandler

	getCommits     func(*modulev1.GetCommitsRequest) (*modulev1.GetCommitsResponse, error)
	getGraph       func(*modulev1.GetGraphRequest) (*modulev1.GetGraphResponse, error)
	getModules     func(*modulev1.GetModulesRequest) (*modulev1.GetModulesResponse, error)
	createModules  func(*modulev1.CreateModulesRequest) (*modulev1.CreateModulesResponse, error)
	download       func(*modulev1.DownloadRequest) (*modulev1.DownloadResponse, error)
	upload         func(*modulev1.UploadRequest) (*modulev1.UploadResponse, error)
	getOwners      func(*ownerv1.GetOwnersRequest) (*ownerv1.GetOwnersResponse, error)
	getCurrentUser func(*registryv1alpha1.GetCurrentUserRequest) (*registryv1alpha1.GetCurrentUserResponse, error)
	// raw, if set, answers every request instead of the Connect handlers.
	raw http.HandlerFunc
	// responseHeader is added to every response.
	responseHeader http.Header

	mu       sync.Mutex
	requests []recorded
}

type recorded struct {
	Method, Path, Proto string
	Header              http.Header
	Body                []byte
}

func (s *testRegistry) record(r *http.Request) recorded {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := recorded{Method: r.Method, Path: r.URL.Path, Proto: r.Proto, Header: r.Header.Clone(), Body: body}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	return rec
}

func (s *testRegistry) recorded() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.requests...)
}

func (s *testRegistry) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(modulev1connect.NewCommitServiceHandler(s))
	mux.Handle(modulev1connect.NewGraphServiceHandler(s))
	mux.Handle(modulev1connect.NewModuleServiceHandler(s))
	mux.Handle(modulev1connect.NewDownloadServiceHandler(s))
	mux.Handle(modulev1connect.NewUploadServiceHandler(s))
	mux.Handle(ownerv1connect.NewOwnerServiceHandler(s))
	mux.Handle(registryv1alpha1connect.NewAuthnServiceHandler(s))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		for k, v := range s.responseHeader {
			w.Header()[k] = v
		}
		if s.raw != nil {
			s.raw(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func handle[Req, Res any](req *connect.Request[Req], f func(*Req) (*Res, error)) (*connect.Response[Res], error) {
	res, err := f(req.Msg)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(res), nil
}

func (s *testRegistry) GetCommits(_ context.Context, req *connect.Request[modulev1.GetCommitsRequest]) (*connect.Response[modulev1.GetCommitsResponse], error) {
	if s.getCommits == nil {
		return s.UnimplementedCommitServiceHandler.GetCommits(context.Background(), req)
	}
	return handle(req, s.getCommits)
}

func (s *testRegistry) GetGraph(_ context.Context, req *connect.Request[modulev1.GetGraphRequest]) (*connect.Response[modulev1.GetGraphResponse], error) {
	if s.getGraph == nil {
		return s.UnimplementedGraphServiceHandler.GetGraph(context.Background(), req)
	}
	return handle(req, s.getGraph)
}

func (s *testRegistry) GetModules(_ context.Context, req *connect.Request[modulev1.GetModulesRequest]) (*connect.Response[modulev1.GetModulesResponse], error) {
	if s.getModules == nil {
		return s.UnimplementedModuleServiceHandler.GetModules(context.Background(), req)
	}
	return handle(req, s.getModules)
}

func (s *testRegistry) CreateModules(_ context.Context, req *connect.Request[modulev1.CreateModulesRequest]) (*connect.Response[modulev1.CreateModulesResponse], error) {
	if s.createModules == nil {
		return s.UnimplementedModuleServiceHandler.CreateModules(context.Background(), req)
	}
	return handle(req, s.createModules)
}

func (s *testRegistry) Download(_ context.Context, req *connect.Request[modulev1.DownloadRequest]) (*connect.Response[modulev1.DownloadResponse], error) {
	if s.download == nil {
		return s.UnimplementedDownloadServiceHandler.Download(context.Background(), req)
	}
	return handle(req, s.download)
}

func (s *testRegistry) Upload(_ context.Context, req *connect.Request[modulev1.UploadRequest]) (*connect.Response[modulev1.UploadResponse], error) {
	if s.upload == nil {
		return s.UnimplementedUploadServiceHandler.Upload(context.Background(), req)
	}
	return handle(req, s.upload)
}

func (s *testRegistry) GetOwners(_ context.Context, req *connect.Request[ownerv1.GetOwnersRequest]) (*connect.Response[ownerv1.GetOwnersResponse], error) {
	if s.getOwners == nil {
		return s.UnimplementedOwnerServiceHandler.GetOwners(context.Background(), req)
	}
	return handle(req, s.getOwners)
}

func (s *testRegistry) GetCurrentUser(_ context.Context, req *connect.Request[registryv1alpha1.GetCurrentUserRequest]) (*connect.Response[registryv1alpha1.GetCurrentUserResponse], error) {
	if s.getCurrentUser == nil {
		return s.UnimplementedAuthnServiceHandler.GetCurrentUser(context.Background(), req)
	}
	return handle(req, s.getCurrentUser)
}

// start serves s over plain HTTP on loopback and returns the server and
// its registry name (host:port).
func start(t *testing.T, s *testRegistry) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewServer(s.handler())
	t.Cleanup(srv.Close)
	return srv, strings.TrimPrefix(srv.URL, "http://")
}

// startTLS serves s over TLS (with HTTP/2 offered, so the test can check
// that the client stays on HTTP/1.1).
func startTLS(t *testing.T, s *testRegistry) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(s.handler())
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, strings.TrimPrefix(srv.URL, "https://")
}

// loadConfig writes config.yaml (and protomod.yaml if given) to a fresh
// directory and loads it.
func loadConfig(t *testing.T, configYAML, protomodYAML string) *clientconfig.Config {
	t.Helper()
	dir := t.TempDir()
	if configYAML != "" {
		writeFile(t, filepath.Join(dir, clientconfig.FileName), configYAML)
	}
	if protomodYAML != "" {
		writeFile(t, filepath.Join(dir, clientconfig.ProtomodFileName), protomodYAML)
	}
	c, err := clientconfig.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// plainHTTP is the configuration of tls.use: false.
func plainHTTP(t *testing.T) *clientconfig.Config {
	return loadConfig(t, "version: v1\ntls:\n  use: false\n", "")
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
