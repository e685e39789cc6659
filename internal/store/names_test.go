package store

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateNames(t *testing.T) {
	for _, tc := range []struct {
		kind, name string
		ok         bool
	}{
		{"owner", "acme", true},
		{"owner", "a1-b2", true},
		{"owner", "x", false},
		{"owner", "-x", false},
		{"owner", "a_b", false},
		{"owner", strings.Repeat("a", 65), false},
		{"module", "m", true},
		{"module", "petapis.v1_x-y", true},
		{"module", ".m", false},
		{"module", "a/b", false},
		{"module", "", false},
		{"label", "main", true},
		{"label", "feature/x", true},
		{"label", "v1.2.3", true},
		{"label", "", false},
		{"label", "a b", false},
		{"label", "a:b", false},
		{"label", "tab\there", false},
		{"label", "bad\xff", false},
		{"label", strings.Repeat("l", 251), false},
	} {
		var err error
		switch tc.kind {
		case "owner":
			err = ValidateOwnerName(tc.name)
		case "module":
			err = ValidateModuleName(tc.name)
		default:
			err = ValidateLabelName(tc.name)
		}
		if (err == nil) != tc.ok {
			t.Errorf("%s %q: err = %v, want ok=%v", tc.kind, tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s %q: %v does not wrap ErrInvalid", tc.kind, tc.name, err)
		}
	}
}

func TestIDsAndTokens(t *testing.T) {
	a, b := NewID(), NewID()
	if len(a) != 32 || a == b || strings.ToLower(a) != a {
		t.Errorf("NewID: %q, %q", a, b)
	}
	tok, err := GenerateToken()
	if err != nil || !strings.HasPrefix(tok, TokenPrefix) {
		t.Fatalf("GenerateToken = %q, %v", tok, err)
	}
	if HashToken(tok) == HashToken(tok+"x") || HashToken(tok) != HashToken(tok) {
		t.Error("HashToken is not a function of the token")
	}
}
