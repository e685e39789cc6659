package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var workspacesDir = filepath.Join("..", "..", "testdata", "workspaces")

// buildVariants are the flag combinations checked against golden images
// written by the reference CLI (scripts/golden-build.sh).
var buildVariants = []struct {
	golden string
	flags  []string
}{
	{"default.binpb", nil},
	{"exclude-source-info.binpb", []string{"--exclude-source-info"}},
	{"exclude-imports.binpb", []string{"--exclude-imports"}},
	{"as-file-descriptor-set.binpb", []string{"--as-file-descriptor-set"}},
	{"default.json", nil},
	{"exclude-source-info.txtpb", []string{"--exclude-source-info"}},
}

func testWorkspaces(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(workspacesDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) < 7 {
		t.Fatalf("found %d test workspaces, want at least 7", len(names))
	}
	return names
}

// runCLI runs protomod in-process and returns its exit code, stdout and
// stderr.
func runCLI(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	var stdout, stderr bytes.Buffer
	code := Main(args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestBuildGolden(t *testing.T) {
	for _, ws := range testWorkspaces(t) {
		for _, v := range buildVariants {
			t.Run(ws+"/"+v.golden, func(t *testing.T) {
				want, err := os.ReadFile(filepath.Join("..", "..", "testdata", "golden", "build", ws, v.golden))
				if err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(t.TempDir(), "image"+filepath.Ext(v.golden))
				args := append([]string{"build", filepath.Join(workspacesDir, ws), "-o", out}, v.flags...)
				code, _, stderr := runCLI(t, "", args...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				got, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%s differs from the reference CLI's image (%d bytes, want %d)", v.golden, len(got), len(want))
				}
			})
		}
	}
}

// TestBuildMatchesBuf runs the reference CLI itself on every test workspace
// and compares the images byte for byte. It is skipped when buf is not on
// PATH; CI installs buf v1.75.0 so that it runs there.
func TestBuildMatchesBuf(t *testing.T) {
	bufBin, err := exec.LookPath("buf")
	if err != nil {
		t.Skip("buf is not on PATH; install it with: go install github.com/bufbuild/buf/cmd/buf@v1.75.0")
	}
	for _, ws := range testWorkspaces(t) {
		for _, v := range buildVariants {
			t.Run(ws+"/"+v.golden, func(t *testing.T) {
				dir, err := filepath.Abs(filepath.Join(workspacesDir, ws))
				if err != nil {
					t.Fatal(err)
				}
				tmp := t.TempDir()
				ext := filepath.Ext(v.golden)
				bufOut := filepath.Join(tmp, "buf"+ext)
				cmd := exec.Command(bufBin, append([]string{"build", "-o", bufOut}, v.flags...)...)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "BUF_CACHE_DIR="+filepath.Join(tmp, "cache"))
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("buf build: %v\n%s", err, out)
				}
				ours := filepath.Join(tmp, "protomod"+ext)
				if code, _, stderr := runCLI(t, dir, append([]string{"build", "-o", ours}, v.flags...)...); code != 0 {
					t.Fatalf("protomod build: exit %d: %s", code, stderr)
				}
				a, _ := os.ReadFile(bufOut)
				b, _ := os.ReadFile(ours)
				if len(a) == 0 || !bytes.Equal(a, b) {
					t.Fatalf("images differ: buf wrote %d bytes, protomod %d", len(a), len(b))
				}
			})
		}
	}
}
