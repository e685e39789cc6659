package digest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	hex128 := strings.Repeat("ab", 64)
	tests := []struct {
		in      string
		want    Type
		wantErr string
	}{
		{in: "b5:" + hex128, want: TypeB5},
		{in: "shake256:" + hex128, want: TypeShake256},
		{in: b5Base, want: TypeB5},
		// Uppercase hex decodes; String() then prints lowercase.
		{in: "b5:" + strings.ToUpper(hex128), want: TypeB5},
		{in: "", wantErr: `could not parse module digest: digest is empty`},
		{in: "b5", wantErr: `could not parse module digest "b5": must in the form "digest_type:digest_hex_value"`},
		{in: "x5:00", wantErr: `could not parse module digest "x5:00": could not parse module digest type "x5": unknown type: "x5"`},
		{in: "B5:" + hex128, wantErr: `could not parse module digest type "B5": unknown type: "B5"`},
		{in: "b5:zz", wantErr: `could not parse module digest "b5:zz": could not parse hex: must in the form "digest_type:digest_hex_value"`},
		{in: "b5:abc", wantErr: `could not parse hex`},
		{in: "b5:0000", wantErr: `invalid shake256 digest value: expected 64 bytes, got 2`},
		{in: "shake256:00", wantErr: `invalid shake256 digest value: expected 64 bytes, got 1`},
		{in: "b5:" + hex128 + "00", wantErr: `expected 64 bytes, got 65`},
		{in: "b5:", wantErr: `expected 64 bytes, got 0`},
		{in: "b5:" + hex128[:126] + ":0", wantErr: `could not parse hex`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Type != tt.want {
				t.Errorf("type %v, want %v", d.Type, tt.want)
			}
			if d.String() != strings.ToLower(tt.in) {
				t.Errorf("String() = %q, want %q", d.String(), strings.ToLower(tt.in))
			}
			var u Digest
			if err := u.UnmarshalText([]byte(tt.in)); err != nil || u != d {
				t.Errorf("UnmarshalText = %v, %v", u, err)
			}
		})
	}
}

func TestZeroAndFromBytes(t *testing.T) {
	var z Digest
	if !z.IsZero() || z.String() != "" {
		t.Errorf("zero digest: IsZero %v String %q", z.IsZero(), z.String())
	}
	if _, err := z.MarshalText(); err == nil {
		t.Error("MarshalText of the zero digest: want error")
	}
	want := MustParse(b5Base)
	got, err := FromBytes(TypeB5, want.Value[:])
	if err != nil || got != want {
		t.Errorf("FromBytes = %v, %v; want %v", got, err, want)
	}
	if _, err := FromBytes(TypeB5, want.Value[:10]); err == nil {
		t.Error("FromBytes with 10 bytes: want error")
	}
	if _, err := FromBytes(Type(9), want.Value[:]); err == nil {
		t.Error("FromBytes with an unknown type: want error")
	}
}

func TestSelectFiles(t *testing.T) {
	tests := []struct {
		name  string
		paths []string
		want  []string
	}{
		{"nothing", nil, nil},
		{"protos sorted bytewise", []string{"foo/a.proto", "bar/b.proto", "Z.proto"}, []string{"Z.proto", "bar/b.proto", "foo/a.proto"}},
		{"config and other files never count", []string{"buf.yaml", "buf.lock", "notes.txt", "a.proto", "a.proto.bak", "buf.mod"}, []string{"a.proto"}},
		{"LICENSE only at the root", []string{"LICENSE", "sub/LICENSE", "LICENSE.txt", "license"}, []string{"LICENSE"}},
		{"buf.md first", []string{"README.markdown", "README.md", "buf.md"}, []string{"buf.md"}},
		{"README.md second", []string{"README.markdown", "README.md"}, []string{"README.md"}},
		{"README.markdown last", []string{"README.markdown", "x.proto"}, []string{"README.markdown", "x.proto"}},
		{"doc only at the root", []string{"sub/buf.md", "sub/README.md"}, nil},
		{"other README variants ignored", []string{"README", "readme.md", "README.txt"}, nil},
		{"bare .proto name", []string{".proto"}, []string{".proto"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SelectFiles(tt.paths)
			if !slices.Equal(got, tt.want) {
				t.Errorf("SelectFiles(%q) = %q, want %q", tt.paths, got, tt.want)
			}
		})
	}
}

func TestPathErrors(t *testing.T) {
	tests := []struct {
		path, want string
	}{
		{"", `invalid module file path "": path is empty`},
		{"/abs/a.proto", `invalid module file path "/abs/a.proto": path must be relative to the module root`},
		{"../a.proto", `invalid module file path "../a.proto": path must not contain ".." (it would point outside the module)`},
		{"a/../../b.proto", `must not contain ".."`},
		{"a/..", `must not contain ".."`},
		{"..", `must not contain ".."`},
		{"./a.proto", `invalid module file path "./a.proto": path is not normalized, expected "a.proto"`},
		{"a//b.proto", `path is not normalized, expected "a/b.proto"`},
		{"a/./b.proto", `path is not normalized, expected "a/b.proto"`},
		{"a/b.proto/", `path is not normalized, expected "a/b.proto"`},
		{".", `path names the module root`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			fs := []File{{Path: "ok.proto"}, {Path: tt.path}}
			_, err := FilesDigest(fs)
			var pe *PathError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("FilesDigest error %v, want *PathError containing %q", err, tt.want)
			}
			if _, err := B5(fs, nil); err == nil {
				t.Error("B5: want error")
			}
			if _, err := B4(fs, nil, nil); err == nil {
				t.Error("B4: want error")
			}
		})
	}
	// Valid odd-looking paths are fine.
	for _, p := range []string{"a..b.proto", "..a.proto", "a/.b.proto", "a b/c.proto"} {
		if err := ValidatePath(p); err != nil {
			t.Errorf("ValidatePath(%q) = %v, want nil", p, err)
		}
	}
}

func TestDuplicatePaths(t *testing.T) {
	for _, fs := range [][]File{
		files("a.proto", "x", "a.proto", "x"),
		files("a.proto", "x", "b.proto", "y", "a.proto", "z"),
		files("a.proto", "x", "notes.txt", "1", "notes.txt", "2"),
	} {
		_, err := FilesDigest(fs)
		var de *DuplicatePathError
		if !errors.As(err, &de) {
			t.Fatalf("FilesDigest(%v) error %v, want *DuplicatePathError", fs, err)
		}
		if !strings.HasPrefix(err.Error(), `module file path "`) || !strings.HasSuffix(err.Error(), `" appears more than once`) {
			t.Errorf("error text %q", err)
		}
	}
}

func TestEmptyManifest(t *testing.T) {
	m, err := Manifest(files("buf.yaml", "version: v2\n"))
	if err != nil || len(m) != 0 {
		t.Fatalf("manifest of a module with no content = %q, %v; want empty", m, err)
	}
	fd, err := FilesDigest(nil)
	if err != nil || fd.String() != "shake256:"+emptySum {
		t.Fatalf("files digest of nothing = %v, %v", fd, err)
	}
}

func TestB5RejectsWrongTypes(t *testing.T) {
	fd := MustParse(fdA)
	if _, err := B5FromFilesDigest(MustParse(b5Base), nil); err == nil {
		t.Error("files digest of type b5: want error")
	}
	if _, err := B5FromFilesDigest(fd, []Digest{MustParse(fdA)}); err == nil ||
		!strings.Contains(err.Error(), "dependency digests of type b5") {
		t.Errorf("dep digest of type shake256: error %v", err)
	}
	if _, err := B5FromFilesDigest(fd, []Digest{{}}); err == nil {
		t.Error("zero dep digest: want error")
	}
}

// Identical dep digests are not deduplicated (digests.md §1 step 7).
func TestB5KeepsRepeatedDeps(t *testing.T) {
	fd := MustParse(fdA)
	one, _ := B5FromFilesDigest(fd, []Digest{MustParse(b5Base)})
	two, _ := B5FromFilesDigest(fd, []Digest{MustParse(b5Base), MustParse(b5Base)})
	if one == two {
		t.Error("a repeated dep digest must change the b5")
	}
}

// syntheticModule returns n .proto files of about size bytes each, plus the
// non-content files a real module directory has.
func syntheticModule(n, size int) []File {
	out := []File{{Path: "LICENSE", Content: []byte("Apache-2.0\n")}, {Path: "README.md", Content: []byte("# synthetic\n")}}
	for i := range n {
		body := fmt.Sprintf("syntax = \"proto3\";\npackage pkg%d.v1;\n", i/10)
		for len(body) < size {
			body += fmt.Sprintf("message M%d { string field_%d = %d; }\n", len(body), i, len(body)%500+1)
		}
		out = append(out, File{Path: fmt.Sprintf("pkg%d/v1/file%d.proto", i/10, i), Content: []byte(body)})
	}
	return out
}

// The parallel path must give exactly the serial result.
func TestParallelMatchesSerial(t *testing.T) {
	mod := syntheticModule(300, 4096) // > parallelThreshold
	sel := Select(mod)
	got := manifest(sel)
	var want strings.Builder
	for _, f := range sel {
		want.WriteString(Sum(f.Content).String() + "  " + f.Path + "\n")
	}
	if string(got) != want.String() {
		t.Fatal("parallel manifest differs from the serial one")
	}
}

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(p, content string) {
		t.Helper()
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files(
		"foo/v1/foo.proto", fooProto, "bar/v1/bar.proto", barProto,
		"README.md", "# hello\n", "LICENSE", "MIT\n",
		"buf.yaml", "version: v2\n", "notes.txt", "ignored\n", "sub/README.md", "no\n",
	) {
		write(f.Path, string(f.Content))
	}
	got, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range got {
		paths = append(paths, f.Path)
	}
	want := []string{"LICENSE", "README.md", "bar/v1/bar.proto", "foo/v1/foo.proto"}
	if !slices.Equal(paths, want) {
		t.Fatalf("ReadDir paths %q, want %q", paths, want)
	}
	b5, err := B5(got, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Vector (iv).
	if want := "b5:5274550ef577b34286de7bdac76f64a4edd97a89e991396a4486792fe81b206b83acd0a885f0b84156726bcc69c7af86f0c03a0586e77969cc06b7be895f68b9"; b5.String() != want {
		t.Errorf("b5 of the directory %s, want %s", b5, want)
	}

	// Many files take the parallel read path.
	big := t.TempDir()
	for _, f := range syntheticModule(50, 100) {
		full := filepath.Join(big, filepath.FromSlash(f.Path))
		_ = os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, f.Content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read, err := ReadDir(big)
	if err != nil {
		t.Fatal(err)
	}
	if b1, b2 := mustB5(t, read), mustB5(t, syntheticModule(50, 100)); b1 != b2 {
		t.Errorf("b5 of the read directory %s, of the files %s", b1, b2)
	}

	if _, err := ReadDir(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "read module files under") {
		t.Errorf("ReadDir of a missing directory: error %v", err)
	}
}

func mustB5(t *testing.T, fs []File) Digest {
	t.Helper()
	d, err := B5(fs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestMismatchError(t *testing.T) {
	want := "*** Digest verification failed for \"localhost:18080/acme/base:0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e\" ***\n" +
		"\tExpected digest (from buf.lock): \"b5:fe9589f5fc4d871f94e31be428594013c97df07e5ae4d6adfb3c0a1fd795947bd74e72825143237bda978d29455dd36687a8547d847d3f03b66af937eb2e3694\"\n" +
		"\tActual digest: \"b5:7ddaaf79d7bccd019cce7eb5f07ed57784d2dd68377cababef2839a2784ce99055e0bd583119a3c9b9215a6d13f2019b53f8e2f77bda827acb691a28658de7da\"\n" +
		"\tThis may be the result of a hand-edited or corrupted buf.lock file, a corrupted local cache, and/or an attack.\n" +
		"\tTo clear your local cache, run \"buf registry cc\"."
	e := &MismatchError{
		ModuleKey: "localhost:18080/acme/base:0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e",
		Expected:  MustParse(b5Base),
		Actual:    MustParse("b5:7ddaaf79d7bccd019cce7eb5f07ed57784d2dd68377cababef2839a2784ce99055e0bd583119a3c9b9215a6d13f2019b53f8e2f77bda827acb691a28658de7da"),
	}
	if e.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", e.Error(), want)
	}
	short := (&MismatchError{}).Error()
	wantShort := "*** Digest verification failed ***\n" +
		"\tThis may be the result of a hand-edited or corrupted buf.lock file, a corrupted local cache, and/or an attack.\n" +
		"\tTo clear your local cache, run \"buf registry cc\"."
	if short != wantShort {
		t.Errorf("without name and digests got\n%s\nwant\n%s", short, wantShort)
	}
}

func TestVerifyB5(t *testing.T) {
	base := files("base/v1/base.proto", baseProto)
	if err := VerifyB5("k", base, nil, MustParse(b5Base)); err != nil {
		t.Fatalf("VerifyB5 of vector (vi) base: %v", err)
	}
	tampered := files("base/v1/base.proto", baseProto+"\n")
	err := VerifyB5("k", tampered, nil, MustParse(b5Base))
	var me *MismatchError
	if !errors.As(err, &me) || me.ModuleKey != "k" || me.Expected != MustParse(b5Base) || me.Actual == me.Expected {
		t.Fatalf("VerifyB5 of a tampered file: %v", err)
	}
}
