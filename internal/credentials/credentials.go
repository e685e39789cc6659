// Package credentials finds the API token to send to a registry: first in
// the BUF_TOKEN environment variable, then in the .netrc file, exactly as
// the reference CLI does, and says where the token came from so that
// authentication errors can name the right fix.
package credentials

import (
	"fmt"
	"os"
	"strings"

	"github.com/protomod/protomod/internal/netrc"
)

// EnvVar is the environment variable holding registry tokens.
const EnvVar = "BUF_TOKEN"

// Source tells where a token was found.
type Source int

const (
	// None: no token was found; no Authorization header is sent.
	None Source = iota
	// Env: the token came from $BUF_TOKEN.
	Env
	// Netrc: the token is the password of a .netrc entry.
	Netrc
)

func (s Source) String() string {
	switch s {
	case Env:
		return EnvVar
	case Netrc:
		return ".netrc"
	default:
		return "none"
	}
}

// Token is the credential for one registry.
type Token struct {
	// Value is the token; empty when Source is None.
	Value  string
	Source Source
	// NetrcPath is the .netrc file the token was read from (Source Netrc).
	NetrcPath string
}

// EnvTokens is a parsed BUF_TOKEN value: either one token for every
// registry, or a token per registry host.
type EnvTokens struct {
	all      string
	byRemote map[string]string
}

// ParseEnvTokens parses a BUF_TOKEN value. An empty value has no tokens. A
// value containing neither '@' nor ',' is one token for every registry.
// Otherwise it is a comma-separated list of <token>@<remote>, where the
// token has no ':' and each remote appears once; errors read
// "invalid token: <item>[, <reason>]".
func ParseEnvTokens(value string) (*EnvTokens, error) {
	e := &EnvTokens{}
	if value == "" {
		return e, nil
	}
	items := strings.Split(value, ",")
	if len(items) == 1 && !strings.Contains(value, "@") {
		e.all = value
		return e, nil
	}
	e.byRemote = make(map[string]string, len(items))
	for _, item := range items {
		parts := strings.Split(item, "@")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("invalid token: %s", item)
		}
		token, remote := parts[0], parts[1]
		if strings.Contains(token, ":") {
			return nil, fmt.Errorf("invalid token: %s, token cannot contain special character `:`", item)
		}
		if _, dup := e.byRemote[remote]; dup {
			return nil, fmt.Errorf("invalid token: %s, repeated remote address: %s", item, remote)
		}
		e.byRemote[remote] = token
	}
	return e, nil
}

// Lookup returns the token for remote (a registry host, port included,
// compared exactly).
func (e *EnvTokens) Lookup(remote string) (string, bool) {
	if e == nil {
		return "", false
	}
	if e.all != "" {
		return e.all, true
	}
	t, ok := e.byRemote[remote]
	return t, ok
}

// Provider looks tokens up for registries.
type Provider struct {
	env       *EnvTokens
	netrcPath string
}

// New reads $BUF_TOKEN now; the .netrc file ($NETRC or ~/.netrc) is located
// and read at each lookup, so a login during the run is seen.
func New() (*Provider, error) {
	return NewFrom(os.Getenv(EnvVar), "")
}

// NewFrom is New with explicit inputs: bufToken is the BUF_TOKEN value and
// netrcPath the .netrc file ("" for the default location, found at each
// lookup).
func NewFrom(bufToken, netrcPath string) (*Provider, error) {
	env, err := ParseEnvTokens(bufToken)
	if err != nil {
		return nil, err
	}
	return &Provider{env: env, netrcPath: netrcPath}, nil
}

// Token returns the token for remote: from BUF_TOKEN if it has one for
// remote, else the password of the .netrc entry for remote (or of the
// default entry). A .netrc entry without a password gives no token. A
// missing .netrc is not an error; an unreadable one is.
func (p *Provider) Token(remote string) (Token, error) {
	if t, ok := p.env.Lookup(remote); ok {
		return Token{Value: t, Source: Env}, nil
	}
	path := p.netrcPath
	if path == "" {
		var err error
		if path, err = netrc.Path(); err != nil {
			return Token{}, fmt.Errorf("look up credentials for %s: %w", remote, err)
		}
	}
	m, ok, err := netrc.Lookup(path, remote)
	if err != nil {
		return Token{}, fmt.Errorf("look up credentials for %s: %w (fix the file's permissions, or set $NETRC to another file)", remote, err)
	}
	if !ok || m.Password == "" {
		return Token{}, nil
	}
	return Token{Value: m.Password, Source: Netrc, NetrcPath: path}, nil
}
