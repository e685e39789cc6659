package server

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/module/v1/modulev1connect"
	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/owner/v1/ownerv1connect"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/gen/buf/alpha/registry/v1alpha1/registryv1alpha1connect"
	"github.com/protomod/protomod/internal/store"
)

// Handler returns the server's HTTP handler: the Connect services,
// /healthz, the Go SDK proxy under /gen/go/, request logging and the upload
// size guard.
func (s *Server) Handler() http.Handler {
	opts := []connect.HandlerOption{
		connect.WithInterceptors(s.authInterceptor()),
		connect.WithReadMaxBytes(int(min(s.limits.MaxUploadBytes, int64(^uint(0)>>1)))),
		// Small answers are not worth gzip's CPU; large ones (downloads)
		// use its fastest level: proto sources still shrink about 4x.
		connect.WithCompressMinBytes(4096),
		connect.WithCompression("gzip",
			func() connect.Decompressor { return &gzip.Reader{} },
			func() connect.Compressor {
				w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
				return w
			}),
	}
	mux := http.NewServeMux()
	mux.Handle(modulev1connect.NewCommitServiceHandler(&commitService{s: s}, opts...))
	mux.Handle(modulev1connect.NewGraphServiceHandler(&graphService{s: s}, opts...))
	mux.Handle(modulev1connect.NewModuleServiceHandler(&moduleService{s: s}, opts...))
	mux.Handle(modulev1connect.NewDownloadServiceHandler(&downloadService{s: s}, opts...))
	mux.Handle(modulev1connect.NewUploadServiceHandler(&uploadService{s: s}, opts...))
	mux.Handle(modulev1connect.NewLabelServiceHandler(&labelService{s: s}, opts...))
	mux.Handle(modulev1connect.NewResourceServiceHandler(modulev1connect.UnimplementedResourceServiceHandler{}, opts...))
	mux.Handle(modulev1connect.NewFileDescriptorSetServiceHandler(modulev1connect.UnimplementedFileDescriptorSetServiceHandler{}, opts...))
	mux.Handle(ownerv1connect.NewOwnerServiceHandler(&ownerService{s: s}, opts...))
	mux.Handle(registryv1alpha1connect.NewAuthnServiceHandler(&authnService{s: s}, opts...))
	mux.HandleFunc("GET /healthz", s.healthz)
	sdk := s.sdk
	if sdk == nil {
		sdk = sdkOff("Go SDKs are turned off on this registry")
	}
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isSDKPath(r.URL.Path) {
			sdk.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	return s.logRequests(s.limitBody(root))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	// A lookup that finds nothing proves the database answers.
	if _, err := s.store.OwnerByID(ctx, "healthz"); err != nil && !errors.Is(err, store.ErrNotFound) {
		http.Error(w, "store unavailable\n", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

var errorWriter = connect.NewErrorWriter()

// limitBody refuses request bodies over MaxUploadBytes: at once when the
// Content-Length says so (without reading the body), and otherwise as soon
// as that many bytes were read.
func (s *Server) limitBody(next http.Handler) http.Handler {
	max := s.limits.MaxUploadBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			// The body stays unread: tell the client not to reuse the
			// connection.
			w.Header().Set("Connection", "close")
			err := connect.NewError(connect.CodeResourceExhausted,
				fmt.Errorf("request body of %d bytes is larger than this server's limit of %d bytes", r.ContentLength, max))
			_ = errorWriter.Write(w, r, err)
			return
		}
		if r.Body != nil {
			// One extra byte lets Connect see that the limit was exceeded.
			r.Body = http.MaxBytesReader(w, r.Body, max+1)
		}
		next.ServeHTTP(w, r)
	})
}

// requestInfo collects what the request log needs from inside the Connect
// layer.
type requestInfo struct {
	mu   sync.Mutex
	code string
	user string
}

type requestInfoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return ri
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// logRequests writes one structured log line per request. It never logs
// headers, so tokens stay out of logs.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, ri)))
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		ri.mu.Lock()
		code, user := ri.code, ri.user
		ri.mu.Unlock()
		if code == "" && strings.Count(r.URL.Path, "/") == 2 && r.Method == http.MethodPost {
			code = codeFromStatus(status)
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("procedure", r.URL.Path),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", r.RemoteAddr),
			slog.String("proto", r.Proto),
			slog.Int64("resp_bytes", rec.bytes),
		}
		if code != "" {
			attrs = append(attrs, slog.String("code", code))
		}
		if user != "" {
			attrs = append(attrs, slog.String("user", user))
		}
		level := slog.LevelInfo
		switch code {
		case "internal", "unknown", "data_loss":
			level = slog.LevelError
		case "unavailable":
			level = slog.LevelWarn
		case "":
			if status >= 500 {
				level = slog.LevelError
			}
		}
		s.log.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

func codeFromStatus(status int) string {
	switch status {
	case http.StatusOK:
		return "ok"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusTooManyRequests:
		return connect.CodeResourceExhausted.String()
	default:
		return ""
	}
}
