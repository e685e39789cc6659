package gengo

import (
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

func TestFormatGoMod(t *testing.T) {
	tests := []struct {
		name            string
		path, goVersion string
		requires        []module.Version
		wantErr         string
	}{
		{name: "connect.mod", path: "example.test/gen/go/acme/weather/connectrpc/go", goVersion: "1.25", requires: []module.Version{
			{Path: "example.test/gen/go/acme/weather/protocolbuffers/go", Version: "v1.36.12-20260101120000-abcdef123456.1"},
			{Path: "connectrpc.com/connect", Version: "v1.21.1"},
			{Path: "example.test/gen/go/acme/units/connectrpc/go", Version: "v1.21.1-20251201000000-0123456789ab.1"},
			{Path: "connectrpc.com/connect", Version: "v1.21.1"}, // duplicates collapse
		}},
		{name: "norequires.mod", path: "example.test/gen/go/acme/weather/acme/plain", goVersion: "1.22.3"},
		{name: "v2.mod", path: "example.test/gen/go/acme/weather/connectrpc/go/v2", goVersion: "1.26", requires: []module.Version{
			{Path: "connectrpc.com/connect/v2", Version: "v2.0.0"},
		}},
		{path: "example.test/m", goVersion: "1.25", requires: []module.Version{{Path: "a.example/x", Version: "v1.0.0"}, {Path: "a.example/x", Version: "v1.1.0"}}, wantErr: "required at two versions"},
		{path: "example.test/m", goVersion: "go1.25", wantErr: "must look like 1.23"},
		{path: "example.test/m", goVersion: "1.25", requires: []module.Version{{Path: "example.test/m", Version: "v1.0.0"}}, wantErr: "cannot require itself"},
		{path: "example.test/m", goVersion: "1.25", requires: []module.Version{{Path: "a.example/x/v2", Version: "v1.0.0"}}, wantErr: "requirement"},
		{path: "example.test/m/v1", goVersion: "1.25", wantErr: "go.mod"},
	}
	for _, tt := range tests {
		got, err := FormatGoMod(tt.path, tt.goVersion, tt.requires)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("FormatGoMod(%s) error = %v, want %q", tt.path, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		golden(t, tt.name, got)
		// The go command reads it back unchanged.
		f, err := modfile.Parse("go.mod", got, nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if f.Module.Mod.Path != tt.path || f.Go.Version != tt.goVersion {
			t.Errorf("%s: parsed module %s go %s", tt.name, f.Module.Mod.Path, f.Go.Version)
		}
		f.Cleanup()
		again, err := f.Format()
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(got) {
			t.Errorf("%s: modfile formats it differently:\n%s", tt.name, again)
		}
	}
}
