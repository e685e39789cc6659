package server_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/protomod/protomod/internal/server"
	"github.com/protomod/protomod/internal/store"
)

func checkModule(name string, kv ...string) server.CheckModule {
	m := server.CheckModule{Name: name}
	for i := 0; i < len(kv); i += 2 {
		m.Files = append(m.Files, store.File{Path: kv[i], Content: []byte(kv[i+1])})
	}
	return m
}

// TestCompileCheckerImports checks the imports the checker reports: every
// uploaded .proto file, its plain, public and weak imports in order, with
// dependencies and Well-Known Types resolved and non-.proto files ignored.
func TestCompileCheckerImports(t *testing.T) {
	imports, err := server.CompileChecker{}.Check(context.Background(),
		[]server.CheckModule{
			checkModule("acme/a",
				"a.proto", "syntax = \"proto3\";\nimport \"b.proto\";\nimport public \"dep.proto\";\nimport \"google/protobuf/any.proto\";\n",
				"README.md", "not a proto {",
				"LICENSE", "MIT"),
			checkModule("acme/b", "b.proto", "syntax = \"proto2\";\nimport weak \"dep.proto\";\n"),
		},
		[]server.CheckModule{checkModule("acme/d", "dep.proto", "syntax = \"proto3\";\n")},
	)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"a.proto": {"b.proto", "dep.proto", "google/protobuf/any.proto"},
		"b.proto": {"dep.proto"},
	}
	if len(imports) != len(want) {
		t.Errorf("imports = %q, want %q", imports, want)
	}
	for path, w := range want {
		if !slices.Equal(imports[path], w) {
			t.Errorf("imports[%s] = %q, want %q", path, imports[path], w)
		}
	}
}

// TestCompileCheckerErrors checks the refusals: one line per annotation,
// the uploaded file named with its module.
func TestCompileCheckerErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		uploaded []server.CheckModule
		deps     []server.CheckModule
		want     string
	}{
		{"missing import",
			[]server.CheckModule{checkModule("acme/a", "a.proto", "syntax = \"proto3\";\nimport \"b.proto\";\n")}, nil,
			"acme/a:a.proto:2:1:imported file does not exist"},
		{"deps are not uploaded files",
			[]server.CheckModule{checkModule("acme/a", "a.proto", "syntax = \"proto3\";\nimport \"dep.proto\";\nmessage A { dep.D d = 1; }\n")},
			[]server.CheckModule{checkModule("acme/d", "dep.proto", "syntax = \"proto3\";\npackage dep;\n")},
			"acme/a:a.proto:3:13:cannot find `dep.D` in this scope"},
		{"two errors in two modules",
			[]server.CheckModule{
				checkModule("acme/a", "a.proto", "syntax = \"proto3\";\nmessage A { X x = 1; }\n"),
				checkModule("acme/b", "b.proto", "syntax = \"proto3\";\nmessage B { Y y = 1; }\n"),
			}, nil,
			"acme/a:a.proto:2:13:cannot find `X` in this scope\nacme/b:b.proto:2:13:cannot find `Y` in this scope"},
		{"no .proto files",
			[]server.CheckModule{checkModule("acme/a", "LICENSE", "MIT")}, nil,
			"the upload has no .proto files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			imports, err := server.CompileChecker{}.Check(context.Background(), tc.uploaded, tc.deps)
			if err == nil {
				t.Fatalf("accepted, imports %q", imports)
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tc.want)
			}
		})
	}
}

func TestCompileCheckerCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := server.CompileChecker{}.Check(ctx,
		[]server.CheckModule{checkModule("acme/a", "a.proto", "syntax = \"proto3\";\n")}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
