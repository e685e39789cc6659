package sqlitestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/store"
)

// b5 is the digest function fsck uses, built on the digest package.
func b5(files []store.File, deps [][]byte) ([]byte, error) {
	df := make([]digest.File, len(files))
	for i, f := range files {
		df[i] = digest.File{Path: f.Path, Content: f.Content}
	}
	dd := make([]digest.Digest, len(deps))
	for i, d := range deps {
		var err error
		if dd[i], err = digest.FromBytes(digest.TypeB5, d); err != nil {
			return nil, err
		}
	}
	d, err := digest.B5(df, dd)
	return d.Value[:], err
}

func mustB5(t *testing.T, files []store.File, deps ...[]byte) []byte {
	t.Helper()
	d, err := b5(files, deps)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// fixture is a store with user alice, org acme (alice a member) and
// modules acme/base and acme/app.
type fixture struct {
	s         *Store
	dir       string
	alice     store.Owner
	base, app store.Module
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	alice, err := s.CreateUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateOrganization(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, "acme", "alice"); err != nil {
		t.Fatal(err)
	}
	ms, err := s.CreateModules(ctx, []store.Module{{OwnerName: "acme", Name: "base"}, {OwnerName: "acme", Name: "app"}})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{s: s, dir: dir, alice: alice, base: ms[0], app: ms[1]}
}

func files(kv ...string) []store.File {
	var out []store.File
	for i := 0; i < len(kv); i += 2 {
		out = append(out, store.File{Path: kv[i], Content: []byte(kv[i+1])})
	}
	return out
}

// pushPair pushes base and app (app depending on base) in one push.
func (f *fixture) pushPair(t *testing.T, tag string) []store.PushResult {
	t.Helper()
	bf := files("base.proto", "syntax = \"proto3\"; // "+tag+"\n")
	af := files("app.proto", "import \"base.proto\"; // "+tag+"\n", "LICENSE", "MIT\n")
	bd := mustB5(t, bf)
	res, err := f.s.Push(context.Background(), f.alice.ID, []store.PushContent{
		{ModuleID: f.base.ID, Files: bf, Digest: bd},
		{ModuleID: f.app.ID, Files: af, Digest: mustB5(t, af, bd),
			Direct: []store.DepRef{{Content: 0}}, All: []store.DepRef{{Content: 0}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestOwnersTokensModules(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s := f.s
	for _, tc := range []struct {
		name string
		err  error
		msg  string
	}{
		{"alice", store.ErrAlreadyExists, `an owner named "alice" already exists`},
		{"ALICE", store.ErrAlreadyExists, "already exists"},
		{"acme", store.ErrAlreadyExists, "already exists"},
		{"a", store.ErrInvalid, "must be 2 to 64 characters"},
		{"-bad", store.ErrInvalid, "must start with a letter or digit"},
		{"bad/x", store.ErrInvalid, "may contain only letters, digits and '-'"},
	} {
		_, err := s.CreateUser(ctx, tc.name)
		if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("CreateUser(%q) = %v, want %v containing %q", tc.name, err, tc.err, tc.msg)
		}
	}
	bob, err := s.CreateUser(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.IsMember(ctx, f.base.OwnerID, f.alice.ID); !ok {
		t.Error("alice is not a member of acme")
	}
	if ok, _ := s.IsMember(ctx, f.base.OwnerID, bob.ID); ok {
		t.Error("bob is a member of acme")
	}
	if ok, _ := s.IsMember(ctx, bob.ID, bob.ID); !ok {
		t.Error("bob does not own his own namespace")
	}
	if err := s.AddMember(ctx, "alice", "bob"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("adding a member to a user: %v", err)
	}
	if err := s.AddMember(ctx, "acme", "acme"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("adding an organization as a member: %v", err)
	}
	if err := s.AddMember(ctx, "nope", "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("adding to a missing organization: %v", err)
	}
	if err := s.AddMember(ctx, "acme", "alice"); err != nil {
		t.Errorf("adding a member twice: %v", err)
	}

	tok, _, err := s.CreateToken(ctx, "bob", "laptop")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, store.TokenPrefix) || len(tok) != len(store.TokenPrefix)+64 {
		t.Errorf("token %q", tok)
	}
	if u, err := s.UserByTokenHash(ctx, store.HashToken(tok)); err != nil || u.Name != "bob" {
		t.Errorf("UserByTokenHash = %v, %v", u, err)
	}
	if _, err := s.UserByTokenHash(ctx, store.HashToken(tok+"x")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown token: %v", err)
	}
	if _, _, err := s.CreateToken(ctx, "acme", ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("token for an organization: %v", err)
	}
	// Only the hash is stored.
	var n int
	if err := s.rdb.QueryRow("SELECT COUNT(*) FROM tokens WHERE hash = ?", []byte(tok)).Scan(&n); err != nil || n != 0 {
		t.Errorf("plaintext token stored (%d rows, %v)", n, err)
	}
	raw, err := os.ReadFile(filepath.Join(f.dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(filepath.Join(f.dir, DBFile+"-wal"))
	if strings.Contains(string(raw)+string(wal), tok) {
		t.Error("the plaintext token is in the database files")
	}

	// Module lookups are case-insensitive; listing pages through.
	if m, err := s.ModuleByName(ctx, "ACME", "Base"); err != nil || m.ID != f.base.ID {
		t.Errorf("ModuleByName case-insensitive = %v, %v", m, err)
	}
	var names []string
	page := store.Page{Size: 1}
	for {
		ms, next, err := s.ListModules(ctx, nil, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			names = append(names, m.FullName())
		}
		if next == "" {
			break
		}
		page.Token = next
	}
	if strings.Join(names, ",") != "acme/base,acme/app" {
		t.Errorf("ListModules pages = %v", names)
	}
	if _, _, err := s.ListModules(ctx, nil, store.Page{Token: "garbage"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad page token: %v", err)
	}
}

func TestPushDedupeAndLabels(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	first := f.pushPair(t, "one")
	if !first[0].Created || !first[1].Created {
		t.Fatal("first push did not create commits")
	}
	deps, err := f.s.CommitDeps(ctx, first[1].Commit.ID)
	if err != nil || len(deps.All) != 1 || deps.All[0] != first[0].Commit.ID || len(deps.Direct) != 1 {
		t.Errorf("app deps = %+v, %v", deps, err)
	}
	again := f.pushPair(t, "one")
	for i := range again {
		if again[i].Created || again[i].Commit.ID != first[i].Commit.ID {
			t.Errorf("identical push %d: created=%v id=%s, want existing %s", i, again[i].Created, again[i].Commit.ID, first[i].Commit.ID)
		}
	}
	second := f.pushPair(t, "two")
	main, err := f.s.LabelByName(ctx, f.app.ID, "main")
	if err != nil || main.CommitID != second[1].Commit.ID {
		t.Errorf("main = %+v, %v", main, err)
	}
	moves, _, err := f.s.LabelHistory(ctx, main.ID, store.Page{})
	if err != nil || len(moves) != 2 || moves[0].CommitID != first[1].Commit.ID || moves[1].CommitID != second[1].Commit.ID {
		t.Errorf("history = %+v, %v", moves, err)
	}
	// Files are stored and read back by address.
	refs, err := f.s.CommitFiles(ctx, second[1].Commit.ID)
	if err != nil || len(refs) != 2 || refs[0].Path != "LICENSE" || refs[1].Path != "app.proto" {
		t.Fatalf("files = %+v, %v", refs, err)
	}
	if data, err := f.s.Blob(ctx, refs[0].SHA256); err != nil || string(data) != "MIT\n" {
		t.Errorf("Blob = %q, %v", data, err)
	}
}

func TestPushRejects(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	bf := files("b.proto", "x")
	ok := f.pushPair(t, "one")
	for _, tc := range []struct {
		name     string
		contents []store.PushContent
		err      error
		msg      string
	}{
		{"nothing", nil, store.ErrInvalid, "nothing to push"},
		{"short digest", []store.PushContent{{ModuleID: f.base.ID, Files: bf, Digest: []byte{1}}}, store.ErrInvalid, "1-byte digest"},
		{"unknown module", []store.PushContent{{ModuleID: "nope", Files: bf, Digest: mustB5(t, bf)}}, store.ErrNotFound, "module nope"},
		{"forward content ref", []store.PushContent{{ModuleID: f.base.ID, Files: bf, Digest: mustB5(t, bf),
			Direct: []store.DepRef{{Content: 0}}, All: []store.DepRef{{Content: 0}}}}, store.ErrInvalid, "does not come before it"},
		{"missing dep commit", []store.PushContent{{ModuleID: f.app.ID, Files: bf, Digest: mustB5(t, bf),
			All: []store.DepRef{{CommitID: "0123456789abcdef0123456789abcdef"}}}}, store.ErrNotFound, "commit 0123456789abcdef0123456789abcdef"},
		{"direct not in closure", []store.PushContent{{ModuleID: f.app.ID, Files: bf, Digest: mustB5(t, bf),
			Direct: []store.DepRef{{CommitID: ok[0].Commit.ID}}}}, store.ErrInvalid, "missing from the closure"},
		{"own module", []store.PushContent{{ModuleID: f.base.ID, Files: bf, Digest: mustB5(t, bf),
			Direct: []store.DepRef{{CommitID: ok[0].Commit.ID}}, All: []store.DepRef{{CommitID: ok[0].Commit.ID}}}}, store.ErrInvalid, "cannot depend on its own commit"},
		{"bad label", []store.PushContent{{ModuleID: f.base.ID, Files: bf, Digest: mustB5(t, bf), Labels: []string{"a b"}}}, store.ErrInvalid, "whitespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.Push(ctx, f.alice.ID, tc.contents)
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Push = %v, want %v containing %q", err, tc.err, tc.msg)
			}
		})
	}
	commits, _, _ := f.s.ListCommits(ctx, f.base.ID, store.Page{})
	if len(commits) != 1 {
		t.Errorf("base has %d commits after rejected pushes, want 1", len(commits))
	}
	if rep, err := f.s.Fsck(ctx, store.FsckOptions{Digest: b5}); err != nil || !rep.OK() {
		t.Errorf("fsck: %v\n%s", err, rep)
	}
}

// TestFsckFindsDamage damages a store in the ways fsck must notice.
func TestFsckFindsDamage(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, f *fixture, res []store.PushResult)
		want   string
	}{
		{"modified blob", func(t *testing.T, f *fixture, res []store.PushResult) {
			refs, _ := f.s.CommitFiles(ctx, res[0].Commit.ID)
			h := hex.EncodeToString(refs[0].SHA256[:])
			if err := os.WriteFile(filepath.Join(f.dir, BlobDir, h[:2], h[2:]), []byte("tampered"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "does not hash to its address"},
		{"missing blob", func(t *testing.T, f *fixture, res []store.PushResult) {
			refs, _ := f.s.CommitFiles(ctx, res[1].Commit.ID)
			h := hex.EncodeToString(refs[1].SHA256[:])
			if err := os.Remove(filepath.Join(f.dir, BlobDir, h[:2], h[2:])); err != nil {
				t.Fatal(err)
			}
		}, "is missing from"},
		{"wrong digest", func(t *testing.T, f *fixture, res []store.PushResult) {
			exec(t, f, "UPDATE commits SET digest = ? WHERE id = ?", make([]byte, 64), res[0].Commit.ID)
		}, "does not match its content"},
		{"partial commit", func(t *testing.T, f *fixture, res []store.PushResult) {
			exec(t, f, "DELETE FROM commit_files WHERE commit_id = ? AND path = 'LICENSE'", res[1].Commit.ID)
		}, "is partial: it has 1 file rows, want 2"},
		{"missing dependency row", func(t *testing.T, f *fixture, res []store.PushResult) {
			exec(t, f, "DELETE FROM commit_deps WHERE commit_id = ?", res[1].Commit.ID)
		}, "is partial: it has 0 dependency rows, want 1"},
		{"label at a missing commit", func(t *testing.T, f *fixture, res []store.PushResult) {
			exec(t, f, "PRAGMA foreign_keys = OFF")
			exec(t, f, "UPDATE labels SET commit_id = 'ffffffffffffffffffffffffffffffff' WHERE module_id = ?", f.app.ID)
		}, "which does not exist"},
		{"label at another module's commit", func(t *testing.T, f *fixture, res []store.PushResult) {
			exec(t, f, "UPDATE labels SET commit_id = ? WHERE module_id = ?", res[0].Commit.ID, f.app.ID)
		}, "of another module"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			res := f.pushPair(t, "x")
			if rep, err := f.s.Fsck(ctx, store.FsckOptions{Digest: b5}); err != nil || !rep.OK() {
				t.Fatalf("fsck before damage: %v\n%s", err, rep)
			}
			tc.damage(t, f, res)
			rep, err := f.s.Fsck(ctx, store.FsckOptions{Digest: b5})
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() || !strings.Contains(rep.String(), tc.want) {
				t.Fatalf("fsck report does not mention %q:\n%s", tc.want, rep)
			}
		})
	}
}

func exec(t *testing.T, f *fixture, query string, args ...any) {
	t.Helper()
	if _, err := f.s.wdb.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// TestTwoProcessesShareTheDatabase opens the data directory twice (as two
// server processes would) and pushes from both at once: SQLite's busy
// timeout must absorb the lock contention.
func TestTwoProcessesShareTheDatabase(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	other := open(t, f.dir)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i, s := range []*Store{f.s, other, f.s, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 10 {
				fs := files("base.proto", fmt.Sprintf("// %d %d\n", i, n))
				d, err := b5(fs, nil)
				if err != nil {
					errs <- err
					return
				}
				if _, err := s.Push(ctx, f.alice.ID, []store.PushContent{{ModuleID: f.base.ID, Files: fs, Digest: d}}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	commits, _, err := f.s.ListCommits(ctx, f.base.ID, store.Page{Size: 100})
	if err != nil || len(commits) != 40 {
		t.Errorf("%d commits, want 40 (%v)", len(commits), err)
	}
	// Collecting orphans needs the directory to itself.
	_, err = f.s.Fsck(ctx, store.FsckOptions{CollectOrphans: true})
	if err == nil || !strings.Contains(err.Error(), "another process") {
		t.Errorf("collecting with the store open twice: %v", err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Fsck(ctx, store.FsckOptions{CollectOrphans: true}); err != nil {
		t.Errorf("collecting alone: %v", err)
	}
}

func TestOrphansAndSchema(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.pushPair(t, "x")
	orphan := []byte("nobody uses me")
	if err := f.s.blobs.Put(ctx, sha256.Sum256(orphan), orphan); err != nil {
		t.Fatal(err)
	}
	rep, err := f.s.Fsck(ctx, store.FsckOptions{Digest: b5})
	if err != nil || !rep.OK() || rep.Orphans != 1 || rep.Blobs != 3 || rep.Commits != 2 || rep.Labels != 2 {
		t.Fatalf("fsck: %v\n%s", err, rep)
	}
	rep, err = f.s.Fsck(ctx, store.FsckOptions{Digest: b5, CollectOrphans: true})
	if err != nil || rep.Collected != 1 {
		t.Fatalf("collect: %v\n%s", err, rep)
	}
	if _, err := f.s.Blob(ctx, sha256.Sum256(orphan)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("orphan still there: %v", err)
	}
	// A database from a newer protomod is refused, not migrated.
	exec(t, f, "PRAGMA user_version = 99")
	if err := f.s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, f.dir, Options{}); err == nil || !strings.Contains(err.Error(), "schema version 99, newer than this program's 1") {
		t.Errorf("Open of a newer schema: %v", err)
	}
}
