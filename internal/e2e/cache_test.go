package e2e_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/protomod/protomod/internal/bufname"
	"github.com/protomod/protomod/internal/cache"
	"github.com/protomod/protomod/internal/e2e"
	"github.com/protomod/protomod/internal/lock"
)

// TestCacheConcurrentBuilds runs 8 protomod builds at once, 20 times, each
// time into an emptied shared module cache, against workspaces whose
// buf.lock files pin the same and different modules, so that the processes
// download into one cache concurrently. Afterwards every cache entry must
// be complete and verify against its pinned digest.
func TestCacheConcurrentBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("160 protomod processes; skipped with -short")
	}
	const (
		processes = 8
		rounds    = 20
		extra     = 6 // independent modules m0..m5
	)
	w := newDepWorld(t)
	files := map[string]string{"buf.yaml": "version: v2\nmodules:\n"}
	for i := range extra {
		files["buf.yaml"] += fmt.Sprintf("  - path: m%[2]d\n    name: %[1]s/alice/m%[2]d\n", w.srv.Host, i)
		files[fmt.Sprintf("m%d/m%d.proto", i, i)] = fmt.Sprintf("syntax = \"proto3\";\npackage m%d;\nmessage M { string s = 1; }\n", i)
	}
	extraDir := t.TempDir()
	e2e.WriteFiles(t, extraDir, files)
	w.push(extraDir, "--create")

	// Each workspace uses the chain a <- b <- c and two of the m modules.
	want := map[bufname.ModuleKey]lock.Dep{}
	var workspaces []string
	for i := range processes {
		m1, m2 := i%extra, (i+1)%extra
		c := w.consumer([]string{"alice/c", fmt.Sprintf("alice/m%d", m1), fmt.Sprintf("alice/m%d", m2)}, map[string]string{
			"x.proto": fmt.Sprintf("syntax = \"proto3\";\npackage x;\nimport \"c.proto\";\nimport \"m%[1]d.proto\";\nimport \"m%[2]d.proto\";\nmessage X { c.C c = 1; m%[1]d.M a = 2; m%[2]d.M b = 3; }\n", m1, m2),
		})
		c.mustRun("dep", "update")
		lf, err := lock.Parse(c.lock())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range lf.Deps {
			want[d.Key()] = d
		}
		workspaces = append(workspaces, c.dir)
	}
	if len(want) != 3+extra {
		t.Fatalf("the workspaces pin %d modules, want %d", len(want), 3+extra)
	}

	shared := e2e.NewEnv(t)
	shared.Token = w.token
	for round := range rounds {
		if err := os.RemoveAll(shared.CacheDir); err != nil {
			t.Fatal(err)
		}
		procs := make([]*e2e.Process, processes)
		for i, dir := range workspaces {
			procs[i] = shared.Start(dir, "build")
		}
		for i, p := range procs {
			if r := p.Wait(); r.Code != 0 {
				t.Fatalf("round %d, build %d: %s", round, i, r)
			}
		}
		checkCache(t, shared.CacheDir, want)
		if t.Failed() {
			t.Fatalf("round %d left a damaged cache", round)
		}
	}
}

// checkCache verifies that the cache holds exactly the wanted entries, each
// complete (module.yaml and files, nothing else) and matching its digest.
func checkCache(t *testing.T, dir string, want map[bufname.ModuleKey]lock.Dep) {
	t.Helper()
	c, err := cache.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := filepath.Glob(filepath.Join(dir, "v3", "modules", "b5", "*", "*", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		rel, _ := filepath.Rel(filepath.Join(dir, "v3", "modules", "b5"), e)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		key := bufname.ModuleKey{FullName: bufname.FullName{Registry: parts[0], Owner: parts[1], Name: parts[2]}, CommitID: parts[3]}
		pin, ok := want[key]
		if !ok {
			t.Errorf("unexpected cache entry %s", rel)
			continue
		}
		seen++
		m, ok, err := c.Get(key)
		if err != nil || !ok {
			t.Errorf("%s: partial or unreadable entry (ok=%v, err=%v)", key, ok, err)
			continue
		}
		if err := c.Verify(m, pin.Digest); err != nil {
			t.Errorf("%s: %v", key, err)
		}
		names, err := os.ReadDir(e)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range names {
			got = append(got, n.Name())
		}
		if strings.Join(got, " ") != "files module.yaml" {
			t.Errorf("%s holds %v, want files and module.yaml only", key, got)
		}
	}
	if seen != len(want) {
		t.Errorf("the cache holds %d of the %d pinned modules", seen, len(want))
	}
}

// TestInterchangeWithBuf checks that buf accepts the buf.lock and module
// cache protomod writes, and protomod those buf writes, entry for entry.
func TestInterchangeWithBuf(t *testing.T) {
	if !e2e.HaveBuf() {
		t.Skip("the reference CLI (buf) is not on PATH")
	}
	w := newDepWorld(t)
	files := map[string]string{"x.proto": importC}

	// buf writes; protomod builds offline from buf's files.
	byBuf := w.consumer([]string{"alice/c"}, files)
	if r := byBuf.env.RunBuf(byBuf.dir, "dep", "update"); r.Code != 0 {
		t.Fatalf("buf dep update: %s", r)
	}
	byBuf.mustRun("build", "--offline")

	// protomod writes the same buf.lock and the same cache entries.
	byUs := w.consumer([]string{"alice/c"}, files)
	byUs.mustRun("dep", "update")
	if !bytes.Equal(byUs.lock(), byBuf.lock()) {
		t.Errorf("buf.lock differs:\nprotomod:\n%s\nbuf:\n%s", byUs.lock(), byBuf.lock())
	}
	lf, err := lock.Parse(byUs.lock())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range lf.Deps {
		rel := filepath.Join("v3", "modules", "b5", d.Name.Registry, d.Name.Owner, d.Name.Name, d.Commit, "module.yaml")
		ours := e2e.ReadFile(t, filepath.Join(byUs.env.CacheDir, rel))
		theirs := e2e.ReadFile(t, filepath.Join(byBuf.env.CacheDir, rel))
		if ours == nil || !bytes.Equal(ours, theirs) {
			t.Errorf("%s differs:\nprotomod:\n%s\nbuf:\n%s", rel, ours, theirs)
		}
	}

	// buf builds from protomod's files with the registry gone.
	w.srv.Stop()
	if r := byUs.env.RunBuf(byUs.dir, "build"); r.Code != 0 {
		t.Fatalf("buf build on protomod's buf.lock and cache: %s", r)
	}
	if r := byUs.env.RunBuf(byUs.dir, "dep", "graph"); r.Code != 0 {
		t.Fatalf("buf dep graph: %s", r)
	} else if ours := byUs.mustRun("dep", "graph"); ours.Stdout != r.Stdout {
		t.Errorf("dep graph differs:\nprotomod:\n%s\nbuf:\n%s", ours.Stdout, r.Stdout)
	}
}
