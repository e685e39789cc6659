package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/credentials"
)

// DefaultRemote is the registry that login hints name without an argument.
const DefaultRemote = "buf.build"

// LoginCommand is the command the authentication hints suggest.
const LoginCommand = "protomod registry login"

// Error is a failed registry call. Error() is the text the CLI prints after
// "Failure: " (for the unimplemented case it spans five lines). Unwrap gives
// the underlying error, a *connect.Error when the registry answered or the
// transport failed.
type Error struct {
	// Registry is the registry host, as written in module names.
	Registry string
	// Procedure is the RPC path, like
	// "/buf.registry.module.v1.CommitService/GetCommits".
	Procedure string
	// Code is the Connect code; zero when the failure is not an RPC status
	// (for example a response that breaks the API's rules).
	Code connect.Code
	// Bare reports that the reference CLI prints this text without the
	// "Failure: " prefix (TLS certificate errors).
	Bare bool

	msg string
	err error
}

func (e *Error) Error() string { return e.msg }
func (e *Error) Unwrap() error { return e.err }

const authDocs = "For details, visit https://buf.build/docs/bsr/authentication"

const unavailableText = "the server hosted at that remote is unavailable."

// loginCommand returns the login command for registry.
func loginCommand(registry string) string {
	if registry == DefaultRemote {
		return LoginCommand
	}
	return LoginCommand + " " + registry
}

// translate turns a failed call into an *Error with the reference CLI's
// texts. tok is the credential that was sent; callTimeout is the per-call
// deadline, used to word a timeout; baseURL is where the call went.
func translate(registry, baseURL, procedure string, tok credentials.Token, callTimeout time.Duration, callerCtx context.Context, err error) error {
	e := &Error{Registry: registry, Procedure: procedure, err: err}
	var ce *connect.Error
	if !errors.As(err, &ce) {
		e.msg = oneLine(fmt.Sprintf("request to %s%s failed: %v", baseURL, procedure, err))
		return e
	}
	e.Code = ce.Code()
	switch {
	case ce.Code() == connect.CodeUnimplemented ||
		(ce.Code() == connect.CodeUnknown && ce.Message() == fmt.Sprintf("%d %s", http.StatusMethodNotAllowed, http.StatusText(http.StatusMethodNotAllowed))):
		e.msg = fmt.Sprintf("%[1]s for https://%[2]s%[3]s\n"+
			"This version of the buf CLI may require APIs that have not yet been deployed to https://%[2]s\n"+
			"To resolve this failure, you can either:\n"+
			"- Try using an older version of the buf CLI\n"+
			"- Contact the site admin for https://%[2]s to upgrade the instance",
			ce.Error(), registry, procedure)
	case ce.Code() == connect.CodeUnauthenticated || (ce.Code() == connect.CodeUnknown && ce.Message() == ""):
		switch tok.Source {
		case credentials.Env:
			e.msg = fmt.Sprintf("the %[1]s environment variable is not valid for %[2]s. "+
				"Set %[1]s to a valid Buf API token, or unset it. %[3]s", credentials.EnvVar, registry, authDocs)
		case credentials.Netrc:
			e.msg = fmt.Sprintf("your Buf API token for %s is invalid. Run %q using a valid Buf API token. %s",
				registry, loginCommand(registry), authDocs)
		default:
			e.msg = fmt.Sprintf("you are not authenticated for %s. Set the %s environment variable or run %q, "+
				"using a Buf API token as the password. %s", registry, credentials.EnvVar, loginCommand(registry), authDocs)
		}
	case ce.Code() == connect.CodeUnavailable:
		e.msg = unavailableText
		var dnsErr *net.DNSError
		var tlsErr *tls.CertificateVerificationError
		switch {
		case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
			e.msg += fmt.Sprintf(" Are you sure %q is a valid remote address?", dnsErr.Name)
		case errors.As(err, &tlsErr):
			e.msg = "tls certificate verification: " + tlsErr.Error()
			e.Bare = true
		}
	case ce.Code() == connect.CodeNotFound && ce.Message() != "":
		e.msg = ce.Message()
	case ce.Code() == connect.CodeDeadlineExceeded && callerCtx.Err() == nil && !connect.IsWireError(ce):
		e.msg = fmt.Sprintf("request to %s%s timed out after %s; the registry may be overloaded, try again later",
			baseURL, procedure, callTimeout)
	case connect.IsWireError(ce) || ce.Code() == connect.CodeCanceled || ce.Code() == connect.CodeDeadlineExceeded:
		// The registry's own error, or the caller gave up: as the
		// reference CLI shows it.
		e.msg = ce.Error()
	default:
		// Not an answer in the Connect protocol: an HTTP error page, a
		// wrong content type, an unreadable body.
		e.msg = oneLine(fmt.Sprintf("invalid response from %s%s: %s", baseURL, procedure, ce.Error()))
	}
	return e
}

// violation reports a response that breaks the API's rules.
func violation(registry, procedure string, format string, args ...any) error {
	return &Error{Registry: registry, Procedure: procedure, msg: fmt.Sprintf(format, args...)}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
