// Package push uploads a workspace's named modules to their registry in one
// Upload: every module's digest file set, the labels, and the commit IDs of
// every remote dependency their imports reach.
package push

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	ownerv1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/owner/v1"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/deps"
	"github.com/protomod/protomod/internal/modgraph"
	"github.com/protomod/protomod/internal/registry"
	"github.com/protomod/protomod/internal/workspace"
)

// Options tune a push.
type Options struct {
	// Labels to move to the new commits. Without labels the modules'
	// default labels move.
	Labels []string
	// Create creates modules that do not exist yet, with this visibility
	// ("public" or "private", default private) and default label.
	Create             bool
	CreateVisibility   string
	CreateDefaultLabel string
	SourceControlURL   string
	// ExcludeUnnamed skips unnamed modules instead of failing.
	ExcludeUnnamed bool
	// Warn receives warnings (may be nil).
	Warn func(string)
}

// Pushed is one pushed module's new (or existing, if unchanged) commit.
type Pushed struct {
	Name   bufname.FullName
	Commit string
}

func (p Pushed) String() string { return p.Name.String() + ":" + p.Commit }

// Push builds the workspace and uploads its named modules.
func Push(ctx context.Context, client *registry.Client, ws *workspace.Workspace, set *deps.Set, opts Options) ([]Pushed, error) {
	visibility := modulev1.ModuleVisibility_MODULE_VISIBILITY_PRIVATE
	switch opts.CreateVisibility {
	case "", "private":
	case "public":
		visibility = modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC
	default:
		return nil, fmt.Errorf("invalid --create-visibility %q: must be public or private", opts.CreateVisibility)
	}
	if !opts.Create && (opts.CreateVisibility != "" || opts.CreateDefaultLabel != "") {
		return nil, errors.New("--create-visibility and --create-default-label can only be set with --create")
	}
	g, err := modgraph.Build(ctx, ws, set)
	if err != nil {
		return nil, err
	}
	var mods []*workspace.Module
	for _, m := range ws.Modules {
		if !m.Name().IsZero() {
			mods = append(mods, m)
			continue
		}
		if !opts.ExcludeUnnamed {
			return nil, fmt.Errorf("a name must be specified in buf.yaml to push module: %s", m.Description())
		}
		if opts.Warn != nil {
			opts.Warn("Excluding unnamed module " + m.Description())
		}
	}
	if len(mods) == 0 {
		return nil, errors.New("no named modules to push: give a module a name in buf.yaml (name: registry/owner/module)")
	}
	slices.SortFunc(mods, func(a, b *workspace.Module) int { return strings.Compare(a.Name().String(), b.Name().String()) })
	reg := mods[0].Name().Registry
	for _, m := range mods[1:] {
		if m.Name().Registry != reg {
			return nil, fmt.Errorf("cannot push modules of two registries at once: %s and %s", mods[0].Name(), m.Name())
		}
	}
	// Named modules must not depend on unnamed ones: the registry could
	// not refer to them.
	for _, m := range mods {
		for _, d := range g.Closure(g.Local(m)) {
			if d.Local != nil && d.Local.Name().IsZero() {
				return nil, fmt.Errorf("module %s imports files of the unnamed module %s; name that module in buf.yaml to push both", m.Name(), d.Local.Description())
			}
		}
	}
	var depIDs []string
	for _, d := range g.RemoteClosure(mods) {
		if d.Name().Registry != reg {
			return nil, fmt.Errorf("module dependencies across registries are not supported: %s depends on %s", reg, d.Remote.Pin.Key())
		}
		depIDs = append(depIDs, d.Remote.Pin.Commit)
	}
	if err := ensureModules(ctx, client, mods, opts, visibility); err != nil {
		return nil, err
	}
	labels := slices.Clone(opts.Labels)
	slices.Sort(labels)
	labels = slices.Compact(labels)
	req := &modulev1.UploadRequest{DepCommitIds: depIDs}
	for _, m := range mods {
		files, err := m.Files()
		if err != nil {
			return nil, fmt.Errorf("read module %s: %w", m.Name(), err)
		}
		content := &modulev1.UploadRequest_Content{
			ModuleRef:        moduleRef(m.Name()),
			SourceControlUrl: opts.SourceControlURL,
		}
		for _, f := range files {
			content.Files = append(content.Files, &modulev1.File{Path: f.Path, Content: f.Content})
		}
		for _, l := range labels {
			content.ScopedLabelRefs = append(content.ScopedLabelRefs, &modulev1.ScopedLabelRef{Value: &modulev1.ScopedLabelRef_Name{Name: l}})
		}
		req.Contents = append(req.Contents, content)
	}
	commits, err := client.Upload(ctx, reg, req)
	if err != nil {
		return nil, err
	}
	out := make([]Pushed, len(commits))
	for i, c := range commits {
		out[i] = Pushed{Name: mods[i].Name(), Commit: c.GetId()}
	}
	return out, nil
}

func moduleRef(n bufname.FullName) *modulev1.ModuleRef {
	return &modulev1.ModuleRef{Value: &modulev1.ModuleRef_Name_{Name: &modulev1.ModuleRef_Name{Owner: n.Owner, Module: n.Name}}}
}

// ensureModules checks that the modules exist, creating the missing ones
// with --create.
func ensureModules(ctx context.Context, client *registry.Client, mods []*workspace.Module, opts Options, visibility modulev1.ModuleVisibility) error {
	if !opts.Create {
		names := make([]bufname.FullName, len(mods))
		for i, m := range mods {
			names[i] = m.Name()
		}
		_, err := client.GetModulesByName(ctx, names)
		if err != nil && connect.CodeOf(err) == connect.CodeNotFound {
			return fmt.Errorf("%w; push with --create to create the module", err)
		}
		return err
	}
	reg := mods[0].Name().Registry
	for _, m := range mods {
		_, err := client.GetModulesByName(ctx, []bufname.FullName{m.Name()})
		if err == nil {
			continue
		}
		if connect.CodeOf(err) != connect.CodeNotFound {
			return err
		}
		_, err = client.CreateModules(ctx, reg, &modulev1.CreateModulesRequest{Values: []*modulev1.CreateModulesRequest_Value{{
			OwnerRef:         &ownerv1.OwnerRef{Value: &ownerv1.OwnerRef_Name{Name: m.Name().Owner}},
			Name:             m.Name().Name,
			Visibility:       visibility,
			DefaultLabelName: opts.CreateDefaultLabel,
		}}})
		if err != nil {
			return err
		}
	}
	return nil
}
