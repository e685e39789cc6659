package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/clientconfig"
	"github.com/protomod/protomod/internal/credentials"
	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/e2e"
	"github.com/protomod/protomod/internal/lock"
	"github.com/protomod/protomod/internal/registry"
)

// depWorld is a protomod serve subprocess holding the chain
// alice/a <- alice/b <- alice/c (pushed from one workspace) and alice/d
// (pushed from another), all private.
type depWorld struct {
	t      *testing.T
	srv    *e2e.Server
	token  string
	pusher *e2e.Env
	chain  string
	others string
}

const (
	protoA = "syntax = \"proto3\";\npackage a;\nmessage A {}\nmessage Old {}\n"
	protoB = "syntax = \"proto3\";\npackage b;\nimport \"a.proto\";\nmessage B { a.A a = 1; }\n"
	protoC = "syntax = \"proto3\";\npackage c;\nimport \"b.proto\";\nmessage C { b.B b = 1; }\n"
	protoD = "syntax = \"proto3\";\npackage d;\nmessage D {}\n"
	// importC is a consumer file that uses c.
	importC = "syntax = \"proto3\";\npackage x;\nimport \"c.proto\";\nmessage X { c.C c = 1; }\n"
)

func newDepWorld(t *testing.T) *depWorld {
	t.Helper()
	srv := e2e.StartServer(t)
	w := &depWorld{t: t, srv: srv, token: srv.User("alice"), chain: t.TempDir(), others: t.TempDir()}
	w.pusher = e2e.NewEnv(t)
	w.pusher.Token = w.token
	e2e.WriteFiles(t, w.chain, map[string]string{
		"buf.yaml":  fmt.Sprintf("version: v2\nmodules:\n  - path: a\n    name: %[1]s/alice/a\n  - path: b\n    name: %[1]s/alice/b\n  - path: c\n    name: %[1]s/alice/c\n", srv.Host),
		"a/a.proto": protoA,
		"b/b.proto": protoB,
		"c/c.proto": protoC,
	})
	e2e.WriteFiles(t, w.others, map[string]string{
		"buf.yaml":  fmt.Sprintf("version: v2\nmodules:\n  - path: d\n    name: %s/alice/d\n", srv.Host),
		"d/d.proto": protoD,
	})
	w.push(w.chain, "--create")
	w.push(w.others, "--create")
	return w
}

// push runs protomod push in dir and returns the pushed commits by
// owner/module.
func (w *depWorld) push(dir string, args ...string) map[string]string {
	w.t.Helper()
	r := w.pusher.Run(dir, append([]string{"push"}, args...)...)
	if r.Code != 0 {
		w.t.Fatalf("push: %s", r)
	}
	out := map[string]string{}
	for _, line := range e2e.Lines(r.Stdout) {
		name, commit, ok := strings.Cut(strings.TrimPrefix(line, w.srv.Host+"/"), ":")
		if !ok {
			w.t.Fatalf("push printed %q", line)
		}
		out[name] = commit
	}
	return out
}

// pin returns the registry's pin of owner/module at ref ("" for the
// default label), asked with protomod's registry client.
func (w *depWorld) pin(module, ref string) lock.Dep {
	w.t.Helper()
	creds, err := credentials.NewFrom(w.token, filepath.Join(w.t.TempDir(), "netrc"))
	if err != nil {
		w.t.Fatal(err)
	}
	client := registry.New(registry.Options{Config: &clientconfig.Config{TLSMode: clientconfig.TLSDisabled}, Credentials: creds})
	name, err := bufname.ParseFullName(w.srv.Host + "/" + module)
	if err != nil {
		w.t.Fatal(err)
	}
	commits, err := client.GetCommits(context.Background(), []bufname.Ref{{FullName: name, Ref: ref}})
	if err != nil {
		w.t.Fatal(err)
	}
	d, err := digest.FromBytes(digest.TypeB5, commits[0].GetDigest().GetValue())
	if err != nil {
		w.t.Fatal(err)
	}
	return lock.Dep{Name: name, Commit: commits[0].GetId(), Digest: d}
}

func lockOf(t *testing.T, pins ...lock.Dep) []byte {
	t.Helper()
	pins = slices.Clone(pins)
	lock.SortDeps(pins)
	data, err := (&lock.File{Version: lock.V2, Deps: pins}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// consumer is a workspace directory with its own clean environment and
// module cache, whose registry traffic goes through a counting proxy.
type consumer struct {
	t       *testing.T
	w       *depWorld
	dir     string
	env     *e2e.Env
	counter *e2e.Counter
}

func (w *depWorld) consumer(deps []string, files map[string]string) *consumer {
	w.t.Helper()
	c := &consumer{t: w.t, w: w, dir: w.t.TempDir(), env: e2e.NewEnv(w.t)}
	c.env.Token = w.token
	c.counter = e2e.NewCounter(w.t, w.srv.URL())
	c.env.Route(w.srv.Host, c.counter.URL)
	e2e.WriteFiles(w.t, c.dir, files)
	c.deps(deps...)
	return c
}

func (c *consumer) deps(refs ...string) {
	c.t.Helper()
	yaml := "version: v2\n"
	if len(refs) > 0 {
		yaml += "deps:\n"
		for _, r := range refs {
			yaml += "  - " + c.w.srv.Host + "/" + r + "\n"
		}
	}
	e2e.WriteFiles(c.t, c.dir, map[string]string{"buf.yaml": yaml})
}

func (c *consumer) run(args ...string) e2e.Result {
	c.t.Helper()
	c.counter.Reset()
	return c.env.Run(c.dir, args...)
}

func (c *consumer) mustRun(args ...string) e2e.Result {
	c.t.Helper()
	r := c.run(args...)
	if r.Code != 0 {
		c.t.Fatalf("protomod %s: %s", strings.Join(args, " "), r)
	}
	return r
}

func (c *consumer) lock() []byte {
	c.t.Helper()
	return e2e.ReadFile(c.t, filepath.Join(c.dir, lock.FileName))
}

func warnUnused(name string) string {
	return fmt.Sprintf("WARN\tModule %[1]s is declared in your buf.yaml deps but is unused. This command only modifies buf.lock files, not buf.yaml files. Please remove %[1]s from your buf.yaml deps if it is not needed.\n", name)
}

func TestDepUpdateAcceptance(t *testing.T) {
	w := newDepWorld(t)
	h := w.srv.Host
	main := []lock.Dep{w.pin("alice/a", ""), w.pin("alice/b", ""), w.pin("alice/c", "")}

	// Labels: v1 on the current commits, then a draft of a changed chain.
	w.push(w.chain, "--label", "v1")
	e2e.WriteFiles(t, w.chain, map[string]string{"a/a.proto": protoA + "message Draft {}\n"})
	draft := w.push(w.chain, "--draft", "exp")
	if draft["alice/a"] == main[0].Commit {
		t.Fatal("the draft push did not make a new commit of a")
	}

	t.Run("cold update pins the chain in at most 4 requests", func(t *testing.T) {
		c := w.consumer([]string{"alice/c"}, map[string]string{"x.proto": importC})
		c.mustRun("dep", "update")
		if got, want := c.lock(), lockOf(t, main...); !bytes.Equal(got, want) {
			t.Fatalf("buf.lock:\n%s\nwant (the server's commits and digests):\n%s", got, want)
		}
		wantPaths := []string{
			"/buf.registry.module.v1.CommitService/GetCommits",
			"/buf.registry.module.v1.GraphService/GetGraph",
			"/buf.registry.module.v1.ModuleService/GetModules",
			"/buf.registry.module.v1.DownloadService/Download",
		}
		if got := c.counter.Paths(); !slices.Equal(got, wantPaths) {
			t.Errorf("cold dep update sent %d requests %v, want %v", len(got), got, wantPaths)
		}
		// Warm: build offline and online without any request.
		for _, args := range [][]string{{"build", "--offline"}, {"build"}} {
			c.mustRun(args...)
			if got := c.counter.Paths(); len(got) != 0 {
				t.Errorf("protomod %s with a warm cache sent %v", strings.Join(args, " "), got)
			}
		}
		c.mustRun("dep", "check")
		r := c.mustRun("dep", "graph", "--format", "text")
		want := fmt.Sprintf(". (workspace)\n└── %s\n    └── %s\n        └── %s\n", main[2].Key(), main[1].Key(), main[0].Key())
		if r.Stdout != want {
			t.Errorf("dep graph:\n%s\nwant:\n%s", r.Stdout, want)
		}
	})

	t.Run("labels and drafts", func(t *testing.T) {
		for _, tt := range []struct{ ref, want string }{
			{"alice/a", main[0].Commit},
			{"alice/a:main", main[0].Commit},
			{"alice/a:v1", main[0].Commit},
			{"alice/a:exp", draft["alice/a"]},
			{"alice/a:" + draft["alice/a"], draft["alice/a"]},
		} {
			c := w.consumer([]string{tt.ref}, map[string]string{"x.proto": "syntax = \"proto3\";\npackage x;\nimport \"a.proto\";\nmessage X { a.A a = 1; }\n"})
			c.mustRun("dep", "update")
			lf, err := lock.Parse(c.lock())
			if err != nil {
				t.Fatal(err)
			}
			if len(lf.Deps) != 1 || lf.Deps[0].Commit != tt.want {
				t.Errorf("%s: pinned %v, want commit %s", tt.ref, lf.Deps, tt.want)
			}
		}
	})

	t.Run("prune drops an unused dep", func(t *testing.T) {
		c := w.consumer([]string{"alice/c", "alice/d"}, map[string]string{"x.proto": importC})
		r := c.mustRun("dep", "update")
		if want := warnUnused(h + "/alice/d"); r.Stderr != want {
			t.Errorf("dep update stderr %q, want %q", r.Stderr, want)
		}
		if got, want := c.lock(), lockOf(t, append(slices.Clone(main), w.pin("alice/d", ""))...); !bytes.Equal(got, want) {
			t.Fatalf("buf.lock:\n%s\nwant:\n%s", got, want)
		}
		r = c.mustRun("dep", "prune")
		if want := warnUnused(h + "/alice/d"); r.Stderr != want {
			t.Errorf("dep prune stderr %q, want %q", r.Stderr, want)
		}
		if got, want := c.lock(), lockOf(t, main...); !bytes.Equal(got, want) {
			t.Fatalf("pruned buf.lock:\n%s\nwant:\n%s", got, want)
		}
	})

	t.Run("private modules need the token", func(t *testing.T) {
		c := w.consumer([]string{"alice/c"}, map[string]string{"x.proto": importC})
		c.env.Token = ""
		r := c.run("dep", "update")
		if r.Code != 1 || r.Stderr != "Failure: module alice/c not found\n" {
			t.Errorf("without a token: %s", r)
		}
		if c.lock() != nil {
			t.Error("a failed update wrote buf.lock")
		}
		c.env.Token = w.token
		c.mustRun("dep", "update")
	})
}

// TestDepUpdateOnlyAndFailures changes the registry, so it has its own.
func TestDepUpdateOnlyAndFailures(t *testing.T) {
	w := newDepWorld(t)
	both := "syntax = \"proto3\";\npackage x;\nimport \"c.proto\";\nimport \"d.proto\";\nimport \"a.proto\";\nmessage X { c.C c = 1; d.D d = 2; a.Old old = 3; }\n"
	c := w.consumer([]string{"alice/c", "alice/d", "alice/a"}, map[string]string{"x.proto": both})
	c.mustRun("dep", "update")
	before := c.lock()
	old := []lock.Dep{w.pin("alice/a", ""), w.pin("alice/b", ""), w.pin("alice/c", ""), w.pin("alice/d", "")}

	// A new d: --only d moves d and leaves every other pin alone.
	e2e.WriteFiles(t, w.others, map[string]string{"d/d.proto": protoD + "message D2 {}\n"})
	w.push(w.others)
	r := c.run("dep", "update", "--check")
	newD := w.pin("alice/d", "")
	wantCheck := fmt.Sprintf("%s/alice/d: buf.lock pins commit %s but its default label now resolves to commit %s\n", w.srv.Host, old[3].Commit, newD.Commit)
	if r.Code != 1 || r.Stdout != wantCheck || r.Stderr != "Failure: buf.lock is out of date (1 difference); run \"protomod dep update\" to update it\n" {
		t.Errorf("dep update --check: %s", r)
	}
	if !bytes.Equal(c.lock(), before) {
		t.Fatal("--check changed buf.lock")
	}
	c.mustRun("dep", "update", "--only", w.srv.Host+"/alice/d")
	if got, want := c.lock(), lockOf(t, old[0], old[1], old[2], newD); !bytes.Equal(got, want) {
		t.Fatalf("after --only d:\n%s\nwant:\n%s", got, want)
	}

	// A new a without the message the consumer uses: the update's build
	// fails and buf.lock stays byte for byte.
	before = c.lock()
	e2e.WriteFiles(t, w.chain, map[string]string{"a/a.proto": "syntax = \"proto3\";\npackage a;\nmessage A {}\n"})
	w.push(w.chain)
	r = c.run("dep", "update")
	if r.Code != 100 || !strings.Contains(r.Stderr, "x.proto:") {
		t.Errorf("dep update against the breaking a: %s", r)
	}
	if got := c.lock(); !bytes.Equal(got, before) {
		t.Errorf("a failed update changed buf.lock:\n%s\nwant:\n%s", got, before)
	}
	// Without a previous buf.lock, none is left behind.
	if err := os.Remove(filepath.Join(c.dir, lock.FileName)); err != nil {
		t.Fatal(err)
	}
	if r := c.run("dep", "update"); r.Code != 100 || c.lock() != nil {
		t.Errorf("failed update without a previous buf.lock: %s; buf.lock %q", r, c.lock())
	}
}

// TestDepUpdateBadInput checks every failure: exit 1, one exact Failure
// line, no file changed.
func TestDepUpdateBadInput(t *testing.T) {
	w := newDepWorld(t)
	h := w.srv.Host
	good := w.consumer([]string{"alice/c"}, map[string]string{"x.proto": importC})
	good.mustRun("dep", "update")
	validLock := string(good.lock())
	garbage := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/proto")
		_, _ = rw.Write([]byte("<html>this is not a registry</html>"))
	}))
	t.Cleanup(garbage.Close)
	tests := []struct {
		name  string
		deps  []string
		lock  string
		setup func(c *consumer)
		want  string
	}{
		{
			name: "unreachable registry",
			deps: []string{"alice/c"},
			setup: func(c *consumer) {
				c.env.Route(h, "http://127.0.0.1:1")
			},
			want: "Failure: the server hosted at that remote is unavailable.\n",
		},
		{
			name:  "wrong token",
			deps:  []string{"alice/c"},
			setup: func(c *consumer) { c.env.Token = "pm_not-a-token" },
			want:  fmt.Sprintf("Failure: the BUF_TOKEN environment variable is not valid for %s. Set BUF_TOKEN to a valid Buf API token, or unset it. For details, visit https://buf.build/docs/bsr/authentication\n", h),
		},
		{
			name: "unknown module",
			deps: []string{"alice/nope"},
			want: "Failure: module alice/nope not found\n",
		},
		{
			name: "unknown label",
			deps: []string{"alice/c:nolabel"},
			want: "Failure: module alice/c has no commit or label \"nolabel\"\n",
		},
		{
			name: "malformed buf.lock",
			deps: []string{"alice/c"},
			lock: "# Generated by buf. DO NOT EDIT.\nversion: v2\ndeps:\n  - name: " + h + "/alice/c\n",
			want: fmt.Sprintf("Failure: decode buf.lock: no commit specified for module %s/alice/c\n", h),
		},
		{
			name:  "registry answering garbage",
			deps:  []string{"alice/c"},
			setup: func(c *consumer) { c.env.Route(h, garbage.URL) },
			want:  fmt.Sprintf("Failure: invalid response from %s/buf.registry.module.v1.CommitService/GetCommits: invalid_argument: unmarshal message: unmarshal into *modulev1.GetCommitsResponse: proto: cannot parse invalid wire-format data\n", garbage.URL),
		},
		{
			name: "deps on two registries",
			deps: []string{"alice/c", "alice/d"},
			setup: func(c *consumer) {
				e2e.WriteFiles(t, c.dir, map[string]string{"buf.yaml": fmt.Sprintf("version: v2\ndeps:\n  - %s/alice/c\n  - buf.example.com/acme/x\n", h)})
			},
			want: fmt.Sprintf("Failure: dependencies across multiple registries are not allowed: %s, buf.example.com\n", h),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := w.consumer(tt.deps, map[string]string{"x.proto": importC, lock.FileName: validLock})
			if tt.lock != "" {
				e2e.WriteFiles(t, c.dir, map[string]string{lock.FileName: tt.lock})
			}
			if tt.setup != nil {
				tt.setup(c)
			}
			before := snapshot(t, c.dir)
			for _, args := range [][]string{{"dep", "update"}, {"dep", "update", "--check"}, {"dep", "prune"}} {
				r := c.run(args...)
				if r.Code != 1 || r.Stderr != tt.want || r.Stdout != "" {
					t.Errorf("protomod %s: %s\nwant exit 1 and stderr %q", strings.Join(args, " "), r, tt.want)
				}
				if after := snapshot(t, c.dir); after != before {
					t.Errorf("protomod %s changed the workspace:\n%s\nwant:\n%s", strings.Join(args, " "), after, before)
				}
			}
		})
	}
}

// snapshot describes every file under dir with its mode and content.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(&b, "%s %v\n%s\n", rel, fi.Mode(), data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
