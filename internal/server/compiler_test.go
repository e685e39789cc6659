package server_test

import (
	"context"
	"strings"
	"testing"

	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	"connectrpc.com/connect"
)

// TestUploadsWithTheCompiler runs uploads through the server's default
// checker, the compiler: deps resolve from dep commits and from other
// uploaded modules, and type errors are refused with the compiler's
// annotation.
func TestUploadsWithTheCompiler(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.client(e.user("alice"))
	for _, m := range []string{"base", "dep", "app"} {
		c.createModule(t, "alice", m, modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC)
	}
	base := c.mustPush(t, nil, content{owner: "alice", module: "base", files: readModule(t, "base")})[0]
	dep := c.mustPush(t, []string{base.Id}, content{owner: "alice", module: "dep", files: readModule(t, "dep")})[0]
	if got := digestString(t, dep.Digest); got != wantDepB5 {
		t.Errorf("dep digest %s, want %s", got, wantDepB5)
	}
	// app imports dep only; base comes in through dep's closure.
	app := c.mustPush(t, []string{dep.Id, base.Id}, content{owner: "alice", module: "app", files: map[string]string{
		"app/v1/app.proto": "syntax = \"proto3\";\npackage app.v1;\nimport \"dep/v1/dep.proto\";\nimport \"google/protobuf/timestamp.proto\";\nmessage App { dep.v1.Dep d = 1; google.protobuf.Timestamp t = 2; }\n",
	}})[0]
	checkDigestInvariant(t, c, app.Id)

	for _, tc := range []struct {
		name  string
		deps  []string
		files map[string]string
		msg   string
	}{
		{"undefined type", nil, map[string]string{"app/v1/app.proto": "syntax = \"proto3\";\npackage app.v1;\nmessage App { Missing m = 1; }\n"}, "the upload does not compile: alice/app:app/v1/app.proto:3:15:cannot find `Missing` in this scope"},
		{"missing dep", nil, map[string]string{"app/v1/app.proto": "syntax = \"proto3\";\nimport \"dep/v1/dep.proto\";\n"}, "the upload does not compile: alice/app:app/v1/app.proto:2:1:imported file does not exist"},
		{"syntax error", nil, map[string]string{"app/v1/app.proto": "syntax = \"proto3\";\nmessage {\n"}, "the upload does not compile: alice/app:app/v1/app.proto:2:1:missing name after `message`\nalice/app:app/v1/app.proto:2:9:encountered unmatched `{` delimiter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.push(ctx, tc.deps, content{owner: "alice", module: "app", files: tc.files})
			wantCode(t, err, connect.CodeInvalidArgument, tc.msg)
			if strings.Count(err.Error(), "does not compile") != 1 {
				t.Errorf("message repeats itself: %v", err)
			}
		})
	}
}
