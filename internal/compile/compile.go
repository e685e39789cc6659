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
	"path"
	"runtime"
	"slices"
	"strings"
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
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
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

// InMemory returns a module whose files are the given contents (keyed by
// import path); its Paths are the .proto files among them, sorted.
func InMemory(contents map[string][]byte) *Module {
	m := &Module{Contents: contents}
	for p := range contents {
		if strings.HasSuffix(p, ".proto") {
			m.Paths = append(m.Paths, p)
		}
	}
	slices.Sort(m.Paths)
	return m
}

// Options control a compilation.
type Options struct {
	// Targets are the import paths to compile; their imports are compiled
	// too. Must not be empty.
	Targets []string
	// SourceInfo includes source code info in the descriptors.
	SourceInfo bool
	// Parallelism caps the worker count (0 = twice GOMAXPROCS).
	Parallelism int
	// ChunkSize > 0 compiles the targets in groups of about this many
	// files, each with a fresh compiler session that is released before
	// the next: peak memory follows the largest group, not the whole set.
	// A file imported by several groups is compiled by each but emitted
	// once.
	ChunkSize int
	// Emit, if set, receives every file as soon as its descriptor is
	// final, possibly concurrently. It may encode the descriptor and set
	// File.Proto to nil to free it.
	Emit func(*File) error
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

	custom []protoreflect.Message // options messages with custom options still unparsed
	name   string                 // import path, kept when Proto is released
	deps   []string               // dependency then option_dependency entries
}

func (f *File) path() string { return f.name }

// Path returns the file's import path.
func (f *File) Path() string { return f.path() }

// Dependencies returns the file's dependency entries followed by its
// option_dependency entries (valid even after Proto was released).
func (f *File) Dependencies() []string { return f.deps }

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
		return source.NewFile(m.DisplayPrefix+path, bytesToString(data)), nil
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
		// Twice the CPUs: a compile task often waits for another (an
		// import being compiled), and the spare tasks keep every core busy.
		parallelism = 2 * runtime.GOMAXPROCS(0)
	}
	c := &compiler{
		resolver:    resolver,
		opts:        opts,
		parallelism: parallelism,
		res:         &Result{byPath: make(map[string]*File)},
		ext:         newExtensionResolver(),
	}
	c.fdpOptions.Apply(fdp.IncludeSourceCodeInfo(opts.SourceInfo), fdp.GenerateExtraOptionLocations(true))
	c.bareOptions.Apply(fdp.IncludeSourceCodeInfo(false))
	var annotations []diag.Annotation
	for _, chunk := range chunks(opts.Targets, opts.ChunkSize) {
		found, err := c.compileChunk(ctx, chunk)
		if err != nil {
			return nil, err
		}
		annotations = append(annotations, found...)
	}
	if len(annotations) > 0 {
		return nil, diag.New(annotations)
	}
	return c.res, nil
}

// compiler holds the state of one Compile across its chunks.
type compiler struct {
	resolver    *Resolver
	opts        Options
	parallelism int
	fdpOptions  fdp.Options // for emitted files
	bareOptions fdp.Options // for descriptors kept only to resolve extensions
	res         *Result
	ext         *extensionResolver
}

// chunks splits the sorted targets into groups of about size files. It cuts
// only between different API roots (see apiRoot), so that the packages of
// one API version, which import each other heavily, stay in one group and
// are not compiled again as imports of the next. size <= 0 means one group.
func chunks(targets []string, size int) [][]string {
	targets = slices.Clone(targets)
	slices.Sort(targets)
	if size <= 0 || len(targets) <= size {
		return [][]string{targets}
	}
	var out [][]string
	start := 0
	for i := 1; i <= len(targets); i++ {
		if i == len(targets) {
			out = append(out, targets[start:])
			break
		}
		if i-start >= size && apiRoot(targets[i]) != apiRoot(targets[i-1]) {
			out = append(out, targets[start:i])
			start = i
		}
	}
	return out
}

// apiRoot returns the part of a file's path up to its first version
// directory (google/ads/googleads/v22 for
// google/ads/googleads/v22/services/x.proto), or its directory when the
// path has no version component.
func apiRoot(p string) string {
	dir := path.Dir(p)
	for i := 0; i < len(dir); {
		j := strings.IndexByte(dir[i:], '/')
		end := len(dir)
		if j >= 0 {
			end = i + j
		}
		if isVersion(dir[i:end]) {
			return dir[:end]
		}
		i = end + 1
	}
	return dir
}

// isVersion reports whether a path element looks like an API version:
// v1, v2beta1, v1p1alpha...
func isVersion(e string) bool {
	return len(e) >= 2 && e[0] == 'v' && e[1] >= '0' && e[1] <= '9'
}

// compileChunk compiles one group of targets with a fresh compiler session,
// emits the files no earlier group emitted, and lets the session go.
func (c *compiler) compileChunk(ctx context.Context, targets []string) ([]diag.Annotation, error) {
	exec := incremental.New(
		incremental.WithParallelism(int64(c.parallelism)),
		incremental.WithReportOptions(report.Options{SuppressWarnings: true}),
	)
	results, rep, err := incremental.Run(ctx, exec, queries.Link{
		Opener:    &opener{resolver: c.resolver},
		Session:   new(ir.Session),
		Workspace: source.NewWorkspace(targets...),
	})
	if err != nil {
		return nil, err
	}
	if len(results) != 1 {
		return nil, fmt.Errorf("compiler returned %d results, want 1", len(results))
	}
	if annotations := collect(rep); len(annotations) > 0 {
		return annotations, nil
	}
	if results[0].Fatal != nil {
		return nil, results[0].Fatal
	}
	roots := slices.DeleteFunc(slices.Clone(results[0].Value), func(f *ir.File) bool { return f == nil })
	all := slices.Collect(ir.TopoSort(roots))

	// Descriptors of files that declare extensions, and of everything they
	// import, are kept to resolve custom options in later files.
	keep := make(map[*ir.File]bool)
	var mark func(f *ir.File)
	mark = func(f *ir.File) {
		if keep[f] {
			return
		}
		keep[f] = true
		for imp := range seq.Values(f.Imports()) {
			if imp.File != nil {
				mark(imp.File)
			}
		}
	}
	for _, f := range all {
		if f.AllExtensions().Len() > 0 {
			mark(f)
		}
	}
	var emit, bare []*ir.File
	for _, f := range all {
		switch {
		case c.res.byPath[f.Path()] == nil:
			emit = append(emit, f)
		case keep[f] && !c.ext.has(f.Path()):
			// Emitted by an earlier group, where nothing needed it kept.
			bare = append(bare, f)
		}
	}

	// Generate descriptors; standard options are parsed right away.
	files := make([]*File, len(emit))
	bares := make([]*descriptorpb.FileDescriptorProto, len(bare))
	var g errgroup.Group
	g.SetLimit(c.parallelism)
	for i, f := range emit {
		g.Go(func() error {
			proto, err := fdp.DescriptorProto(f, &c.fdpOptions)
			if err != nil {
				return fmt.Errorf("%s: %w", f.Path(), err)
			}
			custom, err := parseStandardOptions(proto)
			if err != nil {
				return err
			}
			files[i] = &File{
				custom:              custom,
				name:                f.Path(),
				Proto:               proto,
				Module:              c.resolver.byPath[f.Path()],
				IsSyntaxUnspecified: f.AST().Syntax().IsZero(),
				UnusedDependency:    unusedImports(f),
			}
			return nil
		})
	}
	for i, f := range bare {
		g.Go(func() error {
			proto, err := fdp.DescriptorProto(f, &c.bareOptions)
			if err != nil {
				return fmt.Errorf("%s: %w", f.Path(), err)
			}
			bares[i] = proto
			_, err = parseStandardOptions(proto)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, f := range emit {
		if keep[f] {
			// A copy: the original's options are still being parsed below.
			kept := proto.Clone(files[i].Proto).(*descriptorpb.FileDescriptorProto)
			kept.SourceCodeInfo = nil
			c.ext.add(kept)
		}
	}
	for _, proto := range bares {
		c.ext.add(proto)
	}

	// Custom options, then hand each file over.
	g = errgroup.Group{}
	g.SetLimit(c.parallelism)
	for _, f := range files {
		g.Go(func() error {
			if err := c.ext.parseCustomOptions(f.custom); err != nil {
				return fmt.Errorf("%s: options: %w", f.Proto.GetName(), err)
			}
			f.custom = nil
			f.deps = append(slices.Clip(f.Proto.GetDependency()), f.Proto.GetOptionDependency()...)
			if c.opts.Emit != nil {
				return c.opts.Emit(f)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, f := range files {
		c.res.Files = append(c.res.Files, f)
		c.res.byPath[f.path()] = f
	}
	return nil, nil
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
