package push

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/cache"
	"github.com/protomod/protomod/internal/deps"
	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/lock"
	"github.com/protomod/protomod/internal/registry"
	"github.com/protomod/protomod/internal/workspace"
)

// The registries in these tests are closed loopback ports: every case
// below must fail before any request is made, and the one that passes the
// checks fails on connecting, never reaching the network.
const (
	reg1 = "127.0.0.1:1"
	reg2 = "localhost:1"
)

func openWorkspace(t *testing.T, files map[string]string) *workspace.Workspace {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ws, err := workspace.Open(root, workspace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// remoteDep is a resolved dependency set with one downloaded module
// providing dep/v1/dep.proto.
func remoteDep(t *testing.T, name string) *deps.Set {
	t.Helper()
	m := &cache.Module{
		Key:   bufname.ModuleKey{FullName: bufname.MustParseFullName(name), CommitID: "0de90de90de94de98de90de90de90de9"},
		Files: []digest.File{{Path: "dep/v1/dep.proto", Content: []byte("syntax = \"proto3\";\npackage dep.v1;\nmessage Dep {}\n")}},
	}
	b5, err := m.B5()
	if err != nil {
		t.Fatal(err)
	}
	pin := lock.Dep{Name: m.Key.FullName, Commit: m.Key.CommitID, Digest: b5}
	return &deps.Set{Lock: &lock.File{Version: lock.V2, Deps: []lock.Dep{pin}}, Modules: []*deps.Module{{Pin: pin, Cached: m, Declared: true}}}
}

const (
	plain     = "syntax = \"proto3\";\npackage p;\nmessage P {}\n"
	importsU  = "syntax = \"proto3\";\npackage a;\nimport \"u.proto\";\nmessage A { u.U u = 1; }\n"
	uProto    = "syntax = \"proto3\";\npackage u;\nmessage U {}\n"
	importDep = "syntax = \"proto3\";\npackage a;\nimport \"dep/v1/dep.proto\";\nmessage A { dep.v1.Dep d = 1; }\n"
)

func TestPushChecks(t *testing.T) {
	twoNamed := map[string]string{
		"buf.yaml":  "version: v2\nmodules:\n  - path: a\n    name: " + reg1 + "/acme/a\n  - path: b\n    name: " + reg1 + "/acme/b\n",
		"a/a.proto": plain, "b/b.proto": strings.Replace(plain, "package p", "package q", 1),
	}
	tests := []struct {
		name      string
		files     map[string]string
		set       func(t *testing.T) *deps.Set
		opts      Options
		wantErr   string
		wantWarns []string
	}{
		{
			name:    "invalid visibility",
			files:   twoNamed,
			opts:    Options{Create: true, CreateVisibility: "internal"},
			wantErr: `invalid --create-visibility "internal": must be public or private`,
		},
		{
			name:    "visibility without --create",
			files:   twoNamed,
			opts:    Options{CreateVisibility: "public"},
			wantErr: "--create-visibility and --create-default-label can only be set with --create",
		},
		{
			name:    "default label without --create",
			files:   twoNamed,
			opts:    Options{CreateDefaultLabel: "main"},
			wantErr: "--create-visibility and --create-default-label can only be set with --create",
		},
		{
			name: "unnamed module",
			files: map[string]string{
				"buf.yaml":  "version: v2\nmodules:\n  - path: a\n    name: " + reg1 + "/acme/a\n  - path: proto\n    excludes: [proto/x]\n",
				"a/a.proto": plain, "proto/p.proto": strings.Replace(plain, "package p", "package q", 1),
			},
			wantErr: `a name must be specified in buf.yaml to push module: path: "proto", excludes: "proto/x"`,
		},
		{
			name: "only unnamed modules, excluded",
			files: map[string]string{
				"buf.yaml":      "version: v2\nmodules:\n  - path: proto\n  - path: other\n",
				"proto/p.proto": plain, "other/o.proto": strings.Replace(plain, "package p", "package q", 1),
			},
			opts:      Options{ExcludeUnnamed: true},
			wantErr:   "no named modules to push: give a module a name in buf.yaml (name: registry/owner/module)",
			wantWarns: []string{`Excluding unnamed module path: "other"`, `Excluding unnamed module path: "proto"`},
		},
		{
			name: "two registries",
			files: map[string]string{
				"buf.yaml":  "version: v2\nmodules:\n  - path: a\n    name: " + reg2 + "/acme/a\n  - path: b\n    name: " + reg1 + "/acme/b\n",
				"a/a.proto": plain, "b/b.proto": strings.Replace(plain, "package p", "package q", 1),
			},
			wantErr: "cannot push modules of two registries at once: " + reg1 + "/acme/b and " + reg2 + "/acme/a",
		},
		{
			name: "named module importing an unnamed one",
			files: map[string]string{
				"buf.yaml":  "version: v2\nmodules:\n  - path: a\n    name: " + reg1 + "/acme/a\n  - path: u\n",
				"a/a.proto": importsU, "u/u.proto": uProto,
			},
			opts:      Options{ExcludeUnnamed: true},
			wantErr:   `module ` + reg1 + `/acme/a imports files of the unnamed module path: "u"; name that module in buf.yaml to push both`,
			wantWarns: []string{`Excluding unnamed module path: "u"`},
		},
		{
			name: "dependency on another registry",
			files: map[string]string{
				"buf.yaml":  "version: v2\nmodules:\n  - path: a\n    name: " + reg1 + "/acme/a\n",
				"a/a.proto": importDep,
			},
			set:     func(t *testing.T) *deps.Set { return remoteDep(t, reg2+"/acme/dep") },
			wantErr: "module dependencies across registries are not supported: " + reg1 + " depends on " + reg2 + "/acme/dep:0de90de90de94de98de90de90de90de9",
		},
		{
			name: "compile errors come first",
			files: map[string]string{
				"buf.yaml":  "version: v2\nmodules:\n  - path: a\n    name: " + reg1 + "/acme/a\n",
				"a/a.proto": "syntax = \"proto3\";\nimport \"gone.proto\";\n",
			},
			wantErr: "a/a.proto:2:1:imported file does not exist",
		},
	}
	client := registry.New(registry.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := openWorkspace(t, tt.files)
			var set *deps.Set
			if tt.set != nil {
				set = tt.set(t)
			}
			var warns []string
			opts := tt.opts
			opts.Warn = func(s string) { warns = append(warns, s) }
			pushed, err := Push(context.Background(), client, ws, set, opts)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error:\n%v\nwant:\n%s", err, tt.wantErr)
			}
			if pushed != nil {
				t.Errorf("pushed %v", pushed)
			}
			if !slices.Equal(warns, tt.wantWarns) {
				t.Errorf("warnings %q, want %q", warns, tt.wantWarns)
			}
			if n := client.Requests(); n != 0 {
				t.Errorf("%d requests were made", n)
			}
		})
	}
}

// TestPushReachesTheRegistry is the control for TestPushChecks: a valid
// workspace passes every check and fails only on connecting to the closed
// loopback port.
func TestPushReachesTheRegistry(t *testing.T) {
	ws := openWorkspace(t, map[string]string{
		"buf.yaml":  "version: v2\nmodules:\n  - path: a\n    name: " + reg1 + "/acme/a\n  - path: u\n",
		"a/a.proto": importDep, "u/u.proto": uProto,
	})
	client := registry.New(registry.Options{})
	var warns []string
	_, err := Push(context.Background(), client, ws, remoteDep(t, reg1+"/acme/dep"), Options{
		ExcludeUnnamed:   true,
		Create:           true,
		CreateVisibility: "public",
		Warn:             func(s string) { warns = append(warns, s) },
	})
	if err == nil || !strings.Contains(err.Error(), "unavailable") {
		t.Errorf("error %v, want the registry to be unavailable", err)
	}
	if client.Requests() == 0 {
		t.Error("no request was made")
	}
	if !slices.Equal(warns, []string{`Excluding unnamed module path: "u"`}) {
		t.Errorf("warnings %q", warns)
	}
}

func TestPushedString(t *testing.T) {
	p := Pushed{Name: bufname.MustParseFullName("buf.build/acme/a"), Commit: "0123456789abcdef0123456789abcdef"}
	if got := p.String(); got != "buf.build/acme/a:0123456789abcdef0123456789abcdef" {
		t.Errorf("String() = %q", got)
	}
}
