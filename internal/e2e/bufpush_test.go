package e2e_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/protomod/protomod/internal/e2e"
	"github.com/protomod/protomod/internal/lock"
)

// TestBufPushesToServe: the reference CLI pushes a two-module workspace to
// `protomod serve` (creating the modules), protomod consumers depend on it,
// and the digests the server computed equal the ones protomod computes
// locally for the same content (`mod digest`).
func TestBufPushesToServe(t *testing.T) {
	if !e2e.HaveBuf() {
		t.Skip("the reference CLI (buf) is not on PATH")
	}
	srv := e2e.StartServer(t)
	token := srv.User("alice")
	h := srv.Host
	env := e2e.NewEnv(t)
	env.Token = token
	ws := t.TempDir()
	e2e.WriteFiles(t, ws, map[string]string{
		"buf.yaml":                fmt.Sprintf("version: v2\nmodules:\n  - path: base\n    name: %[1]s/alice/base\n  - path: dep\n    name: %[1]s/alice/dep\n", h),
		"base/base/v1/base.proto": "syntax = \"proto3\";\npackage base.v1;\nmessage Base { string id = 1; }\n",
		"dep/dep/v1/dep.proto":    "syntax = \"proto3\";\npackage dep.v1;\nimport \"base/v1/base.proto\";\nmessage Dep { base.v1.Base base = 1; }\n",
		"dep/README.md":           "# dep\n",
		"LICENSE":                 "MIT\n",
	})
	r := env.RunBuf(ws, "push", "--create")
	if r.Code != 0 {
		t.Fatalf("buf push: %s", r)
	}
	pushed := e2e.Lines(r.Stdout)
	if len(pushed) != 2 || !strings.HasPrefix(pushed[0], h+"/alice/base:") || !strings.HasPrefix(pushed[1], h+"/alice/dep:") {
		t.Fatalf("buf push printed %q", pushed)
	}

	// What protomod computes locally for the same workspace.
	r = env.Run(ws, "mod", "digest")
	if r.Code != 0 {
		t.Fatalf("mod digest: %s", r)
	}
	local := map[string]string{}
	for _, l := range e2e.Lines(r.Stdout) {
		name, d, _ := strings.Cut(l, " ")
		local[name] = d
	}

	consumer := t.TempDir()
	e2e.WriteFiles(t, consumer, map[string]string{
		"buf.yaml": fmt.Sprintf("version: v2\ndeps:\n  - %s/alice/dep\n", h),
		"c.proto":  "syntax = \"proto3\";\nimport \"dep/v1/dep.proto\";\nmessage C { dep.v1.Dep d = 1; }\n",
	})
	if r := env.Run(consumer, "dep", "update"); r.Code != 0 {
		t.Fatalf("protomod dep update: %s", r)
	}
	lf, err := lock.Read(consumer)
	if err != nil {
		t.Fatal(err)
	}
	if len(lf.Deps) != 2 {
		t.Fatalf("buf.lock pins %d modules, want base and dep", len(lf.Deps))
	}
	for _, d := range lf.Deps {
		if got, want := d.Digest.String(), local[d.Name.String()]; got != want {
			t.Errorf("%s: the server's digest %s, protomod's local digest %s", d.Name, got, want)
		}
		if !strings.Contains(strings.Join(pushed, "\n"), d.Key().String()) {
			t.Errorf("buf.lock pins %s, which buf did not push (%q)", d.Key(), pushed)
		}
	}
	if r := env.Run(consumer, "build", "--offline", "-o", filepath.Join(t.TempDir(), "image.binpb")); r.Code != 0 {
		t.Fatalf("build: %s", r)
	}
	// The same consumer with buf itself.
	if r := env.RunBuf(consumer, "build"); r.Code != 0 {
		t.Fatalf("buf build on protomod's buf.lock and cache: %s", r)
	}
}
