package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/module/v1/modulev1connect"
	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/store"
)

type uploadService struct {
	modulev1connect.UnimplementedUploadServiceHandler
	s *Server
}

// compileErrorPrefix starts the message of an upload the checker refused.
const compileErrorPrefix = "the upload does not compile"

// maxDepCommits caps UploadRequest.dep_commit_ids.
const maxDepCommits = 10000

// maxSourceControlURL caps Content.source_control_url.
const maxSourceControlURL = 2048

// uploadContent is one validated content of an Upload.
type uploadContent struct {
	module store.Module
	files  []store.File
	labels []string
	scURL  string

	// Filled by the dependency analysis.
	directContents []int    // indexes of uploaded contents imported directly
	directCommits  []string // existing commits imported directly
	closureCommits []string // existing commits reachable (sorted)
	closureContent []int    // uploaded contents reachable
	digest         []byte
}

// depCommit is an existing commit an upload may depend on.
type depCommit struct {
	commit store.Commit
	module store.Module
	deps   store.Deps
	files  []store.File // loaded lazily, only for the checker
}

// Upload validates everything, computes digests, and then stores all
// contents in one atomic push. Nothing is stored if any check fails.
func (h *uploadService) Upload(ctx context.Context, req *connect.Request[modulev1.UploadRequest]) (*connect.Response[modulev1.UploadResponse], error) {
	s := h.s
	user, err := requireUser(ctx, "uploading")
	if err != nil {
		return nil, err
	}
	contents, err := s.validateContents(ctx, req.Msg.GetContents())
	if err != nil {
		return nil, err
	}
	deps, err := s.loadDeps(ctx, req.Msg.GetDepCommitIds())
	if err != nil {
		return nil, err
	}
	if err := s.analyzeDeps(ctx, contents, deps); err != nil {
		return nil, err
	}
	order, err := topoOrder(contents)
	if err != nil {
		return nil, err
	}
	if err := computeClosures(contents, order, deps); err != nil {
		return nil, err
	}
	// Digests, in dependency order.
	for _, i := range order {
		c := contents[i]
		var depDigests [][]byte
		for _, id := range c.closureCommits {
			depDigests = append(depDigests, deps.byID[id].commit.Digest)
		}
		for _, j := range c.closureContent {
			depDigests = append(depDigests, contents[j].digest)
		}
		d, err := b5(c.files, depDigests)
		if err != nil {
			return nil, invalidArgf("module %s: %v", c.module.FullName(), err)
		}
		c.digest = d
	}
	// The store wants dependencies to come before their dependants.
	pos := make(map[int]int, len(order)) // request index -> push index
	push := make([]store.PushContent, len(order))
	for k, i := range order {
		pos[i] = k
		c := contents[i]
		pc := store.PushContent{
			ModuleID:         c.module.ID,
			Files:            c.files,
			Digest:           c.digest,
			Labels:           c.labels,
			SourceControlURL: c.scURL,
		}
		for _, id := range c.directCommits {
			pc.Direct = append(pc.Direct, store.DepRef{CommitID: id})
		}
		for _, j := range c.directContents {
			pc.Direct = append(pc.Direct, store.DepRef{Content: pos[j]})
		}
		for _, id := range c.closureCommits {
			pc.All = append(pc.All, store.DepRef{CommitID: id})
		}
		for _, j := range c.closureContent {
			pc.All = append(pc.All, store.DepRef{Content: pos[j]})
		}
		push[k] = pc
	}
	results, err := s.store.Push(ctx, user.ID, push)
	if err != nil {
		return nil, s.internal(ctx, "store the upload", err)
	}
	out := make([]*modulev1.Commit, len(contents))
	for i, c := range contents {
		r := results[pos[i]]
		out[i] = commitProto(r.Commit)
		s.log.InfoContext(ctx, "commit pushed", "module", c.module.FullName(), "commit", r.Commit.ID,
			"created", r.Created, "labels", strings.Join(c.labels, ","), "by", user.Name)
	}
	return connect.NewResponse(&modulev1.UploadResponse{Commits: out}), nil
}

// validateContents checks counts, modules, permissions, files and labels.
func (s *Server) validateContents(ctx context.Context, in []*modulev1.UploadRequest_Content) ([]*uploadContent, error) {
	if len(in) == 0 {
		return nil, invalidArgf("the upload has no contents")
	}
	if len(in) > maxRefs {
		return nil, invalidArgf("the upload has %d contents, at most %d are allowed", len(in), maxRefs)
	}
	total := 0
	for _, c := range in {
		total += len(c.GetFiles())
	}
	if total > s.limits.MaxFiles {
		return nil, connect.NewError(connect.CodeResourceExhausted,
			fmt.Errorf("the upload has %d files, more than this server's limit of %d", total, s.limits.MaxFiles))
	}
	out := make([]*uploadContent, len(in))
	seenModule := map[string]int{}
	pathOwner := map[string]string{}
	for i, c := range in {
		m, err := s.moduleByRef(ctx, c.GetModuleRef())
		if err != nil {
			return nil, err
		}
		name := m.FullName()
		if j, dup := seenModule[m.ID]; dup {
			return nil, invalidArgf("module %s appears twice in the upload (contents %d and %d)", name, j, i)
		}
		seenModule[m.ID] = i
		if err := s.checkWrite(ctx, m.OwnerID, m.OwnerName, "pushing to "+name); err != nil {
			return nil, err
		}
		files, err := validateFiles(name, c.GetFiles(), s.limits)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if !strings.HasSuffix(f.Path, ".proto") {
				continue
			}
			if other, dup := pathOwner[f.Path]; dup {
				return nil, invalidArgf("%s is contained in more than one uploaded module: %s and %s", f.Path, other, name)
			}
			pathOwner[f.Path] = name
		}
		labels, err := s.uploadLabels(ctx, m, c.GetScopedLabelRefs())
		if err != nil {
			return nil, err
		}
		if len(c.GetSourceControlUrl()) > maxSourceControlURL {
			return nil, invalidArgf("module %s: source control URL is longer than %d bytes", name, maxSourceControlURL)
		}
		out[i] = &uploadContent{module: m, files: files, labels: labels, scURL: c.GetSourceControlUrl()}
	}
	return out, nil
}

// uploadLabels turns scoped label refs into sorted, unique label names.
// Labels named by id must exist in the module.
func (s *Server) uploadLabels(ctx context.Context, m store.Module, refs []*modulev1.ScopedLabelRef) ([]string, error) {
	var names []string
	for _, ref := range refs {
		switch v := ref.GetValue().(type) {
		case *modulev1.ScopedLabelRef_Name:
			if err := store.ValidateLabelName(v.Name); err != nil {
				return nil, invalidArgf("module %s: %v", m.FullName(), strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": "))
			}
			names = append(names, v.Name)
		case *modulev1.ScopedLabelRef_Id:
			id, _ := normalizeID(v.Id)
			l, err := s.store.LabelByID(ctx, id)
			if errors.Is(err, store.ErrNotFound) || (err == nil && l.ModuleID != m.ID) {
				return nil, notFoundf("module %s has no label with id %s", m.FullName(), v.Id)
			}
			if err != nil {
				return nil, s.internal(ctx, "look up label", err)
			}
			names = append(names, l.Name)
		default:
			return nil, invalidArgf("module %s: a label reference needs an id or a name", m.FullName())
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// depSet holds the existing commits an upload may depend on, in search
// order: the listed dep_commit_ids, then the rest of their closures.
type depSet struct {
	order []string
	byID  map[string]*depCommit
}

// loadDeps checks that each dep commit exists and is visible to the caller,
// and adds their transitive dependencies.
func (s *Server) loadDeps(ctx context.Context, ids []string) (*depSet, error) {
	if len(ids) > maxDepCommits {
		return nil, invalidArgf("the upload lists %d dependencies, at most %d are allowed", len(ids), maxDepCommits)
	}
	ds := &depSet{byID: map[string]*depCommit{}}
	add := func(raw string) error {
		id, ok := normalizeID(raw)
		if !ok {
			return invalidArgf("dependency %q is not a commit ID (32 hexadecimal characters)", raw)
		}
		if ds.byID[id] != nil {
			return nil
		}
		c, m, err := s.commitByID(ctx, id)
		if err != nil {
			if isNotFound(err) {
				return notFoundf("dependency commit %s not found", raw)
			}
			return err
		}
		deps, err := s.store.CommitDeps(ctx, id)
		if err != nil {
			return s.internal(ctx, "read dependencies", err)
		}
		ds.byID[id] = &depCommit{commit: c, module: m, deps: deps}
		ds.order = append(ds.order, id)
		return nil
	}
	for _, raw := range ids {
		if err := add(raw); err != nil {
			return nil, err
		}
	}
	for k := 0; k < len(ds.order); k++ {
		for _, id := range ds.byID[ds.order[k]].deps.All {
			if err := add(id); err != nil {
				return nil, err
			}
		}
	}
	return ds, nil
}

// analyzeDeps runs the checker and turns file imports into module edges:
// each import resolves to the first module with the path (the importing
// module itself, the other uploaded modules in order, then the deps).
func (s *Server) analyzeDeps(ctx context.Context, contents []*uploadContent, deps *depSet) error {
	uploaded := make([]CheckModule, len(contents))
	provider := map[string]int{} // path -> content index, or -1-k for deps.order[k]
	for i, c := range contents {
		uploaded[i] = CheckModule{Name: c.module.FullName(), Files: c.files}
		for _, f := range c.files {
			if strings.HasSuffix(f.Path, ".proto") {
				provider[f.Path] = i
			}
		}
	}
	depModules := make([]CheckModule, len(deps.order))
	for k, id := range deps.order {
		d := deps.byID[id]
		if err := s.loadDepFiles(ctx, d); err != nil {
			return err
		}
		depModules[k] = CheckModule{Name: d.module.FullName(), Files: d.files}
		for _, f := range d.files {
			if _, ok := provider[f.Path]; !ok && strings.HasSuffix(f.Path, ".proto") {
				provider[f.Path] = -1 - k
			}
		}
	}
	imports, err := s.checker.Check(ctx, uploaded, depModules)
	if err != nil {
		if ce := new(connect.Error); errors.As(err, &ce) {
			return ce
		}
		if ctx.Err() != nil {
			return s.internal(ctx, "check the upload", err)
		}
		if !strings.HasPrefix(err.Error(), compileErrorPrefix) {
			err = fmt.Errorf("%s: %w", compileErrorPrefix, err)
		}
		return connect.NewError(connect.CodeInvalidArgument, err)
	}
	for i, c := range contents {
		contentSet := map[int]bool{}
		commitSet := map[string]bool{}
		for _, f := range c.files {
			for _, imp := range imports[f.Path] {
				p, ok := provider[imp]
				switch {
				case !ok || p == i:
				case p >= 0:
					contentSet[p] = true
				default:
					commitSet[deps.order[-1-p]] = true
				}
			}
		}
		for j := range contentSet {
			c.directContents = append(c.directContents, j)
		}
		slices.Sort(c.directContents)
		for id := range commitSet {
			c.directCommits = append(c.directCommits, id)
		}
		slices.Sort(c.directCommits)
	}
	return nil
}

func (s *Server) loadDepFiles(ctx context.Context, d *depCommit) error {
	refs, err := s.store.CommitFiles(ctx, d.commit.ID)
	if err != nil {
		return s.internal(ctx, "read dependency files", err)
	}
	d.files = make([]store.File, len(refs))
	for i, f := range refs {
		data, err := s.store.Blob(ctx, f.SHA256)
		if err != nil {
			return s.internal(ctx, "read file "+f.Path+" of dependency commit "+d.commit.ID, err)
		}
		d.files[i] = store.File{Path: f.Path, Content: data}
	}
	return nil
}

// topoOrder orders contents so that each comes after the contents it
// imports from, or reports a cycle.
func topoOrder(contents []*uploadContent) ([]int, error) {
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(contents))
	var order []int
	var stack []int
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case done:
			return nil
		case visiting:
			k := slices.Index(stack, i)
			var b strings.Builder
			b.WriteString("cycle detected in module dependencies:\n    ")
			for n, j := range append(stack[k:], i) {
				if n > 0 {
					b.WriteString("\n -> ")
				}
				b.WriteString(contents[j].module.FullName())
			}
			return connect.NewError(connect.CodeInvalidArgument, errors.New(b.String()))
		}
		state[i] = visiting
		stack = append(stack, i)
		for _, j := range contents[i].directContents {
			if err := visit(j); err != nil {
				return err
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		order = append(order, i)
		return nil
	}
	for i := range contents {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// computeClosures fills each content's transitive dependencies (contents
// in dependency order) and enforces one commit per module, not depending on
// an older commit of itself.
func computeClosures(contents []*uploadContent, order []int, deps *depSet) error {
	for _, i := range order {
		c := contents[i]
		commits := map[string]bool{}
		contentsSet := map[int]bool{}
		for _, id := range c.directCommits {
			commits[id] = true
			for _, t := range deps.byID[id].deps.All {
				commits[t] = true
			}
		}
		for _, j := range c.directContents {
			contentsSet[j] = true
			for _, t := range contents[j].closureContent {
				contentsSet[t] = true
			}
			for _, t := range contents[j].closureCommits {
				commits[t] = true
			}
		}
		for id := range commits {
			c.closureCommits = append(c.closureCommits, id)
		}
		slices.Sort(c.closureCommits)
		for j := range contentsSet {
			c.closureContent = append(c.closureContent, j)
		}
		slices.Sort(c.closureContent)
		// One commit per module, and never an older commit of itself.
		byModule := map[string]string{c.module.ID: "the uploaded content"}
		claim := func(moduleID, moduleName, what string) error {
			if prev, dup := byModule[moduleID]; dup {
				if moduleID == c.module.ID {
					return invalidArgf("module %s would depend on %s of itself; remove that dependency", c.module.FullName(), what)
				}
				return invalidArgf("the dependencies of %s include module %s twice (%s and %s); a module may appear only once, so update the dependencies to agree",
					c.module.FullName(), moduleName, prev, what)
			}
			byModule[moduleID] = what
			return nil
		}
		for _, j := range c.closureContent {
			if err := claim(contents[j].module.ID, contents[j].module.FullName(), "the uploaded content"); err != nil {
				return err
			}
		}
		for _, id := range c.closureCommits {
			d := deps.byID[id]
			if d == nil {
				return fmt.Errorf("internal: dependency %s was not loaded", id)
			}
			if err := claim(d.module.ID, d.module.FullName(), "commit "+id); err != nil {
				return err
			}
		}
	}
	return nil
}
