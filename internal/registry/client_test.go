package registry

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/module/v1/modulev1connect"
	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	ownerv1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/owner/v1"
	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/clientconfig"
	"github.com/protomod/protomod/internal/credentials"
	registryv1alpha1 "github.com/protomod/protomod/internal/gen/buf/alpha/registry/v1alpha1"
)

const getCommitsPath = modulev1connect.CommitServiceGetCommitsProcedure

func commitID(i int) string { return fmt.Sprintf("%032x", i) }

func commitsFor(req *modulev1.GetCommitsRequest) *modulev1.GetCommitsResponse {
	res := &modulev1.GetCommitsResponse{}
	for i := range req.GetResourceRefs() {
		res.Commits = append(res.Commits, &modulev1.Commit{Id: commitID(i + 1)})
	}
	return res
}

func refsOn(registry string, names ...string) []bufname.Ref {
	var refs []bufname.Ref
	for _, n := range names {
		owner, rest, _ := strings.Cut(n, "/")
		module, ref, _ := strings.Cut(rest, ":")
		refs = append(refs, bufname.Ref{FullName: bufname.FullName{Registry: registry, Owner: owner, Name: module}, Ref: ref})
	}
	return refs
}

func newClient(t *testing.T, opts Options) *Client {
	t.Helper()
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = time.Millisecond
	}
	return New(opts)
}

func TestRequestShape(t *testing.T) {
	var got *modulev1.GetCommitsRequest
	s := &testRegistry{getCommits: func(req *modulev1.GetCommitsRequest) (*modulev1.GetCommitsResponse, error) {
		got = req
		return &modulev1.GetCommitsResponse{Commits: []*modulev1.Commit{
			{Id: strings.ToUpper(commitID(10))}, {Id: commitID(11)},
		}}, nil
	}}
	_, registry := start(t, s)
	var hooked int
	c := newClient(t, Options{Config: plainHTTP(t), OnRequest: func(*http.Request) { hooked++ }})
	commits, err := c.GetCommits(context.Background(), refsOn(registry, "acme/dep", "acme/base:main"))
	if err != nil {
		t.Fatal(err)
	}
	if commits[0].GetId() != commitID(10) || commits[1].GetId() != commitID(11) {
		t.Errorf("commit IDs = %q, %q; want them validated and lowercased", commits[0].GetId(), commits[1].GetId())
	}

	reqs := s.recorded()
	if len(reqs) != 1 || c.Requests() != 1 || hooked != 1 {
		t.Fatalf("requests: server saw %d, Requests() = %d, hook saw %d; want 1", len(reqs), c.Requests(), hooked)
	}
	r := reqs[0]
	checks := []struct{ what, got, want string }{
		{"method", r.Method, "POST"},
		{"path", r.Path, getCommitsPath},
		{"protocol", r.Proto, "HTTP/1.1"},
		{"Content-Type", r.Header.Get("Content-Type"), "application/proto"},
		{"Connect-Protocol-Version", r.Header.Get("Connect-Protocol-Version"), "1"},
		{"Accept-Encoding", r.Header.Get("Accept-Encoding"), "gzip"},
		{"Buf-Version", r.Header.Get("Buf-Version"), DefaultVersion},
		{"Authorization", r.Header.Get("Authorization"), ""},
		{"Content-Length", r.Header.Get("Content-Length"), fmt.Sprint(len(r.Body))},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %q, want %q", ck.what, ck.got, ck.want)
		}
	}
	if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "connect-go/") || !strings.Contains(ua, "(go") {
		t.Errorf("User-Agent = %q, want connect-go/<version> (go<version>)", ua)
	}

	// The body is the plain binary message, and an absent ref is sent as a
	// present, empty ref.
	want := &modulev1.GetCommitsRequest{ResourceRefs: []*modulev1.ResourceRef{
		{Value: &modulev1.ResourceRef_Name_{Name: &modulev1.ResourceRef_Name{
			Owner: "acme", Module: "dep", Child: &modulev1.ResourceRef_Name_Ref{Ref: ""}}}},
		{Value: &modulev1.ResourceRef_Name_{Name: &modulev1.ResourceRef_Name{
			Owner: "acme", Module: "base", Child: &modulev1.ResourceRef_Name_Ref{Ref: "main"}}}},
	}}
	if !proto.Equal(got, want) {
		t.Errorf("server got %v, want %v", got, want)
	}
	wantBody, err := proto.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Body) != string(wantBody) {
		t.Errorf("body = %x, want %x", r.Body, wantBody)
	}
	if _, ok := got.GetResourceRefs()[0].GetName().GetChild().(*modulev1.ResourceRef_Name_Ref); !ok {
		t.Error("the empty ref was not sent")
	}
}

func TestCustomVersion(t *testing.T) {
	s := &testRegistry{getCommits: func(req *modulev1.GetCommitsRequest) (*modulev1.GetCommitsResponse, error) {
		return commitsFor(req), nil
	}}
	_, registry := start(t, s)
	c := newClient(t, Options{Config: plainHTTP(t), Version: "9.9.9"})
	if _, err := c.GetCommits(context.Background(), refsOn(registry, "a/b")); err != nil {
		t.Fatal(err)
	}
	if got := s.recorded()[0].Header.Get("Buf-Version"); got != "9.9.9" {
		t.Errorf("Buf-Version = %q", got)
	}
}

func TestEmptyInputsSendNothing(t *testing.T) {
	c := newClient(t, Options{})
	ctx := context.Background()
	if _, err := c.GetCommits(ctx, nil); err != nil {
		t.Error(err)
	}
	if g, err := c.GetGraph(ctx, nil); err != nil || g == nil {
		t.Errorf("GetGraph(nil) = %v, %v", g, err)
	}
	if _, err := c.GetModulesByID(ctx, "r.example", nil); err != nil {
		t.Error(err)
	}
	if _, err := c.GetModulesByName(ctx, nil); err != nil {
		t.Error(err)
	}
	if _, err := c.GetOwnersByID(ctx, "r.example", nil); err != nil {
		t.Error(err)
	}
	if _, err := c.Download(ctx, "r.example", nil); err != nil {
		t.Error(err)
	}
	if c.Requests() != 0 {
		t.Errorf("Requests() = %d, want 0", c.Requests())
	}
}

func TestMixedRegistries(t *testing.T) {
	c := newClient(t, Options{})
	refs := append(refsOn("a.example", "o/m"), refsOn("b.example", "o/m")...)
	_, err := c.GetCommits(context.Background(), refs)
	if err == nil || !strings.Contains(err.Error(), "registries a.example and b.example") {
		t.Errorf("err = %v", err)
	}
	if c.Requests() != 0 {
		t.Errorf("Requests() = %d, want 0", c.Requests())
	}
}

func TestAuthorizationHeader(t *testing.T) {
	s := &testRegistry{getCommits: func(req *modulev1.GetCommitsRequest) (*modulev1.GetCommitsResponse, error) {
		return commitsFor(req), nil
	}}
	_, registry := start(t, s)
	dir := t.TempDir()
	netrcFor := func(content string) string {
		p := filepath.Join(dir, fmt.Sprintf("netrc%d", len(content)))
		writeFile(t, p, content)
		return p
	}
	own := netrcFor("machine " + registry + "\n  login alice\n  password netrc-tok\n")
	def := netrcFor("machine other.example login x password y\ndefault login anon password default-tok\n")
	other := netrcFor("machine other.example login x password y\n")
	tests := []struct {
		name, bufToken, netrc, want string
	}{
		{"no credentials", "", other, ""},
		{"missing netrc", "", filepath.Join(dir, "missing"), ""},
		{"BUF_TOKEN single", "env-tok", own, "Bearer env-tok"},
		{"BUF_TOKEN for this remote", "t1@other.example,t2@" + registry, own, "Bearer t2"},
		{"BUF_TOKEN for other remotes only", "t1@other.example", own, "Bearer netrc-tok"},
		{"BUF_TOKEN host without port does not match", "t1@127.0.0.1", other, ""},
		{"netrc machine", "", own, "Bearer netrc-tok"},
		{"netrc default", "", def, "Bearer default-tok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			creds, err := credentials.NewFrom(tc.bufToken, tc.netrc)
			if err != nil {
				t.Fatal(err)
			}
			before := len(s.recorded())
			c := newClient(t, Options{Config: plainHTTP(t), Credentials: creds})
			if _, err := c.GetCommits(context.Background(), refsOn(registry, "a/b")); err != nil {
				t.Fatal(err)
			}
			reqs := s.recorded()[before:]
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			if got := reqs[0].Header.Get("Authorization"); got != tc.want {
				t.Errorf("Authorization = %q, want %q", got, tc.want)
			}
			if tc.want == "" && len(reqs[0].Header.Values("Authorization")) != 0 {
				t.Error("an empty Authorization header was sent")
			}
		})
	}
}

func TestGetCurrentUser(t *testing.T) {
	var mode atomic.Value
	mode.Store("ok")
	s := &testRegistry{getCurrentUser: func(*registryv1alpha1.GetCurrentUserRequest) (*registryv1alpha1.GetCurrentUserResponse, error) {
		switch mode.Load() {
		case "unauthenticated":
			return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("bad token"))
		case "unavailable":
			return nil, connect.NewError(connect.CodeUnavailable, errors.New("down"))
		case "no user":
			return &registryv1alpha1.GetCurrentUserResponse{}, nil
		}
		return &registryv1alpha1.GetCurrentUserResponse{User: &registryv1alpha1.User{Id: "u1", Username: "alice"}}, nil
	}}
	_, registry := start(t, s)
	netrcPath := filepath.Join(t.TempDir(), "netrc")
	writeFile(t, netrcPath, "machine "+registry+" login old password old-netrc-tok\n")
	creds, err := credentials.NewFrom("old-env-tok", netrcPath)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Options{Config: plainHTTP(t), Credentials: creds})
	ctx := context.Background()

	user, err := c.GetCurrentUser(ctx, registry, " new-tok\n")
	if err != nil || user.GetUsername() != "alice" {
		t.Fatalf("GetCurrentUser = %v, %v", user, err)
	}
	r := s.recorded()[0]
	if got := r.Header.Get("Authorization"); got != "Bearer new-tok" {
		t.Errorf("Authorization = %q, want only the new token", got)
	}
	if r.Path != "/buf.alpha.registry.v1alpha1.AuthnService/GetCurrentUser" || len(r.Body) != 0 {
		t.Errorf("request %s with %d body bytes, want the AuthnService path and an empty body", r.Path, len(r.Body))
	}

	mode.Store("unauthenticated")
	_, err = c.GetCurrentUser(ctx, registry, "new-tok")
	checkError(t, err, "invalid token provided for "+registry)

	mode.Store("unavailable")
	_, err = c.GetCurrentUser(ctx, registry, "new-tok")
	checkError(t, err, "the server hosted at that remote is unavailable.")

	mode.Store("no user")
	_, err = c.GetCurrentUser(ctx, registry, "new-tok")
	checkError(t, err, "the registry "+registry+" answered GetCurrentUser without a user; the registry is faulty")

	before := c.Requests()
	_, err = c.GetCurrentUser(ctx, registry, "  ")
	checkError(t, err, "token cannot be empty string")
	if c.Requests() != before {
		t.Error("an empty token was sent")
	}
}

func checkError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if err.Error() != want {
		t.Fatalf("error:\n%s\nwant:\n%s", err, want)
	}
}

func TestRetries(t *testing.T) {
	ctx := context.Background()
	t.Run("read method recovers after two unavailable answers", func(t *testing.T) {
		var calls atomic.Int32
		s := &testRegistry{getCommits: func(req *modulev1.GetCommitsRequest) (*modulev1.GetCommitsResponse, error) {
			if calls.Add(1) <= 2 {
				return nil, connect.NewError(connect.CodeUnavailable, errors.New("warming up"))
			}
			return commitsFor(req), nil
		}}
		_, registry := start(t, s)
		c := newClient(t, Options{Config: plainHTTP(t)})
		if _, err := c.GetCommits(ctx, refsOn(registry, "a/b")); err != nil {
			t.Fatal(err)
		}
		if c.Requests() != 3 || calls.Load() != 3 {
			t.Errorf("Requests() = %d, handler calls = %d; want 3", c.Requests(), calls.Load())
		}
	})
	t.Run("read method gives up after MaxAttempts", func(t *testing.T) {
		s := &testRegistry{raw: func(w http.ResponseWriter, r *http.Request) {
			// A proxy's error page: unavailable by status.
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>bad gateway</html>")
		}}
		_, registry := start(t, s)
		c := newClient(t, Options{Config: plainHTTP(t), MaxAttempts: 3})
		_, err := c.GetModulesByID(ctx, registry, []string{"m1"})
		checkError(t, err, "the server hosted at that remote is unavailable.")
		if c.Requests() != 3 {
			t.Errorf("Requests() = %d, want 3", c.Requests())
		}
	})
	t.Run("no retry of a non-transient error", func(t *testing.T) {
		s := &testRegistry{getCommits: func(*modulev1.GetCommitsRequest) (*modulev1.GetCommitsResponse, error) {
			return nil, connect.NewError(connect.CodeNotFound, errors.New("module acme/nope not found"))
		}}
		_, registry := start(t, s)
		c := newClient(t, Options{Config: plainHTTP(t)})
		_, err := c.GetCommits(ctx, refsOn(registry, "acme/nope"))
		checkError(t, err, "module acme/nope not found")
		if c.Requests() != 1 {
			t.Errorf("Requests() = %d, want 1", c.Requests())
		}
	})
	t.Run("no retry of Upload or CreateModules", func(t *testing.T) {
		var uploads, creates atomic.Int32
		s := &testRegistry{
			upload: func(*modulev1.UploadRequest) (*modulev1.UploadResponse, error) {
				uploads.Add(1)
				return nil, connect.NewError(connect.CodeUnavailable, errors.New("down"))
			},
			createModules: func(*modulev1.CreateModulesRequest) (*modulev1.CreateModulesResponse, error) {
				creates.Add(1)
				return nil, connect.NewError(connect.CodeUnavailable, errors.New("down"))
			},
		}
		_, registry := start(t, s)
		c := newClient(t, Options{Config: plainHTTP(t)})
		_, err := c.Upload(ctx, registry, &modulev1.UploadRequest{Contents: []*modulev1.UploadRequest_Content{{}}})
		checkError(t, err, "the server hosted at that remote is unavailable.")
		_, err = c.CreateModules(ctx, registry, &modulev1.CreateModulesRequest{Values: []*modulev1.CreateModulesRequest_Value{{Name: "m"}}})
		checkError(t, err, "the server hosted at that remote is unavailable.")
		if uploads.Load() != 1 || creates.Load() != 1 || c.Requests() != 2 {
			t.Errorf("uploads %d, creates %d, requests %d; want 1, 1, 2", uploads.Load(), creates.Load(), c.Requests())
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		srv, registry := start(t, &testRegistry{})
		srv.Close()
		c := newClient(t, Options{Config: plainHTTP(t)})
		_, err := c.GetCommits(ctx, refsOn(registry, "a/b"))
		checkError(t, err, "the server hosted at that remote is unavailable.")
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("err does not wrap ECONNREFUSED: %#v", err)
		}
		if c.Requests() != 4 {
			t.Errorf("Requests() = %d, want 4 (retried)", c.Requests())
		}
		_, err = c.Upload(ctx, registry, &modulev1.UploadRequest{})
		checkError(t, err, "the server hosted at that remote is unavailable.")
		if c.Requests() != 5 {
			t.Errorf("Requests() = %d, want 5 (Upload not retried)", c.Requests())
		}
	})
	t.Run("connection reset", func(t *testing.T) {
		s := &testRegistry{getCommits: func(req *modulev1.GetCommitsRequest) (*modulev1.GetCommitsResponse, error) {
			return commitsFor(req), nil
		}}
		ln := &resettingListener{Listener: listen(t), resets: 2}
		srv := &http.Server{Handler: s.handler()}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		registry := ln.Addr().String()
		c := newClient(t, Options{Config: plainHTTP(t)})
		if _, err := c.GetCommits(ctx, refsOn(registry, "a/b")); err != nil {
			t.Fatal(err)
		}
		if c.Requests() != 3 || len(s.recorded()) != 1 {
			t.Errorf("Requests() = %d, served %d; want 3 attempts, 1 served", c.Requests(), len(s.recorded()))
		}
	})
}

// resettingListener resets the first connections it accepts.
type resettingListener struct {
	net.Listener
	resets int
}

func (l *resettingListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil || l.resets == 0 {
			return conn, err
		}
		l.resets--
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST
		}
		conn.Close()
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func TestCallTimeout(t *testing.T) {
	s := &testRegistry{raw: func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	}}
	srv, registry := start(t, s)
	c := newClient(t, Options{Config: plainHTTP(t), CallTimeout: 100 * time.Millisecond})
	_, err := c.GetCommits(context.Background(), refsOn(registry, "a/b"))
	checkError(t, err, fmt.Sprintf("request to %s%s timed out after 100ms; the registry may be overloaded, try again later",
		srv.URL, getCommitsPath))
	if c.Requests() != 1 {
		t.Errorf("Requests() = %d, want 1", c.Requests())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.GetCommits(ctx, refsOn(registry, "a/b"))
	if connect.CodeOf(err) != connect.CodeCanceled {
		t.Errorf("canceled context: err = %v, want code canceled", err)
	}
}

func TestErrorTexts(t *testing.T) {
	const docs = "For details, visit https://buf.build/docs/bsr/authentication"
	unimplemented := func(err, remote, procedure string) string {
		return err + " for https://" + remote + procedure + "\n" +
			"This version of the buf CLI may require APIs that have not yet been deployed to https://" + remote + "\n" +
			"To resolve this failure, you can either:\n" +
			"- Try using an older version of the buf CLI\n" +
			"- Contact the site admin for https://" + remote + " to upgrade the instance"
	}
	connectErr := func(code connect.Code, msg string) func(*modulev1.GetCommitsRequest) (*modulev1.GetCommitsResponse, error) {
		return func(*modulev1.GetCommitsRequest) (*modulev1.GetCommitsResponse, error) {
			if msg == "" {
				return nil, connect.NewError(code, nil)
			}
			return nil, connect.NewError(code, errors.New(msg))
		}
	}
	rawAnswer := func(status int, contentType, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}
	}
	tests := []struct {
		name string
		// remote: "" for the server's host:port, or a name routed to the
		// server by protomod.yaml.
		remote   string
		bufToken string
		netrc    bool // a .netrc entry for the remote
		server   *testRegistry
		// want may use %R (the remote) and %U (the base URL).
		want     string
		wantCode connect.Code
	}{
		{name: "unauthenticated without token", server: &testRegistry{getCommits: connectErr(connect.CodeUnauthenticated, "no")},
			want:     `you are not authenticated for %R. Set the BUF_TOKEN environment variable or run "protomod registry login %R", using a Buf API token as the password. ` + docs,
			wantCode: connect.CodeUnauthenticated},
		{name: "unauthenticated without token on buf.build", remote: "buf.build",
			server: &testRegistry{getCommits: connectErr(connect.CodeUnauthenticated, "no")},
			want:   `you are not authenticated for buf.build. Set the BUF_TOKEN environment variable or run "protomod registry login", using a Buf API token as the password. ` + docs},
		{name: "unauthenticated with BUF_TOKEN", bufToken: "bad",
			server: &testRegistry{getCommits: connectErr(connect.CodeUnauthenticated, "no")},
			want:   `the BUF_TOKEN environment variable is not valid for %R. Set BUF_TOKEN to a valid Buf API token, or unset it. ` + docs},
		{name: "unauthenticated with .netrc", netrc: true,
			server: &testRegistry{getCommits: connectErr(connect.CodeUnauthenticated, "no")},
			want:   `your Buf API token for %R is invalid. Run "protomod registry login %R" using a valid Buf API token. ` + docs},
		{name: "unauthenticated with .netrc on buf.build", remote: "buf.build", netrc: true,
			server: &testRegistry{getCommits: connectErr(connect.CodeUnauthenticated, "no")},
			want:   `your Buf API token for buf.build is invalid. Run "protomod registry login" using a valid Buf API token. ` + docs},
		{name: "unknown with empty message", server: &testRegistry{getCommits: connectErr(connect.CodeUnknown, "")},
			want:     `you are not authenticated for %R. Set the BUF_TOKEN environment variable or run "protomod registry login %R", using a Buf API token as the password. ` + docs,
			wantCode: connect.CodeUnknown},
		{name: "401 page", server: &testRegistry{raw: rawAnswer(401, "text/plain", "who are you")},
			want: `you are not authenticated for %R. Set the BUF_TOKEN environment variable or run "protomod registry login %R", using a Buf API token as the password. ` + docs},
		{name: "unimplemented handler", server: &testRegistry{},
			want:     unimplemented("unimplemented: buf.registry.module.v1.CommitService.GetCommits is not implemented", "%R", getCommitsPath),
			wantCode: connect.CodeUnimplemented},
		{name: "unknown route", server: &testRegistry{raw: http.NotFound},
			want: unimplemented("unimplemented: 404 Not Found", "%R", getCommitsPath)},
		{name: "405", server: &testRegistry{raw: rawAnswer(405, "text/html", "<html>no POST</html>")},
			want: unimplemented("unknown: 405 Method Not Allowed", "%R", getCommitsPath)},
		{name: "not found", server: &testRegistry{getCommits: connectErr(connect.CodeNotFound, "module acme/nope not found")},
			want: "module acme/nope not found", wantCode: connect.CodeNotFound},
		{name: "unavailable", server: &testRegistry{getCommits: connectErr(connect.CodeUnavailable, "maintenance")},
			want: "the server hosted at that remote is unavailable.", wantCode: connect.CodeUnavailable},
		{name: "registry error", server: &testRegistry{getCommits: connectErr(connect.CodePermissionDenied, "you may not")},
			want: "permission_denied: you may not", wantCode: connect.CodePermissionDenied},
		{name: "HTML page", server: &testRegistry{raw: rawAnswer(200, "text/html", "<html>hello</html>")},
			want: `invalid response from %U` + getCommitsPath + `: unknown: invalid content-type: "text/html"; expecting "application/proto"`},
		{name: "error page", server: &testRegistry{raw: rawAnswer(500, "text/html", "<html>\noops\n</html>")},
			want: `invalid response from %U` + getCommitsPath + `: unknown: 500 Internal Server Error`},
		{name: "count mismatch", server: &testRegistry{getCommits: func(*modulev1.GetCommitsRequest) (*modulev1.GetCommitsResponse, error) {
			return &modulev1.GetCommitsResponse{Commits: []*modulev1.Commit{{Id: commitID(1)}}}, nil
		}}, want: "expected 2 Commits, got 1"},
		{name: "invalid commit ID", server: &testRegistry{getCommits: func(*modulev1.GetCommitsRequest) (*modulev1.GetCommitsResponse, error) {
			return &modulev1.GetCommitsResponse{Commits: []*modulev1.Commit{{Id: commitID(1)}, {Id: "main"}}}, nil
		}}, want: "the registry %R returned an invalid commit ID: expected dashless uuid to be of length 32 but was 4: main"},
		{name: "empty commit", server: &testRegistry{getCommits: func(*modulev1.GetCommitsRequest) (*modulev1.GetCommitsResponse, error) {
			return &modulev1.GetCommitsResponse{Commits: []*modulev1.Commit{{Id: commitID(1)}, nil}}, nil
		}}, want: "the registry %R returned an invalid commit ID: expected dashless uuid to be of length 32 but was 0: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, remote := start(t, tc.server)
			cfg := plainHTTP(t)
			if tc.remote != "" {
				cfg = loadConfig(t, "", fmt.Sprintf("version: v1\nregistries:\n  %s: {url: %q}\n", tc.remote, srv.URL))
				remote = tc.remote
			}
			netrcPath := filepath.Join(t.TempDir(), "netrc")
			if tc.netrc {
				writeFile(t, netrcPath, "machine "+remote+" login u password netrc-tok\n")
			}
			creds, err := credentials.NewFrom(tc.bufToken, netrcPath)
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(t, Options{Config: cfg, Credentials: creds})
			_, err = c.GetCommits(context.Background(), refsOn(remote, "acme/one", "acme/two"))
			want := strings.NewReplacer("%R", remote, "%U", srv.URL).Replace(tc.want)
			checkError(t, err, want)
			var e *Error
			if !errors.As(err, &e) || e.Registry != remote || e.Procedure != getCommitsPath {
				t.Errorf("error %#v is not an *Error for %s %s", err, remote, getCommitsPath)
			}
			if tc.wantCode != 0 && (e.Code != tc.wantCode || connect.CodeOf(err) != tc.wantCode) {
				t.Errorf("code = %v / %v, want %v", e.Code, connect.CodeOf(err), tc.wantCode)
			}
		})
	}
}

// TestGarbageResponses checks that malformed bodies give one-line errors.
func TestGarbageResponses(t *testing.T) {
	bodies := map[string]string{
		"truncated message": "\x0a\x10abc",
		"wrong wire type":   "\x0f\xff\xff",
		"text":              "hello, world\n",
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			s := &testRegistry{raw: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/proto")
				fmt.Fprint(w, body)
			}}
			srv, registry := start(t, s)
			c := newClient(t, Options{Config: plainHTTP(t)})
			_, err := c.GetCommits(context.Background(), refsOn(registry, "a/b"))
			if err == nil {
				t.Fatal("no error")
			}
			prefix := "invalid response from " + srv.URL + getCommitsPath + ": "
			if !strings.HasPrefix(err.Error(), prefix) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %q, want one line starting %q", err, prefix)
			}
			if c.Requests() != 1 {
				t.Errorf("Requests() = %d, want 1", c.Requests())
			}
		})
	}
	t.Run("gzip garbage", func(t *testing.T) {
		s := &testRegistry{raw: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/proto")
			w.Header().Set("Content-Encoding", "gzip")
			fmt.Fprint(w, "not gzip")
		}}
		_, registry := start(t, s)
		c := newClient(t, Options{Config: plainHTTP(t)})
		_, err := c.GetCommits(context.Background(), refsOn(registry, "a/b"))
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("err = %v, want a one-line error", err)
		}
	})
}

func TestDNSNotFound(t *testing.T) {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	c := newClient(t, Options{DialContext: dial})
	_, err := c.GetCommits(context.Background(), refsOn("nope.example", "a/b"))
	checkError(t, err, `the server hosted at that remote is unavailable. Are you sure "nope.example" is a valid remote address?`)
	if c.Requests() != 1 {
		t.Errorf("Requests() = %d, want 1 (no retry)", c.Requests())
	}
}

func TestTLS(t *testing.T) {
	s := &testRegistry{getCommits: func(req *modulev1.GetCommitsRequest) (*modulev1.GetCommitsResponse, error) {
		return commitsFor(req), nil
	}}
	srv, registry := startTLS(t, s)
	ctx := context.Background()

	t.Run("system roots reject a self-signed registry", func(t *testing.T) {
		c := newClient(t, Options{})
		_, err := c.GetCommits(ctx, refsOn(registry, "a/b"))
		if err == nil || !strings.HasPrefix(err.Error(), "tls certificate verification: ") {
			t.Fatalf("err = %v, want a tls certificate verification error", err)
		}
		var e *Error
		if !errors.As(err, &e) || !e.Bare {
			t.Errorf("err %#v should be printed without the Failure prefix", err)
		}
		if c.Requests() != 1 {
			t.Errorf("Requests() = %d, want 1 (no retry)", c.Requests())
		}
	})

	dir := t.TempDir()
	rootPath := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(rootPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	local := loadConfig(t, "version: v1\ntls:\n  use: local\n  root_cert_file_paths: ["+rootPath+"]\n", "")

	t.Run("local root accepted, over HTTP/1.1", func(t *testing.T) {
		before := len(s.recorded())
		c := newClient(t, Options{Config: local})
		if got := c.BaseURL(registry); got != "https://"+registry {
			t.Errorf("BaseURL = %q", got)
		}
		if _, err := c.GetCommits(ctx, refsOn(registry, "a/b")); err != nil {
			t.Fatal(err)
		}
		if r := s.recorded()[before]; r.Proto != "HTTP/1.1" {
			t.Errorf("protocol = %s, want HTTP/1.1", r.Proto)
		}
	})

	t.Run("per-registry override to https", func(t *testing.T) {
		cfg := loadConfig(t, "version: v1\ntls:\n  use: local\n  root_cert_file_paths: ["+rootPath+"]\n",
			"version: v1\nregistries:\n  reg.example: {url: "+srv.URL+"}\n")
		c := newClient(t, Options{Config: cfg})
		if _, err := c.GetCommits(ctx, refsOn("reg.example", "a/b")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("https to a plain HTTP registry", func(t *testing.T) {
		_, plainRegistry := start(t, &testRegistry{})
		c := newClient(t, Options{})
		_, err := c.GetCommits(ctx, refsOn(plainRegistry, "a/b"))
		checkError(t, err, "the server hosted at that remote is unavailable.")
		if c.Requests() != 1 {
			t.Errorf("Requests() = %d, want 1 (no retry)", c.Requests())
		}
	})
}

func TestPlainHTTPOverride(t *testing.T) {
	s := &testRegistry{getCommits: func(req *modulev1.GetCommitsRequest) (*modulev1.GetCommitsResponse, error) {
		return commitsFor(req), nil
	}}
	srv, registry := start(t, s)
	// TLS stays on for everything else; only this registry is plain HTTP.
	cfg := loadConfig(t, "version: v1\n", "version: v1\nregistries:\n  "+registry+": {url: "+srv.URL+"}\n")
	c := newClient(t, Options{Config: cfg})
	if _, err := c.GetCommits(context.Background(), refsOn(registry, "a/b")); err != nil {
		t.Fatal(err)
	}
	if got := c.BaseURL("other.example"); got != "https://other.example" {
		t.Errorf("BaseURL(other) = %q", got)
	}
	if got := New(Options{Config: &clientconfig.Config{TLSMode: clientconfig.TLSDisabled}}).BaseURL("x.example"); got != "http://x.example" {
		t.Errorf("BaseURL with tls.use false = %q", got)
	}
}

func TestWarningHeader(t *testing.T) {
	s := &testRegistry{
		getCommits: func(req *modulev1.GetCommitsRequest) (*modulev1.GetCommitsResponse, error) {
			return commitsFor(req), nil
		},
		responseHeader: http.Header{"Buf-Warning-Bin": {connect.EncodeBinaryHeader([]byte("this registry is deprecated"))}},
	}
	_, registry := start(t, s)
	var got []string
	c := newClient(t, Options{Config: plainHTTP(t), OnWarning: func(r, w string) { got = append(got, r+": "+w) }})
	if _, err := c.GetCommits(context.Background(), refsOn(registry, "a/b")); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != registry+": this registry is deprecated" {
		t.Errorf("warnings = %q", got)
	}
}

func TestMethods(t *testing.T) {
	ctx := context.Background()
	var gotModules *modulev1.GetModulesRequest
	var gotDownload *modulev1.DownloadRequest
	var gotGraph *modulev1.GetGraphRequest
	var gotOwners *ownerv1.GetOwnersRequest
	s := &testRegistry{
		getGraph: func(req *modulev1.GetGraphRequest) (*modulev1.GetGraphResponse, error) {
			gotGraph = req
			return &modulev1.GetGraphResponse{Graph: &modulev1.Graph{
				Commits: []*modulev1.Commit{{Id: commitID(1)}, {Id: strings.ToUpper(commitID(2))}},
				Edges: []*modulev1.Graph_Edge{{
					FromNode: &modulev1.Graph_Node{CommitId: commitID(1)},
					ToNode:   &modulev1.Graph_Node{CommitId: strings.ToUpper(commitID(2))},
				}},
			}}, nil
		},
		getModules: func(req *modulev1.GetModulesRequest) (*modulev1.GetModulesResponse, error) {
			gotModules = req
			res := &modulev1.GetModulesResponse{}
			for range req.GetModuleRefs() {
				res.Modules = append(res.Modules, &modulev1.Module{Id: "m", Name: "mod"})
			}
			return res, nil
		},
		getOwners: func(req *ownerv1.GetOwnersRequest) (*ownerv1.GetOwnersResponse, error) {
			gotOwners = req
			return &ownerv1.GetOwnersResponse{Owners: []*ownerv1.Owner{{Value: &ownerv1.Owner_User{User: &ownerv1.User{Name: "acme"}}}}}, nil
		},
		download: func(req *modulev1.DownloadRequest) (*modulev1.DownloadResponse, error) {
			gotDownload = req
			return &modulev1.DownloadResponse{Contents: []*modulev1.DownloadResponse_Content{{
				Commit: &modulev1.Commit{Id: commitID(1)},
				Files:  []*modulev1.File{{Path: "a.proto", Content: []byte("syntax = \"proto3\";\n")}},
			}}}, nil
		},
		upload: func(req *modulev1.UploadRequest) (*modulev1.UploadResponse, error) {
			res := &modulev1.UploadResponse{}
			for i := range req.GetContents() {
				res.Commits = append(res.Commits, &modulev1.Commit{Id: commitID(100 + i)})
			}
			return res, nil
		},
		createModules: func(req *modulev1.CreateModulesRequest) (*modulev1.CreateModulesResponse, error) {
			return &modulev1.CreateModulesResponse{}, nil // one short
		},
	}
	_, registry := start(t, s)
	c := newClient(t, Options{Config: plainHTTP(t)})
	name := bufname.FullName{Registry: registry, Owner: "acme", Name: "base"}

	g, err := c.GetGraph(ctx, []bufname.ModuleKey{{FullName: name, CommitID: commitID(1)}})
	if err != nil {
		t.Fatal(err)
	}
	if g.GetCommits()[1].GetId() != commitID(2) || g.GetEdges()[0].GetToNode().GetCommitId() != commitID(2) {
		t.Errorf("graph IDs not normalized: %v", g)
	}
	wantGraph := &modulev1.GetGraphRequest{ResourceRefs: []*modulev1.ResourceRef{nameRef(name, commitID(1))}}
	if !proto.Equal(gotGraph, wantGraph) {
		t.Errorf("GetGraph request = %v, want %v", gotGraph, wantGraph)
	}

	if _, err := c.GetModulesByID(ctx, registry, []string{"id1", "id2"}); err != nil {
		t.Fatal(err)
	}
	if refs := gotModules.GetModuleRefs(); len(refs) != 2 || refs[1].GetId() != "id2" {
		t.Errorf("GetModules by ID request = %v", gotModules)
	}
	if _, err := c.GetModulesByName(ctx, []bufname.FullName{name}); err != nil {
		t.Fatal(err)
	}
	if n := gotModules.GetModuleRefs()[0].GetName(); n.GetOwner() != "acme" || n.GetModule() != "base" {
		t.Errorf("GetModules by name request = %v", gotModules)
	}

	owners, err := c.GetOwnersByID(ctx, registry, []string{"o1"})
	if err != nil || owners[0].GetUser().GetName() != "acme" || gotOwners.GetOwnerRefs()[0].GetId() != "o1" {
		t.Errorf("GetOwnersByID = %v, %v (request %v)", owners, err, gotOwners)
	}
	_, err = c.GetOwnersByID(ctx, registry, []string{"o1", "o2"})
	checkError(t, err, "expected 2 Owners, got 1")

	contents, err := c.Download(ctx, registry, []string{commitID(1)})
	if err != nil || len(contents[0].GetFiles()) != 1 {
		t.Fatalf("Download = %v, %v", contents, err)
	}
	if v := gotDownload.GetValues()[0]; v.GetResourceRef().GetId() != commitID(1) || len(v.GetFileTypes()) != 0 {
		t.Errorf("Download request = %v, want only resource_ref.id", gotDownload)
	}
	_, err = c.Download(ctx, registry, []string{commitID(1), commitID(2)})
	checkError(t, err, "expected 2 Contents, got 1")

	commits, err := c.Upload(ctx, registry, &modulev1.UploadRequest{Contents: []*modulev1.UploadRequest_Content{{}, {}}})
	if err != nil || len(commits) != 2 || commits[1].GetId() != commitID(101) {
		t.Errorf("Upload = %v, %v", commits, err)
	}
	_, err = c.CreateModules(ctx, registry, &modulev1.CreateModulesRequest{Values: []*modulev1.CreateModulesRequest_Value{{Name: "m"}}})
	checkError(t, err, "expected 1 Modules, got 0")
}

func TestBadGraph(t *testing.T) {
	tests := []struct {
		name  string
		graph *modulev1.Graph
		want  string
	}{
		{"no graph", nil, "the registry %R answered GetGraph without a graph"},
		{"bad node", &modulev1.Graph{Commits: []*modulev1.Commit{{Id: "xyz"}}},
			"the registry %R returned an invalid commit ID: expected dashless uuid to be of length 32 but was 3: xyz"},
		{"bad edge", &modulev1.Graph{Edges: []*modulev1.Graph_Edge{{FromNode: &modulev1.Graph_Node{CommitId: commitID(1)}}}},
			"the registry %R returned a graph edge with an invalid commit ID: expected dashless uuid to be of length 32 but was 0: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &testRegistry{getGraph: func(*modulev1.GetGraphRequest) (*modulev1.GetGraphResponse, error) {
				return &modulev1.GetGraphResponse{Graph: tc.graph}, nil
			}}
			_, registry := start(t, s)
			c := newClient(t, Options{Config: plainHTTP(t)})
			key := bufname.ModuleKey{FullName: bufname.FullName{Registry: registry, Owner: "o", Name: "m"}, CommitID: commitID(1)}
			_, err := c.GetGraph(context.Background(), []bufname.ModuleKey{key})
			checkError(t, err, strings.ReplaceAll(tc.want, "%R", registry))
		})
	}
}

func TestUnreadableNetrc(t *testing.T) {
	creds, err := credentials.NewFrom("", t.TempDir()) // a directory
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, Options{Credentials: creds})
	_, err = c.GetCommits(context.Background(), refsOn("r.example", "a/b"))
	if err == nil || !strings.Contains(err.Error(), "look up credentials for r.example") {
		t.Errorf("err = %v", err)
	}
	if c.Requests() != 0 {
		t.Errorf("Requests() = %d, want 0", c.Requests())
	}
}

// TestAuthnDescriptor pins the generated AuthnService to the wire names
// and field numbers of registry-api.md §5.8.
func TestAuthnDescriptor(t *testing.T) {
	user := (&registryv1alpha1.User{}).ProtoReflect().Descriptor()
	if got := string(user.FullName()); got != "buf.alpha.registry.v1alpha1.User" {
		t.Errorf("User full name = %s", got)
	}
	for name, num := range map[string]int{
		"id": 1, "create_time": 2, "update_time": 3, "username": 4, "deactivated": 5,
		"description": 6, "url": 7, "verification_status": 8, "user_type": 9,
	} {
		f := user.Fields().ByName(protoreflect.Name(name))
		if f == nil || int(f.Number()) != num {
			t.Errorf("User.%s: %v, want number %d", name, f, num)
		}
	}
	res := (&registryv1alpha1.GetCurrentUserResponse{}).ProtoReflect().Descriptor()
	if f := res.Fields().ByName("user"); f == nil || f.Number() != 1 {
		t.Errorf("GetCurrentUserResponse.user = %v, want number 1", f)
	}
	if n := (&registryv1alpha1.GetCurrentUserRequest{}).ProtoReflect().Descriptor().Fields().Len(); n != 0 {
		t.Errorf("GetCurrentUserRequest has %d fields, want 0", n)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &testRegistry{getCommits: func(*modulev1.GetCommitsRequest) (*modulev1.GetCommitsResponse, error) {
		cancel() // the caller gives up while the client waits to retry
		return nil, connect.NewError(connect.CodeUnavailable, errors.New("busy"))
	}}
	_, registry := start(t, s)
	c := newClient(t, Options{Config: plainHTTP(t), RetryBackoff: time.Hour})
	_, err := c.GetCommits(ctx, refsOn(registry, "a/b"))
	if connect.CodeOf(err) != connect.CodeCanceled {
		t.Errorf("err = %v (code %v), want canceled", err, connect.CodeOf(err))
	}
	if c.Requests() != 1 {
		t.Errorf("Requests() = %d, want 1", c.Requests())
	}
}
