package gengo

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
)

// Options with retention = RETENTION_SOURCE are stripped from proto_file,
// as protoc does, and kept in source_file_descriptors.
func TestStripSourceRetention(t *testing.T) {
	c := builtinCatalog(t)
	src := loadSource(t, "retention", "acme", "ret", weatherCommit.ID, weatherCommit.CreateTime)
	req, err := buildRequest(context.Background(), Request{Host: "example.test", Plugin: c.Plugin("protocolbuffers", "go", ProtocGenGoVersion), Module: src})
	if err != nil {
		t.Fatal(err)
	}
	last := req.GetProtoFile()[len(req.GetProtoFile())-1]
	if last.GetName() != "acme/ret/v1/ret.proto" {
		t.Fatalf("last proto_file = %s", last.GetName())
	}
	stripped := marshal(t, last.GetMessageType()[0].GetOptions())
	kept := marshal(t, req.GetSourceFileDescriptors()[0].GetMessageType()[0].GetOptions())
	for _, tt := range []struct {
		name string
		data []byte
		has  map[string]bool
	}{
		{"proto_file", stripped, map[string]bool{"source-retention-value": false, "runtime-retention-value": true}},
		{"source_file_descriptors", kept, map[string]bool{"source-retention-value": true, "runtime-retention-value": true}},
	} {
		for value, want := range tt.has {
			if got := bytes.Contains(tt.data, []byte(value)); got != want {
				t.Errorf("%s: has %s = %v, want %v", tt.name, value, got, want)
			}
		}
	}
	// The generated code embeds the stripped descriptor.
	files, err := Generate(context.Background(), Request{Host: "example.test", Plugin: c.Plugin("protocolbuffers", "go", ProtocGenGoVersion), Module: src})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(files[0].Content, []byte("source-retention-value")) || !bytes.Contains(files[0].Content, []byte("runtime-retention-value")) {
		t.Error("ret.pb.go should embed only the runtime-retention option")
	}
}

func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestEditions(t *testing.T) {
	c := builtinCatalog(t)
	p := c.Plugin("protocolbuffers", "go", ProtocGenGoVersion)
	src := loadSource(t, "editions", "acme", "ed", weatherCommit.ID, weatherCommit.CreateTime)
	files, err := Generate(context.Background(), Request{Host: "example.test", Plugin: p, Module: src})
	if err != nil {
		t.Fatal(err)
	}
	// Edition 2024 defaults to the opaque API: one file, no hybrid twin.
	if len(files) != 1 || files[0].Path != "acme/ed/v1/ed.pb.go" || !bytes.Contains(files[0].Content, []byte("\npackage edv1\n")) {
		t.Fatalf("generated %d files, first %s", len(files), files[0].Path)
	}
	// Edition 2026 compiles, but protoc-gen-go v1.36.12 does not support it
	// (the linked development generator would, for a newer runtime).
	src2026 := Source{Commit: src.Commit, Files: map[string][]byte{
		"acme/ed/v1/ed.proto": []byte("edition = \"2026\";\npackage acme.ed.v1;\nmessage Sample { string name = 1; }\n"),
	}}
	_, err = Generate(context.Background(), Request{Host: "example.test", Plugin: p, Module: src2026})
	if want := "acme/ed/v1/ed.proto uses EDITION_2026, which plugin protocolbuffers/go v1.36.12 does not support (it supports EDITION_PROTO2 to EDITION_2024)"; err == nil || err.Error() != want {
		t.Errorf("edition 2026: error = %v, want %q", err, want)
	}
	// A plugin without editions support is refused, as protoc does.
	fake := &Plugin{Owner: "acme", Name: "fake", Version: "v1.0.0", Revision: 1, GoVersion: "1.22", Exec: fakePluginExec(t, "echo")}
	builtinCatalog(t, fake)
	_, err = Generate(context.Background(), Request{Host: "example.test", Plugin: fake, Module: src})
	if err == nil || !strings.Contains(err.Error(), "acme/ed/v1/ed.proto uses editions, but plugin acme/fake v1.0.0 does not support editions") {
		t.Fatalf("error = %v", err)
	}
}

func TestGenerateErrors(t *testing.T) {
	c := builtinCatalog(t)
	p := c.Plugin("protocolbuffers", "go", ProtocGenGoVersion)
	commit := Commit{Owner: "acme", Module: "broken", ID: weatherCommit.ID, CreateTime: weatherCommit.CreateTime}
	tests := []struct {
		name    string
		files   map[string][]byte
		wantErr string
	}{
		{"no protos", map[string][]byte{"README.md": []byte("hi")}, "acme/broken:" + weatherCommit.ID + " has no .proto files to generate"},
		{"syntax error", map[string][]byte{"a/v1/a.proto": []byte("syntax = \"proto3\";\nmessage {")}, "compile acme/broken:"},
		{"missing import", map[string][]byte{"a/v1/a.proto": []byte("syntax = \"proto3\";\nimport \"b/b.proto\";\n")}, "a/v1/a.proto:2:1:imported file does not exist"},
		{"bad directory", map[string][]byte{"a b/x.proto": []byte("syntax = \"proto3\";\npackage x;\n")}, "the directory cannot be a Go package"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Generate(context.Background(), Request{Host: "example.test", Plugin: p, Module: Source{Commit: commit, Files: tt.files}})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestStampProtocGenGoVersion(t *testing.T) {
	head := "// Code generated by protoc-gen-go. DO NOT EDIT.\n// versions:\n// \tprotoc-gen-go "
	tests := []struct {
		in, want, wantErr string
	}{
		{head + "v1.36.12-devel\n// \tprotoc        (unknown)\n", head + "v1.36.12\n// \tprotoc        (unknown)\n", ""},
		{head + "v1.36.12\n", head + "v1.36.12\n", ""},
		{"// license\n\n" + head + "v1.36.12-devel\nrest", "// license\n\n" + head + "v1.36.12\nrest", ""},
		{head + "v1.36.13-devel\n", "", "the generator linked into this binary is v1.36.13-devel"},
		{head + "v1.37.0\n", "", "is v1.37.0, but SDKs are published as v1.36.12"},
		{"package x\n", "", "has no protoc-gen-go version header"},
		{head + "v1.36.12", "", "truncated version header"},
	}
	for _, tt := range tests {
		got, err := stampProtocGenGoVersion("x.pb.go", []byte(tt.in))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("stamp(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("stamp(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
