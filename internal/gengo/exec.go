package gengo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"
)

const (
	// maxResponseBytes caps a plugin's stdout: more than a module zip may
	// hold is an error.
	maxResponseBytes = 600 << 20
	// maxStderrBytes is how much of a plugin's stderr is kept for messages.
	maxStderrBytes = 4 << 10
	// versionCheckTimeout limits "<plugin> --version".
	versionCheckTimeout = 30 * time.Second
	// waitDelay is how long to wait for a killed plugin's pipes to close.
	waitDelay = 2 * time.Second
)

// runExec runs a plugin executable: the request on stdin, the response on
// stdout, within the plugin's time limit.
func runExec(ctx context.Context, p *Plugin, req *pluginpb.CodeGeneratorRequest) (*pluginpb.CodeGeneratorResponse, error) {
	path, err := p.executable(ctx)
	if err != nil {
		return nil, err
	}
	data, err := proto.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: encode request: %w", p, err)
	}
	timeout := p.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, path, p.Exec.Args...)
	cmd.Env = append(os.Environ(), p.Exec.Env...)
	cmd.Stdin = bytes.NewReader(data)
	stdout := &limitedBuffer{max: maxResponseBytes}
	stderr := &tailBuffer{max: maxStderrBytes}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = waitDelay
	killGroup(cmd)
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("plugin %s: %w", p, ctx.Err())
	case errors.Is(runCtx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("plugin %s (%s) did not finish within %s and was stopped%s", p, path, timeout, stderr.suffix())
	case stdout.overflow:
		return nil, fmt.Errorf("plugin %s (%s) wrote more than %d MiB to stdout and was stopped", p, path, maxResponseBytes>>20)
	case err != nil:
		return nil, fmt.Errorf("plugin %s (%s) failed: %v%s", p, path, err, stderr.suffix())
	}
	resp := &pluginpb.CodeGeneratorResponse{}
	if err := proto.Unmarshal(stdout.buf.Bytes(), resp); err != nil {
		return nil, fmt.Errorf("plugin %s (%s) wrote an invalid CodeGeneratorResponse to stdout: %v%s", p, path, err, stderr.suffix())
	}
	return resp, nil
}

// executable finds the plugin's executable and, the first time, checks its
// --version output. A failure is not remembered, so installing the binary
// fixes a running server.
func (p *Plugin) executable(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.execPath != "" {
		return p.execPath, nil
	}
	install := ""
	if p.Owner == "connectrpc" && p.Name == "go" {
		install = fmt.Sprintf("; install it with `go install connectrpc.com/connect/cmd/protoc-gen-connect-go@%s` or name its path in the plugin configuration", p.Version)
	}
	path, err := exec.LookPath(p.Exec.Path)
	if err != nil {
		return "", fmt.Errorf("plugin %s: executable %q not found: %v%s", p, p.Exec.Path, err, install)
	}
	if want := p.Exec.VersionOutput; want != "" {
		vctx, cancel := context.WithTimeout(ctx, versionCheckTimeout)
		defer cancel()
		cmd := exec.CommandContext(vctx, path, "--version")
		cmd.Env = append(os.Environ(), p.Exec.Env...)
		cmd.WaitDelay = waitDelay
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("plugin %s: `%s --version` failed: %v%s", p, path, err, install)
		}
		if !containsWord(string(out), want) {
			return "", fmt.Errorf("plugin %s: %s reports version %q, want %s%s", p, path, strings.TrimSpace(string(out)), want, install)
		}
	}
	p.execPath = path
	return path, nil
}

// containsWord reports whether want appears in s as a whole
// whitespace-separated word, with or without a leading "v".
func containsWord(s, want string) bool {
	want = strings.TrimPrefix(want, "v")
	for _, f := range strings.Fields(s) {
		if strings.TrimPrefix(f, "v") == want {
			return true
		}
	}
	return false
}

// limitedBuffer keeps up to max bytes and then fails writes.
type limitedBuffer struct {
	buf      bytes.Buffer
	max      int
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.buf.Len()+len(p) > b.max {
		b.overflow = true
		return 0, errors.New("plugin output too large")
	}
	return b.buf.Write(p)
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

// suffix formats the kept stderr for an error message.
func (b *tailBuffer) suffix() string {
	s := strings.TrimSpace(strings.ToValidUTF8(string(b.buf), "?"))
	if s == "" {
		return ""
	}
	return "; stderr: " + s
}
