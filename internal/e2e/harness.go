// Package e2e is the end-to-end test harness: it builds the protomod binary
// once per test binary, runs `protomod serve` as a subprocess on
// 127.0.0.1:0 with a temporary data directory, creates users and tokens
// through the admin subcommands, and runs the CLI (and the reference CLI,
// buf, when it is on PATH) with a clean environment whose HOME, caches,
// configuration, .netrc and token all live in the test's temporary
// directories.
//
// A package's end-to-end tests call Main from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(e2e.Main(m)) }
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// binary is the protomod binary Main built.
var binary string

// Main builds protomod into a temporary directory, runs the tests, removes
// the directory, and returns the exit code for os.Exit.
func Main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "protomod-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "protomod")
	goTool, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: the go command is needed to build protomod:", err)
		return 1
	}
	cmd := exec.Command(goTool, "build", "-o", binary, "github.com/protomod/protomod/cmd/protomod")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// Binary returns the protomod binary built by Main.
func Binary(tb testing.TB) string {
	tb.Helper()
	if binary == "" {
		tb.Fatal("e2e: the protomod binary is not built; call e2e.Main from TestMain")
	}
	return binary
}

// Result is the outcome of one command.
type Result struct {
	Code           int
	Stdout, Stderr string
}

func (r Result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// Env is a clean environment for CLI runs: every location a CLI reads or
// writes points into the test's temporary directory.
type Env struct {
	t testing.TB
	// Home is $HOME; CacheDir is $BUF_CACHE_DIR; ConfigDir is
	// $BUF_CONFIG_DIR (config.yaml there sets tls.use: false); Netrc is
	// $NETRC (it need not exist).
	Home, CacheDir, ConfigDir, Netrc string
	// Token is $BUF_TOKEN; empty leaves it unset.
	Token string
	// Vars are extra variables (NAME=value).
	Vars []string
	// Stdin is given to the next command run (then cleared).
	Stdin string
}

// NewEnv returns a clean environment that talks plain HTTP to registries.
func NewEnv(t testing.TB) *Env {
	t.Helper()
	root := t.TempDir()
	e := &Env{
		t:         t,
		Home:      filepath.Join(root, "home"),
		CacheDir:  filepath.Join(root, "cache"),
		ConfigDir: filepath.Join(root, "config"),
		Netrc:     filepath.Join(root, "home", ".netrc"),
	}
	for _, d := range []string{e.Home, e.ConfigDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	WriteFiles(t, e.ConfigDir, map[string]string{"config.yaml": "version: v1\ntls:\n  use: false\n"})
	return e
}

// Route sends protomod's requests for registry (a module-name host) to
// baseURL instead, through protomod.yaml (the reference CLI ignores it).
func (e *Env) Route(registry, baseURL string) {
	e.t.Helper()
	WriteFiles(e.t, e.ConfigDir, map[string]string{
		"protomod.yaml": fmt.Sprintf("version: v1\nregistries:\n  %q:\n    url: %s\n", registry, baseURL),
	})
}

// Environ returns the process environment of a CLI run.
func (e *Env) Environ() []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + e.Home,
		"USERPROFILE=" + e.Home,
		"XDG_CONFIG_HOME=" + filepath.Join(e.Home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(e.Home, ".cache"),
		"XDG_DATA_HOME=" + filepath.Join(e.Home, ".local", "share"),
		"BUF_CACHE_DIR=" + e.CacheDir,
		"BUF_CONFIG_DIR=" + e.ConfigDir,
		"NETRC=" + e.Netrc,
	}
	if tmp := os.Getenv("TMPDIR"); tmp != "" {
		env = append(env, "TMPDIR="+tmp)
	}
	if e.Token != "" {
		env = append(env, "BUF_TOKEN="+e.Token)
	}
	return append(env, e.Vars...)
}

// Run runs protomod with args in dir ("" for the current directory).
func (e *Env) Run(dir string, args ...string) Result {
	e.t.Helper()
	return e.run(Binary(e.t), dir, args)
}

// Start starts protomod with args in dir without waiting for it.
func (e *Env) Start(dir string, args ...string) *Process {
	e.t.Helper()
	p := &Process{cmd: exec.Command(Binary(e.t), args...)}
	p.cmd.Dir = dir
	p.cmd.Env = e.Environ()
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		e.t.Fatalf("start protomod %s: %v", strings.Join(args, " "), err)
	}
	return p
}

// Process is a protomod run started with Env.Start.
type Process struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

// Wait waits for the process and returns its result.
func (p *Process) Wait() Result {
	err := p.cmd.Wait()
	r := Result{Code: p.cmd.ProcessState.ExitCode(), Stdout: p.stdout.String(), Stderr: p.stderr.String()}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		r.Code = -1
		r.Stderr += "\n" + err.Error()
	}
	return r
}

// HaveBuf reports whether the reference CLI is on PATH.
func HaveBuf() bool {
	_, err := exec.LookPath("buf")
	return err == nil
}

// RunBuf runs the reference CLI with args in dir; the test is skipped when
// buf is not on PATH. Its log format is plain text (no colour codes).
func (e *Env) RunBuf(dir string, args ...string) Result {
	e.t.Helper()
	path, err := exec.LookPath("buf")
	if err != nil {
		e.t.Skip("the reference CLI (buf) is not on PATH")
	}
	return e.run(path, dir, append([]string{"--log-format=text"}, args...))
}

func (e *Env) run(bin, dir string, args []string) Result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = e.Environ()
	cmd.Stdin = strings.NewReader(e.Stdin)
	e.Stdin = ""
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.Code = exitErr.ExitCode()
	default:
		e.t.Fatalf("run %s %s: %v", filepath.Base(bin), strings.Join(args, " "), err)
	}
	return r
}

// Server is a `protomod serve` subprocess.
type Server struct {
	t testing.TB
	// Host is the registry name: 127.0.0.1:<port>.
	Host string
	// DataDir is its --data-dir; LogPath holds its stderr (request log).
	DataDir, LogPath string
	env              *Env
	cmd              *exec.Cmd
	done             chan struct{}
	stopped          atomic.Bool
}

// StartServer starts `protomod serve` on 127.0.0.1:0 and waits until it
// answers /healthz. It is stopped (SIGTERM) when the test ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	return StartServerWith(t, ServerOptions{})
}

// ServerOptions configure StartServerWith.
type ServerOptions struct {
	// DataDir is the --data-dir; empty means a new temporary directory.
	// Give an earlier server's DataDir (after its Stop) to restart it.
	DataDir string
	// Args are more arguments of protomod serve, e.g. "--plugins-config", FILE.
	Args []string
}

// StartServerWith is StartServer with options.
func StartServerWith(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	root := t.TempDir()
	s := &Server{
		t:       t,
		DataDir: opts.DataDir,
		LogPath: filepath.Join(root, "server.log"),
		env:     NewEnv(t),
		done:    make(chan struct{}),
	}
	if s.DataDir == "" {
		s.DataDir = filepath.Join(root, "data")
	}
	addrFile := filepath.Join(root, "addr")
	logFile, err := os.Create(s.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	args := append([]string{"serve", "--data-dir", s.DataDir, "--addr", "127.0.0.1:0", "--addr-file", addrFile}, opts.Args...)
	s.cmd = exec.Command(Binary(t), args...)
	s.cmd.Env = s.env.Environ()
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start protomod serve: %v", err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(s.Stop)
	s.Host = s.waitAddr(addrFile)
	s.waitHealthy()
	return s
}

// waitAddr polls for the address file until the server writes it, the
// server exits, or a deadline passes.
func (s *Server) waitAddr(path string) string {
	s.t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if data, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(data), "\n") {
			return strings.TrimSpace(string(data))
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.t.Fatal(err)
		}
		select {
		case <-s.done:
			s.t.Fatalf("protomod serve exited before listening:\n%s", s.Log())
		case <-deadline:
			s.t.Fatalf("protomod serve did not write %s within 30s:\n%s", path, s.Log())
		case <-tick.C:
		}
	}
}

// waitHealthy polls /healthz until it answers 200 or a deadline passes.
func (s *Server) waitHealthy() {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(s.URL() + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("protomod serve is not healthy after 30s (last error %v):\n%s", err, s.Log())
		}
		select {
		case <-s.done:
			s.t.Fatalf("protomod serve exited:\n%s", s.Log())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// URL is the server's base URL.
func (s *Server) URL() string { return "http://" + s.Host }

// Stop sends SIGTERM and waits for the server to exit (killing it after
// 30s). Calling it again does nothing.
func (s *Server) Stop() {
	if !s.stopped.CompareAndSwap(false, true) {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		s.t.Errorf("protomod serve did not stop within 30s of SIGTERM")
	}
}

// Log returns the server's output so far.
func (s *Server) Log() string {
	data, _ := os.ReadFile(s.LogPath)
	return string(data)
}

// Admin runs `protomod serve <args> --data-dir <dir>` and returns its
// standard output.
func (s *Server) Admin(args ...string) string {
	s.t.Helper()
	args = append(append([]string{"serve"}, args...), "--data-dir", s.DataDir)
	r := s.env.Run("", args...)
	if r.Code != 0 {
		s.t.Fatalf("protomod %s: %s", strings.Join(args, " "), r)
	}
	return r.Stdout
}

// User creates a user and returns a new token for it.
func (s *Server) User(name string) string {
	s.t.Helper()
	s.Admin("user", "create", name)
	return strings.TrimSpace(s.Admin("token", "create", "--user", name))
}

// Org creates an organization with members.
func (s *Server) Org(name string, members ...string) {
	s.t.Helper()
	args := []string{"org", "create", name}
	for _, m := range members {
		args = append(args, "--member", m)
	}
	s.Admin(args...)
}

// Counter is a reverse proxy in front of a server that counts the requests
// it forwards. Route an Env's registry through it (Env.Route) to count the
// requests one command sends; a request is counted before it is forwarded,
// so the count is final when the command has exited.
type Counter struct {
	// URL is the proxy's base URL.
	URL   string
	mu    sync.Mutex
	paths []string
}

// NewCounter starts a counting proxy to target (a base URL).
func NewCounter(t testing.TB, target string) *Counter {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	c := &Counter{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.paths = append(c.paths, r.URL.Path)
		c.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

// Paths returns the paths of the requests forwarded since the last Reset,
// in order.
func (c *Counter) Paths() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.paths...)
}

// Reset forgets the requests counted so far.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paths = nil
}

// WriteFiles writes files (slash-separated paths relative to dir).
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// ReadFile returns a file's bytes, or nil when it does not exist.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Lines splits output into lines without the final newline.
func Lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
