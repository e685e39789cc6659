package server

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"testing"

	"github.com/protomod/protomod/internal/goproxy"
	"github.com/protomod/protomod/internal/store"
	"github.com/protomod/protomod/internal/store/sqlitestore"
)

// TestSDKRegistryAdapter checks goproxy.Registry on a real store: more
// commits and label moves than one store page, dependency closures with
// module names, files from blobs, and who may see a private module.
func TestSDKRegistryAdapter(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, t.TempDir(), sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, u := range []string{"alice", "bob"} {
		if _, err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	aliceTok, _, err := st.CreateToken(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	bobTok, _, err := st.CreateToken(ctx, "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateOrganization(ctx, "Acme"); err != nil {
		t.Fatal(err)
	}
	if err := st.AddMember(ctx, "Acme", "alice"); err != nil {
		t.Fatal(err)
	}
	mods, err := st.CreateModules(ctx, []store.Module{
		{OwnerName: "Acme", Name: "units", Visibility: store.VisibilityPublic},
		{OwnerName: "Acme", Name: "Weather", Visibility: store.VisibilityPrivate, DefaultLabel: "trunk"},
	})
	if err != nil {
		t.Fatal(err)
	}
	units, weather := mods[0], mods[1]
	digest := func() []byte {
		d := make([]byte, 64)
		rand.Read(d)
		return d
	}
	user, err := st.OwnerByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Push(ctx, user.ID, []store.PushContent{{
		ModuleID: units.ID, Digest: digest(),
		Files: []store.File{{Path: "u.proto", Content: []byte("syntax = \"proto3\";\npackage u;\n")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	unitsCommit := res[0].Commit
	// 12 commits on the default label: more than a page (10).
	var pushed []string
	for i := range 12 {
		dep := []store.DepRef{{CommitID: unitsCommit.ID}}
		res, err := st.Push(ctx, user.ID, []store.PushContent{{
			ModuleID: weather.ID, Digest: digest(), Direct: dep, All: dep,
			Files: []store.File{
				{Path: "w.proto", Content: []byte("syntax = \"proto3\";\npackage w;\nimport \"u.proto\";\n// " + string(rune('a'+i)) + "\n")},
				{Path: "LICENSE", Content: []byte("license\n")},
			},
		}})
		if err != nil {
			t.Fatal(err)
		}
		pushed = append(pushed, res[0].Commit.ID)
	}

	r := sdkRegistry{s: &Server{store: st}}
	for _, tt := range []struct {
		name, token, owner, module string
		err                        error
	}{
		{"public, anonymous", "", "Acme", "units", nil},
		{"public, member", aliceTok, "Acme", "units", nil},
		{"private, anonymous", "", "Acme", "Weather", goproxy.ErrNotFound},
		{"private, member", aliceTok, "Acme", "Weather", nil},
		{"private, non-member", bobTok, "Acme", "Weather", goproxy.ErrNotFound},
		{"unknown token", "pm_nope", "Acme", "units", goproxy.ErrUnauthenticated},
		{"other spelling", "", "acme", "units", goproxy.ErrNotFound},
		{"unknown module", aliceTok, "Acme", "nope", goproxy.ErrNotFound},
		{"invalid name", aliceTok, "Acme", "no pe", goproxy.ErrNotFound},
	} {
		m, err := r.Module(ctx, tt.token, tt.owner, tt.module)
		if !errors.Is(err, tt.err) || (tt.err != nil) != (err != nil) {
			t.Errorf("%s: Module = %+v, %v; want %v", tt.name, m, err, tt.err)
		}
	}
	m, err := r.Module(ctx, aliceTok, "Acme", "Weather")
	if err != nil {
		t.Fatal(err)
	}
	if want := (goproxy.Module{ID: weather.ID, Owner: "Acme", Name: "Weather", DefaultLabel: "trunk", Private: true}); m != want {
		t.Errorf("Module = %+v, want %+v", m, want)
	}

	commits, err := r.Commits(ctx, weather.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range commits {
		if c.Owner != "Acme" || c.Module != "Weather" || c.CreateTime.IsZero() {
			t.Errorf("commit %+v lacks its names or time", c)
		}
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, pushed) {
		t.Errorf("Commits = %v, want %v", ids, pushed)
	}
	history, err := r.LabelHistory(ctx, weather.ID, "trunk")
	if err != nil || !slices.Equal(history, pushed) {
		t.Errorf("LabelHistory = %v, %v; want %v", history, err, pushed)
	}
	if head, err := r.Label(ctx, weather.ID, "trunk"); err != nil || head != pushed[11] {
		t.Errorf("Label = %s, %v; want %s", head, err, pushed[11])
	}
	if _, err := r.Label(ctx, weather.ID, "main"); !errors.Is(err, goproxy.ErrNotFound) {
		t.Errorf("Label(main) = %v, want ErrNotFound", err)
	}
	if _, err := r.LabelHistory(ctx, weather.ID, "main"); !errors.Is(err, goproxy.ErrNotFound) {
		t.Errorf("LabelHistory(main) = %v, want ErrNotFound", err)
	}
	deps, err := r.Deps(ctx, pushed[0])
	if err != nil || len(deps) != 1 || deps[0].ID != unitsCommit.ID || deps[0].Owner != "Acme" || deps[0].Module != "units" {
		t.Errorf("Deps = %+v, %v", deps, err)
	}
	files, err := r.Files(ctx, pushed[2])
	if err != nil || len(files) != 2 || string(files["LICENSE"]) != "license\n" || string(files["w.proto"]) != "syntax = \"proto3\";\npackage w;\nimport \"u.proto\";\n// c\n" {
		t.Errorf("Files = %q, %v", files, err)
	}
}
