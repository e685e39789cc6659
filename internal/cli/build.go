package cli

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/protomod/protomod/internal/atomicfile"
	"github.com/protomod/protomod/internal/build"
	"github.com/protomod/protomod/internal/cache"
	"github.com/protomod/protomod/internal/deps"
	"github.com/protomod/protomod/internal/diag"
	"github.com/protomod/protomod/internal/image"
	"github.com/protomod/protomod/internal/lock"
	"github.com/protomod/protomod/internal/workspace"
)

// inputFlags are the flags of every command that reads a workspace.
type inputFlags struct {
	config       string
	paths        []string
	excludePaths []string
}

func (f *inputFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.config, "config", "", "the buf.yaml to use instead of the input's: a path ending in .yaml, .yml or .json, or the YAML/JSON text itself")
	c.Flags().StringArrayVar(&f.paths, "path", nil, "limit the targets to this file or directory (relative to the current directory, module directory included); repeatable")
	c.Flags().StringArrayVar(&f.excludePaths, "exclude-path", nil, "exclude this file or directory from the targets; repeatable")
}

// openWorkspace loads the workspace of the input directory and turns the
// --path values into workspace-relative paths.
func (f *inputFlags) openWorkspace(args []string) (*workspace.Workspace, []string, []string, error) {
	ws, err := workspace.Open(inputArg(args), workspace.Options{ConfigOverride: f.config})
	if err != nil {
		return nil, nil, nil, err
	}
	paths, err := relativeTo(ws.Root, f.paths)
	if err != nil {
		return nil, nil, nil, err
	}
	excludes, err := relativeTo(ws.Root, f.excludePaths)
	if err != nil {
		return nil, nil, nil, err
	}
	return ws, paths, excludes, nil
}

// relativeTo maps paths given relative to the current directory onto paths
// relative to root.
func relativeTo(root string, paths []string) ([]string, error) {
	out := make([]string, len(paths))
	for i, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil || rel == ".." || len(rel) > 3 && rel[:3] == ".."+string(filepath.Separator) {
			return nil, fmt.Errorf("path %q is outside the workspace at %s", p, root)
		}
		out[i] = filepath.ToSlash(rel)
	}
	return out, nil
}

// resolveDeps loads buf.lock and the pinned modules it needs.
func (e *env) resolveDeps(ctx context.Context, ws *workspace.Workspace) (*deps.Set, error) {
	if len(ws.Deps) == 0 {
		if _, err := os.Stat(filepath.Join(ws.Root, lock.FileName)); errors.Is(err, fs.ErrNotExist) {
			return &deps.Set{}, nil
		}
	}
	return deps.Resolve(ctx, ws, deps.Options{
		OpenCache:   cache.Open,
		Fetcher:     e.fetcher(),
		OfflineFlag: e.offline,
		Refetch:     e.refetch,
	})
}

// fetcher returns what downloads missing modules, or nil when offline.
func (e *env) fetcher() deps.Fetcher {
	if e.offline {
		return nil
	}
	return lazyFetcher{e: e}
}

func newBuildCommand(e *env) *cobra.Command {
	var (
		in                  inputFlags
		output              string
		excludeImports      bool
		excludeSourceInfo   bool
		asFileDescriptorSet bool
	)
	c := &cobra.Command{
		Use:   "build [DIR]",
		Short: "Build the workspace into a descriptor image",
		Long: `Build compiles every module of the workspace (or the one module whose directory
is DIR) into a buf image, identical to what buf build writes.

The output format follows the -o extension: .binpb (binary), .json, .txtpb, or
"-" for binary on stdout; append #format=json (or binpb, txtpb) to choose it
explicitly, e.g. -o -#format=json. Without -o the image is only checked.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := diag.CheckFormat(e.errorFormat); err != nil {
				return err
			}
			// .bin.gz and .json.gz (deprecated in the reference CLI) are
			// the plain formats, gzipped.
			gzipped := strings.HasSuffix(output, ".bin.gz") || strings.HasSuffix(output, ".json.gz")
			path, format, err := image.ParseOutput(strings.TrimSuffix(output, ".gz"))
			if err != nil {
				return err
			}
			if gzipped {
				path += ".gz"
			}
			ws, paths, excludes, err := in.openWorkspace(args)
			if err != nil {
				return err
			}
			set, err := e.resolveDeps(c.Context(), ws)
			if err != nil {
				return err
			}
			discard := path == "/dev/null"
			img, err := build.Build(c.Context(), ws, set, build.Options{
				Paths:             paths,
				ExcludePaths:      excludes,
				ExcludeSourceInfo: excludeSourceInfo || discard,
				Discard:           discard,
				DisplayDir:        mustGetwd(),
				Warn:              func(msg string) { e.warnf("%s", msg) },
			})
			if err != nil {
				return err
			}
			if discard {
				return nil
			}
			if excludeImports {
				img = img.WithoutImports()
			}
			return e.writeImage(img, path, format, asFileDescriptorSet, gzipped)
		},
	}
	in.register(c)
	c.Flags().StringVarP(&output, "output", "o", "/dev/null", "where to write the image: a path ending in .binpb, .json or .txtpb, or - for stdout")
	c.Flags().BoolVar(&excludeImports, "exclude-imports", false, "leave out files that are not targets")
	c.Flags().BoolVar(&excludeSourceInfo, "exclude-source-info", false, "leave out source code info")
	c.Flags().BoolVar(&asFileDescriptorSet, "as-file-descriptor-set", false, "write a plain google.protobuf.FileDescriptorSet (no field 8042)")
	c.Flags().StringVar(&e.errorFormat, "error-format", "text", "how to print compile errors: text, json, msvs, junit or github-actions")
	c.Flags().BoolVar(&e.refetch, "refetch", false, "download again every cached module whose content does not match its buf.lock digest (the new download must match)")
	return c
}

// writeImage encodes the image and writes it to path ("-" for stdout),
// atomically for files.
func (e *env) writeImage(img *image.Image, path string, format image.Format, asFDS, gzipped bool) error {
	encode := func(w io.Writer) error {
		var zw *gzip.Writer
		if gzipped {
			zw = gzip.NewWriter(w)
			w = zw
		}
		var err error
		switch format {
		case image.FormatJSON:
			err = img.WriteJSON(w, asFDS)
		case image.FormatText:
			err = img.WriteText(w, asFDS)
		default:
			err = img.WriteBinary(w, asFDS)
		}
		if err == nil && zw != nil {
			err = zw.Close()
		}
		return err
	}
	if path == "-" {
		return encode(e.stdout)
	}
	// The image is cheap to build again: no fsync, but never a partial file.
	if err := atomicfile.WriteFunc(path, atomicfile.Options{Mode: 0o644, NoSync: true}, encode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func mustGetwd() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	return wd
}
