package server

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/protomod/protomod/internal/compile"
	"github.com/protomod/protomod/internal/diag"
)

// CompileChecker is the default Checker: it compiles the uploaded modules
// with internal/compile against their dependencies, exactly as a client
// build would, and refuses the upload on any compiler error.
type CompileChecker struct{}

var _ Checker = CompileChecker{}

// Check implements Checker. It returns each uploaded .proto file's imports
// (regular and option imports). A compile failure is reported as one line
// per annotation, "owner/name:path:line:col:message" for uploaded files;
// the server adds the "the upload does not compile: " prefix.
func (CompileChecker) Check(ctx context.Context, uploaded []CheckModule, deps []CheckModule) (map[string][]string, error) {
	var mods []*compile.Module
	var targets []string
	owner := make(map[string]string) // uploaded path -> module name
	add := func(m CheckModule, target bool) {
		contents := make(map[string][]byte, len(m.Files))
		for _, f := range m.Files {
			contents[f.Path] = f.Content
		}
		cm := compile.InMemory(contents)
		if target {
			for _, p := range cm.Paths {
				if _, dup := owner[p]; !dup {
					owner[p] = m.Name
					targets = append(targets, p)
				}
			}
		}
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
		if !errors.As(err, &ann) {
			return nil, err
		}
		lines := make([]string, 0, len(ann.List))
		for _, a := range ann.List {
			if name, ok := owner[a.Path]; ok {
				a.Path = name + ":" + a.Path
			}
			lines = append(lines, a.String())
		}
		return nil, errors.New(strings.Join(lines, "\n"))
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
