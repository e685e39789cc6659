package image

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

func TestEncodeDescriptorRoundTrip(t *testing.T) {
	c := compileModules(t, customModules, nil, true)
	files := c.imageFiles()
	if len(files) < 3 {
		t.Fatalf("only %d files compiled", len(files))
	}
	for path, f := range files {
		want := proto.Clone(f.Proto).(*descriptorpb.FileDescriptorProto)
		// An unknown field must survive Encode and Descriptor.
		unknown := protowire.AppendTag(nil, 99999, protowire.VarintType)
		unknown = protowire.AppendVarint(unknown, 7)
		f.Proto.ProtoReflect().SetUnknown(unknown)
		want.ProtoReflect().SetUnknown(unknown)
		if err := f.Encode(); err != nil {
			t.Fatal(err)
		}
		if f.Proto != nil {
			t.Errorf("%s: Proto kept after Encode", path)
		}
		if f.Path() != path {
			t.Errorf("Path() = %q after Encode, want %q", f.Path(), path)
		}
		if err := f.Encode(); err != nil { // a second Encode is a no-op
			t.Fatal(err)
		}
		got, err := f.Descriptor()
		if err != nil {
			t.Fatal(err)
		}
		// Descriptor decodes without an extension resolver, so custom
		// options come back as unknown fields: compare with the original
		// decoded the same way.
		wantBytes, err := proto.MarshalOptions{Deterministic: true}.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		plain := new(descriptorpb.FileDescriptorProto)
		if err := proto.Unmarshal(wantBytes, plain); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, plain) {
			t.Errorf("%s: Descriptor() after Encode differs from the original", path)
		}
		if got.GetName() != path || len(got.GetMessageType()) != len(want.GetMessageType()) {
			t.Errorf("%s: Descriptor() = %s with %d messages", path, got.GetName(), len(got.GetMessageType()))
		}
		if !bytes.HasSuffix(got.ProtoReflect().GetUnknown(), unknown) {
			t.Errorf("%s: unknown fields %x, want them to end with %x", path, got.ProtoReflect().GetUnknown(), unknown)
		}
		// Descriptor decodes a fresh copy each time.
		again, _ := f.Descriptor()
		if again == got {
			t.Errorf("%s: Descriptor returned the same message twice", path)
		}
	}
}

func TestDescriptorWithoutEncode(t *testing.T) {
	fd := &descriptorpb.FileDescriptorProto{Name: proto.String("a.proto")}
	f := NewFile(fd)
	got, err := f.Descriptor()
	if err != nil || got != fd {
		t.Errorf("Descriptor() = %p, %v; want the original %p", got, err, fd)
	}
}

func TestWriteBinaryEncodedEqualsNotEncoded(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mods    []testModule
		targets []string
	}{
		{"order", orderModules, []string{"acme/a/v1/a.proto", "acme/b/v1/b.proto"}},
		{"custom options", customModules, []string{"acme/use/v1/use.proto", "acme/opts/v1/opts.proto"}},
	} {
		c := compileModules(t, tc.mods, nil, true)
		for _, asFDS := range []bool{false, true} {
			var plain, encoded bytes.Buffer
			if err := c.assemble(t, tc.targets, false).WriteBinary(&plain, asFDS); err != nil {
				t.Fatal(err)
			}
			if err := c.assemble(t, tc.targets, true).WriteBinary(&encoded, asFDS); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(plain.Bytes(), encoded.Bytes()) {
				t.Errorf("%s asFDS=%v: encoded files write %d bytes, not encoded %d, and they differ", tc.name, asFDS, encoded.Len(), plain.Len())
			}
			if plain.Len() == 0 {
				t.Errorf("%s: empty image", tc.name)
			}
		}
	}
}

// TestStaleExtensionReplaced: a descriptor that already carries a field
// 8042 (read back from an image) gets exactly one, the current one; other
// unknown fields are kept after it.
func TestStaleExtensionReplaced(t *testing.T) {
	var unknown []byte
	unknown = protowire.AppendTag(unknown, ExtensionFieldNumber, protowire.BytesType)
	unknown = protowire.AppendBytes(unknown, []byte{0x08, 0x01, 0x18, 0x01})
	other := protowire.AppendTag(nil, 99999, protowire.VarintType)
	other = protowire.AppendVarint(other, 5)
	unknown = append(unknown, other...)
	for _, encode := range []bool{false, true} {
		for _, asFDS := range []bool{false, true} {
			fd := &descriptorpb.FileDescriptorProto{Name: proto.String("a.proto"), Package: proto.String("p")}
			fd.ProtoReflect().SetUnknown(unknown)
			f := NewFile(fd)
			if encode {
				if err := f.Encode(); err != nil {
					t.Fatal(err)
				}
			}
			var buf bytes.Buffer
			if err := (&Image{Files: []*File{f}}).WriteBinary(&buf, asFDS); err != nil {
				t.Fatal(err)
			}
			files := splitImage(t, buf.Bytes())
			if len(files) != 1 {
				t.Fatalf("%d files", len(files))
			}
			wantExt := []string{"08001800"}
			if asFDS {
				wantExt = nil
			}
			var gotExt []string
			for _, e := range files[0].ext {
				gotExt = append(gotExt, hex.EncodeToString(e))
			}
			if strings.Join(gotExt, ",") != strings.Join(wantExt, ",") {
				t.Errorf("encode=%v asFDS=%v: 8042 payloads %v, want %v", encode, asFDS, gotExt, wantExt)
			}
			if !bytes.HasSuffix(files[0].raw, other) {
				t.Errorf("encode=%v asFDS=%v: unknown field 99999 lost: %x", encode, asFDS, files[0].raw)
			}
			if !encode && !bytes.Equal(fd.ProtoReflect().GetUnknown(), unknown) {
				t.Errorf("WriteBinary changed the descriptor's unknown fields")
			}
		}
	}
}

func TestWriteBinaryEmptyImage(t *testing.T) {
	var buf bytes.Buffer
	if err := (&Image{}).WriteBinary(&buf, false); err != nil || buf.Len() != 0 {
		t.Errorf("empty image: %d bytes, %v", buf.Len(), err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteBinaryReportsWriteErrors(t *testing.T) {
	c := compileModules(t, orderModules, nil, false)
	img := c.assemble(t, []string{"acme/b/v1/b.proto"}, true)
	if err := img.WriteBinary(failingWriter{}, false); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteBinary to a failing writer: %v", err)
	}
}

func TestParseOutput(t *testing.T) {
	tests := []struct {
		in         string
		wantPath   string
		wantFormat Format
		wantErr    string
	}{
		{"-", "-", FormatBinary, ""},
		{"/dev/null", "/dev/null", FormatBinary, ""},
		{"out.binpb", "out.binpb", FormatBinary, ""},
		{"dir/out.bin", "dir/out.bin", FormatBinary, ""},
		{"out.json", "out.json", FormatJSON, ""},
		{"out.txtpb", "out.txtpb", FormatText, ""},
		{"-#format=json", "-", FormatJSON, ""},
		{"-#format=txtpb", "-", FormatText, ""},
		{"-#format=binpb", "-", FormatBinary, ""},
		{"-#format=bin", "-", FormatBinary, ""},
		{"image.data#format=json", "image.data", FormatJSON, ""},
		{"out.json#format=binpb", "out.json", FormatBinary, ""},
		{"a#b/out#format=txtpb", "a#b/out", FormatText, ""},
		{"out", "", "", `invalid output "out": cannot tell the format from the extension; use .binpb, .json or .txtpb, or add #format=binpb|json|txtpb`},
		{"out.proto", "", "", `invalid output "out.proto": cannot tell the format from the extension; use .binpb, .json or .txtpb, or add #format=binpb|json|txtpb`},
		{"out.json#format=xml", "", "", `invalid output "out.json#format=xml": unknown format "xml": must be binpb, json or txtpb`},
		{"out.json#format=", "", "", `invalid output "out.json#format=": unknown format "": must be binpb, json or txtpb`},
		{"out.json#compression=gzip", "", "", `invalid output "out.json#compression=gzip": only the format=<binpb|json|txtpb> option is supported after #`},
	}
	for _, tt := range tests {
		path, format, err := ParseOutput(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseOutput(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || path != tt.wantPath || format != tt.wantFormat {
			t.Errorf("ParseOutput(%q) = %q, %q, %v; want %q, %q", tt.in, path, format, err, tt.wantPath, tt.wantFormat)
		}
	}
}
