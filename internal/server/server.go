// Package server is `protomod serve`: a module registry that speaks the BSR
// Connect API (buf.registry.module.v1, buf.registry.owner.v1 and
// buf.alpha.registry.v1alpha1.AuthnService) over HTTP/1.1 and HTTP/2 (h2c
// or TLS), on top of a store.Store.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/adrg/xdg"

	"github.com/protomod/protomod/internal/atomicfile"
	"github.com/protomod/protomod/internal/store"
	"github.com/protomod/protomod/internal/store/sqlitestore"
)

// DefaultAddr is the address served when Config.Addr is empty.
const DefaultAddr = "127.0.0.1:8080"

// Limits bound what an upload may contain. Zero fields take the defaults.
type Limits struct {
	// MaxUploadBytes caps an Upload request body (default 128 MiB).
	// Larger requests are refused before they are read.
	MaxUploadBytes int64
	// MaxFileBytes caps one file's content (default 16 MiB).
	MaxFileBytes int64
	// MaxFiles caps the number of files in one Upload (default 20000).
	MaxFiles int
}

// DefaultLimits are the limits applied to zero fields of Limits.
var DefaultLimits = Limits{
	MaxUploadBytes: 128 << 20,
	MaxFileBytes:   16 << 20,
	MaxFiles:       20000,
}

func (l Limits) withDefaults() Limits {
	if l.MaxUploadBytes <= 0 {
		l.MaxUploadBytes = DefaultLimits.MaxUploadBytes
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultLimits.MaxFileBytes
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultLimits.MaxFiles
	}
	return l
}

// Config configures a Server.
type Config struct {
	// DataDir holds the store (default DefaultDataDir()).
	DataDir string
	// Addr is the host:port to listen on (default DefaultAddr); port 0
	// picks a free port, see Server.Addr.
	Addr string
	// TLSCertFile and TLSKeyFile enable TLS (both or neither).
	TLSCertFile string
	TLSKeyFile  string
	// PublicHost is the registry name clients use (host[:port]), shown
	// in logs; default: the listening address.
	PublicHost string
	// AddrFile, if set, receives the bound address (host:port and a
	// newline) once the server listens: handy with port 0 when the
	// server runs as a separate process.
	AddrFile string
	Limits   Limits
	// Logger receives request logs (default: text to stderr).
	Logger *slog.Logger
	// Checker validates uploads (default: CompileChecker).
	Checker Checker
	// ShutdownTimeout bounds graceful shutdown (default 10s).
	ShutdownTimeout time.Duration
	// Store, if set, is used instead of opening DataDir; Close does not
	// close it.
	Store store.Store
	// SDK configures the Go module proxy for generated SDKs at /gen/go/.
	SDK SDKConfig
}

// DefaultDataDir returns $XDG_DATA_HOME/protomod (on Linux, default
// ~/.local/share/protomod).
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "protomod")
	}
	return filepath.Join(xdg.DataHome, "protomod")
}

// Server is a running-to-be registry: New opens the store and binds the
// listener, Run serves until its context ends.
type Server struct {
	cfg       Config
	store     store.Store
	ownsStore bool
	listener  net.Listener
	http      *http.Server
	log       *slog.Logger
	limits    Limits
	checker   Checker
	scheme    string
	sdk       http.Handler // the /gen/go/ handler
	sdkHost   string       // the host of SDK module paths; empty when off
}

// New opens the store and listens on cfg.Addr. Call Run to serve, or Close
// to release everything without serving.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return nil, errors.New("serve: --tls-cert and --tls-key must be given together")
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		limits:  cfg.Limits.withDefaults(),
		checker: cfg.Checker,
		scheme:  "http",
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if s.checker == nil {
		s.checker = CompileChecker{}
	}
	var tlsConfig *tls.Config
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("serve: load TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.scheme = "https"
	}
	dir := cfg.DataDir
	if cfg.Store != nil {
		s.store = cfg.Store
	} else {
		if dir == "" {
			dir = DefaultDataDir()
		}
		st, err := sqlitestore.Open(ctx, dir, sqlitestore.Options{})
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		s.store, s.ownsStore = st, true
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		s.closeStore()
		return nil, fmt.Errorf("serve: listen on %s: %w", cfg.Addr, err)
	}
	if tlsConfig != nil {
		tlsConfig.NextProtos = []string{"h2", "http/1.1"}
		ln = tls.NewListener(ln, tlsConfig)
	}
	s.listener = ln
	if s.cfg.PublicHost == "" {
		s.cfg.PublicHost = ln.Addr().String()
	}
	if s.sdk, err = s.newSDKHandler(dir); err != nil {
		_ = ln.Close()
		s.closeStore()
		return nil, fmt.Errorf("serve: Go SDKs: %w", err)
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	protocols.SetUnencryptedHTTP2(true)
	s.http = &http.Server{
		Handler:           s.Handler(),
		Protocols:         protocols,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if cfg.AddrFile != "" {
		if err := atomicfile.Write(cfg.AddrFile, []byte(s.Addr()+"\n"), atomicfile.Options{Mode: 0o644}); err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("serve: write address file: %w", err)
		}
	}
	return s, nil
}

// Addr returns the address the server listens on (host:port).
func (s *Server) Addr() string { return s.listener.Addr().String() }

// URL returns the base URL of the server, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.scheme + "://" + s.Addr() }

// Store returns the server's store.
func (s *Server) Store() store.Store { return s.store }

// Run serves until ctx is canceled, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish (up to ShutdownTimeout), and
// closes the store.
func (s *Server) Run(ctx context.Context) error {
	s.log.Info("serving registry", "addr", s.Addr(), "url", s.URL(), "public_host", s.cfg.PublicHost)
	if s.sdkHost != "" {
		s.log.Info("serving Go SDKs", "goproxy", s.URL()+SDKPrefix, "module_paths", s.sdkHost+SDKPrefix+"/<owner>/<module>/<plugin owner>/<plugin>")
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		s.log.Info("shutting down", "addr", s.Addr())
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
		err = s.http.Shutdown(sctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			err = errors.Join(fmt.Errorf("serve: requests still running after %s; closing them", s.cfg.ShutdownTimeout), s.http.Close())
		}
		if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, s.closeStore())
}

// Close stops the server at once and closes the store.
func (s *Server) Close() error {
	err := s.http.Close()
	if lerr := s.listener.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
		err = lerr
	}
	return errors.Join(err, s.closeStore())
}

func (s *Server) closeStore() error {
	if !s.ownsStore || s.store == nil {
		return nil
	}
	st := s.store
	s.ownsStore = false
	return st.Close()
}
