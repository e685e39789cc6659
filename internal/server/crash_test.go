package server_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/server"
	"github.com/protomod/protomod/internal/store"
)

// serverProc is the real server running as a subprocess: this test binary
// re-executed with envServeDir set (see TestMain).
type serverProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	done   chan error
}

func startServerProc(t *testing.T, dataDir string) *serverProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envServeDir+"="+dataDir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &serverProc{t: t, cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("server process did not start: %v\n%s", err, p.stderr.String())
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if !ok {
		t.Fatalf("unexpected first line from the server process: %q", line)
	}
	p.url = "http://" + addr
	go func() { p.done <- cmd.Wait() }()
	return p
}

// kill SIGKILLs the process and waits for it to be gone.
func (p *serverProc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop asks for a graceful shutdown and checks that it succeeded.
func (p *serverProc) stop() {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	if err := <-p.done; err != nil {
		p.t.Errorf("server process exited with %v\n%s", err, p.stderr.String())
	}
}

// TestCrashDuringUploads SIGKILLs the server at random moments during 50
// uploads (each storing two modules, one importing the other), restarts it
// on the same data directory, and finally checks with fsck that there is no
// partial commit and that every acknowledged commit is complete.
func TestCrashDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	const uploads = 50
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	ctx := context.Background()
	dir := t.TempDir()

	st, err := server.OpenStore(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	tok, _, err := st.CreateToken(ctx, "alice", "crash test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateModules(ctx, []store.Module{{OwnerName: "alice", Name: "lib"}, {OwnerName: "alice", Name: "app"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	proc := startServerProc(t, dir)
	acked := map[string]int{} // commit ID -> upload number
	kills := 0
	for n := range uploads {
		c := newClients(http.DefaultClient, proc.url, tok)
		lib := map[string]string{}
		for f := range 20 {
			lib[fmt.Sprintf("lib/v1/f%02d.proto", f)] = fmt.Sprintf("syntax = \"proto3\";\npackage lib.v1;\nmessage M%d { string s = 1; } // upload %d\n%s\n",
				f, n, strings.Repeat("// padding\n", rng.IntN(400)))
		}
		app := map[string]string{"app/v1/app.proto": fmt.Sprintf("syntax = \"proto3\";\npackage app.v1;\nimport \"lib/v1/f00.proto\";\n// upload %d\n", n)}
		crash := rng.IntN(2) == 0
		var timer *time.Timer
		if crash {
			// Fault injection, not synchronization: the kill lands at a
			// random point of the upload (or just after it).
			timer = time.AfterFunc(time.Duration(rng.IntN(12000))*time.Microsecond, func() {
				_ = proc.cmd.Process.Signal(syscall.SIGKILL)
			})
		}
		commits, err := c.push(ctx, nil,
			content{owner: "alice", module: "app", files: app},
			content{owner: "alice", module: "lib", files: lib})
		if err == nil {
			for _, cm := range commits {
				acked[cm.Id] = n
			}
		} else if !crash {
			t.Fatalf("upload %d failed without a crash: %v", n, err)
		}
		if crash {
			timer.Stop()
			proc.kill()
			kills++
			proc = startServerProc(t, dir)
		}
	}
	// After the last restart, the server serves what it acknowledged.
	c := newClients(http.DefaultClient, proc.url, tok)
	for id := range acked {
		resp, err := c.download.Download(ctx, connect.NewRequest(&modulev1.DownloadRequest{
			Values: []*modulev1.DownloadRequest_Value{{ResourceRef: idRef(id)}},
		}))
		if err != nil {
			t.Fatalf("acknowledged commit %s (upload %d): %v", id, acked[id], err)
		}
		if len(resp.Msg.Contents[0].Files) == 0 {
			t.Errorf("acknowledged commit %s has no files", id)
		}
	}
	proc.stop()
	t.Logf("%d uploads, %d kills, %d acknowledged commits", uploads, kills, len(acked))

	st, err = server.OpenStore(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := server.Fsck(ctx, st, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep.String())
	if !rep.OK() {
		t.Fatalf("fsck found problems:\n%s", rep)
	}
	if rep.Commits < len(acked) {
		t.Errorf("fsck saw %d commits, fewer than the %d acknowledged", rep.Commits, len(acked))
	}
	// Every stored app commit has its lib dependency: uploads are atomic.
	for _, name := range []string{"app", "lib"} {
		m, err := st.ModuleByName(ctx, "alice", name)
		if err != nil {
			t.Fatal(err)
		}
		commits, _, err := st.ListCommits(ctx, m.ID, store.Page{Size: 250})
		if err != nil {
			t.Fatal(err)
		}
		for _, cm := range commits {
			deps, err := st.CommitDeps(ctx, cm.ID)
			if err != nil {
				t.Fatal(err)
			}
			if name == "app" && len(deps.All) != 1 {
				t.Errorf("app commit %s has %d dependencies, want 1", cm.ID, len(deps.All))
			}
		}
	}
	// Orphan collection leaves a consistent store.
	rep, err = server.Fsck(ctx, st, true)
	if err != nil || !rep.OK() || rep.Collected != rep.Orphans {
		t.Fatalf("fsck with collection: %v\n%s", err, rep)
	}
	if rep, err = server.Fsck(ctx, st, false); err != nil || !rep.OK() || rep.Orphans != 0 {
		t.Fatalf("fsck after collection: %v\n%s", err, rep)
	}
}
