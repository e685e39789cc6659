package image

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// TestTextFormatsMatchReference compares the JSON and text output with what
// the reference CLI wrote for the same workspaces (testdata/order and
// testdata/customopts, see testdata/golden).
func TestTextFormatsMatchReference(t *testing.T) {
	const (
		a   = "acme/a/v1/a.proto"
		b   = "acme/b/v1/b.proto"
		use = "acme/use/v1/use.proto"
		opt = "acme/opts/v1/opts.proto"
	)
	tests := []struct {
		golden         string
		mods           []testModule
		targets        []string
		sourceInfo     bool
		excludeImports bool
		asFDS          bool
	}{
		{golden: "order.json", mods: orderModules, targets: []string{a, b}, sourceInfo: true},
		{golden: "order.txtpb", mods: orderModules, targets: []string{a, b}},
		{golden: "order-fds.json", mods: orderModules, targets: []string{a, b}, sourceInfo: true, asFDS: true},
		{golden: "customopts.json", mods: customModules, targets: []string{use, opt}},
		// Custom options defined in an excluded import still print with
		// their names.
		{golden: "customopts-exclude-imports.json", mods: customModules, targets: []string{use}, excludeImports: true},
		{golden: "customopts-exclude-imports.txtpb", mods: customModules, targets: []string{use}, excludeImports: true},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			c := compileModules(t, tt.mods, nil, tt.sourceInfo)
			for _, encode := range []bool{false, true} {
				img := c.assemble(t, tt.targets, encode)
				if tt.excludeImports {
					img = img.WithoutImports()
				}
				var buf bytes.Buffer
				var err error
				if strings.HasSuffix(tt.golden, ".json") {
					err = img.WriteJSON(&buf, tt.asFDS)
				} else {
					err = img.WriteText(&buf, tt.asFDS)
				}
				if err != nil {
					t.Fatal(err)
				}
				if want := readGolden(t, tt.golden); !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("encoded=%v: output differs from the reference CLI's\n--- got\n%s\n--- want\n%s", encode, clip(buf.String()), clip(string(want)))
				}
			}
		})
	}
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

// TestTextFormatsDecodeBack decodes the JSON and text output again and
// compares it with the binary image, field by field.
func TestTextFormatsDecodeBack(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mods    []testModule
		targets []string
	}{
		{"order", orderModules, []string{"acme/b/v1/b.proto", "acme/a/v1/a.proto"}},
		{"custom options", customModules, []string{"acme/use/v1/use.proto", "acme/opts/v1/opts.proto"}},
	} {
		c := compileModules(t, tc.mods, nil, true)
		for _, asFDS := range []bool{false, true} {
			img := c.assemble(t, tc.targets, true)
			types, err := img.resolver()
			if err != nil {
				t.Fatal(err)
			}
			newMessage := func() proto.Message {
				if asFDS {
					return new(descriptorpb.FileDescriptorSet)
				}
				fd, err := imageDescriptor()
				if err != nil {
					t.Fatal(err)
				}
				return dynamicpb.NewMessage(fd.Messages().ByName("Image"))
			}
			var bin, js, txt bytes.Buffer
			if err := img.WriteBinary(&bin, asFDS); err != nil {
				t.Fatal(err)
			}
			if err := img.WriteJSON(&js, asFDS); err != nil {
				t.Fatal(err)
			}
			if err := img.WriteText(&txt, asFDS); err != nil {
				t.Fatal(err)
			}
			fromBinary := newMessage()
			if err := (proto.UnmarshalOptions{Resolver: types}).Unmarshal(bin.Bytes(), fromBinary); err != nil {
				t.Fatal(err)
			}
			fromJSON := newMessage()
			if err := (protojson.UnmarshalOptions{Resolver: types}).Unmarshal(js.Bytes(), fromJSON); err != nil {
				t.Fatalf("%s asFDS=%v: decode JSON: %v", tc.name, asFDS, err)
			}
			fromText := newMessage()
			if err := (prototext.UnmarshalOptions{Resolver: types}).Unmarshal(txt.Bytes(), fromText); err != nil {
				t.Fatalf("%s asFDS=%v: decode text: %v", tc.name, asFDS, err)
			}
			if !proto.Equal(fromJSON, fromBinary) {
				t.Errorf("%s asFDS=%v: JSON decodes to a different image than the binary", tc.name, asFDS)
			}
			if !proto.Equal(fromText, fromBinary) {
				t.Errorf("%s asFDS=%v: text decodes to a different image than the binary", tc.name, asFDS)
			}
			// Field names are lowerCamel in JSON, snake_case in text;
			// 8042 is absent as a FileDescriptorSet.
			for _, name := range []string{`"bufExtension"`, `"isImport"`, `"isSyntaxUnspecified"`, `"sourceCodeInfo"`} {
				if has := strings.Contains(js.String(), name); has == (asFDS && name != `"sourceCodeInfo"`) {
					t.Errorf("%s asFDS=%v: JSON contains %s: %v", tc.name, asFDS, name, has)
				}
			}
			if has := strings.Contains(txt.String(), "buf_extension: {"); has == asFDS {
				t.Errorf("%s asFDS=%v: text contains buf_extension: %v", tc.name, asFDS, has)
			}
		}
	}
}

// TestTextFormatsStable: two writes give the same bytes (no random
// whitespace from the protobuf encoders).
func TestTextFormatsStable(t *testing.T) {
	c := compileModules(t, customModules, nil, false)
	img := c.assemble(t, []string{"acme/use/v1/use.proto"}, true)
	var j1, j2, t1, t2 bytes.Buffer
	for _, w := range []struct {
		buf  *bytes.Buffer
		json bool
	}{{&j1, true}, {&j2, true}, {&t1, false}, {&t2, false}} {
		var err error
		if w.json {
			err = img.WriteJSON(w.buf, false)
		} else {
			err = img.WriteText(w.buf, false)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if j1.String() != j2.String() || t1.String() != t2.String() {
		t.Error("two writes of the same image differ")
	}
	if strings.Contains(j1.String(), "  ") || strings.Contains(j1.String(), "\n") {
		t.Errorf("JSON output is not compact: %q", clip(j1.String()))
	}
}
