package image

import (
	"bytes"
	"encoding/hex"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protomod/protomod/internal/bufname"
)

// imageFileFields splits a binary image into its ImageFile messages and, for
// each, returns the payloads of every field 8042 and the file name.
type wireFile struct {
	name string
	ext  [][]byte // field 8042 payloads, in order
	raw  []byte
}

func splitImage(t *testing.T, data []byte) []wireFile {
	t.Helper()
	var out []wireFile
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 || num != 1 || typ != protowire.BytesType {
			t.Fatalf("image: unexpected field %d type %d", num, typ)
		}
		data = data[n:]
		file, m := protowire.ConsumeBytes(data)
		if m < 0 {
			t.Fatal("image: truncated file")
		}
		data = data[m:]
		wf := wireFile{raw: file}
		for b := file; len(b) > 0; {
			num, typ, n := protowire.ConsumeTag(b)
			if n < 0 {
				t.Fatal("image file: bad tag")
			}
			b = b[n:]
			m := protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				t.Fatal("image file: bad field")
			}
			switch num {
			case 1:
				s, _ := protowire.ConsumeString(b)
				wf.name = s
			case ExtensionFieldNumber:
				p, _ := protowire.ConsumeBytes(b)
				wf.ext = append(wf.ext, p)
			}
			b = b[m:]
		}
		out = append(out, wf)
	}
	return out
}

// TestExtensionVectors checks the two field-8042 payloads of
// build-and-imports.md §4 on a really compiled image.
func TestExtensionVectors(t *testing.T) {
	c := compileModules(t, orderModules, []string{"acme/a/v1/a.proto"}, true)
	img := c.assemble(t, []string{"acme/a/v1/a.proto"}, true)
	var buf bytes.Buffer
	if err := img.WriteBinary(&buf, false); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"google/protobuf/timestamp.proto": "08011800",
		"acme/a/v1/a.proto":               "0800121b0a190a0e6c6f63616c686f73743a38303830120461636d651a01611800",
	}
	files := splitImage(t, buf.Bytes())
	if len(files) != len(want) {
		t.Fatalf("image has %d files, want %d", len(files), len(want))
	}
	for _, f := range files {
		if len(f.ext) != 1 {
			t.Errorf("%s: %d fields 8042, want 1", f.name, len(f.ext))
			continue
		}
		if got := hex.EncodeToString(f.ext[0]); got != want[f.name] {
			t.Errorf("%s: 8042 payload %s, want %s", f.name, got, want[f.name])
		}
	}
}

// TestExtensionBytes covers the fields the vectors leave out: commit,
// is_syntax_unspecified and unused_dependency. The expected bytes are
// written out by hand.
func TestExtensionBytes(t *testing.T) {
	commit := "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name string
		file File
		want string
	}{
		{"all false", File{}, "08001800"},
		{"import without syntax", File{IsImport: true, IsSyntaxUnspecified: true}, "08011801"},
		{"unused dependencies", File{UnusedDependency: []int32{0, 2, 130}}, "0800180020002002208201"},
		{
			"remote module with commit",
			File{IsImport: true, ModuleName: bufname.FullName{Registry: "r", Owner: "o", Name: "n"}, CommitID: commit},
			"0801" + "122d" + "0a09" + "0a0172" + "12016f" + "1a016e" + "1220" + hex.EncodeToString([]byte(commit)) + "1800",
		},
		{
			"named module without commit",
			File{ModuleName: bufname.FullName{Registry: "buf.build", Owner: "acme", Name: "x"}},
			"0800" + "1216" + "0a14" + "0a096275662e6275696c64" + "120461636d65" + "1a0178" + "1800",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hex.EncodeToString(tt.file.extensionBytes()); got != tt.want {
				t.Errorf("payload %s, want %s", got, tt.want)
			}
		})
	}
}

// TestWireCompatibleWithFileDescriptorSet checks that an image parses as a
// FileDescriptorSet whose only unknown field is 8042, and that
// asFileDescriptorSet drops it.
func TestWireCompatibleWithFileDescriptorSet(t *testing.T) {
	c := compileModules(t, orderModules, nil, true)
	for _, asFDS := range []bool{false, true} {
		img := c.assemble(t, []string{"acme/a/v1/a.proto", "acme/b/v1/b.proto"}, false)
		var buf bytes.Buffer
		if err := img.WriteBinary(&buf, asFDS); err != nil {
			t.Fatal(err)
		}
		var set descriptorpb.FileDescriptorSet
		if err := proto.Unmarshal(buf.Bytes(), &set); err != nil {
			t.Fatal(err)
		}
		if len(set.File) != 3 {
			t.Fatalf("asFDS=%v: %d files, want 3", asFDS, len(set.File))
		}
		for _, fd := range set.File {
			unknown := fd.ProtoReflect().GetUnknown()
			var nums []protowire.Number
			for len(unknown) > 0 {
				num, typ, n := protowire.ConsumeTag(unknown)
				m := protowire.ConsumeFieldValue(num, typ, unknown[n:])
				nums = append(nums, num)
				unknown = unknown[n+m:]
			}
			want := []protowire.Number{ExtensionFieldNumber}
			if asFDS {
				want = nil
			}
			if len(nums) != len(want) || (len(want) == 1 && nums[0] != want[0]) {
				t.Errorf("asFDS=%v: %s has unknown fields %v, want %v", asFDS, fd.GetName(), nums, want)
			}
			if fd.GetSourceCodeInfo() == nil {
				t.Errorf("asFDS=%v: %s lost its source info", asFDS, fd.GetName())
			}
		}
	}
}
