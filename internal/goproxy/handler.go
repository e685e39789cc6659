package goproxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/sync/singleflight"

	"github.com/protomod/protomod/internal/gengo"
)

// Options configure a Handler.
type Options struct {
	// Host starts every SDK module path, e.g. "buf.example.com"; it may not
	// carry a port (see gengo.CheckHost).
	Host string
	// Prefix is the URL path the handler is mounted at; default "/gen/go".
	// The GOPROXY entry is then http(s)://<server><Prefix>.
	Prefix   string
	Registry Registry
	Store    Store
	Plugins  *gengo.Catalog
	// Logger receives build timings and internal errors; default: discard.
	Logger *slog.Logger
	// BuildTimeout limits one SDK generation; default 15 minutes.
	BuildTimeout time.Duration
	// MaxConcurrentBuilds caps simultaneous generations (each can take
	// gigabytes of memory for large modules); default 1.
	MaxConcurrentBuilds int
}

// Handler serves the GOPROXY protocol for generated SDKs.
type Handler struct {
	host, prefix string
	registry     Registry
	store        Store
	plugins      *gengo.Catalog
	log          *slog.Logger
	buildTimeout time.Duration
	builds       chan struct{}
	group        singleflight.Group
}

// New returns a Handler.
func New(opts Options) (*Handler, error) {
	if err := gengo.CheckHost(opts.Host); err != nil {
		return nil, err
	}
	if opts.Registry == nil || opts.Store == nil || opts.Plugins == nil {
		return nil, errors.New("goproxy: Registry, Store and Plugins are required")
	}
	prefix := strings.TrimSuffix(opts.Prefix, "/")
	if opts.Prefix == "" {
		prefix = "/gen/go"
	}
	if prefix != "" && !strings.HasPrefix(prefix, "/") {
		return nil, fmt.Errorf("goproxy: prefix %q must start with /", opts.Prefix)
	}
	h := &Handler{
		host: opts.Host, prefix: prefix,
		registry: opts.Registry, store: opts.Store, plugins: opts.Plugins,
		log:          opts.Logger,
		buildTimeout: opts.BuildTimeout,
		builds:       make(chan struct{}, max(opts.MaxConcurrentBuilds, 1)),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.buildTimeout <= 0 {
		h.buildTimeout = 15 * time.Minute
	}
	return h, nil
}

// httpError is an answer other than 200.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func notFound(format string, args ...any) error {
	return &httpError{status: http.StatusNotFound, msg: fmt.Sprintf(format, args...)}
}

// request is a parsed GOPROXY request for an SDK module.
type request struct {
	path     string // module path
	escPath  string
	owner    string // proto module owner and name
	name     string
	plugin   string // plugin owner/name
	pOwner   string
	pName    string
	major    int    // from the path: 0 without /vN
	kind     string // "list", "latest", "info", "mod", "zip"
	version  string // unescaped; empty for list and latest
	escVer   string
	token    string
	module   Module
	versions []*gengo.Plugin // plugin versions served at this path, oldest first
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeText(w, http.StatusMethodNotAllowed, "only GET and HEAD are supported")
		return
	}
	err := h.serve(w, r)
	if err == nil {
		return
	}
	var he *httpError
	if !errors.As(err, &he) {
		h.log.Error("goproxy: internal error", "path", r.URL.Path, "error", err)
		he = &httpError{status: http.StatusInternalServerError, msg: "internal error in the registry's Go module proxy; the server log has the details"}
	}
	if he.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="protomod"`)
	}
	writeText(w, he.status, he.msg)
}

// maxErrorBody caps an error body. The go command shows at most 8 lines
// and 648 bytes of it, so messages put what failed and why first; the
// server log has the whole error.
const maxErrorBody = 4 << 10

func writeText(w http.ResponseWriter, status int, msg string) {
	msg = strings.ToValidUTF8(strings.TrimRight(msg, "\n"), "?")
	if len(msg) > maxErrorBody {
		msg = strings.ToValidUTF8(msg[:maxErrorBody], "") + "\n... (truncated; the server log has the whole message)"
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) error {
	req, err := h.parse(r.URL.Path)
	if err != nil {
		return err
	}
	if req.token, err = bearerOrBasic(r.Header.Get("Authorization")); err != nil {
		return err
	}
	ctx := r.Context()
	req.module, err = h.registry.Module(ctx, req.token, req.owner, req.name)
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return &httpError{status: http.StatusUnauthorized, msg: fmt.Sprintf("%s: the registry does not accept the credentials sent; check the token in ~/.netrc (or GOAUTH) for this host", req.path)}
	case errors.Is(err, ErrNotFound):
		msg := fmt.Sprintf("%s: module %s/%s not found on this registry", req.path, req.owner, req.name)
		if req.token == "" {
			msg += " (private modules need credentials: a .netrc entry for this host, over https)"
		}
		return notFound("%s", msg)
	case err != nil:
		return fmt.Errorf("look up module %s/%s: %w", req.owner, req.name, err)
	}
	switch req.kind {
	case "list":
		return h.serveList(ctx, w, req)
	case "latest":
		return h.serveLatest(ctx, w, req)
	case "info":
		return h.serveInfo(ctx, w, req)
	case "mod":
		return h.serveMod(ctx, w, req)
	default:
		return h.serveZip(ctx, w, req)
	}
}

// parse checks the URL path and splits it into its parts. Anything that is
// not an SDK module path of this registry is a cheap 404.
func (h *Handler) parse(urlPath string) (*request, error) {
	rest, ok := strings.CutPrefix(urlPath, h.prefix+"/")
	if !ok {
		return nil, notFound("not found: %s is outside this Go module proxy (%s/)", urlPath, h.prefix)
	}
	if strings.HasPrefix(rest, "sumdb/") {
		return nil, notFound("this registry does not proxy checksum databases")
	}
	req := &request{}
	if esc, ok := strings.CutSuffix(rest, "/@latest"); ok {
		req.escPath, req.kind = esc, "latest"
	} else {
		i := strings.LastIndex(rest, "/@v/")
		if i < 0 {
			return nil, notFound("not found: %s is not a GOPROXY request", urlPath)
		}
		req.escPath = rest[:i]
		file := rest[i+len("/@v/"):]
		if file == "list" {
			req.kind = "list"
		} else {
			for _, ext := range []string{".info", ".mod", ".zip"} {
				if v, ok := strings.CutSuffix(file, ext); ok && v != "" {
					req.kind, req.escVer = ext[1:], v
				}
			}
			if req.kind == "" {
				return nil, notFound("not found: %s is not a GOPROXY request", urlPath)
			}
			v, err := module.UnescapeVersion(req.escVer)
			if err != nil || strings.Contains(v, "/") {
				return nil, notFound("invalid version %q in %s", req.escVer, urlPath)
			}
			req.version = v
		}
	}
	p, err := module.UnescapePath(req.escPath)
	if err != nil {
		return nil, notFound("invalid module path %q: %v", req.escPath, err)
	}
	req.path = p
	sdkPrefix := h.host + "/gen/go/"
	tail, ok := strings.CutPrefix(p, sdkPrefix)
	if !ok {
		return nil, notFound("%s: not served by this registry (it serves only %s...)", p, sdkPrefix)
	}
	parts := strings.Split(tail, "/")
	if len(parts) == 5 {
		pathMajor := parts[4]
		n, err := strconv.Atoi(strings.TrimPrefix(pathMajor, "v"))
		if !strings.HasPrefix(pathMajor, "v") || err != nil || n < 2 || "v"+strconv.Itoa(n) != pathMajor {
			return nil, h.shapeError(p)
		}
		req.major = n
		parts = parts[:4]
	}
	if len(parts) != 4 {
		return nil, h.shapeError(p)
	}
	req.owner, req.name, req.pOwner, req.pName = parts[0], parts[1], parts[2], parts[3]
	req.plugin = req.pOwner + "/" + req.pName
	req.versions = h.plugins.Versions(req.pOwner, req.pName, req.major)
	if len(req.versions) == 0 {
		if req.major > 0 {
			return nil, notFound("%s: this registry has no plugin %s with major version %d", p, req.plugin, req.major)
		}
		return nil, notFound("%s: this registry has no plugin %s", p, req.plugin)
	}
	return req, nil
}

func (h *Handler) shapeError(p string) error {
	return notFound("%s: not a Go SDK module path; SDK module paths are %s/gen/go/<owner>/<module>/<plugin owner>/<plugin>[/vN]", p, h.host)
}

// bearerOrBasic returns the token of an Authorization header: a bearer
// token, or the password of basic auth (the user name if the password is
// empty), as the go command sends from .netrc.
func bearerOrBasic(header string) (string, error) {
	if header == "" {
		return "", nil
	}
	scheme, value, _ := strings.Cut(header, " ")
	value = strings.TrimSpace(value)
	bad := &httpError{status: http.StatusUnauthorized, msg: `the Authorization header must be "Bearer <token>" or basic auth with the token as password`}
	switch {
	case strings.EqualFold(scheme, "Bearer") && value != "":
		return value, nil
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return "", bad
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return "", bad
		}
		if pass == "" {
			pass = user
		}
		if pass == "" {
			return "", bad
		}
		return pass, nil
	}
	return "", bad
}

// key returns the Store key of an artifact.
func key(escPath, escVer, ext string) string {
	return escPath + "/@v/" + escVer + "." + ext
}

type info struct {
	Version string
	Time    string
}

func writeInfo(w http.ResponseWriter, v gengo.Version, cache string) error {
	data, err := json.Marshal(info{Version: v.String(), Time: v.Time.UTC().Format(time.RFC3339)})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", cache)
	_, err = w.Write(append(data, '\n'))
	return err
}

func (h *Handler) commits(ctx context.Context, req *request) ([]gengo.Commit, error) {
	commits, err := h.registry.Commits(ctx, req.module.ID)
	if err != nil {
		return nil, fmt.Errorf("list commits of %s/%s: %w", req.owner, req.name, err)
	}
	return commits, nil
}

// serveList lists the SDK versions of the commits the module's default
// label has pointed to, for each plugin version served at the path, at its
// current revision, up to the version of the label's current commit: the
// go command takes the highest listed version as @latest, so @latest and
// `go get -u` follow the default label. Commits elsewhere (other labels, or
// ones the default label has left for an older commit) are not listed but
// stay reachable by version, label and commit ID. Without a default label
// the list is empty and the go command asks @latest, which answers 404.
func (h *Handler) serveList(ctx context.Context, w http.ResponseWriter, req *request) error {
	versions, err := h.listed(ctx, req)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	var b strings.Builder
	for _, v := range versions {
		b.WriteString(v)
		b.WriteByte('\n')
	}
	_, err = w.Write([]byte(b.String()))
	return err
}

func defaultLabel(m Module) string {
	if m.DefaultLabel == "" {
		return "main"
	}
	return m.DefaultLabel
}

// listed returns the versions @v/list shows, sorted.
func (h *Handler) listed(ctx context.Context, req *request) ([]string, error) {
	label := defaultLabel(req.module)
	headID, err := h.registry.Label(ctx, req.module.ID, label)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up label %s of %s/%s: %w", label, req.owner, req.name, err)
	}
	history, err := h.registry.LabelHistory(ctx, req.module.ID, label)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("read the history of label %s of %s/%s: %w", label, req.owner, req.name, err)
	}
	onLabel := map[string]bool{headID: true}
	for _, id := range history {
		onLabel[id] = true
	}
	commits, err := h.commits(ctx, req)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(commits, func(c gengo.Commit) bool { return c.ID == headID })
	if i < 0 {
		return nil, fmt.Errorf("label %s of %s/%s points to commit %s, which is not among the module's commits", label, req.owner, req.name, headID)
	}
	top, err := gengo.SDKVersion(req.versions[len(req.versions)-1], commits[i])
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var versions []string
	for _, c := range commits {
		if !onLabel[c.ID] {
			continue
		}
		for _, p := range req.versions {
			v, err := gengo.SDKVersion(p, c)
			if err != nil {
				h.log.Warn("goproxy: commit has no SDK version", "commit", c.String(), "error", err)
				continue
			}
			if s := v.String(); !seen[s] && semver.Compare(s, top.String()) <= 0 {
				seen[s] = true
				versions = append(versions, s)
			}
		}
	}
	semver.Sort(versions)
	return versions, nil
}

// serveLatest answers @latest with the default label's commit.
func (h *Handler) serveLatest(ctx context.Context, w http.ResponseWriter, req *request) error {
	c, err := h.resolveQuery(ctx, req, defaultLabel(req.module))
	if err != nil {
		return err
	}
	v, err := gengo.SDKVersion(req.versions[len(req.versions)-1], c)
	if err != nil {
		return err
	}
	return writeInfo(w, v, "no-cache")
}

// serveInfo answers .info: a canonical SDK version that exists, or a query
// (a label, commit ID or commit ID prefix) resolved to the newest plugin
// version's SDK of that commit.
func (h *Handler) serveInfo(ctx context.Context, w http.ResponseWriter, req *request) error {
	if semver.IsValid(req.version) && semver.Canonical(req.version) == req.version {
		sv, err := gengo.ParseVersion(req.version)
		if err != nil {
			return notFound("%s@%s: unknown version: %v", req.path, req.version, err)
		}
		if _, err := h.store.Get(ctx, key(req.escPath, req.escVer, "mod")); err == nil {
			return writeInfo(w, sv, h.immutable(req))
		}
		if _, _, err := h.resolveVersion(ctx, req, sv); err != nil {
			return err
		}
		return writeInfo(w, sv, h.immutable(req))
	}
	c, err := h.resolveQuery(ctx, req, req.version)
	if err != nil {
		return err
	}
	v, err := gengo.SDKVersion(req.versions[len(req.versions)-1], c)
	if err != nil {
		return err
	}
	return writeInfo(w, v, "no-cache")
}

func (h *Handler) immutable(req *request) string {
	if req.module.Private {
		return "private, max-age=31536000, immutable"
	}
	return "public, max-age=31536000, immutable"
}

// canonical returns the parsed SDK version of a .mod or .zip request.
func canonical(req *request) (gengo.Version, error) {
	if !semver.IsValid(req.version) || semver.Canonical(req.version) != req.version {
		return gengo.Version{}, notFound("%s@%s: not a canonical version; resolve it through .info first", req.path, req.version)
	}
	sv, err := gengo.ParseVersion(req.version)
	if err != nil {
		return gengo.Version{}, notFound("%s@%s: unknown version: %v", req.path, req.version, err)
	}
	return sv, nil
}

// resolveVersion finds the plugin and commit of an SDK version that the
// registry generates now (its plugin's current revision).
func (h *Handler) resolveVersion(ctx context.Context, req *request, sv gengo.Version) (*gengo.Plugin, gengo.Commit, error) {
	var plugin *gengo.Plugin
	for _, p := range req.versions {
		if p.Version == sv.Plugin {
			plugin = p
		}
	}
	if plugin == nil {
		return nil, gengo.Commit{}, notFound("%s@%s: unknown version: this registry has no plugin %s %s", req.path, sv, req.plugin, sv.Plugin)
	}
	if sv.Revision != plugin.Revision {
		return nil, gengo.Commit{}, notFound("%s@%s: unknown version: plugin %s %s is at revision %d here, and revision %d of this commit is not stored", req.path, sv, req.plugin, sv.Plugin, plugin.Revision, sv.Revision)
	}
	commits, err := h.commits(ctx, req)
	if err != nil {
		return nil, gengo.Commit{}, err
	}
	var match []gengo.Commit
	for _, c := range commits {
		if strings.HasPrefix(c.ID, sv.Commit) && c.CreateTime.UTC().Truncate(time.Second).Equal(sv.Time) {
			match = append(match, c)
		}
	}
	if len(match) == 0 {
		return nil, gengo.Commit{}, notFound("%s@%s: unknown version: %s/%s has no commit %s created at %s", req.path, sv, req.owner, req.name, sv.Commit, sv.Time.Format(time.RFC3339))
	}
	return plugin, oldest(match), nil
}

// oldest picks one commit deterministically when several share a version.
func oldest(cs []gengo.Commit) gengo.Commit {
	return slices.MinFunc(cs, func(a, b gengo.Commit) int {
		if c := a.CreateTime.Compare(b.CreateTime); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// resolveQuery resolves a non-canonical query: a full commit ID (dashless
// or dashed), else a label, else a unique commit ID prefix of 4 or more
// hex characters.
func (h *Handler) resolveQuery(ctx context.Context, req *request, q string) (gengo.Commit, error) {
	commits, err := h.commits(ctx, req)
	if err != nil {
		return gengo.Commit{}, err
	}
	id := q
	if len(id) == 36 && strings.Count(id, "-") == 4 {
		id = strings.ReplaceAll(id, "-", "")
	}
	if len(id) == 32 {
		for _, c := range commits {
			if c.ID == id {
				return c, nil
			}
		}
	}
	labelCommit, err := h.registry.Label(ctx, req.module.ID, q)
	switch {
	case err == nil:
		for _, c := range commits {
			if c.ID == labelCommit {
				return c, nil
			}
		}
		return gengo.Commit{}, fmt.Errorf("label %s of %s/%s points to commit %s, which is not among the module's commits", q, req.owner, req.name, labelCommit)
	case !errors.Is(err, ErrNotFound):
		return gengo.Commit{}, fmt.Errorf("look up label %s of %s/%s: %w", q, req.owner, req.name, err)
	}
	if len(q) >= 4 && len(q) < 32 && isLowerHex(q) {
		var match []gengo.Commit
		for _, c := range commits {
			if strings.HasPrefix(c.ID, q) {
				match = append(match, c)
			}
		}
		switch {
		case len(match) == 1:
			return match[0], nil
		case len(match) > 1:
			return gengo.Commit{}, notFound("%s@%s: ambiguous: %d commits of %s/%s start with %s; give more characters of the commit ID", req.path, q, len(match), req.owner, req.name, q)
		}
	}
	return gengo.Commit{}, notFound("%s@%s: unknown revision: %s/%s has no label, commit ID or commit ID prefix %q", req.path, q, req.owner, req.name, q)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// serveMod answers .mod from the store, storing the go.mod on first use.
func (h *Handler) serveMod(ctx context.Context, w http.ResponseWriter, req *request) error {
	sv, err := canonical(req)
	if err != nil {
		return err
	}
	data, err := h.mod(ctx, req, sv)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", h.immutable(req))
	_, err = w.Write(data)
	return err
}

// mod returns the stored go.mod of a version, computing and storing it
// first if needed. It needs only metadata, so it is cheap.
func (h *Handler) mod(ctx context.Context, req *request, sv gengo.Version) ([]byte, error) {
	k := key(req.escPath, req.escVer, "mod")
	if data, err := h.store.Get(ctx, k); err == nil {
		return data, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("read %s: %w", k, err)
	}
	plugin, c, err := h.resolveVersion(ctx, req, sv)
	if err != nil {
		return nil, err
	}
	deps, err := h.registry.Deps(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("read dependencies of %s: %w", c, err)
	}
	gomod, err := gengo.GoMod(h.host, plugin, c, deps)
	if err != nil {
		return nil, &httpError{status: http.StatusInternalServerError, msg: fmt.Sprintf("%s@%s: cannot write go.mod: %v", req.path, sv, err)}
	}
	stored, err := h.store.PutIfAbsent(ctx, k, gomod)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", k, err)
	}
	return stored, nil
}

// serveZip answers .zip from the store, generating it on first use.
func (h *Handler) serveZip(ctx context.Context, w http.ResponseWriter, req *request) error {
	sv, err := canonical(req)
	if err != nil {
		return err
	}
	k := key(req.escPath, req.escVer, "zip")
	data, err := h.store.Get(ctx, k)
	if errors.Is(err, ErrNotFound) {
		data, err = h.build(ctx, req, sv)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Cache-Control", h.immutable(req))
	_, err = w.Write(data)
	return err
}

// build generates and stores a zip once, however many requests ask for it
// at the same time. The generation outlives the request that started it
// (others may be waiting) but not BuildTimeout.
func (h *Handler) build(ctx context.Context, req *request, sv gengo.Version) ([]byte, error) {
	k := key(req.escPath, req.escVer, "zip")
	ch := h.group.DoChan(k, func() (any, error) {
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.buildTimeout)
		defer cancel()
		if data, err := h.store.Get(bctx, k); err == nil {
			return data, nil
		}
		select {
		case h.builds <- struct{}{}:
			defer func() { <-h.builds }()
		case <-bctx.Done():
			return nil, &httpError{status: http.StatusServiceUnavailable, msg: fmt.Sprintf("%s@%s: the registry is busy generating other SDKs; try again later", req.path, sv)}
		}
		return h.generate(bctx, req, sv)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.([]byte), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (h *Handler) generate(ctx context.Context, req *request, sv gengo.Version) ([]byte, error) {
	gomod, err := h.mod(ctx, req, sv)
	if err != nil {
		return nil, err
	}
	plugin, c, err := h.resolveVersion(ctx, req, sv)
	if err != nil {
		return nil, err
	}
	deps, err := h.registry.Deps(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("read dependencies of %s: %w", c, err)
	}
	files, err := h.registry.Files(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("read files of %s: %w", c, err)
	}
	greq := gengo.Request{Host: h.host, Plugin: plugin, Module: gengo.Source{Commit: c, Files: files}}
	for _, d := range deps {
		files, err := h.registry.Files(ctx, d.ID)
		if err != nil {
			return nil, fmt.Errorf("read files of %s: %w", d, err)
		}
		greq.Deps = append(greq.Deps, gengo.Source{Commit: d, Files: files})
	}
	start := time.Now()
	sdk, err := gengo.Build(ctx, greq, gomod)
	if err != nil {
		h.log.Warn("goproxy: generation failed", "module", req.path, "version", sv.String(), "error", err)
		return nil, &httpError{status: http.StatusInternalServerError, msg: fmt.Sprintf("generate %s@%s: %v", req.path, sv, err)}
	}
	if sdk.Version != sv {
		return nil, fmt.Errorf("generated %s@%s for the request %s", sdk.Path, sdk.Version, sv)
	}
	k := key(req.escPath, req.escVer, "zip")
	stored, err := h.store.PutIfAbsent(ctx, k, sdk.Zip)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", k, err)
	}
	h.log.Info("goproxy: generated SDK", "module", sdk.Path, "version", sdk.Version.String(),
		"duration", time.Since(start), "zip_bytes", len(sdk.Zip), "h1", sdk.ZipHash)
	return stored, nil
}
