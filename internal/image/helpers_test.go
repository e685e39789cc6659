package image

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/compile"
)

// testModule is a module directory under testdata.
type testModule struct {
	dir  string // under testdata
	name string // full name, "" for none
}

// compiled is the result of compiling test modules: every compiled
// descriptor by path, with the module facts the image extension needs.
type compiled struct {
	files map[string]*compile.File
}

// compileModules compiles the targets (all files of all modules when nil)
// against the modules, in order.
func compileModules(t *testing.T, mods []testModule, targets []string, sourceInfo bool) *compiled {
	t.Helper()
	var cms []*compile.Module
	for _, m := range mods {
		dir := filepath.Join("testdata", filepath.FromSlash(m.dir))
		var paths []string
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".proto") {
				return err
			}
			rel, err := filepath.Rel(dir, p)
			paths = append(paths, filepath.ToSlash(rel))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(paths)
		cm := &compile.Module{FS: os.DirFS(dir), Paths: paths, DisplayPrefix: m.dir + "/"}
		if m.name != "" {
			cm.Name = bufname.MustParseFullName(m.name)
		}
		cms = append(cms, cm)
	}
	if targets == nil {
		for _, cm := range cms {
			targets = append(targets, cm.Paths...)
		}
	}
	res, err := compile.Compile(context.Background(), compile.NewResolver(cms), compile.Options{Targets: targets, SourceInfo: sourceInfo})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	c := &compiled{files: map[string]*compile.File{}}
	for _, f := range res.Files {
		c.files[f.Path()] = f
	}
	return c
}

// imageFiles returns fresh image files for the compiled descriptors (each
// call clones them, so that tests may Encode one set and not the other).
func (c *compiled) imageFiles() map[string]*File {
	out := make(map[string]*File, len(c.files))
	for p, f := range c.files {
		imf := NewFile(proto.Clone(f.Proto).(*descriptorpb.FileDescriptorProto))
		imf.IsSyntaxUnspecified = f.IsSyntaxUnspecified
		imf.UnusedDependency = f.UnusedDependency
		if f.Module != nil {
			imf.ModuleName = f.Module.Name
			imf.CommitID = f.Module.CommitID
		}
		out[p] = imf
	}
	return out
}

func (c *compiled) assemble(t *testing.T, targets []string, encode bool) *Image {
	t.Helper()
	files := c.imageFiles()
	if encode {
		for _, f := range files {
			if err := f.Encode(); err != nil {
				t.Fatal(err)
			}
		}
	}
	img, err := Assemble(targets, func(p string) *File { return files[p] })
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// orderModules are the two modules of the file order example of
// build-and-imports.md §5.3.
var orderModules = []testModule{
	{dir: "order/a", name: "localhost:8080/acme/a"},
	{dir: "order/b"},
}

var customModules = []testModule{
	{dir: "customopts/proto", name: "localhost:8080/acme/custom"},
}

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
