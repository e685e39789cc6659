// Package registry is protomod's client for registries speaking the BSR
// Connect API (buf.registry.module.v1, buf.registry.owner.v1 and the alpha
// AuthnService). One Client serves every registry: each call picks the
// registry's base URL from the client configuration, attaches the token the
// credentials give for that registry, and translates failures into the
// reference CLI's texts (see Error).
//
// Requests are Connect unary calls with binary protobuf bodies over
// HTTP/1.1, with the proxy taken from the environment. Read methods are
// retried with exponential backoff on transient failures (unavailable,
// connection refused or reset); Upload and CreateModules never are.
// Batching is the caller's job: methods take slices and send one request.
package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/module/v1/modulev1connect"
	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/owner/v1/ownerv1connect"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/clientconfig"
	"github.com/protomod/protomod/internal/credentials"
	"github.com/protomod/protomod/internal/gen/buf/alpha/registry/v1alpha1/registryv1alpha1connect"
)

// DefaultVersion is the Buf-Version header value sent by default: the
// reference CLI version whose behaviour protomod follows.
const DefaultVersion = "1.75.0"

const (
	versionHeader = "Buf-Version"
	warningHeader = "Buf-Warning-Bin"
)

// Options configure a Client. The zero value works: system TLS roots,
// https for every registry, no credentials.
type Options struct {
	// Config decides the scheme, base URL and TLS roots per registry
	// (nil: defaults, as with no configuration file).
	Config *clientconfig.Config
	// Credentials give the token per registry (nil: no tokens).
	Credentials *credentials.Provider
	// Version is the Buf-Version header (default DefaultVersion).
	Version string
	// DialTimeout bounds establishing a TCP connection and the TLS
	// handshake (default 10s).
	DialTimeout time.Duration
	// CallTimeout is the deadline of one attempt of one call, response
	// body included (default 5m).
	CallTimeout time.Duration
	// MaxAttempts is how often a read method is tried in all (default 4).
	MaxAttempts int
	// RetryBackoff is the wait before the first retry; it doubles for each
	// further retry, up to 5s, with some jitter (default 250ms).
	RetryBackoff time.Duration
	// OnRequest, if set, is called for every HTTP request sent, retries
	// included.
	OnRequest func(*http.Request)
	// OnWarning, if set, receives the text of a registry's
	// buf-warning-bin response header.
	OnWarning func(registry, warning string)
	// DialContext replaces the network dialer (for tests and special
	// setups); nil uses net.Dialer with DialTimeout.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client calls registries. It is safe for concurrent use.
type Client struct {
	opts     Options
	config   *clientconfig.Config
	http     *http.Client
	requests atomic.Int64

	mu      sync.Mutex
	remotes map[string]*remote
}

// remote holds the generated clients for one registry.
type remote struct {
	registry string
	baseURL  string
	commits  modulev1connect.CommitServiceClient
	graph    modulev1connect.GraphServiceClient
	modules  modulev1connect.ModuleServiceClient
	download modulev1connect.DownloadServiceClient
	upload   modulev1connect.UploadServiceClient
	owners   ownerv1connect.OwnerServiceClient
	authn    registryv1alpha1connect.AuthnServiceClient
}

// New returns a Client.
func New(opts Options) *Client {
	if opts.Config == nil {
		opts.Config = &clientconfig.Config{}
	}
	if opts.Version == "" {
		opts.Version = DefaultVersion
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 5 * time.Minute
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 4
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = 250 * time.Millisecond
	}
	dial := opts.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: opts.DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	}
	// A custom TLS config and no ForceAttemptHTTP2: HTTP/1.1 only, like
	// the reference CLI.
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dial,
		TLSClientConfig:       opts.Config.TLSConfig(),
		TLSHandshakeTimeout:   opts.DialTimeout,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	c := &Client{opts: opts, config: opts.Config, remotes: map[string]*remote{}}
	c.http = &http.Client{Transport: &countingTransport{next: transport, client: c}}
	return c
}

// Requests returns the number of HTTP requests sent so far, retries
// included.
func (c *Client) Requests() int64 { return c.requests.Load() }

// BaseURL returns where requests for registry go, like
// "https://buf.build".
func (c *Client) BaseURL(registry string) string { return c.config.BaseURL(registry) }

type countingTransport struct {
	next   http.RoundTripper
	client *Client
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.client.requests.Add(1)
	if f := t.client.opts.OnRequest; f != nil {
		f(req)
	}
	return t.next.RoundTrip(req)
}

func (c *Client) remote(registry string) *remote {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.remotes[registry]; ok {
		return r
	}
	base := c.config.BaseURL(registry)
	var copts []connect.ClientOption // binary protobuf, Connect protocol: the defaults
	r := &remote{
		registry: registry,
		baseURL:  base,
		commits:  modulev1connect.NewCommitServiceClient(c.http, base, copts...),
		graph:    modulev1connect.NewGraphServiceClient(c.http, base, copts...),
		modules:  modulev1connect.NewModuleServiceClient(c.http, base, copts...),
		download: modulev1connect.NewDownloadServiceClient(c.http, base, copts...),
		upload:   modulev1connect.NewUploadServiceClient(c.http, base, copts...),
		owners:   ownerv1connect.NewOwnerServiceClient(c.http, base, copts...),
		authn:    registryv1alpha1connect.NewAuthnServiceClient(c.http, base, copts...),
	}
	c.remotes[registry] = r
	return r
}

// callSpec describes one call for call.
type callSpec struct {
	remote    *remote
	procedure string
	// retry allows retries on transient failures (read methods only).
	retry bool
	// token, if set, is sent instead of the credentials' token.
	token *credentials.Token
}

// call runs fn with headers, deadline, retries and error translation.
func call[Req, Res any](
	ctx context.Context,
	c *Client,
	spec callSpec,
	fn func(context.Context, *connect.Request[Req]) (*connect.Response[Res], error),
	msg *Req,
) (*Res, error) {
	var tok credentials.Token
	switch {
	case spec.token != nil:
		tok = *spec.token
	case c.opts.Credentials != nil:
		var err error
		if tok, err = c.opts.Credentials.Token(spec.remote.registry); err != nil {
			return nil, err
		}
	}
	attempts := 1
	if spec.retry {
		attempts = c.opts.MaxAttempts
	}
	backoff := c.opts.RetryBackoff
	for attempt := 1; ; attempt++ {
		res, err := attemptOnce(ctx, c, spec, tok, fn, msg)
		if err == nil {
			return res, nil
		}
		if attempt >= attempts || !transient(err) || ctx.Err() != nil {
			return nil, translate(spec.remote.registry, spec.remote.baseURL, spec.procedure, tok,
				c.opts.CallTimeout, ctx, err)
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, translate(spec.remote.registry, spec.remote.baseURL, spec.procedure, tok,
				c.opts.CallTimeout, ctx, connect.NewError(contextCode(ctx.Err()), ctx.Err()))
		case <-timer.C:
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func contextCode(err error) connect.Code {
	if errors.Is(err, context.DeadlineExceeded) {
		return connect.CodeDeadlineExceeded
	}
	return connect.CodeCanceled
}

// attemptOnce makes one HTTP request.
func attemptOnce[Req, Res any](
	ctx context.Context,
	c *Client,
	spec callSpec,
	tok credentials.Token,
	fn func(context.Context, *connect.Request[Req]) (*connect.Response[Res], error),
	msg *Req,
) (*Res, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
	defer cancel()
	req := connect.NewRequest(msg)
	req.Header().Set(versionHeader, c.opts.Version)
	if tok.Value != "" {
		req.Header().Set("Authorization", "Bearer "+tok.Value)
	}
	res, err := fn(ctx, req)
	if err != nil {
		var ce *connect.Error
		if errors.As(err, &ce) {
			c.warn(spec.remote.registry, ce.Meta())
		}
		return nil, err
	}
	c.warn(spec.remote.registry, res.Header())
	return res.Msg, nil
}

func (c *Client) warn(registry string, h http.Header) {
	if c.opts.OnWarning == nil {
		return
	}
	v := h.Get(warningHeader)
	if v == "" {
		return
	}
	text, err := connect.DecodeBinaryHeader(v)
	if err != nil || len(text) == 0 {
		return
	}
	c.opts.OnWarning(registry, string(text))
}

// transient reports whether a failed attempt may succeed when repeated.
func transient(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	if connect.CodeOf(err) != connect.CodeUnavailable {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false
	}
	// https sent to a plain HTTP server: net/http reports it with an
	// untyped error.
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return false
	}
	return !isTLSError(err)
}

// isTLSError reports TLS failures that repeating will not fix.
func isTLSError(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		record    tls.RecordHeaderError
		alert     tls.AlertError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &record) || errors.As(err, &alert) ||
		errors.As(err, &authority) || errors.As(err, &hostname) || errors.As(err, &invalid)
}
