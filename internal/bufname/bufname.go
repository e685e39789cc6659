// Package bufname parses and formats module full names
// (registry/owner/name), module references (registry/owner/name[:ref]) and
// dashless commit IDs, with the error texts of the reference CLI.
package bufname

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// FullName is a module's full name: registry/owner/name.
type FullName struct {
	Registry string
	Owner    string
	Name     string
}

// String returns registry/owner/name.
func (f FullName) String() string {
	if f.IsZero() {
		return ""
	}
	return f.Registry + "/" + f.Owner + "/" + f.Name
}

// IsZero reports whether f is the zero value (no name).
func (f FullName) IsZero() bool { return f == FullName{} }

// Ref is a module reference: a full name and an optional ref (label, commit
// ID, or empty for the module's default label).
type Ref struct {
	FullName FullName
	Ref      string
}

// String returns registry/owner/name[:ref].
func (r Ref) String() string {
	if r.Ref == "" {
		return r.FullName.String()
	}
	return r.FullName.String() + ":" + r.Ref
}

// ParseError is returned for unparseable names and references. Its text is
// `could not parse <kind> "<input>": <reason>`.
type ParseError struct {
	Kind  string
	Input string
	Err   error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("could not parse")
	if e.Kind != "" {
		b.WriteString(" " + e.Kind)
	}
	if e.Input != "" {
		b.WriteString(` "` + e.Input + `"`)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

var (
	errFullNameForm = errors.New("must be in the form registry/owner/name")
	errRefForm      = errors.New("must be in the form registry/owner/name[:ref]")
)

// ParseFullName parses registry/owner/name.
func ParseFullName(s string) (FullName, error) {
	f, ok := splitFullName(s)
	if !ok {
		return FullName{}, &ParseError{Kind: "full name", Input: s, Err: errFullNameForm}
	}
	if err := ValidateRegistry(f.Registry); err != nil {
		return FullName{}, &ParseError{Kind: "full name", Input: s,
			Err: fmt.Errorf("registry %q is not a valid hostname: %w", f.Registry, err)}
	}
	return f, nil
}

// MustParseFullName is ParseFullName for constants in tests and tables.
func MustParseFullName(s string) FullName {
	f, err := ParseFullName(s)
	if err != nil {
		panic(err)
	}
	return f
}

func splitFullName(s string) (FullName, bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return FullName{}, false
	}
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
		if parts[i] == "" {
			return FullName{}, false
		}
	}
	return FullName{Registry: parts[0], Owner: parts[1], Name: parts[2]}, true
}

// ParseRef parses registry/owner/name[:ref]. The registry may carry a
// :port; only a colon after the first slash introduces a ref.
func ParseRef(s string) (Ref, error) {
	bad := func() (Ref, error) {
		return Ref{}, &ParseError{Kind: "reference", Input: s, Err: errRefForm}
	}
	registry, rest, ok := strings.Cut(s, "/")
	if !ok {
		return bad()
	}
	var ref string
	switch parts := strings.Split(rest, ":"); len(parts) {
	case 1:
	case 2:
		rest = parts[0]
		ref = strings.TrimSpace(parts[1])
		if ref == "" {
			return bad()
		}
	default:
		return bad()
	}
	f, ok := splitFullName(registry + "/" + rest)
	if !ok || ValidateRegistry(f.Registry) != nil {
		return bad()
	}
	return Ref{FullName: f, Ref: ref}, nil
}

// ValidateRegistry checks that s is a hostname (IP address or domain name)
// with an optional numeric port of at most 65535.
func ValidateRegistry(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	if len(s) < 2 || len(s) > 254 {
		return errors.New("must be at least 2 and at most 254 characters")
	}
	host := s
	if h, port, err := net.SplitHostPort(s); err == nil {
		if n, err := strconv.ParseUint(port, 10, 32); err == nil && n <= 65535 {
			host = h
		}
	}
	if net.ParseIP(host) != nil {
		return nil
	}
	if err := checkDomain(host); err != nil {
		return fmt.Errorf("must either be a valid IP address or domain name: invalid domain name %q, %w", s, err)
	}
	return nil
}

// checkDomain applies the domain-name rules of Go's resolver: labels of
// letters, digits, '_' and '-', at most 63 bytes, no label starting or
// ending with '-', and at least one non-digit somewhere.
func checkDomain(host string) error {
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	nonNumeric := false
	for _, l := range labels {
		if l == "" {
			return errors.New("empty label")
		}
		if len(l) > 63 {
			return fmt.Errorf("label %q is longer than 63 characters", l)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("label %q starts or ends with a hyphen", l)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '-':
				nonNumeric = true
			default:
				return fmt.Errorf("invalid character %q", c)
			}
		}
	}
	if !nonNumeric {
		return errors.New("must contain a non-numeric character")
	}
	return nil
}

// ParseCommitID checks a dashless commit ID (32 hex characters) and returns
// it lowercased. Like the reference CLI, it does not check UUID version bits.
func ParseCommitID(s string) (string, error) {
	if len(s) != 32 {
		return "", fmt.Errorf("expected dashless uuid to be of length 32 but was %d: %s", len(s), s)
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", fmt.Errorf("invalid UUID %q: %w", s, err)
	}
	return strings.ToLower(s), nil
}

// IsCommitID reports whether s has the form of a dashless commit ID.
func IsCommitID(s string) bool {
	_, err := ParseCommitID(s)
	return err == nil
}

// ModuleKey is a pinned module: registry/owner/name:<commit>.
type ModuleKey struct {
	FullName FullName
	CommitID string
}

// String returns registry/owner/name:<commit>.
func (k ModuleKey) String() string { return k.FullName.String() + ":" + k.CommitID }
