// Package regtest runs a real protomod registry inside a test process, on
// 127.0.0.1:0 over a store in a temporary directory, and pushes workspaces
// to it with the real push code. Packages test their registry-facing code
// against it (see package e2e for the subprocess harness).
package regtest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/cache"
	"github.com/protomod/protomod/internal/clientconfig"
	"github.com/protomod/protomod/internal/credentials"
	"github.com/protomod/protomod/internal/deps"
	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/lock"
	"github.com/protomod/protomod/internal/push"
	"github.com/protomod/protomod/internal/registry"
	"github.com/protomod/protomod/internal/server"
	"github.com/protomod/protomod/internal/workspace"
)

// Registry is a running registry.
type Registry struct {
	// Host is the registry name module names use: 127.0.0.1:<port>.
	Host   string
	Server *server.Server
	t      testing.TB
}

// Start starts a registry that stops when the test ends.
func Start(t testing.TB) *Registry {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Config{
		DataDir: t.TempDir(),
		Addr:    "127.0.0.1:0",
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		cancel()
		t.Fatalf("start registry: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("registry: %v", err)
		}
	})
	return &Registry{Host: srv.Addr(), Server: srv, t: t}
}

// User creates a user and returns a token for it.
func (r *Registry) User(name string) string {
	r.t.Helper()
	ctx := context.Background()
	if _, err := r.Server.Store().CreateUser(ctx, name); err != nil {
		r.t.Fatalf("create user %s: %v", name, err)
	}
	tok, _, err := r.Server.Store().CreateToken(ctx, name, "regtest")
	if err != nil {
		r.t.Fatalf("create token for %s: %v", name, err)
	}
	return tok
}

// Org creates an organization with the given members.
func (r *Registry) Org(name string, members ...string) {
	r.t.Helper()
	ctx := context.Background()
	if _, err := r.Server.Store().CreateOrganization(ctx, name); err != nil {
		r.t.Fatalf("create organization %s: %v", name, err)
	}
	for _, m := range members {
		if err := r.Server.Store().AddMember(ctx, name, m); err != nil {
			r.t.Fatalf("add %s to %s: %v", m, name, err)
		}
	}
}

// Client returns a client that talks plain HTTP to every registry and sends
// token ("" for none) as BUF_TOKEN would.
func (r *Registry) Client(token string) *registry.Client {
	r.t.Helper()
	creds, err := credentials.NewFrom(token, filepath.Join(r.t.TempDir(), "no-netrc"))
	if err != nil {
		r.t.Fatal(err)
	}
	return registry.New(registry.Options{
		Config:      &clientconfig.Config{TLSMode: clientconfig.TLSDisabled},
		Credentials: creds,
	})
}

// Name returns the full name of owner/module on this registry.
func (r *Registry) Name(module string) bufname.FullName {
	r.t.Helper()
	name, err := bufname.ParseFullName(r.Host + "/" + module)
	if err != nil {
		r.t.Fatal(err)
	}
	return name
}

// Pin returns the buf.lock entry of owner/module at ref (a commit or a
// label; "" for the default label) as the registry describes it.
func (r *Registry) Pin(client *registry.Client, module, ref string) lock.Dep {
	r.t.Helper()
	name := r.Name(module)
	commits, err := client.GetCommits(context.Background(), []bufname.Ref{{FullName: name, Ref: ref}})
	if err != nil {
		r.t.Fatalf("resolve %s:%s: %v", name, ref, err)
	}
	d, err := digest.FromBytes(digest.TypeB5, commits[0].GetDigest().GetValue())
	if err != nil {
		r.t.Fatalf("digest of %s:%s: %v", name, ref, err)
	}
	return lock.Dep{Name: name, Commit: commits[0].GetId(), Digest: d}
}

// WriteFiles writes files (slash-separated paths relative to dir).
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Push pushes the named modules of the workspace at dir, creating modules
// that do not exist yet (private), with the given labels (none: the default
// label), and returns the new commits by module name (owner/module). The
// workspace's deps are read from its buf.lock and c.
func (r *Registry) Push(client *registry.Client, c *cache.Cache, dir string, labels ...string) map[string]string {
	r.t.Helper()
	ctx := context.Background()
	ws, err := workspace.Open(dir, workspace.Options{})
	if err != nil {
		r.t.Fatalf("push %s: %v", dir, err)
	}
	set, err := deps.Resolve(ctx, ws, deps.Options{OpenCache: func() (*cache.Cache, error) { return c, nil }})
	if err != nil {
		r.t.Fatalf("push %s: %v", dir, err)
	}
	pushed, err := push.Push(ctx, client, ws, set, push.Options{Labels: labels, Create: true})
	if err != nil {
		r.t.Fatalf("push %s: %v", dir, err)
	}
	out := make(map[string]string, len(pushed))
	for _, p := range pushed {
		out[p.Name.Owner+"/"+p.Name.Name] = p.Commit
	}
	return out
}
