// Package build compiles a workspace into an image: it selects the target
// files (input module(s), --path, --exclude-path), lays out the module
// search path (workspace modules, then dependencies, then the Well-Known
// Types), compiles, and assembles the image with each file's module.
package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/protomod/protomod/internal/compile"
	"github.com/protomod/protomod/internal/deps"
	"github.com/protomod/protomod/internal/diag"
	"github.com/protomod/protomod/internal/image"
	"github.com/protomod/protomod/internal/workspace"
)

// Options tune Build.
type Options struct {
	// Paths and ExcludePaths are workspace-relative files or directories
	// (module directory included) that restrict the targets.
	Paths        []string
	ExcludePaths []string
	// ExcludeSourceInfo leaves source code info out of the descriptors.
	ExcludeSourceInfo bool
	// Discard keeps nothing: the build only checks the workspace and the
	// returned image has no descriptors.
	Discard bool
	// DisplayDir is the directory paths in messages are relative to
	// (normally the current directory); empty means the workspace root.
	DisplayDir string
	// Warn receives warnings (without the WARN prefix); may be nil.
	Warn func(msg string)
}

// ErrNoTargets is returned when the filters leave nothing to build.
var ErrNoTargets = errors.New("no .proto files were targeted. This can occur if no .proto files are found in your input, --path points to files that do not exist, or --exclude-path excludes all files.")

// Target is a file to build.
type Target struct {
	Module *workspace.Module
	Path   string // import path (module-relative)
}

// Targets returns the files the input and the path filters select, sorted
// by import path. The filters are checked first, with the reference CLI's
// rules and messages: no --path equal to the input or to a module
// directory, no --exclude-path equal to the input or to a targeted module
// directory, and no --exclude-path equal to or containing a --path.
func Targets(ws *workspace.Workspace, paths, excludePaths []string) ([]Target, error) {
	if err := checkFilters(ws, paths, excludePaths); err != nil {
		return nil, err
	}
	var out []Target
	for _, m := range ws.Targets {
		for _, p := range m.ProtoPaths {
			display := m.DisplayPath(p)
			if len(paths) > 0 && !under(display, paths) {
				continue
			}
			if under(display, excludePaths) {
				continue
			}
			out = append(out, Target{Module: m, Path: p})
		}
	}
	if len(out) == 0 {
		return nil, ErrNoTargets
	}
	slices.SortFunc(out, func(a, b Target) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// checkFilters validates --path and --exclude-path (workspace-relative).
func checkFilters(ws *workspace.Workspace, paths, excludePaths []string) error {
	show := func(p string) string { return filepath.Clean(filepath.FromSlash(p)) }
	for _, p := range paths {
		p = path.Clean(p)
		if p == ws.InputPath {
			return errors.New("given input is equal to a value of --path, this has no effect and is disallowed")
		}
		for _, e := range excludePaths {
			e = path.Clean(e)
			if p == e {
				return fmt.Errorf("cannot set the same path for both --path and --exclude-path: %q", show(p))
			}
			if under(p, []string{e}) {
				return fmt.Errorf("excluded path %q contains targeted path %q, which means all paths in %q will be excluded", show(e), show(p), show(p))
			}
		}
	}
	for _, e := range excludePaths {
		if path.Clean(e) == ws.InputPath {
			return fmt.Errorf("given input %q is equal to a value of --exclude-path %q, this would exclude everything", show(ws.InputPath), show(e))
		}
	}
	for _, m := range ws.Targets {
		targeted := len(paths) == 0
		for _, p := range paths {
			p = path.Clean(p)
			if p == m.Path {
				return fmt.Errorf("module %q was specified with --path, specify this module path directly as an input", m.Path)
			}
			if m.Path == "." || strings.HasPrefix(p, m.Path+"/") {
				targeted = true
			}
		}
		if !targeted {
			// --exclude-path does not apply to a module no --path reaches.
			continue
		}
		for _, e := range excludePaths {
			if path.Clean(e) == m.Path {
				return fmt.Errorf("module %q was specified with --exclude-path, this flag cannot be used to specify module directories", m.Path)
			}
		}
	}
	return nil
}

// under reports whether p is one of dirs or lies below one of them.
func under(p string, dirs []string) bool {
	for _, d := range dirs {
		d = path.Clean(d)
		if d == "." || p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// SearchPath returns the compiler's module search order: workspace modules
// in configuration order, then the dependencies. It reports (through warn)
// every workspace file that shadows a dependency's file.
func SearchPath(ws *workspace.Workspace, set *deps.Set, displayDir string, warn func(string)) ([]*compile.Module, map[*compile.Module]*workspace.Module) {
	var mods []*compile.Module
	local := make(map[*compile.Module]*workspace.Module)
	owner := make(map[string]*workspace.Module)
	for _, m := range ws.Modules {
		prefix := displayPrefix(ws, m, displayDir)
		cm := &compile.Module{Name: m.Name(), FS: m.FS(), Paths: m.ProtoPaths, DisplayPrefix: prefix}
		local[cm] = m
		mods = append(mods, cm)
		for _, p := range m.ProtoPaths {
			if _, ok := owner[p]; !ok {
				owner[p] = m
			}
		}
	}
	if set != nil {
		for _, d := range set.Modules {
			cm := d.CompileModule()
			if warn != nil {
				for _, p := range cm.Paths {
					if m, ok := owner[p]; ok {
						warn(fmt.Sprintf("%s: workspace module %s shadows %s", p, m.Description(), d.Pin.Key()))
					}
				}
			}
			mods = append(mods, cm)
		}
	}
	return mods, local
}

// Build compiles the targets and returns the image.
func Build(ctx context.Context, ws *workspace.Workspace, set *deps.Set, opts Options) (*image.Image, error) {
	targets, err := Targets(ws, opts.Paths, opts.ExcludePaths)
	if err != nil {
		return nil, err
	}
	mods, _ := SearchPath(ws, set, opts.DisplayDir, opts.Warn)
	targetPaths := make([]string, len(targets))
	for i, t := range targets {
		targetPaths[i] = t.Path
	}
	// Each file is encoded as soon as it is compiled and its descriptor
	// released: a large image then costs its encoded size, not the
	// descriptors' in-memory size.
	var mu sync.Mutex
	files := make(map[string]*image.File, len(targetPaths))
	emit := func(f *compile.File) error {
		imf := image.NewFile(f.Proto)
		imf.IsSyntaxUnspecified = f.IsSyntaxUnspecified
		imf.UnusedDependency = f.UnusedDependency
		if f.Module != nil {
			imf.ModuleName = f.Module.Name
			imf.CommitID = f.Module.CommitID
		}
		f.Proto = nil
		if opts.Discard {
			imf.Proto = nil
		} else if err := imf.Encode(); err != nil {
			return err
		}
		mu.Lock()
		files[imf.Path()] = imf
		mu.Unlock()
		return nil
	}
	_, err = compile.Compile(ctx, compile.NewResolver(mods), compile.Options{
		Targets:    targetPaths,
		SourceInfo: !opts.ExcludeSourceInfo,
		ChunkSize:  chunkSize(len(targetPaths)),
		Emit:       emit,
	})
	if err != nil {
		var ann *diag.Annotations
		if errors.As(err, &ann) && set != nil && len(set.Unresolved) > 0 {
			names := make([]string, len(set.Unresolved))
			for i, r := range set.Unresolved {
				names[i] = r.FullName.String()
			}
			ann.Hint = fmt.Sprintf("buf.yaml declares deps (%s) but there is no buf.lock; run \"protomod dep update\" to pin and download them", strings.Join(names, ", "))
		}
		return nil, err
	}
	return image.Assemble(targetPaths, func(p string) *image.File { return files[p] })
}

// chunkSize is how many target files are compiled together (0: all at
// once). Large builds are split so that peak memory stays bounded;
// PROTOMOD_CHUNK_SIZE overrides it for experiments.
func chunkSize(targets int) int {
	if v, err := strconv.Atoi(os.Getenv("PROTOMOD_CHUNK_SIZE")); err == nil {
		return v
	}
	if targets < chunkThreshold {
		return 0
	}
	return defaultChunkSize
}

// Builds of chunkThreshold files or more are compiled in chunks of about
// defaultChunkSize files (docs/benchmarks.md).
const (
	chunkThreshold   = 2000
	defaultChunkSize = 1500
)

// displayPrefix is what goes before a module-relative path in messages: the
// module directory relative to displayDir (or to the workspace root).
func displayPrefix(ws *workspace.Workspace, m *workspace.Module, displayDir string) string {
	rel := m.Path
	if displayDir != "" {
		if r, err := filepath.Rel(displayDir, m.Dir); err == nil {
			rel = filepath.ToSlash(r)
		}
	}
	if rel == "." {
		return ""
	}
	return rel + "/"
}
