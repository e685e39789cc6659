// Package uploadcheck is the registry's upload validator backed by the real
// compiler: an upload is accepted only if its modules compile together with
// their dependencies, exactly as a client build would.
package uploadcheck

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/protomod/protomod/internal/compile"
	"github.com/protomod/protomod/internal/diag"
	"github.com/protomod/protomod/internal/server"
)

// Checker implements server.Checker with internal/compile.
type Checker struct{}

var _ server.Checker = Checker{}

// Check compiles the uploaded modules against the dependencies and returns
// each uploaded .proto file's imports.
func (Checker) Check(ctx context.Context, uploaded []server.CheckModule, deps []server.CheckModule) (map[string][]string, error) {
	var mods []*compile.Module
	var targets []string
	owner := make(map[string]string) // uploaded path -> module name
	add := func(m server.CheckModule, target bool) {
		cm := &compile.Module{Contents: make(map[string][]byte, len(m.Files))}
		for _, f := range m.Files {
			if !strings.HasSuffix(f.Path, ".proto") {
				continue
			}
			cm.Contents[f.Path] = f.Content
			cm.Paths = append(cm.Paths, f.Path)
			if target {
				if _, dup := owner[f.Path]; !dup {
					owner[f.Path] = m.Name
					targets = append(targets, f.Path)
				}
			}
		}
		slices.Sort(cm.Paths)
		mods = append(mods, cm)
	}
	for _, m := range uploaded {
		add(m, true)
	}
	for _, m := range deps {
		add(m, false)
	}
	if len(targets) == 0 {
		return nil, errors.New("the upload has no .proto files")
	}
	slices.Sort(targets)
	res, err := compile.Compile(ctx, compile.NewResolver(mods), compile.Options{Targets: targets})
	if err != nil {
		var ann *diag.Annotations
		if errors.As(err, &ann) {
			lines := make([]string, 0, len(ann.List))
			for _, a := range ann.List {
				if name, ok := owner[a.Path]; ok {
					a.Path = name + ":" + a.Path
				}
				lines = append(lines, a.String())
			}
			// The server puts "the upload does not compile: " in front.
			return nil, errors.New(strings.Join(lines, "\n"))
		}
		return nil, err
	}
	imports := make(map[string][]string, len(targets))
	for _, p := range targets {
		f := res.File(p)
		if f == nil {
			continue
		}
		imports[p] = append(slices.Clone(f.Proto.GetDependency()), f.Proto.GetOptionDependency()...)
	}
	return imports, nil
}
