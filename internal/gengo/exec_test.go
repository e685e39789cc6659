package gengo

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestExecPlugins(t *testing.T) {
	tests := []struct {
		mode    string
		timeout time.Duration
		// files is the generated file list when the run succeeds.
		files   string
		wantErr string
	}{
		{mode: "echo", files: "acme/weather/v1/weather.proto.txt"},
		{mode: "append", files: "a.txt"},
		{mode: "crash", wantErr: "failed: exit status 3; stderr: fake plugin: something broke"},
		{mode: "hang", timeout: 300 * time.Millisecond, wantErr: "did not finish within 300ms and was stopped"},
		{mode: "garbage", wantErr: "wrote an invalid CodeGeneratorResponse to stdout"},
		{mode: "error", wantErr: "reported an error: option foo is not supported"},
		{mode: "nooptional", wantErr: "acme/weather/v1/weather.proto is a proto3 file that contains optional fields, but plugin acme/fake v1.0.0 does not support optional fields in proto3"},
		{mode: "badpath", wantErr: `wrote a file with an invalid path "../escape.go"`},
		{mode: "insertion", wantErr: `insertion point "imports"`},
		{mode: "duplicate", wantErr: "wrote a.txt twice"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			p := &Plugin{Owner: "acme", Name: "fake", Version: "v1.0.0", Revision: 1, GoVersion: "1.22",
				Exec: fakePluginExec(t, tt.mode), Timeout: tt.timeout}
			builtinCatalog(t, p)
			start := time.Now()
			files, err := Generate(context.Background(), weatherRequest(t, "example.test", p))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "acme/fake v1.0.0") {
					t.Errorf("error %q does not name the plugin", err)
				}
				if tt.timeout > 0 && time.Since(start) > tt.timeout+waitDelay+5*time.Second {
					t.Errorf("the hanging plugin was stopped only after %s", time.Since(start))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range files {
				names = append(names, f.Path)
			}
			if got := strings.Join(names, " "); got != tt.files {
				t.Errorf("files = %s, want %s", got, tt.files)
			}
			if tt.mode == "append" && string(files[0].Content) != "one\ntwo\n" {
				t.Errorf("a file without a name must continue the previous one: %q", files[0].Content)
			}
		})
	}
}

// Build refuses plugin output that would not survive in a module zip.
func TestBuildRejectsOutput(t *testing.T) {
	for mode, want := range map[string]string{
		"vendor": "the go command would leave out vendor/x/x.go",
		"gomod":  "generated go.mod, which would replace the SDK's own",
	} {
		t.Run(mode, func(t *testing.T) {
			p := &Plugin{Owner: "acme", Name: "fake", Version: "v1.0.0", Revision: 1, GoVersion: "1.22", Exec: fakePluginExec(t, mode)}
			builtinCatalog(t, p)
			_, err := Build(context.Background(), weatherRequest(t, "example.test", p), nil)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error = %v, want %q", err, want)
			}
		})
	}
}

func TestExecutableChecks(t *testing.T) {
	t.Run("missing connect", func(t *testing.T) {
		c := builtinCatalog(t)
		_, err := Generate(context.Background(), weatherRequest(t, "example.test", c.Plugin("connectrpc", "go", ConnectGoVersion)))
		want := "install it with `go install connectrpc.com/connect/cmd/protoc-gen-connect-go@v1.21.1`"
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "not found") {
			t.Fatalf("error = %v, want %q", err, want)
		}
	})
	for _, tt := range []struct {
		versionOutput, wantErr string
	}{
		{"1.2.3", `reports version "fake-plugin 9.9.9", want 1.2.3`},
		{"9.9", `reports version "fake-plugin 9.9.9", want 9.9`},
		{"9.9.9", ""},
		{"v9.9.9", ""},
	} {
		t.Run("version "+tt.versionOutput, func(t *testing.T) {
			exec := fakePluginExec(t, "echo")
			exec.VersionOutput = tt.versionOutput
			p := &Plugin{Owner: "acme", Name: "fake", Version: "v1.2.3", Revision: 1, GoVersion: "1.22", Exec: exec}
			builtinCatalog(t, p)
			_, err := Generate(context.Background(), weatherRequest(t, "example.test", p))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestContainsWord(t *testing.T) {
	for _, tt := range []struct {
		s, want string
		ok      bool
	}{
		{"1.21.1\n", "1.21.1", true},
		{"protoc-gen-connect-go v1.21.1", "v1.21.1", true},
		{"1.21.10", "1.21.1", false},
		{"v1.21.1-rc.1", "1.21.1", false},
		{"", "1.21.1", false},
	} {
		if got := containsWord(tt.s, tt.want); got != tt.ok {
			t.Errorf("containsWord(%q, %q) = %v", tt.s, tt.want, got)
		}
	}
}
