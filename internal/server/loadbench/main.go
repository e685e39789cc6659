// Command loadbench measures `protomod serve` under read load: many
// concurrent clients calling DownloadService/Download for one module over
// loopback. It reports requests per second, p50/p99/max latency and the
// server's peak resident memory.
//
// By default it starts the server itself, as a child process (this same
// binary with -serve), on a fresh data directory, so the server's memory is
// measured apart from the clients':
//
//	go run ./internal/server/loadbench -clients 64 -duration 30s -files 50
//
// Run it on a quiet machine; it uses every core it can get.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/module/v1/modulev1connect"
	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/server"
	"github.com/protomod/protomod/internal/store"
)

func main() {
	var (
		serveDir = flag.String("serve", "", "internal: run the server on this data directory and print its address")
		clients  = flag.Int("clients", 64, "concurrent clients")
		duration = flag.Duration("duration", 30*time.Second, "how long to load the server")
		files    = flag.Int("files", 50, "number of .proto files in the downloaded module")
		fileSize = flag.Int("file-size", 2048, "approximate size of each file in bytes")
		dataDir  = flag.String("data-dir", "", "data directory for the server (default: a new temporary directory)")
	)
	flag.Parse()
	if *serveDir != "" {
		if err := serve(*serveDir); err != nil {
			fmt.Fprintln(os.Stderr, "loadbench server:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*clients, *duration, *files, *fileSize, *dataDir); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

// serve is the child process: the real server on 127.0.0.1:0.
func serve(dir string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	srv, err := server.New(ctx, server.Config{
		DataDir: dir,
		Addr:    "127.0.0.1:0",
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", srv.Addr())
	return srv.Run(ctx)
}

func run(clients int, duration time.Duration, fileCount, fileSize int, dataDir string) error {
	ctx := context.Background()
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "protomod-loadbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	}
	token, err := setUp(ctx, dataDir)
	if err != nil {
		return fmt.Errorf("set up the data directory: %w", err)
	}
	child, url, err := startServer(dataDir)
	if err != nil {
		return err
	}
	defer func() {
		_ = child.Process.Signal(syscall.SIGTERM)
		_ = child.Wait()
	}()

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	auth := connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", "Bearer "+token)
			return next(ctx, req)
		}
	}))
	commitID, err := pushModule(ctx, modulev1connect.NewUploadServiceClient(hc, url, auth), fileCount, fileSize)
	if err != nil {
		return fmt.Errorf("push the module: %w", err)
	}
	download := modulev1connect.NewDownloadServiceClient(hc, url)
	req := &modulev1.DownloadRequest{Values: []*modulev1.DownloadRequest_Value{{
		ResourceRef: &modulev1.ResourceRef{Value: &modulev1.ResourceRef_Id{Id: commitID}},
	}}}
	// One warm-up call also checks the answer.
	resp, err := download.Download(ctx, connect.NewRequest(req))
	if err != nil {
		return fmt.Errorf("warm-up download: %w", err)
	}
	if got := len(resp.Msg.Contents[0].Files); got != fileCount {
		return fmt.Errorf("warm-up download returned %d files, want %d", got, fileCount)
	}

	fmt.Printf("loading %s with %d clients for %s (module of %d files, ~%d bytes each)\n", url, clients, duration, fileCount, fileSize)
	loadCtx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  int
		firstErr  error
		wg        sync.WaitGroup
	)
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			var failed int
			var ferr error
			for loadCtx.Err() == nil {
				t0 := time.Now()
				_, err := download.Download(loadCtx, connect.NewRequest(req))
				if err != nil {
					if loadCtx.Err() != nil {
						break
					}
					failed++
					if ferr == nil {
						ferr = err
					}
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			failures += failed
			if firstErr == nil {
				firstErr = ferr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	peak, err := peakRSS(child.Process.Pid)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench: peak RSS unavailable:", err)
	}

	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))]
	}
	fmt.Printf("requests:   %d ok, %d failed\n", len(latencies), failures)
	fmt.Printf("throughput: %.0f requests/s\n", float64(len(latencies))/elapsed.Seconds())
	fmt.Printf("latency:    p50 %s, p99 %s, max %s\n", pct(0.50), pct(0.99), pct(1))
	if peak > 0 {
		fmt.Printf("server RSS: peak %.1f MiB\n", float64(peak)/(1<<20))
	}
	if firstErr != nil {
		return fmt.Errorf("%d requests failed, the first with: %w", failures, firstErr)
	}
	return nil
}

// setUp creates user bench, a token, and module bench/load.
func setUp(ctx context.Context, dir string) (string, error) {
	st, err := server.OpenStore(ctx, dir)
	if err != nil {
		return "", err
	}
	defer st.Close()
	if _, err := st.CreateUser(ctx, "bench"); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return "", err
	}
	if _, err := st.CreateModules(ctx, []store.Module{{OwnerName: "bench", Name: "load"}}); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return "", err
	}
	token, _, err := st.CreateToken(ctx, "bench", "loadbench")
	return token, err
}

func startServer(dir string) (*exec.Cmd, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(self, "-serve", filepath.Clean(dir))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start the server: %w", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, "", fmt.Errorf("the server did not start (%q, %v)", line, err)
	}
	return cmd, "http://" + addr, nil
}

func pushModule(ctx context.Context, c modulev1connect.UploadServiceClient, count, size int) (string, error) {
	content := &modulev1.UploadRequest_Content{
		ModuleRef: &modulev1.ModuleRef{Value: &modulev1.ModuleRef_Name_{Name: &modulev1.ModuleRef_Name{Owner: "bench", Module: "load"}}},
	}
	for i := range count {
		var b strings.Builder
		fmt.Fprintf(&b, "syntax = \"proto3\";\npackage load.v1;\n\nmessage M%d {\n", i)
		for f := 1; b.Len() < size; f++ {
			fmt.Fprintf(&b, "  string field_%d = %d;\n", f, f)
		}
		b.WriteString("}\n")
		content.Files = append(content.Files, &modulev1.File{Path: fmt.Sprintf("load/v1/m%03d.proto", i), Content: []byte(b.String())})
	}
	resp, err := c.Upload(ctx, connect.NewRequest(&modulev1.UploadRequest{Contents: []*modulev1.UploadRequest_Content{content}}))
	if err != nil {
		return "", err
	}
	return resp.Msg.Commits[0].Id, nil
}

// peakRSS reads a process's peak resident set size (VmHWM) on Linux.
func peakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmHWM line in /proc status")
}
