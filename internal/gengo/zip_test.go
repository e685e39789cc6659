package gengo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
)

func TestCreateZip(t *testing.T) {
	const path = "example.test/gen/go/acme/weather/protocolbuffers/go"
	const version = "v1.36.12-20260101120000-abcdef123456.1"
	gomod := []byte("module " + path + "\n\ngo 1.23\n")
	ok := []File{{Path: "go.mod", Content: gomod}, {Path: "a/b.go", Content: []byte("package b\n")}}
	tests := []struct {
		name    string
		path    string
		version string
		files   []File
		wantErr string
	}{
		{name: "ok", path: path, version: version, files: ok},
		{name: "case collision", path: path, version: version, files: append(ok[:2:2], File{Path: "A/b.go", Content: []byte("x")}), wantErr: "case-insensitive file name collision"},
		{name: "bad char", path: path, version: version, files: append(ok[:2:2], File{Path: "a/b:c.go"}), wantErr: "invalid char ':'"},
		{name: "reserved name", path: path, version: version, files: append(ok[:2:2], File{Path: "a/CON.go"}), wantErr: `"CON" disallowed as path element component on Windows`},
		{name: "nested go.mod", path: path, version: version, files: append(ok[:2:2], File{Path: "sub/go.mod", Content: []byte("module x\n")}), wantErr: "would leave out sub/go.mod"},
		{name: "vendor", path: path, version: version, files: append(ok[:2:2], File{Path: "vendor/x/y.go"}), wantErr: "would leave out vendor/x/y.go"},
		{name: "major suffix", path: path, version: "v2.0.0-20260101120000-abcdef123456.1", files: ok, wantErr: "should be v0 or v1, not v2"},
		{name: "not canonical", path: path, version: "v1.36", files: ok, wantErr: "not canonical"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := CreateZip(tt.path, tt.version, tt.files)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			again, err := CreateZip(tt.path, tt.version, tt.files)
			if err != nil || string(again) != string(data) {
				t.Fatalf("CreateZip is not deterministic (%v)", err)
			}
			got, err := ZipGoMod(tt.path, tt.version, data)
			if err != nil || string(got) != string(gomod) {
				t.Errorf("ZipGoMod = %q, %v", got, err)
			}
			if err := CheckZip(tt.path, "v1.36.12-20260101120000-abcdef123456.2", data); err == nil {
				t.Error("CheckZip accepted a zip for another version")
			}
		})
	}
}

// Real go.mod files served by the BSR, with their go.sum hashes: GoMod
// writes the same bytes from the same facts, and HashMod hashes them as the
// go command does.
func TestBSRGoMod(t *testing.T) {
	commit := func(owner, mod, id string, at string) Commit {
		tm, err := time.Parse(timeLayout, at)
		if err != nil {
			t.Fatal(err)
		}
		return Commit{Owner: owner, Module: mod, ID: id + "00000000000000000000", CreateTime: tm}
	}
	pbgo11 := &Plugin{Owner: "protocolbuffers", Name: "go", Version: "v1.36.11", Revision: 1, GoVersion: "1.23",
		Requires: []module.Version{{Path: "google.golang.org/protobuf", Version: "v1.36.11"}}, Exec: &Exec{Path: "protoc-gen-go"}}
	connect20 := &Plugin{Owner: "connectrpc", Name: "go", Version: "v1.20.0", Revision: 1, GoVersion: "1.25",
		Requires: []module.Version{{Path: "connectrpc.com/connect", Version: "v1.20.0"}},
		Deps:     []PluginRef{{Owner: "protocolbuffers", Name: "go", Version: "v1.36.11"}}, Exec: &Exec{Path: "protoc-gen-connect-go"}}
	c := builtinCatalog(t, pbgo11, connect20)
	tests := []struct {
		file, sum string
		plugin    *Plugin
		mod       Commit
		deps      []Commit
	}{
		{
			file: "protovalidate-protocolbuffers-go.mod", sum: "h1:TCt1lluMFnctISJXvkIQ4x3ABrPuUKCWKyjKdkJNBpw=",
			plugin: c.Plugin("protocolbuffers", "go", "v1.36.12"),
			mod:    commit("bufbuild", "protovalidate", "435963d16310", "20260709200747"),
		},
		{
			file: "registry-connectrpc-go.mod", sum: "h1:hMqlU8iWXqCU7UOBs8PTDG/z7BFnhIknJZ4XMWcBx3E=",
			plugin: connect20,
			mod:    commit("bufbuild", "registry", "b4432e12a6e7", "20260831211851"),
			deps: []Commit{
				commit("bufbuild", "protovalidate", "6c6e0d3c608e", "20250717185734"),
				commit("bufbuild", "bufplugin", "e35f9b667443", "20250718181942"),
			},
		},
	}
	for _, tt := range tests {
		want, err := os.ReadFile(filepath.Join("testdata", "bsr", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := GoMod("buf.build", tt.plugin, tt.mod, tt.deps)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: GoMod =\n%s\nwant\n%s", tt.file, got, want)
		}
		if h, err := HashMod(want); err != nil || h != tt.sum {
			t.Errorf("%s: HashMod = %s, %v; want %s", tt.file, h, err, tt.sum)
		}
	}
}
