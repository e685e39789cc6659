// Package digest computes module digests: the SHAKE-256/64 file digests, the
// manifest, the files digest, b5 (files digest plus the b5 digests of all
// dependencies) and the legacy b4, and parses and prints digest strings of
// the form "<type>:<128 lowercase hex>".
package digest

import (
	"crypto/sha3"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/protomod/protomod/internal/bufname"
)

// Size is the length in bytes of every digest value (SHAKE-256 with 64 bytes
// of output).
const Size = 64

// Type is the kind of a digest.
type Type uint8

const (
	// TypeShake256 is a plain SHAKE-256/64 digest, written "shake256:…". File
	// digests, files digests and b4 module digests have this type.
	TypeShake256 Type = iota + 1
	// TypeB5 is a b5 module digest, written "b5:…".
	TypeB5
)

// String returns "shake256" or "b5".
func (t Type) String() string {
	switch t {
	case TypeShake256:
		return "shake256"
	case TypeB5:
		return "b5"
	default:
		return strconv.Itoa(int(t))
	}
}

// ParseType parses "shake256" or "b5".
func ParseType(s string) (Type, error) {
	switch s {
	case "shake256":
		return TypeShake256, nil
	case "b5":
		return TypeB5, nil
	default:
		return 0, &bufname.ParseError{Kind: "module digest type", Input: s,
			Err: fmt.Errorf("unknown type: %q", s)}
	}
}

// Digest is a typed 64-byte digest. The zero value means "no digest".
type Digest struct {
	Type  Type
	Value [Size]byte
}

// String returns "<type>:<128 lowercase hex>", or "" for the zero Digest.
func (d Digest) String() string {
	if d.IsZero() {
		return ""
	}
	return string(d.appendTo(make([]byte, 0, 9+2*Size)))
}

func (d Digest) appendTo(b []byte) []byte {
	b = append(b, d.Type.String()...)
	b = append(b, ':')
	return hex.AppendEncode(b, d.Value[:])
}

// IsZero reports whether d is the zero Digest.
func (d Digest) IsZero() bool { return d == Digest{} }

// MarshalText implements encoding.TextMarshaler.
func (d Digest) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return nil, errors.New("cannot marshal an empty digest")
	}
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with Parse.
func (d *Digest) UnmarshalText(text []byte) error {
	p, err := Parse(string(text))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// FromBytes builds a Digest from its type and raw value, as carried on the
// wire (registry-api.md: {type, value}). The value must be 64 bytes.
func FromBytes(t Type, value []byte) (Digest, error) {
	if t != TypeShake256 && t != TypeB5 {
		return Digest{}, fmt.Errorf("unknown digest type %d", int(t))
	}
	if len(value) != Size {
		return Digest{}, fmt.Errorf("invalid shake256 digest value: expected %d bytes, got %d", Size, len(value))
	}
	d := Digest{Type: t}
	copy(d.Value[:], value)
	return d, nil
}

const errForm = `must in the form "digest_type:digest_hex_value"`

// Parse parses "<type>:<hex>" where type is b5 or shake256 and the hex
// decodes to exactly 64 bytes. The error texts are the reference CLI's.
func Parse(s string) (Digest, error) {
	if s == "" {
		return Digest{}, &bufname.ParseError{Kind: "module digest", Err: errors.New("digest is empty")}
	}
	typeString, hexValue, ok := strings.Cut(s, ":")
	if !ok {
		return Digest{}, &bufname.ParseError{Kind: "module digest", Input: s, Err: errors.New(errForm)}
	}
	t, err := ParseType(typeString)
	if err != nil {
		return Digest{}, &bufname.ParseError{Kind: "module digest", Input: s, Err: err}
	}
	value, err := hex.DecodeString(hexValue)
	if err != nil {
		return Digest{}, &bufname.ParseError{Kind: "module digest", Input: s,
			Err: errors.New("could not parse hex: " + errForm)}
	}
	return FromBytes(t, value)
}

// MustParse is Parse for constants in tests and tables; it panics on error.
func MustParse(s string) Digest {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// Sum returns the SHAKE-256/64 digest of data, typed shake256.
func Sum(data []byte) Digest {
	d := Digest{Type: TypeShake256}
	h := sha3.NewSHAKE256()
	_, _ = h.Write(data)
	_, _ = h.Read(d.Value[:])
	return d
}
