package image

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

type entry struct {
	path     string
	isImport bool
}

func entries(img *Image) []entry {
	out := make([]entry, len(img.Files))
	for i, f := range img.Files {
		out[i] = entry{f.Path(), f.IsImport}
	}
	return out
}

// TestFileOrderExample is the table of build-and-imports.md §5.3 with
// really compiled files; the binary output is compared with images the
// reference CLI wrote for the same workspace (testdata/order).
func TestFileOrderExample(t *testing.T) {
	const (
		ts = "google/protobuf/timestamp.proto"
		a  = "acme/a/v1/a.proto"
		b  = "acme/b/v1/b.proto"
	)
	c := compileModules(t, orderModules, nil, true)
	tests := []struct {
		name           string
		targets        []string
		excludeImports bool
		want           []entry
		golden         string
	}{
		{"build", []string{b, a}, false, []entry{{ts, true}, {a, false}, {b, false}}, "order.binpb"},
		{"build --exclude-imports", []string{a, b}, true, []entry{{a, false}, {b, false}}, "order-exclude-imports.binpb"},
		{"build --path b/acme/b/v1/b.proto", []string{b}, false, []entry{{ts, true}, {a, true}, {b, false}}, "order-path-b.binpb"},
	}
	for _, tt := range tests {
		for _, encode := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/encoded=%v", tt.name, encode), func(t *testing.T) {
				img := c.assemble(t, tt.targets, encode)
				if tt.excludeImports {
					img = img.WithoutImports()
				}
				if got := entries(img); !slices.Equal(got, tt.want) {
					t.Errorf("files %v, want %v", got, tt.want)
				}
				var buf bytes.Buffer
				if err := img.WriteBinary(&buf, false); err != nil {
					t.Fatal(err)
				}
				if want := readGolden(t, tt.golden); !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("binary image differs from the reference CLI's %s (%d bytes, want %d)", tt.golden, buf.Len(), len(want))
				}
			})
		}
	}
}

// fakeFile is a descriptor with only a name and imports.
func fakeFile(name string, deps []string, optionDeps ...string) *File {
	return NewFile(&descriptorpb.FileDescriptorProto{
		Name:             proto.String(name),
		Dependency:       deps,
		OptionDependency: optionDeps,
	})
}

func TestAssembleOrder(t *testing.T) {
	tests := []struct {
		name    string
		files   []*File
		targets []string
		want    string // path(i for import) in order
		wantErr string
	}{
		{
			name:    "targets sorted, each after its dependencies",
			files:   []*File{fakeFile("z.proto", nil), fakeFile("a.proto", []string{"z.proto"}), fakeFile("m.proto", nil)},
			targets: []string{"m.proto", "a.proto", "z.proto"},
			want:    "z.proto a.proto m.proto",
		},
		{
			name: "dependencies depth first in declaration order",
			files: []*File{
				fakeFile("t.proto", []string{"d2.proto", "d1.proto"}),
				fakeFile("d1.proto", []string{"leaf.proto"}),
				fakeFile("d2.proto", []string{"leaf.proto", "d3.proto"}),
				fakeFile("d3.proto", nil),
				fakeFile("leaf.proto", nil),
			},
			targets: []string{"t.proto"},
			want:    "leaf.proto(i) d3.proto(i) d2.proto(i) d1.proto(i) t.proto",
		},
		{
			name: "option dependencies after dependencies",
			files: []*File{
				fakeFile("t.proto", []string{"z.proto"}, "a_opts.proto"),
				fakeFile("z.proto", nil),
				fakeFile("a_opts.proto", []string{"google/protobuf/descriptor.proto"}),
				fakeFile("google/protobuf/descriptor.proto", nil),
			},
			targets: []string{"t.proto"},
			want:    "z.proto(i) google/protobuf/descriptor.proto(i) a_opts.proto(i) t.proto",
		},
		{
			name: "a target imported by an earlier target is emitted once, as a target",
			files: []*File{
				fakeFile("a.proto", []string{"b.proto"}),
				fakeFile("b.proto", []string{"c.proto"}),
				fakeFile("c.proto", nil),
			},
			targets: []string{"c.proto", "a.proto", "b.proto", "a.proto"},
			want:    "c.proto b.proto a.proto",
		},
		{
			name:    "missing file",
			files:   []*File{fakeFile("a.proto", []string{"gone.proto"})},
			targets: []string{"a.proto"},
			wantErr: "file gone.proto is missing from the compiled set",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			byPath := map[string]*File{}
			for _, f := range tt.files {
				byPath[f.Path()] = f
			}
			targets := slices.Clone(tt.targets)
			img, err := Assemble(tt.targets, func(p string) *File { return byPath[p] })
			if !slices.Equal(targets, tt.targets) {
				t.Errorf("Assemble reordered its argument: %v", tt.targets)
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range img.Files {
				s := f.Path()
				if f.IsImport {
					s += "(i)"
				}
				got = append(got, s)
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("order %q, want %q", g, tt.want)
			}
		})
	}
}

func TestWithoutImportsKeepsOriginal(t *testing.T) {
	img := &Image{Files: []*File{{IsImport: true, name: "i.proto"}, {name: "t.proto"}, {IsImport: true, name: "j.proto"}}}
	out := img.WithoutImports()
	if got := entries(out); !slices.Equal(got, []entry{{"t.proto", false}}) {
		t.Errorf("WithoutImports() = %v", got)
	}
	if len(img.Files) != 3 || img.Files[0].Path() != "i.proto" || img.Files[2].Path() != "j.proto" {
		t.Errorf("WithoutImports modified the original image: %v", entries(img))
	}
}
