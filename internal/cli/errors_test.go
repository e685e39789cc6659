package cli

import (
	"path/filepath"
	"testing"
)

// TestBuildErrors checks exit codes and exact messages for invalid
// workspaces and invalid invocations (testdata/errors).
func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name     string
		dir      string // under testdata/errors
		args     []string
		wantCode int
		wantErr  string
	}{
		{
			name: "modules overlap", dir: "overlap", args: []string{"build"}, wantCode: 1,
			wantErr: "Failure: modules overlap: proto/sub/sub.proto belongs to both path: \"proto\" and path: \"proto/sub\"; workspace modules must not contain each other's files: add \"proto/sub\" to the excludes of the module at \"proto\", or move one module out of the other\n",
		},
		{name: "overlap split by excludes", dir: "overlap-split", args: []string{"build"}, wantCode: 0},
		{
			name: "path in two modules", dir: "duplicate-path", args: []string{"build"}, wantCode: 1,
			wantErr: "Failure: foo/foo.proto is contained in multiple modules:\n  path: \"m1\"\n  path: \"m2\"\n",
		},
		{
			name: "module without protos", dir: "empty-module", args: []string{"build"}, wantCode: 1,
			wantErr: "Failure: Module \"path: \"empty\"\" had no .proto files\n",
		},
		{
			name: "same description", dir: "same-description", args: []string{"build"}, wantCode: 1,
			wantErr: "Failure: multiple module configs found with the same description: path: \"proto\"\n",
		},
		{
			name: "every compile error", dir: "compile-errors", args: []string{"build"}, wantCode: 100,
			wantErr: "proto/x.proto:3:1:imported file does not exist\n" +
				"proto/x.proto:4:13:cannot find `Foo` in this scope\n" +
				"proto/x.proto:4:24:cannot find `Bar` in this scope\n" +
				"proto/y.proto:3:19:`a` declared multiple times\n" +
				"proto/y.proto:3:33:message fields have the same JSON name\n",
		},
		{
			name: "compile errors as json", dir: "compile-errors", args: []string{"build", "--error-format", "json", "--path", "proto/y.proto"}, wantCode: 100,
			wantErr: `{"path":"proto/y.proto","start_line":3,"start_column":19,"end_line":3,"end_column":20,"type":"COMPILE","message":"` + "`a`" + ` declared multiple times"}` + "\n" +
				`{"path":"proto/y.proto","start_line":3,"start_column":33,"end_line":3,"end_column":34,"type":"COMPILE","message":"message fields have the same JSON name"}` + "\n",
		},
		{
			name: "compile errors for github actions", dir: "compile-errors", args: []string{"build", "--error-format", "github-actions", "--path", "proto/x.proto"}, wantCode: 100,
			wantErr: "::error file=proto/x.proto,line=3,col=1,endLine=3,endColumn=24::imported file does not exist\n" +
				"::error file=proto/x.proto,line=4,col=13,endLine=4,endColumn=16::cannot find `Foo` in this scope\n" +
				"::error file=proto/x.proto,line=4,col=24,endLine=4,endColumn=27::cannot find `Bar` in this scope\n",
		},
		{
			name: "unknown error format", dir: "compile-errors", args: []string{"build", "--error-format", "xml"}, wantCode: 1,
			wantErr: "Failure: unknown error format \"xml\": must be one of text, json, msvs, junit, github-actions\n",
		},
		{
			name: "symbol defined twice", dir: "redefined", args: []string{"build"}, wantCode: 100,
			wantErr: "proto/a.proto:3:9:`S` declared multiple times\n",
		},
		{
			name: "input inside a module", dir: "overlap-split", args: []string{"build", "proto/top"}, wantCode: 1,
			wantErr: "Failure: failed to build input \"proto/top\" because it is contained by module at path \"proto\" specified in your configuration, you must provide the workspace or module as the input, and filter to this path using --path\n",
		},
		{
			name: "path equal to input", dir: "overlap-split", args: []string{"build", "proto", "--path", "proto"}, wantCode: 1,
			wantErr: "Failure: given input is equal to a value of --path, this has no effect and is disallowed\n",
		},
		{
			name: "exclude a module", dir: "overlap-split", args: []string{"build", "--exclude-path", "proto/sub"}, wantCode: 1,
			wantErr: "Failure: module \"proto/sub\" was specified with --exclude-path, this flag cannot be used to specify module directories\n",
		},
		{
			name: "nothing targeted", dir: "overlap-split", args: []string{"build", "--path", "proto/nope"}, wantCode: 1,
			wantErr: "Failure: no .proto files were targeted. This can occur if no .proto files are found in your input, --path points to files that do not exist, or --exclude-path excludes all files.\n",
		},
		{
			name: "bad output extension", dir: "overlap-split", args: []string{"build", "-o", "out.exe"}, wantCode: 1,
			wantErr: "Failure: invalid output \"out.exe\": cannot tell the format from the extension; use .binpb, .json or .txtpb, or add #format=binpb|json|txtpb\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, filepath.Join("..", "..", "testdata", "errors", tt.dir), tt.args...)
			if code != tt.wantCode || stderr != tt.wantErr {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d, stderr:\n%s", code, stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}
