package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// NewID returns a new dashless ID: a random UUIDv4 as 32 lowercase hex
// characters. IDs are random rather than time-ordered (UUIDv7) because
// their first 12 characters name a commit in SDK versions and queries
// (goproxy.md §10): they must differ between commits made in the same
// millisecond. Creation order is kept by the store's own sequence columns.
func NewID() string {
	u := uuid.New()
	return hex.EncodeToString(u[:])
}

// TokenPrefix starts every token this registry issues, so leaked tokens are
// easy to recognise.
const TokenPrefix = "pm_"

// GenerateToken returns a new random API token.
func GenerateToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return TokenPrefix + hex.EncodeToString(b[:]), nil
}

// HashToken returns the sha256 under which a token is stored.
func HashToken(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// ValidateOwnerName checks a user or organization name: 2 to 64
// characters, ASCII letters, digits and '-', starting with a letter or digit.
func ValidateOwnerName(name string) error {
	return validateName("owner", name, 2, 64)
}

// ValidateModuleName checks a module name: 1 to 100 characters, ASCII
// letters, digits, '-', '_' and '.', starting with a letter or digit.
func ValidateModuleName(name string) error {
	return validateName("module", name, 1, 100)
}

func validateName(kind, name string, minLen, maxLen int) error {
	if len(name) < minLen || len(name) > maxLen {
		return fmt.Errorf("%w: %s name %q must be %d to %d characters long", ErrInvalid, kind, name, minLen, maxLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i > 0 {
			ok = ok || c == '-' || (kind == "module" && (c == '_' || c == '.'))
		}
		if !ok {
			allowed := "letters, digits and '-'"
			if kind == "module" {
				allowed = "letters, digits, '-', '_' and '.'"
			}
			return fmt.Errorf("%w: %s name %q may contain only %s, and must start with a letter or digit", ErrInvalid, kind, name, allowed)
		}
	}
	return nil
}

// ValidateLabelName checks a label name: 1 to 250 bytes of valid UTF-8
// without whitespace, control characters or ':' (which would end a
// reference's ref part).
func ValidateLabelName(name string) error {
	if name == "" || len(name) > 250 {
		return fmt.Errorf("%w: label name %q must be 1 to 250 bytes long", ErrInvalid, name)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: label name %q is not valid UTF-8", ErrInvalid, name)
	}
	if i := strings.IndexFunc(name, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == ':'
	}); i >= 0 {
		return fmt.Errorf("%w: label name %q must not contain whitespace, control characters or ':'", ErrInvalid, name)
	}
	return nil
}
