package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/protomod/protomod/internal/server"
	"github.com/protomod/protomod/internal/store"
)

func TestScanImports(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
		err       string
	}{
		{"none", "syntax = \"proto3\";\nmessage A {}\n", nil, ""},
		{"plain, public, weak", "syntax = \"proto3\";\nimport \"a.proto\";\nimport public \"b/b.proto\";\nimport weak 'c.proto';\n", []string{"a.proto", "b/b.proto", "c.proto"}, ""},
		{"adjacent strings", "import \"a/\" \"b.proto\";", []string{"a/b.proto"}, ""},
		{"escapes", `import "a\"b.proto";`, []string{`a"b.proto`}, ""},
		{"comments hide imports", "// import \"x.proto\";\n/* import \"y.proto\"; */\nimport \"z.proto\";", []string{"z.proto"}, ""},
		{"import as a field name", "message A { int32 import = 1; }\n", nil, ""},
		{"import in an option string", "option go_package = \"import\";\n", nil, ""},
		{"editions and options", "edition = \"2023\";\noption (x) = { a: <b: 1>, c: [1, -2.5e+3] };\nimport \"a.proto\";", []string{"a.proto"}, ""},
		{"unclosed brace", "message A {\n", nil, "1:11: '{' is never closed"},
		{"stray brace", "message A {}\n}", nil, "2:1: unexpected '}'"},
		{"mismatched brackets", "message A { repeated int32 x = 1 [packed = true}; }", nil, "unexpected '}'"},
		{"unterminated string", "import \"a.proto;\n", nil, "1:8: string literal is not terminated"},
		{"unterminated comment", "/* x", nil, "1:1: block comment is not terminated"},
		{"import without path", "import a;", nil, "1:1: expected a quoted path after import"},
		{"import without semicolon", "import \"a.proto\"\nmessage A {}", nil, "1:1: expected ';' after the import path"},
		{"stray character", "message A { int32 x = 1; } $", nil, `1:28: unexpected character '$'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := server.ScanImports([]byte(tc.src))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err && !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equal(got, tc.want) {
				t.Errorf("imports = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestScanCheckerResolution(t *testing.T) {
	ctx := context.Background()
	mod := func(name string, kv ...string) server.CheckModule {
		m := server.CheckModule{Name: name}
		for i := 0; i < len(kv); i += 2 {
			m.Files = append(m.Files, store.File{Path: kv[i], Content: []byte(kv[i+1])})
		}
		return m
	}
	imports, err := server.ScanChecker{}.Check(ctx,
		[]server.CheckModule{mod("acme/a", "a.proto", `import "b.proto"; import "dep.proto"; import "google/protobuf/any.proto";`, "README.md", "not a proto {")},
		[]server.CheckModule{mod("acme/d", "dep.proto", "")},
	)
	if err == nil || !strings.Contains(err.Error(), `acme/a: a.proto: import "b.proto": file does not exist`) {
		t.Fatalf("missing import: %v", err)
	}
	imports, err = server.ScanChecker{}.Check(ctx,
		[]server.CheckModule{mod("acme/a", "a.proto", `import "b.proto"; import "dep.proto";`), mod("acme/b", "b.proto", "")},
		[]server.CheckModule{mod("acme/d", "dep.proto", "")},
	)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(imports["a.proto"], []string{"b.proto", "dep.proto"}) || len(imports["b.proto"]) != 0 || len(imports) != 2 {
		t.Errorf("imports = %v", imports)
	}
}

// FuzzScanImports: the scanner never panics, and what it accepts yields
// imports that appear in the source.
func FuzzScanImports(f *testing.F) {
	f.Add([]byte("syntax = \"proto3\";\nimport \"a.proto\";\nmessage A { map<string, int32> m = 1; }\n"))
	f.Add([]byte("import public 'x' \"y\";"))
	f.Add([]byte("/* */ // \n\"\\"))
	f.Fuzz(func(t *testing.T, src []byte) {
		imports, err := server.ScanImports(src)
		if err != nil {
			return
		}
		if len(imports) > 0 && !strings.Contains(string(src), "import") {
			t.Errorf("imports %q from a source without the word import", imports)
		}
	})
}
