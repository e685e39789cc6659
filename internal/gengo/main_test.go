package gengo

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"
)

var update = flag.Bool("update", false, "rewrite golden files")

// pluginModeEnv makes the test binary act as a protoc plugin (see
// fakePlugin), so that tests can run plugins that crash, hang or misbehave.
const pluginModeEnv = "GENGO_TEST_PLUGIN"

func TestMain(m *testing.M) {
	if mode := os.Getenv(pluginModeEnv); mode != "" {
		os.Exit(fakePlugin(mode))
	}
	code := m.Run()
	if connectDir != "" {
		os.RemoveAll(connectDir)
	}
	os.Exit(code)
}

// fakePlugin implements the test plugins. It returns the exit code.
func fakePlugin(mode string) int {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Println("fake-plugin 9.9.9")
		return 0
	}
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	req := &pluginpb.CodeGeneratorRequest{}
	if err := proto.Unmarshal(in, req); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	resp := &pluginpb.CodeGeneratorResponse{
		SupportedFeatures: proto.Uint64(uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL)),
	}
	switch mode {
	case "crash":
		fmt.Fprintln(os.Stderr, "fake plugin: something broke")
		return 3
	case "hang":
		time.Sleep(time.Hour)
		return 0
	case "garbage":
		os.Stdout.WriteString("\xff\xff\xff not a protobuf message")
		return 0
	case "error":
		resp.Error = proto.String("option foo is not supported")
	case "nooptional":
		resp.SupportedFeatures = nil
		resp.File = append(resp.File, &pluginpb.CodeGeneratorResponse_File{Name: proto.String("x.txt"), Content: proto.String("x")})
	case "echo":
		// One file per file to generate, listing the go_package values the
		// plugin received and its parameter.
		for _, name := range req.GetFileToGenerate() {
			content := "parameter=" + req.GetParameter() + "\n"
			for _, f := range req.GetProtoFile() {
				content += f.GetName() + " " + f.GetOptions().GetGoPackage() + "\n"
			}
			resp.File = append(resp.File, &pluginpb.CodeGeneratorResponse_File{Name: proto.String(name + ".txt"), Content: proto.String(content)})
		}
	case "append":
		resp.File = append(resp.File,
			&pluginpb.CodeGeneratorResponse_File{Name: proto.String("a.txt"), Content: proto.String("one\n")},
			&pluginpb.CodeGeneratorResponse_File{Content: proto.String("two\n")})
	case "badpath":
		resp.File = append(resp.File, &pluginpb.CodeGeneratorResponse_File{Name: proto.String("../escape.go"), Content: proto.String("package x\n")})
	case "vendor":
		resp.File = append(resp.File, &pluginpb.CodeGeneratorResponse_File{Name: proto.String("vendor/x/x.go"), Content: proto.String("package x\n")})
	case "gomod":
		resp.File = append(resp.File, &pluginpb.CodeGeneratorResponse_File{Name: proto.String("go.mod"), Content: proto.String("module evil\n")})
	case "insertion":
		resp.File = append(resp.File, &pluginpb.CodeGeneratorResponse_File{Name: proto.String("a.go"), InsertionPoint: proto.String("imports"), Content: proto.String("x")})
	case "duplicate":
		resp.File = append(resp.File,
			&pluginpb.CodeGeneratorResponse_File{Name: proto.String("a.txt"), Content: proto.String("1")},
			&pluginpb.CodeGeneratorResponse_File{Name: proto.String("a.txt"), Content: proto.String("2")})
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", mode)
		return 2
	}
	out, err := proto.Marshal(resp)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Stdout.Write(out)
	return 0
}

// fakePluginExec returns an Exec that runs the test binary in mode.
func fakePluginExec(t *testing.T, mode string) *Exec {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &Exec{Path: self, Env: []string{pluginModeEnv + "=" + mode}}
}

var (
	connectOnce sync.Once
	connectDir  string
	connectPath string
	connectErr  error
)

// connectGo builds the pinned protoc-gen-connect-go from the module's
// dependencies (no network) once per test run.
func connectGo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH: cannot build protoc-gen-connect-go")
	}
	connectOnce.Do(func() {
		connectDir, connectErr = os.MkdirTemp("", "gengo-connect-")
		if connectErr != nil {
			return
		}
		connectPath = filepath.Join(connectDir, "protoc-gen-connect-go")
		out, err := exec.Command("go", "build", "-o", connectPath, "connectrpc.com/connect/cmd/protoc-gen-connect-go").CombinedOutput()
		if err != nil {
			connectErr = fmt.Errorf("build protoc-gen-connect-go: %v\n%s", err, out)
		}
	})
	if connectErr != nil {
		t.Fatal(connectErr)
	}
	return connectPath
}

// loadSource reads testdata/src/<dir> as a module commit.
func loadSource(t *testing.T, dir, owner, name, id string, created time.Time) Source {
	t.Helper()
	root := filepath.Join("testdata", "src", dir)
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return Source{Commit: Commit{Owner: owner, Module: name, ID: id, CreateTime: created}, Files: files}
}

// Fixed commits of the test modules.
var (
	unitsCommit   = Commit{Owner: "acme", Module: "units", ID: "0190a1b2c3d47e8f9a0b1c2d3e4f5a6b", CreateTime: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	weatherCommit = Commit{Owner: "acme", Module: "weather", ID: "0190f00dcafe7e8f9a0b1c2d3e4f5a6b", CreateTime: time.Date(2026, 1, 2, 9, 30, 15, 123456789, time.UTC)}
	gtypeCommit   = Commit{Owner: "googleapis", Module: "gtype", ID: "0190aaaaaaaa7e8f9a0b1c2d3e4f5a6b", CreateTime: time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC)}
)

func weatherRequest(t *testing.T, host string, p *Plugin) Request {
	t.Helper()
	units := loadSource(t, "units", "acme", "units", unitsCommit.ID, unitsCommit.CreateTime)
	weather := loadSource(t, "weather", "acme", "weather", weatherCommit.ID, weatherCommit.CreateTime)
	return Request{Host: host, Plugin: p, Module: weather, Deps: []Source{units}}
}

// catalog returns the built-in plugins with connect-go built for the test.
func catalog(t *testing.T, extra ...*Plugin) *Catalog {
	t.Helper()
	c, err := NewCatalog(append(DefaultPlugins(connectGo(t)), extra...))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// builtinCatalog returns the built-in plugins without building connect-go
// (its executable is never run).
func builtinCatalog(t *testing.T, extra ...*Plugin) *Catalog {
	t.Helper()
	c, err := NewCatalog(append(DefaultPlugins("/nonexistent/protoc-gen-connect-go"), extra...))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
