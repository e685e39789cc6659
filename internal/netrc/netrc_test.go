package netrc

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// editCases name inputs in testdata/edit/<name>.in and the machine that Put
// and Remove act on. Goldens: <name>.put.golden and <name>.remove.golden.
var editCases = []struct {
	name    string
	machine string
	removed bool // whether Remove finds an entry
}{
	{"spec-example", "localhost:18080", true}, // go.<machine> only
	{"comments", "buf.build", true},
	{"one-line-first", "localhost:8080", true},
	{"one-line-middle", "localhost:8080", true},
	{"one-line-last", "localhost:8080", true},
	{"macdef", "localhost:8080", true},
	{"macdef-unterminated", "localhost:8080", false},
	{"no-final-newline", "localhost:8080", false},
	{"crlf", "localhost:8080", true},
	{"duplicates", "localhost:8080", true},
	{"empty", "localhost:8080", false},
	{"blank", "localhost:8080", false},
	{"only-others", "localhost:8080", false},
}

func TestPutRemoveGolden(t *testing.T) {
	for _, tc := range editCases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", "edit", tc.name+".in"))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()

			path := filepath.Join(dir, "put")
			writeFile(t, path, in, 0o600)
			if err := Put(path, tc.machine, "alice", "tok123"); err != nil {
				t.Fatalf("Put: %v", err)
			}
			checkGolden(t, tc.name+".put.golden", readFile(t, path))
			m, ok, err := Lookup(path, tc.machine)
			if err != nil || !ok || m.Login != "alice" || m.Password != "tok123" {
				t.Errorf("Lookup after Put = %+v, %v, %v; want alice/tok123", m, ok, err)
			}
			if _, ok := Parse(readFile(t, path)).Machine("go." + tc.machine); ok {
				t.Errorf("go.%s is still present after Put", tc.machine)
			}

			path = filepath.Join(dir, "remove")
			writeFile(t, path, in, 0o600)
			removed, err := Remove(path, tc.machine)
			if err != nil {
				t.Fatalf("Remove: %v", err)
			}
			if removed != tc.removed {
				t.Errorf("Remove reported %v, want %v", removed, tc.removed)
			}
			got := readFile(t, path)
			if !tc.removed && !bytes.Equal(got, in) {
				t.Errorf("Remove changed a file without the machine:\n%q\nwant\n%q", got, in)
			}
			checkGolden(t, tc.name+".remove.golden", got)
			if _, ok := Parse(got).Machine(tc.machine); ok {
				t.Errorf("%s is still present after Remove", tc.machine)
			}
		})
	}
}

// TestEditKeepsOtherEntries checks, for every golden input, that the entries
// Put and Remove do not target read back exactly as before.
func TestEditKeepsOtherEntries(t *testing.T) {
	for _, tc := range editCases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", "edit", tc.name+".in"))
			if err != nil {
				t.Fatal(err)
			}
			var want []Machine
			for _, m := range Parse(in).Machines() {
				if m.IsDefault || (m.Name != tc.machine && m.Name != "go."+tc.machine) {
					want = append(want, m)
				}
			}
			f := Parse(in)
			f.Delete(tc.machine)
			f.Delete("go." + tc.machine)
			if got := Parse(f.Bytes()).Machines(); !equalMachines(got, want) {
				t.Errorf("after Delete: %+v\nwant %+v", got, want)
			}
			if err := f.Set(tc.machine, "u", "p"); err != nil {
				t.Fatal(err)
			}
			got := Parse(f.Bytes()).Machines()
			if want := withNew(want, Machine{Name: tc.machine, Login: "u", Password: "p"}); !equalMachines(got, want) {
				t.Errorf("after Set: %+v\nwant %+v", got, want)
			}
		})
	}
}

func equalMachines(a, b []Machine) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLookup(t *testing.T) {
	const file = `# comment machine evil login evil password evil
machine a.example login la password pa account aa
machine localhost:8080
  login lp
  password pp
machine dup login first password 1
machine dup login second password 2
default
  login anon
  password anonpw
machine after-default login x password y
machine macro
  macdef init
machine hidden login h password h

machine visible login v password v
`
	tests := []struct {
		name   string
		want   Machine
		wantOK bool
	}{
		{"a.example", Machine{Name: "a.example", Login: "la", Password: "pa", Account: "aa"}, true},
		{"localhost:8080", Machine{Name: "localhost:8080", Login: "lp", Password: "pp"}, true},
		{"dup", Machine{Name: "dup", Login: "first", Password: "1"}, true},
		{"after-default", Machine{Name: "after-default", Login: "x", Password: "y"}, true},
		{"visible", Machine{Name: "visible", Login: "v", Password: "v"}, true},
		// Inside a macro body: not an entry, so the default applies.
		{"hidden", Machine{IsDefault: true, Login: "anon", Password: "anonpw"}, true},
		{"evil", Machine{IsDefault: true, Login: "anon", Password: "anonpw"}, true},
		// Exact match only: the port is part of the name.
		{"localhost", Machine{IsDefault: true, Login: "anon", Password: "anonpw"}, true},
		{"A.EXAMPLE", Machine{IsDefault: true, Login: "anon", Password: "anonpw"}, true},
	}
	f := Parse([]byte(file))
	for _, tc := range tests {
		got, ok := f.Lookup(tc.name)
		if ok != tc.wantOK || got != tc.want {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.wantOK)
		}
	}
	noDefault := Parse([]byte("machine a login b password c\n"))
	if m, ok := noDefault.Lookup("z"); ok {
		t.Errorf("Lookup without default entry = %+v, want none", m)
	}
	if m, ok := f.Machine("nope"); ok {
		t.Errorf("Machine(nope) = %+v, want none (no default fallback)", m)
	}
}

func TestLookupFile(t *testing.T) {
	dir := t.TempDir()
	m, ok, err := Lookup(filepath.Join(dir, "missing"), "x")
	if err != nil || ok {
		t.Errorf("Lookup on a missing file = %+v, %v, %v; want nothing, no error", m, ok, err)
	}
	// A directory cannot be read as a file, whoever runs the test.
	if _, _, err := Lookup(dir, "x"); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("Lookup on a directory: err = %v, want one naming %s", err, dir)
	}
	if runtime.GOOS != "windows" && os.Getuid() != 0 {
		p := filepath.Join(dir, "unreadable")
		writeFile(t, p, []byte("machine x login a password b\n"), 0o000)
		if _, _, err := Lookup(p, "x"); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("Lookup on an unreadable file: err = %v, want one naming %s", err, p)
		}
	}
}

func TestPutModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes")
	}
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh")
	if err := Put(fresh, "localhost:8080", "u", "p"); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, fresh); got != 0o600 {
		t.Errorf("new file mode = %o, want 600", got)
	}
	if got, want := string(readFile(t, fresh)), "machine localhost:8080\n  login u\n  password p\n"; got != want {
		t.Errorf("new file = %q, want %q", got, want)
	}

	existing := filepath.Join(dir, "existing")
	writeFile(t, existing, []byte("machine a login b password c\n"), 0o644)
	if err := Put(existing, "localhost:8080", "u", "p"); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, existing); got != 0o644 {
		t.Errorf("existing file mode = %o, want 644 kept", got)
	}
	if _, err := Remove(existing, "a"); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, existing); got != 0o644 {
		t.Errorf("mode after Remove = %o, want 644 kept", got)
	}
}

func TestPutFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "dotfiles", "netrc")
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, target, []byte("machine a login b password c\n"), 0o600)
	link := filepath.Join(dir, ".netrc")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
	if err := Put(link, "x", "u", "p"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v, %v", fi, err)
	}
	if got := string(readFile(t, target)); !strings.HasSuffix(got, "machine x\n  login u\n  password p\n") {
		t.Errorf("target = %q, want the new entry appended", got)
	}

	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	if err := Put(dangling, "x", "u", "p"); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Put through a dangling link: err = %v, want a symbolic link error", err)
	}
}

func TestSetErrors(t *testing.T) {
	tests := []struct {
		name, file, machine, login, password, wantErr string
	}{
		{"empty login", "", "m", "", "p", `the login is empty`},
		{"space in password", "", "m", "u", "p q", `the password "p q" contains whitespace`},
		{"newline in machine", "", "m\nmachine", "u", "p", `the machine name "m\nmachine" contains whitespace`},
		{"comment login", "", "m", "#u", "p", `starts with '#'`},
		{"dangling keyword", "machine a login", "m", "u", "p", `ends with a keyword that has no value`},
		{"dangling machine", "machine", "m", "u", "p", `ends with a keyword that has no value`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := Parse([]byte(tc.file))
			err := f.Set(tc.machine, tc.login, tc.password)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Set: err = %v, want one containing %q", err, tc.wantErr)
			}
			if got := string(f.Bytes()); tc.wantErr != `ends with a keyword that has no value` && got != tc.file {
				t.Errorf("file changed on error: %q", got)
			}
		})
	}
	// Replacing the incomplete entry itself is fine.
	f := Parse([]byte("machine a login b password c\nmachine m login"))
	if err := f.Set("m", "u", "p"); err != nil {
		t.Fatalf("Set replacing the incomplete entry: %v", err)
	}
	if got, want := string(f.Bytes()), "machine a login b password c\nmachine m\n  login u\n  password p\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPath(t *testing.T) {
	t.Setenv("NETRC", "/custom/netrc")
	if p, err := Path(); err != nil || p != "/custom/netrc" {
		t.Errorf("Path with $NETRC = %q, %v", p, err)
	}
	t.Setenv("NETRC", "")
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	want := filepath.Join(home, ".netrc")
	if runtime.GOOS == "windows" {
		want = filepath.Join(home, "_netrc")
	}
	if p, err := Path(); err != nil || p != want {
		t.Errorf("Path with $HOME = %q, %v; want %q", p, err, want)
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "edit", name)
	if *update {
		writeFile(t, path, got, 0o644)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s mismatch:\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func writeFile(t *testing.T, path string, data []byte, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // umask
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// withNew is ms with m added where Set puts it: before the first default
// entry, or at the end.
func withNew(ms []Machine, m Machine) []Machine {
	for i, x := range ms {
		if x.IsDefault {
			return append(append(append([]Machine{}, ms[:i]...), m), ms[i:]...)
		}
	}
	return append(append([]Machine{}, ms...), m)
}
