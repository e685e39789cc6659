// Package compile turns .proto sources into file descriptors with
// protocompile's compiler, resolving every import through an ordered list of
// modules (workspace modules first, then dependencies in declaration order)
// and finally the built-in Well-Known Types.
//
// It knows nothing about buf.yaml, locks or caches: callers hand it modules
// (a file system and the list of .proto paths each provides) and the target
// paths, and get back one FileDescriptorProto per compiled file, with the
// module each file came from and the facts the image extension needs.
package compile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/bufbuild/protocompile/experimental/fdp"
	"github.com/bufbuild/protocompile/experimental/incremental"
	"github.com/bufbuild/protocompile/experimental/incremental/queries"
	"github.com/bufbuild/protocompile/experimental/ir"
	"github.com/bufbuild/protocompile/experimental/report"
	"github.com/bufbuild/protocompile/experimental/seq"
	"github.com/bufbuild/protocompile/experimental/source"
	"github.com/bufbuild/protocompile/experimental/source/length"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/diag"
	"github.com/protomod/protomod/internal/wkt"
)

// Module is one source of .proto files.
type Module struct {
	// Name is the module's full name; zero for an unnamed workspace module.
	Name bufname.FullName
	// CommitID is set for downloaded modules (dashless).
	CommitID string
	// FS holds the module's files at their import paths. Contents, when
	// set, is used instead (files already in memory, e.g. from the cache).
	FS       fs.FS
	Contents map[string][]byte
	// Paths are the module's .proto files (import paths).
	Paths []string
	// DisplayPrefix is prepended to a path in messages, e.g. "proto/" for a
	// workspace module at directory proto.
	DisplayPrefix string
}

// Options control a compilation.
type Options struct {
	// Targets are the import paths to compile; their imports are compiled
	// too. Must not be empty.
	Targets []string
	// SourceInfo includes source code info in the descriptors.
	SourceInfo bool
	// Parallelism caps the worker count (0 = GOMAXPROCS).
	Parallelism int
}

// File is one compiled file.
type File struct {
	Proto *descriptorpb.FileDescriptorProto
	// Module provided the file; nil for a built-in Well-Known Type.
	Module *Module
	// IsSyntaxUnspecified is true when the file has no syntax statement.
	IsSyntaxUnspecified bool
	// UnusedDependency are indexes of imports nothing in the file uses.
	UnusedDependency []int32
}

// Result is a successful compilation.
type Result struct {
	// Files holds every compiled file, targets and imports, in an order where
	// each file comes after its dependencies.
	Files  []*File
	byPath map[string]*File
}

// File returns the compiled file with the given import path, or nil.
func (r *Result) File(path string) *File { return r.byPath[path] }

// Resolver maps import paths to the module that provides them: the first
// module in search order that has the path.
type Resolver struct {
	modules []*Module
	byPath  map[string]*Module
}

// NewResolver indexes modules in search order.
func NewResolver(modules []*Module) *Resolver {
	n := 0
	for _, m := range modules {
		n += len(m.Paths)
	}
	r := &Resolver{modules: modules, byPath: make(map[string]*Module, n)}
	for _, m := range modules {
		for _, p := range m.Paths {
			if _, ok := r.byPath[p]; !ok {
				r.byPath[p] = m
			}
		}
	}
	return r
}

// Lookup returns the module providing path, or nil (a Well-Known Type or a
// missing file).
func (r *Resolver) Lookup(path string) *Module { return r.byPath[path] }

// opener feeds protocompile. It must be comparable, hence a pointer.
type opener struct {
	resolver *Resolver
	// display maps a file's display path back to its import path.
	mu      sync.Mutex
	display map[string]string
}

func (o *opener) Open(path string) (*source.File, error) {
	if m := o.resolver.byPath[path]; m != nil {
		data, ok := m.Contents[path]
		if !ok {
			var err error
			if data, err = fs.ReadFile(m.FS, path); err != nil {
				return nil, fmt.Errorf("read %s%s: %w", m.DisplayPrefix, path, err)
			}
		}
		name := m.DisplayPrefix + path
		o.mu.Lock()
		o.display[name] = path
		o.mu.Unlock()
		return source.NewFile(name, bytesToString(data)), nil
	}
	data, err := wkt.Read(path)
	if err != nil {
		return nil, fs.ErrNotExist
	}
	return source.NewFile(path, bytesToString(data)), nil
}

// bytesToString avoids copying file contents: the bytes are never modified
// after reading.
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// Compile compiles opts.Targets against the modules, searched in order. A
// compile failure is returned as a *diag.Annotations error carrying every
// error the compiler found.
func Compile(ctx context.Context, resolver *Resolver, opts Options) (*Result, error) {
	if len(opts.Targets) == 0 {
		return nil, errors.New("no files to compile")
	}
	parallelism := opts.Parallelism
	if parallelism <= 0 {
		parallelism = runtime.GOMAXPROCS(0)
	}
	op := &opener{resolver: resolver, display: make(map[string]string)}
	exec := incremental.New(
		incremental.WithParallelism(int64(parallelism)),
		incremental.WithReportOptions(report.Options{SuppressWarnings: true}),
	)
	results, rep, err := incremental.Run(ctx, exec, queries.Link{
		Opener:    op,
		Session:   new(ir.Session),
		Workspace: source.NewWorkspace(opts.Targets...),
	})
	if err != nil {
		return nil, err
	}
	if len(results) != 1 {
		return nil, fmt.Errorf("compiler returned %d results, want 1", len(results))
	}
	if annotations := collect(rep); len(annotations) > 0 {
		return nil, diag.New(annotations)
	}
	if results[0].Fatal != nil {
		return nil, results[0].Fatal
	}
	targets := slices.DeleteFunc(slices.Clone(results[0].Value), func(f *ir.File) bool { return f == nil })
	files := slices.Collect(ir.TopoSort(targets))

	var options fdp.Options
	options.Apply(fdp.IncludeSourceCodeInfo(opts.SourceInfo), fdp.GenerateExtraOptionLocations(true))

	out := make([]*File, len(files))
	var g errgroup.Group
	g.SetLimit(parallelism)
	for i, f := range files {
		g.Go(func() error {
			proto, err := fdp.DescriptorProto(f, &options)
			if err != nil {
				return fmt.Errorf("%s: %w", f.Path(), err)
			}
			out[i] = &File{
				Proto:               proto,
				Module:              resolver.byPath[f.Path()],
				IsSyntaxUnspecified: f.AST().Syntax().IsZero(),
				UnusedDependency:    unusedImports(f),
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	res := &Result{Files: out, byPath: make(map[string]*File, len(out))}
	for _, f := range out {
		res.byPath[f.Proto.GetName()] = f
	}
	if err := canonicalizeOptions(res); err != nil {
		return nil, err
	}
	return res, nil
}

// unusedImports lists the indexes of imports that nothing in the file uses,
// indexing imports in declaration order as the descriptor generator does.
func unusedImports(f *ir.File) []int32 {
	imports := seq.ToSlice(f.Imports())
	slices.SortFunc(imports, func(a, b ir.Import) int {
		return a.Decl.KeywordToken().Span().Start - b.Decl.KeywordToken().Span().Start
	})
	var unused []int32
	for i, imp := range imports {
		if !imp.Used {
			unused = append(unused, int32(i))
		}
	}
	return unused
}

// collect turns the compiler's error diagnostics into annotations.
func collect(rep *report.Report) []diag.Annotation {
	if rep == nil {
		return nil
	}
	var out []diag.Annotation
	for _, d := range rep.Diagnostics {
		if d.Level() > report.Error {
			continue
		}
		span := d.Primary()
		if span.IsZero() {
			msg := d.Message()
			if file := d.File(); file != "" {
				out = append(out, diag.Annotation{Path: file, Type: "COMPILE", Message: msg})
			} else {
				out = append(out, diag.Annotation{Type: "COMPILE", Message: msg})
			}
			continue
		}
		start := span.Location(span.Start, length.Bytes)
		end := span.Location(span.End, length.Bytes)
		out = append(out, diag.Annotation{
			Path:        strings.TrimPrefix(span.Path(), "<built-in>/"),
			StartLine:   start.Line,
			StartColumn: start.Column,
			EndLine:     end.Line,
			EndColumn:   end.Column,
			Type:        "COMPILE",
			Message:     d.Message(),
		})
	}
	return out
}
