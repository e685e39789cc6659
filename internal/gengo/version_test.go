package gengo

import (
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

func TestNewVersion(t *testing.T) {
	tests := []struct {
		plugin   string
		time     time.Time
		commit   string
		revision int
		want     string
		wantErr  string
	}{
		{"v1.33.0", time.Date(2023, 9, 13, 23, 16, 27, 0, time.UTC), "233fca715f49425581ec0a1b660be886", 1, "v1.33.0-20230913231627-233fca715f49.1", ""},
		{"v1.36.12", time.Date(2026, 10, 15, 15, 44, 28, 999999999, time.UTC), "c661e2f1fba9425581ec0a1b660be886", 2, "v1.36.12-20261015154428-c661e2f1fba9.2", ""},
		// The time is converted to UTC.
		{"v2.0.1", time.Date(2026, 10, 15, 17, 44, 28, 0, time.FixedZone("CEST", 2*3600)), "c661e2f1fba9425581ec0a1b660be886", 1, "v2.0.1-20261015154428-c661e2f1fba9.1", ""},
		{"v1.0.0", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "0123456789ab0000000000000000ffff", 10, "v1.0.0-20260101000000-0123456789ab.10", ""},
		{"v1.2", time.Now(), "0123456789ab0000000000000000ffff", 1, "", "must have the form vMAJOR.MINOR.PATCH"},
		{"v1.2.3-rc.1", time.Now(), "0123456789ab0000000000000000ffff", 1, "", "must have the form vMAJOR.MINOR.PATCH"},
		{"1.2.3", time.Now(), "0123456789ab0000000000000000ffff", 1, "", "must have the form vMAJOR.MINOR.PATCH"},
		{"v1.2.3", time.Now(), "0123456789AB0000000000000000FFFF", 1, "", "not a dashless lowercase hex commit ID"},
		{"v1.2.3", time.Now(), "0123456789a", 1, "", "not a dashless lowercase hex commit ID"},
		{"v1.2.3", time.Now(), "0123456789ab0000000000000000ffff", 0, "", "revision 0 must be 1 or more"},
		{"v1.2.3", time.Time{}, "0123456789ab0000000000000000ffff", 1, "", "cannot be written as YYYYMMDDHHMMSS"},
	}
	for _, tt := range tests {
		t.Run(tt.want+tt.wantErr, func(t *testing.T) {
			v, err := NewVersion(tt.plugin, tt.time, tt.commit, tt.revision)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewVersion error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := v.String(); got != tt.want {
				t.Fatalf("version = %s, want %s", got, tt.want)
			}
			// An SDK version is an ordinary pre-release, valid for the go
			// command, and never a pseudo-version.
			if !semver.IsValid(tt.want) || semver.Canonical(tt.want) != tt.want {
				t.Errorf("%s is not canonical semver", tt.want)
			}
			if module.IsPseudoVersion(tt.want) {
				t.Errorf("%s is a pseudo-version", tt.want)
			}
			back, err := ParseVersion(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if back != v {
				t.Errorf("ParseVersion(%s) = %+v, want %+v", tt.want, back, v)
			}
		})
	}
}

func TestParseVersionRejects(t *testing.T) {
	for _, s := range []string{
		"",
		"v1.36.12",
		"v1.36.12-20260101120000-abcdef123456",
		"v1.36.12-20260101120000-abcdef123456.0",
		"v1.36.12-20260101120000-abcdef123456.01",
		"v1.36.12-20260101120000-abcdef12345.1",
		"v1.36.12-20260101120000-ABCDEF123456.1",
		"v1.36.12-2026010112000-abcdef123456.1",
		"v1.36.12-20261301120000-abcdef123456.1", // month 13
		"v1.36.12-20260101120000-abcdef123456.1+meta",
		"v1.36.12-20260101120000-abcdef123456.1.2",
		"v1.36.12-20260101120000_abcdef123456.1",
		"v1.36-20260101120000-abcdef123456.1",
		"v1.36.12-20260101120000-abcdef123456.99999999999999999999",
		"v0.0.0-20260101120000-abcdef123456", // a pseudo-version
	} {
		if v, err := ParseVersion(s); err == nil {
			t.Errorf("ParseVersion(%q) = %+v, want an error", s, v)
		}
	}
}

// The ordering rules of the spec: the plugin version dominates, then the
// commit time, then the numeric revision.
func TestVersionOrdering(t *testing.T) {
	want := []string{
		"v1.36.11-20260301000000-ffffffffffff.1",
		"v1.36.12-20260101120000-abcdef123456.1",
		"v1.36.12-20260101120000-abcdef123456.2",
		"v1.36.12-20260101120000-abcdef123456.10",
		"v1.36.12-20260201000000-0123456789ab.1",
		"v1.36.12",
	}
	got := slices.Clone(want)
	slices.Reverse(got)
	semver.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("sorted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestModulePath(t *testing.T) {
	tests := []struct {
		host, owner, mod, pOwner, pName, version string
		want, wantErr                            string
	}{
		{"buf.build", "bufbuild", "registry", "protocolbuffers", "go", "v1.36.12", "buf.build/gen/go/bufbuild/registry/protocolbuffers/go", ""},
		{"buf.build", "bufbuild", "registry", "connectrpc", "go", "v2.0.1", "buf.build/gen/go/bufbuild/registry/connectrpc/go/v2", ""},
		{"example.test", "acme", "weather", "connectrpc", "go", "v0.1.0", "example.test/gen/go/acme/weather/connectrpc/go", ""},
		{"example.test", "Acme", "Weather", "protocolbuffers", "go", "v1.0.0", "example.test/gen/go/Acme/Weather/protocolbuffers/go", ""},
		{"example.test", "acme", "a/b", "protocolbuffers", "go", "v1.0.0", "", "one non-empty path element"},
		{"example.test", "acme", "", "protocolbuffers", "go", "v1.0.0", "", "one non-empty path element"},
		{"example.test", "acme", "trailing.", "protocolbuffers", "go", "v1.0.0", "", "SDK module path"},
		{"example.test", "acme", "weather", "protocolbuffers", "go", "1.0.0", "", "vMAJOR.MINOR.PATCH"},
		{"127.0.0.1:8080", "acme", "weather", "protocolbuffers", "go", "v1.0.0", "", "SDK module path"},
	}
	for _, tt := range tests {
		got, err := ModulePath(tt.host, tt.owner, tt.mod, tt.pOwner, tt.pName, tt.version)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ModulePath(%q, %q) error = %v, want %q", tt.host, tt.mod, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ModulePath = %q, %v; want %q", got, err, tt.want)
		}
	}
}

func TestCheckHost(t *testing.T) {
	for _, host := range []string{"example.test", "buf.build", "registry.acme.internal", "127.0.0.1"} {
		if err := CheckHost(host); err != nil {
			t.Errorf("CheckHost(%q) = %v", host, err)
		}
	}
	for host, want := range map[string]string{
		"":                    "empty",
		"127.0.0.1:8080":      "cannot contain ':'",
		"https://example.com": "cannot contain ':'",
		"localhost":           "cannot start Go module paths",
		"example.test/sub":    "",
		"-bad.example":        "cannot start Go module paths",
	} {
		err := CheckHost(host)
		if want == "" {
			// A path prefix is allowed: the go command accepts it.
			if err != nil {
				t.Errorf("CheckHost(%q) = %v", host, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckHost(%q) = %v, want %q", host, err, want)
		}
	}
}

func FuzzParseVersion(f *testing.F) {
	f.Add("v1.36.12-20260101120000-abcdef123456.1")
	f.Add("v2.0.1-20261015154428-c661e2f1fba9.10")
	f.Add("v1.2.3")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		if v.String() != s {
			t.Fatalf("ParseVersion(%q).String() = %q", s, v.String())
		}
		if !semver.IsValid(s) || module.IsPseudoVersion(s) {
			t.Fatalf("accepted %q, which is not a valid non-pseudo version", s)
		}
		id := v.Commit + "00000000000000000000"
		again, err := NewVersion(v.Plugin, v.Time, id, v.Revision)
		if err != nil || again != v {
			t.Fatalf("NewVersion of the parts of %q = %+v, %v", s, again, err)
		}
	})
}
