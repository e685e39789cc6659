package server

import (
	"context"
	"errors"
	"strings"

	"connectrpc.com/connect"

	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/store"
)

// normalizeID accepts a dashless or dashed UUID and returns it dashless and
// lowercase.
func normalizeID(s string) (string, bool) {
	if len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' {
		s = strings.ReplaceAll(s, "-", "")
	}
	id, err := bufname.ParseCommitID(s)
	return id, err == nil
}

// moduleByName returns owner/name if the caller may see it. A private
// module of another owner is reported exactly like a missing one.
func (s *Server) moduleByName(ctx context.Context, owner, name string) (store.Module, error) {
	if owner == "" || name == "" {
		return store.Module{}, invalidArgf("a module name needs both an owner and a module (got %q/%q)", owner, name)
	}
	m, err := s.store.ModuleByName(ctx, owner, name)
	return s.visible(ctx, m, err, func() error { return notFoundf("module %s/%s not found", owner, name) })
}

// moduleByID returns the module with this ID if the caller may see it.
func (s *Server) moduleByID(ctx context.Context, id string) (store.Module, error) {
	m, err := s.store.ModuleByID(ctx, id)
	return s.visible(ctx, m, err, func() error { return notFoundf("module %s not found", id) })
}

func (s *Server) visible(ctx context.Context, m store.Module, err error, notFound func() error) (store.Module, error) {
	if errors.Is(err, store.ErrNotFound) {
		return store.Module{}, notFound()
	}
	if err != nil {
		return store.Module{}, s.internal(ctx, "look up module", err)
	}
	ok, err := s.canRead(ctx, m)
	if err != nil {
		return store.Module{}, s.internal(ctx, "check access", err)
	}
	if !ok {
		return store.Module{}, notFound()
	}
	return m, nil
}

// commitByID returns a commit and its module if the caller may see them.
func (s *Server) commitByID(ctx context.Context, rawID string) (store.Commit, store.Module, error) {
	notFound := func() error { return notFoundf("commit %s not found", rawID) }
	id, ok := normalizeID(rawID)
	if !ok {
		return store.Commit{}, store.Module{}, notFound()
	}
	c, err := s.store.CommitByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Commit{}, store.Module{}, notFound()
	}
	if err != nil {
		return store.Commit{}, store.Module{}, s.internal(ctx, "look up commit", err)
	}
	m, err := s.store.ModuleByID(ctx, c.ModuleID)
	m, err = s.visible(ctx, m, err, notFound)
	if err != nil {
		return store.Commit{}, store.Module{}, err
	}
	return c, m, nil
}

type resourceKind int

const (
	kindModule resourceKind = iota
	kindLabel
	kindCommit
)

// resource is a resolved ResourceRef.
type resource struct {
	kind   resourceKind
	module store.Module
	label  store.Label  // kindLabel
	commit store.Commit // kindCommit
}

// resolve applies ResourceRef semantics: an id names a commit, label or
// module (tried in that order); a name with a ref names a commit of the
// module or else a label (the commit wins); a name with label_name names a
// label; a name alone, or with an empty child, names the module.
func (s *Server) resolve(ctx context.Context, ref *modulev1.ResourceRef) (resource, error) {
	switch v := ref.GetValue().(type) {
	case *modulev1.ResourceRef_Id:
		return s.resolveID(ctx, v.Id)
	case *modulev1.ResourceRef_Name_:
		n := v.Name
		m, err := s.moduleByName(ctx, n.GetOwner(), n.GetModule())
		if err != nil {
			return resource{}, err
		}
		switch c := n.GetChild().(type) {
		case *modulev1.ResourceRef_Name_LabelName:
			if c.LabelName != "" {
				return s.resolveLabel(ctx, m, c.LabelName)
			}
		case *modulev1.ResourceRef_Name_Ref:
			if c.Ref != "" {
				return s.resolveRef(ctx, m, c.Ref)
			}
		}
		return resource{kind: kindModule, module: m}, nil
	default:
		return resource{}, invalidArgf("a resource reference needs an id or a name")
	}
}

func (s *Server) resolveID(ctx context.Context, raw string) (resource, error) {
	notFound := notFoundf("resource %s not found", raw)
	id, ok := normalizeID(raw)
	if !ok {
		return resource{}, notFound
	}
	if c, err := s.store.CommitByID(ctx, id); err == nil {
		m, err := s.moduleByID(ctx, c.ModuleID)
		if err != nil {
			return resource{}, notFound
		}
		return resource{kind: kindCommit, module: m, commit: c}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return resource{}, s.internal(ctx, "look up commit", err)
	}
	if l, err := s.store.LabelByID(ctx, id); err == nil {
		m, err := s.moduleByID(ctx, l.ModuleID)
		if err != nil {
			return resource{}, notFound
		}
		return resource{kind: kindLabel, module: m, label: l}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return resource{}, s.internal(ctx, "look up label", err)
	}
	m, err := s.moduleByID(ctx, id)
	if isNotFound(err) {
		return resource{}, notFound
	}
	if err != nil {
		return resource{}, err
	}
	return resource{kind: kindModule, module: m}, nil
}

func isNotFound(err error) bool { return err != nil && connect.CodeOf(err) == connect.CodeNotFound }

func (s *Server) resolveLabel(ctx context.Context, m store.Module, name string) (resource, error) {
	l, err := s.store.LabelByName(ctx, m.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		return resource{}, notFoundf("label %q not found in module %s", name, m.FullName())
	}
	if err != nil {
		return resource{}, s.internal(ctx, "look up label", err)
	}
	return resource{kind: kindLabel, module: m, label: l}, nil
}

func (s *Server) resolveRef(ctx context.Context, m store.Module, ref string) (resource, error) {
	if id, ok := normalizeID(ref); ok {
		c, err := s.store.CommitByID(ctx, id)
		switch {
		case err == nil && c.ModuleID == m.ID:
			return resource{kind: kindCommit, module: m, commit: c}, nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return resource{}, s.internal(ctx, "look up commit", err)
		}
	}
	l, err := s.store.LabelByName(ctx, m.ID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return resource{}, notFoundf("module %s has no commit or label %q", m.FullName(), ref)
	}
	if err != nil {
		return resource{}, s.internal(ctx, "look up label", err)
	}
	return resource{kind: kindLabel, module: m, label: l}, nil
}

// commitOf returns the commit a resource stands for: a module's default
// label's commit, a label's commit, or the commit itself.
func (s *Server) commitOf(ctx context.Context, r resource) (store.Commit, error) {
	var id string
	switch r.kind {
	case kindCommit:
		return r.commit, nil
	case kindLabel:
		id = r.label.CommitID
	default:
		l, err := s.store.LabelByName(ctx, r.module.ID, r.module.DefaultLabel)
		if errors.Is(err, store.ErrNotFound) {
			return store.Commit{}, notFoundf("module %s has no commits yet (its default label %q does not exist)",
				r.module.FullName(), r.module.DefaultLabel)
		}
		if err != nil {
			return store.Commit{}, s.internal(ctx, "look up label", err)
		}
		id = l.CommitID
	}
	c, err := s.store.CommitByID(ctx, id)
	if err != nil {
		return store.Commit{}, s.internal(ctx, "look up commit", err)
	}
	return c, nil
}

// resolveCommit resolves a ResourceRef straight to a commit.
func (s *Server) resolveCommit(ctx context.Context, ref *modulev1.ResourceRef) (store.Commit, store.Module, error) {
	r, err := s.resolve(ctx, ref)
	if err != nil {
		return store.Commit{}, store.Module{}, err
	}
	c, err := s.commitOf(ctx, r)
	return c, r.module, err
}
