package modgraph

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
	"github.com/protomod/protomod/internal/workspace"
)

// Digest vector (vi) of digests.md §6.
const (
	vectorBase = "b5:fe9589f5fc4d871f94e31be428594013c97df07e5ae4d6adfb3c0a1fd795947bd74e72825143237bda978d29455dd36687a8547d847d3f03b66af937eb2e3694"
	vectorDep  = "b5:f4c3a9513309e90f6003d019315f3283a979904b1d982f6b6270800215e02705a2b4cfdadd859d07ded6ba2e988293c125b9c481130f55a9126c2537754ff2ba"

	baseProto = "syntax = \"proto3\";\npackage base.v1;\nmessage Base { string id = 1; }\n"
	depProto  = "syntax = \"proto3\";\npackage dep.v1;\nimport \"base/v1/base.proto\";\nmessage Dep { base.v1.Base base = 1; }\n"
)

func writeTree(t *testing.T, files map[string]string) string {
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
	return root
}

func openWorkspace(t *testing.T, dir string) *workspace.Workspace {
	t.Helper()
	ws, err := workspace.Open(dir, workspace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// remoteModule is a downloaded module for a dependency set.
type remoteModule struct {
	name  string
	files map[string]string
	deps  []string // all (transitive) deps, among the modules before it
}

// remoteSet builds a resolved dependency set (as deps.Resolve returns it)
// for modules listed dependencies first; search order is the given order.
func remoteSet(t *testing.T, mods ...remoteModule) *deps.Set {
	t.Helper()
	set := &deps.Set{Lock: &lock.File{Version: lock.V2}}
	pins := map[string]lock.Dep{}
	for i, rm := range mods {
		name := bufname.MustParseFullName(rm.name)
		commit := strings.Repeat(string(rune('a'+i)), 12) + "4" + strings.Repeat("0", 3) + "8" + strings.Repeat("0", 15)
		m := &cache.Module{Key: bufname.ModuleKey{FullName: name, CommitID: commit}}
		for p, c := range rm.files {
			m.Files = append(m.Files, digest.File{Path: p, Content: []byte(c)})
		}
		slices.SortFunc(m.Files, func(a, b digest.File) int { return strings.Compare(a.Path, b.Path) })
		for _, d := range rm.deps {
			m.Deps = append(m.Deps, pins[d])
		}
		lock.SortDeps(m.Deps)
		b5, err := m.B5()
		if err != nil {
			t.Fatal(err)
		}
		pin := lock.Dep{Name: name, Commit: commit, Digest: b5}
		pins[rm.name] = pin
		set.Lock.Deps = append(set.Lock.Deps, pin)
		set.Modules = append(set.Modules, &deps.Module{Pin: pin, Cached: m})
	}
	lock.SortDeps(set.Lock.Deps)
	return set
}

func names(nodes []*Node) string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.String())
	}
	return strings.Join(out, ", ")
}

func b5Of(t *testing.T, files map[string]string, deps ...digest.Digest) digest.Digest {
	t.Helper()
	var fs []digest.File
	for p, c := range files {
		fs = append(fs, digest.File{Path: p, Content: []byte(c)})
	}
	d, err := digest.B5(fs, deps)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDigestVectorLocal: both modules of vector (vi) in one workspace (the
// repository's testdata/digest/vector-vi).
func TestDigestVectorLocal(t *testing.T) {
	ws := openWorkspace(t, filepath.Join("..", "..", "testdata", "digest", "vector-vi"))
	g, err := Build(context.Background(), ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"base": vectorBase, "dep": vectorDep}
	for _, m := range ws.Modules {
		n := g.Local(m)
		d, err := g.Digest(n)
		if err != nil {
			t.Fatal(err)
		}
		if d.String() != want[m.Path] {
			t.Errorf("%s: %s, want %s", m.Path, d, want[m.Path])
		}
	}
	dep := g.Local(ws.Modules[1])
	if got := names(g.Closure(dep)); got != "localhost:18080/acme/base" {
		t.Errorf("Closure(dep) = %s", got)
	}
	if got := names(g.Closure(g.Local(ws.Modules[0]))); got != "" {
		t.Errorf("Closure(base) = %s", got)
	}
	if got := g.RemoteClosure(ws.Modules); len(got) != 0 {
		t.Errorf("RemoteClosure = %s, want none", names(got))
	}
}

// TestDigestVectorRemote: dep of vector (vi) in the workspace, base
// downloaded. Names and commits play no part: same digest.
func TestDigestVectorRemote(t *testing.T) {
	root := writeTree(t, map[string]string{
		"buf.yaml":             "version: v2\nmodules:\n  - path: dep\n    name: localhost:18080/acme/dep\ndeps:\n  - localhost:18080/acme/base\n",
		"dep/dep/v1/dep.proto": depProto,
		"dep/README.md":        "# dep\n",
		"dep/buf.yaml":         "not content\n",
		"dep/notes.txt":        "not content\n",
	})
	set := remoteSet(t,
		remoteModule{name: "localhost:18080/acme/base", files: map[string]string{"base/v1/base.proto": baseProto}},
		// Pinned but never imported: not part of dep's digest.
		remoteModule{name: "localhost:18080/acme/unused", files: map[string]string{"unused/v1/u.proto": "syntax = \"proto3\";\n"}},
	)
	if set.Modules[0].Pin.Digest.String() != vectorBase {
		t.Fatalf("remote base digest %s", set.Modules[0].Pin.Digest)
	}
	ws := openWorkspace(t, root)
	g, err := Build(context.Background(), ws, set)
	if err != nil {
		t.Fatal(err)
	}
	n := g.Local(ws.Modules[0])
	d, err := g.Digest(n)
	if err != nil {
		t.Fatal(err)
	}
	if d.String() != vectorDep {
		t.Errorf("dep: %s, want %s", d, vectorDep)
	}
	if rd, _ := g.Digest(g.Remotes[0]); rd.String() != vectorBase {
		t.Errorf("Digest(remote base) = %s", rd)
	}
	if got := names(g.RemoteClosure(ws.Modules)); got != "localhost:18080/acme/base:"+set.Modules[0].Pin.Commit {
		t.Errorf("RemoteClosure = %s", got)
	}
}

// chain is a (vii)-style chain: school imports students, students imports
// people; school must include people's digest too.
var chain = struct {
	people, students, school map[string]string
}{
	people: map[string]string{
		"people/v1/people.proto": "syntax = \"proto3\";\npackage people.v1;\nmessage Person { string name = 1; }\n",
	},
	students: map[string]string{
		"students/v1/students.proto": "syntax = \"proto3\";\npackage students.v1;\nimport \"people/v1/people.proto\";\nmessage Student { people.v1.Person person = 1; }\n",
	},
	school: map[string]string{
		"school/v1/school.proto": "syntax = \"proto3\";\npackage school.v1;\nimport \"students/v1/students.proto\";\nimport \"google/protobuf/timestamp.proto\";\n" +
			"message School { repeated students.v1.Student students = 1; google.protobuf.Timestamp founded = 2; }\n",
	},
}

func prefixed(dir string, files map[string]string) map[string]string {
	out := map[string]string{}
	for p, c := range files {
		out[dir+"/"+p] = c
	}
	return out
}

func TestTransitiveChain(t *testing.T) {
	people := b5Of(t, chain.people)
	students := b5Of(t, chain.students, people)
	school := b5Of(t, chain.school, people, students)
	if school == b5Of(t, chain.school, students) {
		t.Fatal("the chain does not tell a transitive digest from a direct one")
	}
	t.Run("all local", func(t *testing.T) {
		files := map[string]string{"buf.yaml": "version: v2\nmodules:\n  - path: school\n  - path: people\n  - path: students\n"}
		for _, m := range []struct {
			dir   string
			files map[string]string
		}{{"people", chain.people}, {"students", chain.students}, {"school", chain.school}} {
			for p, c := range prefixed(m.dir, m.files) {
				files[p] = c
			}
		}
		ws := openWorkspace(t, writeTree(t, files))
		g, err := Build(context.Background(), ws, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]digest.Digest{"people": people, "students": students, "school": school}
		for _, m := range ws.Modules {
			d, err := g.Digest(g.Local(m))
			if err != nil {
				t.Fatal(err)
			}
			if d != want[m.Path] {
				t.Errorf("%s: %s, want %s", m.Path, d, want[m.Path])
			}
		}
		var schoolMod *workspace.Module
		for _, m := range ws.Modules {
			if m.Path == "school" {
				schoolMod = m
			}
		}
		if got := names(g.Closure(g.Local(schoolMod))); got != `path: "students", path: "people"` {
			t.Errorf("Closure(school) = %s", got)
		}
		if got := names(g.Local(schoolMod).Direct); got != `path: "students"` {
			t.Errorf("Direct(school) = %s (the WKT import is no module dependency)", got)
		}
	})
	t.Run("remote people and students", func(t *testing.T) {
		files := prefixed("school", chain.school)
		files["buf.yaml"] = "version: v2\nmodules:\n  - path: school\n    name: buf.build/acme/school\ndeps:\n  - buf.build/acme/students\n"
		set := remoteSet(t,
			remoteModule{name: "buf.build/acme/people", files: chain.people},
			remoteModule{name: "buf.build/acme/students", files: chain.students, deps: []string{"buf.build/acme/people"}},
		)
		ws := openWorkspace(t, writeTree(t, files))
		g, err := Build(context.Background(), ws, set)
		if err != nil {
			t.Fatal(err)
		}
		n := g.Local(ws.Modules[0])
		if d, err := g.Digest(n); err != nil || d != school {
			t.Errorf("school: %s, %v; want %s", d, err, school)
		}
		if got := names(g.Closure(n)); got != "buf.build/acme/students:"+set.Modules[1].Pin.Commit+", buf.build/acme/people:"+set.Modules[0].Pin.Commit {
			t.Errorf("Closure(school) = %s", got)
		}
		rc := g.RemoteClosure(ws.Modules)
		var rcNames []string
		for _, r := range rc {
			rcNames = append(rcNames, r.Name().String())
		}
		if !slices.Equal(rcNames, []string{"buf.build/acme/people", "buf.build/acme/students"}) {
			t.Errorf("RemoteClosure = %v, want sorted by name", rcNames)
		}
		// A remote node's closure is its recorded deps.
		var studentsNode *Node
		for _, r := range g.Remotes {
			if r.Name().Name == "students" {
				studentsNode = r
			}
		}
		if got := names(g.Closure(studentsNode)); got != "buf.build/acme/people:"+set.Modules[0].Pin.Commit {
			t.Errorf("Closure(students) = %s", got)
		}
	})
}

// TestModuleCycle: modules whose files import each other without a file
// cycle; the message lists module descriptions (checked with buf 1.75).
func TestModuleCycle(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{
			name:    "unnamed",
			yaml:    "version: v2\nmodules:\n  - path: m1\n  - path: m2\n",
			wantErr: "cycle detected in module dependencies:\n    path: \"m1\"\n -> path: \"m2\"\n -> path: \"m1\"",
		},
		{
			name:    "named modules are described by path too",
			yaml:    "version: v2\nmodules:\n  - path: m1\n    name: buf.build/acme/m1\n  - path: m2\n    name: buf.build/acme/m2\n",
			wantErr: "cycle detected in module dependencies:\n    path: \"m1\"\n -> path: \"m2\"\n -> path: \"m1\"",
		},
		{
			name:    "three modules",
			yaml:    "version: v2\nmodules:\n  - path: m1\n  - path: m2\n  - path: m3\n",
			wantErr: "cycle detected in module dependencies:\n    path: \"m1\"\n -> path: \"m2\"\n -> path: \"m3\"\n -> path: \"m1\"",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{
				"buf.yaml":    tt.yaml,
				"m1/a.proto":  "syntax = \"proto3\";\npackage m1;\nimport \"b.proto\";\nmessage A { m2.B b = 1; }\n",
				"m1/a2.proto": "syntax = \"proto3\";\npackage m1;\nmessage A2 {}\n",
				"m2/b.proto":  "syntax = \"proto3\";\npackage m2;\nmessage B {}\n",
				"m2/c.proto":  "syntax = \"proto3\";\npackage m2;\nimport \"a2.proto\";\nmessage C { m1.A2 a = 1; }\n",
			}
			if strings.Contains(tt.yaml, "m3") {
				files["m2/c.proto"] = "syntax = \"proto3\";\npackage m2;\nimport \"d.proto\";\nmessage C { m3.D d = 1; }\n"
				files["m3/d.proto"] = "syntax = \"proto3\";\npackage m3;\nmessage D {}\n"
				files["m3/e.proto"] = "syntax = \"proto3\";\npackage m3;\nimport \"a2.proto\";\nmessage E { m1.A2 a = 1; }\n"
			}
			_, err := Build(context.Background(), openWorkspace(t, writeTree(t, files)), nil)
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("error:\n%v\nwant:\n%s", err, tt.wantErr)
			}
		})
	}
}

func TestCompileErrorsPropagate(t *testing.T) {
	root := writeTree(t, map[string]string{
		"buf.yaml":      "version: v2\nmodules:\n  - path: proto\n",
		"proto/a.proto": "syntax = \"proto3\";\nimport \"missing.proto\";\n",
	})
	_, err := Build(context.Background(), openWorkspace(t, root), nil)
	if err == nil || err.Error() != "proto/a.proto:2:1:imported file does not exist" {
		t.Errorf("error %v", err)
	}
}
