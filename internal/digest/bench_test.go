package digest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// benchModule replicates the module in testdata/bench copies times, each
// copy under its own directory, keeping its LICENSE and README.md once.
func benchModule(b *testing.B, copies int) ([]File, int64) {
	b.Helper()
	seed, err := ReadDir(filepath.Join("testdata", "bench"))
	if err != nil {
		b.Fatal(err)
	}
	var out []File
	var size int64
	for _, f := range seed {
		if !strings.HasSuffix(f.Path, ".proto") {
			out = append(out, f)
			size += int64(len(f.Content))
		}
	}
	for i := range copies {
		for _, f := range seed {
			if strings.HasSuffix(f.Path, ".proto") {
				out = append(out, File{Path: fmt.Sprintf("copy%04d/%s", i, f.Path), Content: f.Content})
				size += int64(len(f.Content))
			}
		}
	}
	return out, size
}

// BenchmarkB5 digests a synthetic module: small (2 files, the common case
// for a dependency) and large (4,000 files, about 4 MB).
func BenchmarkB5(b *testing.B) {
	for _, copies := range []int{1, 2000} {
		files, size := benchModule(b, copies)
		deps := []Digest{MustParse(b5Base), MustParse(b5I)}
		b.Run(fmt.Sprintf("files=%d", len(files)), func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := B5(files, deps); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

const corporaPath = "../../../shared/corpora/bench-workspaces.tar.zst"

// BenchmarkGoogleapis digests googleapis-full (7,227 files, ~63 MB) from the
// shared corpora, when present: once from memory and once including reading
// the files from disk. It reports MB/s of .proto content.
func BenchmarkGoogleapis(b *testing.B) {
	if _, err := os.Stat(corporaPath); err != nil {
		b.Skipf("corpora not present (%s): %v", corporaPath, err)
	}
	if _, err := exec.LookPath("tar"); err != nil {
		b.Skip("tar not found")
	}
	if _, err := exec.LookPath("zstd"); err != nil {
		b.Skip("zstd not found")
	}
	dir := b.TempDir()
	// The archive hard-links files shared between workspaces, so unpack all
	// of it rather than googleapis-full alone.
	cmd := exec.Command("tar", "--zstd", "-xf", corporaPath, "-C", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("unpack %s: %v\n%s", corporaPath, err, out)
	}
	moduleDir := filepath.Join(dir, "googleapis-full", "proto")
	files, err := ReadDir(moduleDir)
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	for _, f := range files {
		size += int64(len(f.Content))
	}
	b.Logf("googleapis-full: %d files, %.1f MB", len(files), float64(size)/1e6)
	b.Run("memory", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if _, err := B5(files, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read+digest", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			fs, err := ReadDir(moduleDir)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := B5(fs, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
