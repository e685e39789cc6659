package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/protomod/protomod/internal/server"
)

// Environment variables that turn the test binary into a server process, so
// tests can run the real server as a subprocess (and SIGKILL it).
const (
	envServeDir  = "PROTOMOD_TEST_SERVE_DIR"  // data directory
	envServeAddr = "PROTOMOD_TEST_SERVE_ADDR" // listen address (default 127.0.0.1:0)
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envServeDir); dir != "" {
		os.Exit(serveForTest(dir))
	}
	os.Exit(m.Run())
}

// serveForTest runs the server until SIGTERM or SIGINT. Once it listens, it
// prints "listening <addr>" on stdout.
func serveForTest(dir string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	addr := os.Getenv(envServeAddr)
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	srv, err := server.New(ctx, server.Config{
		DataDir: dir,
		Addr:    addr,
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("listening %s\n", srv.Addr())
	if err := srv.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
