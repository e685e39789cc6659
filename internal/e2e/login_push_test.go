package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/protomod/protomod/internal/e2e"
)

// TestLoginLogout: login checks the token with the registry and writes the
// .netrc entry exactly (other entries kept byte for byte, go.<host>
// dropped, mode kept); a wrong token changes nothing; logout removes it.
func TestLoginLogout(t *testing.T) {
	srv := e2e.StartServer(t)
	token := srv.User("alice")
	env := e2e.NewEnv(t)
	h := srv.Host
	before := "# personal machines\nmachine other.example\n  login bob\n  password x\n" +
		"machine go." + h + "\n  login old\n  password stale\n" +
		"default login anon password none\n"
	if err := os.WriteFile(env.Netrc, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}

	env.Stdin = "wrong-token\n"
	if r := env.Run("", "registry", "login", h, "--token-stdin"); r.Code != 1 || r.Stderr != "Failure: invalid token provided for "+h+"\n" {
		t.Fatalf("login with a wrong token: %s", r)
	}
	if got := e2e.ReadFile(t, env.Netrc); string(got) != before {
		t.Fatalf(".netrc changed by a failed login:\n%s", got)
	}

	env.Stdin = "  " + token + "\n\n"
	r := env.Run("", "registry", "login", h, "--token-stdin")
	if r.Code != 0 || r.Stdout != "Logged in as alice. Credentials saved to "+env.Netrc+".\n" {
		t.Fatalf("login: %s", r)
	}
	// The new entry goes before "default", which must stay last: the go
	// command and curl stop reading at it.
	want := "# personal machines\nmachine other.example\n  login bob\n  password x\n" +
		"machine " + h + "\n  login alice\n  password " + token + "\n" +
		"default login anon password none\n"
	if got := e2e.ReadFile(t, env.Netrc); string(got) != want {
		t.Fatalf(".netrc after login:\n%s\nwant:\n%s", got, want)
	}
	if fi, _ := os.Stat(env.Netrc); fi.Mode().Perm() != 0o644 {
		t.Fatalf(".netrc mode %v, want the existing 0644 kept", fi.Mode().Perm())
	}

	// The saved token works for a command that needs one.
	ws := t.TempDir()
	e2e.WriteFiles(t, ws, map[string]string{
		"buf.yaml":  fmt.Sprintf("version: v2\nmodules:\n  - path: p\n    name: %s/alice/p\n", h),
		"p/p.proto": "syntax = \"proto3\";\npackage p;\nmessage P {}\n",
	})
	if r := env.Run(ws, "push", "--create"); r.Code != 0 {
		t.Fatalf("push with the .netrc token: %s", r)
	}

	if r := env.Run("", "registry", "logout", h); r.Code != 0 || r.Stdout != "All existing BSR credentials removed from "+env.Netrc+"\n" {
		t.Fatalf("logout: %s", r)
	}
	wantAfter := "# personal machines\nmachine other.example\n  login bob\n  password x\n" +
		"default login anon password none\n"
	if got := e2e.ReadFile(t, env.Netrc); string(got) != wantAfter {
		t.Fatalf(".netrc after logout:\n%q\nwant:\n%q", got, wantAfter)
	}
	if r := env.Run("", "registry", "logout", h); r.Code != 0 || r.Stdout != "No BSR credentials found in "+env.Netrc+"; you are already logged out\n" {
		t.Fatalf("second logout: %s", r)
	}

	// A new .netrc is created with mode 0600.
	fresh := e2e.NewEnv(t)
	fresh.Stdin = token
	if r := fresh.Run("", "registry", "login", h, "--token-stdin"); r.Code != 0 {
		t.Fatalf("login: %s", r)
	}
	if fi, err := os.Stat(fresh.Netrc); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new .netrc: %v %v", fi, err)
	}
}

// TestPushLabelsAndDrafts: a push without labels moves the default label; a
// push with --label or --draft never does; the printed lines name each
// module's commit; an unchanged push returns the same commit.
func TestPushLabelsAndDrafts(t *testing.T) {
	srv := e2e.StartServer(t)
	token := srv.User("alice")
	srv.Org("acme", "alice")
	env := e2e.NewEnv(t)
	env.Token = token
	h := srv.Host
	ws := t.TempDir()
	files := map[string]string{
		"buf.yaml":                  fmt.Sprintf("version: v2\nmodules:\n  - path: base\n    name: %[1]s/acme/base\n  - path: app\n    name: %[1]s/acme/app\n", h),
		"base/acme/base/v1/b.proto": "syntax = \"proto3\";\npackage acme.base.v1;\nmessage B {}\n",
		"app/acme/app/v1/a.proto":   "syntax = \"proto3\";\npackage acme.app.v1;\nimport \"acme/base/v1/b.proto\";\nmessage A { acme.base.v1.B b = 1; }\n",
	}
	e2e.WriteFiles(t, ws, files)

	push := func(args ...string) map[string]string {
		t.Helper()
		r := env.Run(ws, append([]string{"push"}, args...)...)
		if r.Code != 0 {
			t.Fatalf("push %s: %s", strings.Join(args, " "), r)
		}
		lines := e2e.Lines(r.Stdout)
		if len(lines) != 2 || !strings.HasPrefix(lines[0], h+"/acme/app:") || !strings.HasPrefix(lines[1], h+"/acme/base:") {
			t.Fatalf("push printed %q, want one line per module, sorted by name", lines)
		}
		out := map[string]string{}
		for _, l := range lines {
			name, commit, _ := strings.Cut(strings.TrimPrefix(l, h+"/"), ":")
			if len(commit) != 32 {
				t.Fatalf("commit %q is not a dashless commit ID", commit)
			}
			out[name] = commit
		}
		return out
	}
	if r := env.Run(ws, "push"); r.Code != 1 || !strings.Contains(r.Stderr, "not found; push with --create to create the module") {
		t.Fatalf("push before the modules exist: %s", r)
	}
	first := push("--create")
	if again := push(); again["acme/app"] != first["acme/app"] || again["acme/base"] != first["acme/base"] {
		t.Fatalf("an unchanged push made new commits: %v then %v", first, again)
	}

	// A draft: a new commit of app, on the label "feature" only.
	e2e.WriteFiles(t, ws, map[string]string{"app/acme/app/v1/a.proto": files["app/acme/app/v1/a.proto"] + "message Extra {}\n"})
	draft := push("--draft", "feature")
	if draft["acme/app"] == first["acme/app"] {
		t.Fatal("the draft push did not make a new commit")
	}
	labeled := push("--label", "v2", "--label", "v2")
	if labeled["acme/app"] != draft["acme/app"] {
		t.Fatalf("a labeled push of the same content made another commit")
	}

	// What each ref resolves to, seen by a consumer's dep update.
	consumer := t.TempDir()
	resolve := func(ref string) string {
		t.Helper()
		e2e.WriteFiles(t, consumer, map[string]string{
			"buf.yaml": fmt.Sprintf("version: v2\ndeps:\n  - %s/acme/app%s\n", h, ref),
			"c.proto":  "syntax = \"proto3\";\nimport \"acme/app/v1/a.proto\";\n",
		})
		os.Remove(filepath.Join(consumer, "buf.lock"))
		if r := env.Run(consumer, "dep", "update"); r.Code != 0 {
			t.Fatalf("dep update %s: %s", ref, r)
		}
		lock := string(e2e.ReadFile(t, filepath.Join(consumer, "buf.lock")))
		_, rest, _ := strings.Cut(lock, "name: "+h+"/acme/app\n    commit: ")
		commit, _, _ := strings.Cut(rest, "\n")
		return commit
	}
	if got := resolve(""); got != first["acme/app"] {
		t.Fatalf("default label: %s, want the first push %s (drafts and labels never move it)", got, first["acme/app"])
	}
	if got := resolve(":feature"); got != draft["acme/app"] {
		t.Fatalf("draft label: %s, want %s", got, draft["acme/app"])
	}
	if got := resolve(":v2"); got != draft["acme/app"] {
		t.Fatalf("label v2: %s, want %s", got, draft["acme/app"])
	}
	if got := resolve(":" + first["acme/app"]); got != first["acme/app"] {
		t.Fatalf("commit ref: %s", got)
	}
	// A push without labels now moves main to the new content.
	if main := push(); main["acme/app"] != draft["acme/app"] || resolve("") != draft["acme/app"] {
		t.Fatalf("push without labels did not move the default label")
	}
}
