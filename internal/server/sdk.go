package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/protomod/protomod/internal/gengo"
	"github.com/protomod/protomod/internal/goproxy"
	"github.com/protomod/protomod/internal/store"
)

// SDKPrefix is the URL path under which the server answers the GOPROXY
// protocol for generated Go SDKs.
const SDKPrefix = "/gen/go"

// SDKConfig configures the Go module proxy for generated SDKs (see
// docs/goproxy.md).
type SDKConfig struct {
	// Off turns the proxy off: everything under /gen/go/ answers 404.
	Off bool
	// Host starts every SDK module path: <Host>/gen/go/<owner>/<module>/...
	// Module paths cannot carry a port. Default: Config.PublicHost without
	// its port; if that is not a valid module path host (for example
	// "localhost" or an IPv6 address), the proxy is off and the log says
	// why. An explicit Host that is not valid is an error.
	Host string
	// Plugins is the plugin catalog. Default: the built-in
	// protocolbuffers/go and connectrpc/go (protoc-gen-connect-go on PATH).
	Plugins *gengo.Catalog
	// Dir keeps the generated go.mod files and zips. Default:
	// <DataDir>/sdk; in memory when Config.Store is set without a DataDir.
	Dir string
	// BuildTimeout and MaxConcurrentBuilds: see goproxy.Options.
	BuildTimeout        time.Duration
	MaxConcurrentBuilds int
}

// SDKHost returns the host that starts SDK module paths when none is
// configured: publicHost (host[:port]) without its port.
func SDKHost(publicHost string) string {
	if h, _, err := net.SplitHostPort(publicHost); err == nil {
		return h
	}
	return publicHost
}

// newSDKHandler builds the /gen/go/ handler: the GOPROXY handler over the
// server's store, or, when the proxy is off, one that says so with 404s.
func (s *Server) newSDKHandler(dataDir string) (http.Handler, error) {
	cfg := s.cfg.SDK
	if cfg.Off {
		return sdkOff("Go SDKs are turned off on this registry"), nil
	}
	host := cfg.Host
	if host == "" {
		host = SDKHost(s.cfg.PublicHost)
		if err := gengo.CheckHost(host); err != nil {
			s.log.Warn("Go SDKs are off: set --sdk-host to a host name for SDK module paths", "public_host", s.cfg.PublicHost, "error", err)
			return sdkOff(fmt.Sprintf("Go SDKs are off on this registry: %v; the operator can set --sdk-host", err)), nil
		}
	}
	plugins := cfg.Plugins
	if plugins == nil {
		var err error
		if plugins, err = gengo.LoadPlugins("", ""); err != nil {
			return nil, err
		}
	}
	var artifacts goproxy.Store
	dir := cfg.Dir
	if dir == "" && dataDir != "" {
		dir = filepath.Join(dataDir, "sdk")
	}
	if dir == "" {
		artifacts = goproxy.NewMemStore()
	} else {
		ds, err := goproxy.NewDirStore(dir)
		if err != nil {
			return nil, err
		}
		artifacts = ds
	}
	h, err := goproxy.New(goproxy.Options{
		Host:                host,
		Prefix:              SDKPrefix,
		Registry:            sdkRegistry{s: s},
		Store:               artifacts,
		Plugins:             plugins,
		Logger:              s.log,
		BuildTimeout:        cfg.BuildTimeout,
		MaxConcurrentBuilds: cfg.MaxConcurrentBuilds,
	})
	if err != nil {
		return nil, err
	}
	s.sdkHost = host
	return h, nil
}

// sdkOff answers every request with a 404 and a message, so that the go
// command falls through to its next GOPROXY entry.
func sdkOff(msg string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintln(w, msg)
	})
}

// isSDKPath reports whether a request goes to the SDK proxy. The proxy
// sees paths as sent: ServeMux would redirect paths with "..", "." or "//"
// to their clean form instead of refusing them.
func isSDKPath(p string) bool {
	return p == SDKPrefix || strings.HasPrefix(p, SDKPrefix+"/")
}

// sdkRegistry is goproxy.Registry on the server's store.
type sdkRegistry struct{ s *Server }

var _ goproxy.Registry = sdkRegistry{}

// storeErr maps the store's not-found (and invalid names, which cannot
// exist) to goproxy.ErrNotFound.
func storeErr(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		return fmt.Errorf("%s: %w", msg, goproxy.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// Module implements goproxy.Registry: token (a bearer token, or basic
// auth's password) names a user; private modules are visible to the
// members of their owner only.
func (r sdkRegistry) Module(ctx context.Context, token, owner, name string) (goproxy.Module, error) {
	st := r.s.store
	var user *store.Owner
	if token != "" {
		u, err := st.UserByTokenHash(ctx, store.HashToken(token))
		if errors.Is(err, store.ErrNotFound) {
			return goproxy.Module{}, fmt.Errorf("token: %w", goproxy.ErrUnauthenticated)
		}
		if err != nil {
			return goproxy.Module{}, fmt.Errorf("authenticate: %w", err)
		}
		user = &u
		if ri := infoFrom(ctx); ri != nil {
			ri.mu.Lock()
			ri.user = u.Name
			ri.mu.Unlock()
		}
	}
	m, err := st.ModuleByName(ctx, owner, name)
	if err != nil {
		return goproxy.Module{}, storeErr(err, "module %s/%s", owner, name)
	}
	// Names match case-insensitively in the store, but an SDK module path
	// must spell them as the registry does: the generated go.mod files do.
	if m.OwnerName != owner || m.Name != name {
		return goproxy.Module{}, fmt.Errorf("module %s/%s is spelled %s: %w", owner, name, m.FullName(), goproxy.ErrNotFound)
	}
	if m.Visibility != store.VisibilityPublic {
		if user == nil {
			return goproxy.Module{}, fmt.Errorf("private module %s: %w", m.FullName(), goproxy.ErrNotFound)
		}
		ok, err := st.IsMember(ctx, m.OwnerID, user.ID)
		if err != nil {
			return goproxy.Module{}, fmt.Errorf("check membership: %w", err)
		}
		if !ok {
			return goproxy.Module{}, fmt.Errorf("private module %s: %w", m.FullName(), goproxy.ErrNotFound)
		}
	}
	return goproxy.Module{
		ID:           m.ID,
		Owner:        m.OwnerName,
		Name:         m.Name,
		DefaultLabel: m.DefaultLabel,
		Private:      m.Visibility != store.VisibilityPublic,
	}, nil
}

// Commits implements goproxy.Registry.
func (r sdkRegistry) Commits(ctx context.Context, moduleID string) ([]gengo.Commit, error) {
	m, err := r.s.store.ModuleByID(ctx, moduleID)
	if err != nil {
		return nil, storeErr(err, "module %s", moduleID)
	}
	var out []gengo.Commit
	page := store.Page{}
	for {
		commits, next, err := r.s.store.ListCommits(ctx, moduleID, page)
		if err != nil {
			return nil, fmt.Errorf("list commits of %s: %w", m.FullName(), err)
		}
		for _, c := range commits {
			out = append(out, sdkCommit(m, c))
		}
		if next == "" {
			return out, nil
		}
		page.Token = next
	}
}

func sdkCommit(m store.Module, c store.Commit) gengo.Commit {
	return gengo.Commit{Owner: m.OwnerName, Module: m.Name, ID: c.ID, CreateTime: c.CreateTime}
}

// Label implements goproxy.Registry.
func (r sdkRegistry) Label(ctx context.Context, moduleID, name string) (string, error) {
	l, err := r.s.store.LabelByName(ctx, moduleID, name)
	if err != nil {
		return "", storeErr(err, "label %s", name)
	}
	return l.CommitID, nil
}

// LabelHistory implements goproxy.Registry.
func (r sdkRegistry) LabelHistory(ctx context.Context, moduleID, name string) ([]string, error) {
	l, err := r.s.store.LabelByName(ctx, moduleID, name)
	if err != nil {
		return nil, storeErr(err, "label %s", name)
	}
	var out []string
	page := store.Page{}
	for {
		moves, next, err := r.s.store.LabelHistory(ctx, l.ID, page)
		if err != nil {
			return nil, fmt.Errorf("history of label %s: %w", name, err)
		}
		for _, mv := range moves {
			out = append(out, mv.CommitID)
		}
		if next == "" {
			return out, nil
		}
		page.Token = next
	}
}

// Deps implements goproxy.Registry: the commit's transitive dependencies.
func (r sdkRegistry) Deps(ctx context.Context, commitID string) ([]gengo.Commit, error) {
	deps, err := r.s.store.CommitDeps(ctx, commitID)
	if err != nil {
		return nil, storeErr(err, "dependencies of commit %s", commitID)
	}
	modules := map[string]store.Module{}
	out := make([]gengo.Commit, 0, len(deps.All))
	for _, id := range deps.All {
		c, err := r.s.store.CommitByID(ctx, id)
		if err != nil {
			return nil, storeErr(err, "dependency %s of commit %s", id, commitID)
		}
		m, ok := modules[c.ModuleID]
		if !ok {
			if m, err = r.s.store.ModuleByID(ctx, c.ModuleID); err != nil {
				return nil, storeErr(err, "module of dependency %s", id)
			}
			modules[c.ModuleID] = m
		}
		out = append(out, sdkCommit(m, c))
	}
	return out, nil
}

// Files implements goproxy.Registry: the commit's files, read from blobs.
func (r sdkRegistry) Files(ctx context.Context, commitID string) (map[string][]byte, error) {
	refs, err := r.s.store.CommitFiles(ctx, commitID)
	if err != nil {
		return nil, storeErr(err, "files of commit %s", commitID)
	}
	files := make(map[string][]byte, len(refs))
	for _, f := range refs {
		data, err := r.s.store.Blob(ctx, f.SHA256)
		if err != nil {
			return nil, fmt.Errorf("file %s of commit %s: %w", f.Path, commitID, err)
		}
		files[f.Path] = data
	}
	return files, nil
}
