package bufname

import "testing"

func TestParseFullName(t *testing.T) {
	tests := []struct {
		in      string
		want    FullName
		wantErr string
	}{
		{in: "buf.build/acme/weather", want: FullName{"buf.build", "acme", "weather"}},
		{in: "localhost:18080/acme/base", want: FullName{"localhost:18080", "acme", "base"}},
		{in: "127.0.0.1:8080/a/b", want: FullName{"127.0.0.1:8080", "a", "b"}},
		{in: " buf.build / acme / x ", want: FullName{"buf.build", "acme", "x"}},
		{in: "acme/x", wantErr: `could not parse full name "acme/x": must be in the form registry/owner/name`},
		{in: "a/b/c/d", wantErr: `could not parse full name "a/b/c/d": must be in the form registry/owner/name`},
		{in: "buf.build//x", wantErr: `could not parse full name "buf.build//x": must be in the form registry/owner/name`},
		{in: "x/acme/y", wantErr: `could not parse full name "x/acme/y": registry "x" is not a valid hostname: must be at least 2 and at most 254 characters`},
		{in: "bad host/acme/y", wantErr: `could not parse full name "bad host/acme/y": registry "bad host" is not a valid hostname: must either be a valid IP address or domain name: invalid domain name "bad host", invalid character ' '`},
	}
	for _, tt := range tests {
		got, err := ParseFullName(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseFullName(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseFullName(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		in      string
		want    Ref
		wantErr bool
	}{
		{in: "buf.build/acme/x", want: Ref{FullName: FullName{"buf.build", "acme", "x"}}},
		{in: "buf.build/acme/x:v1.2.0", want: Ref{FullName: FullName{"buf.build", "acme", "x"}, Ref: "v1.2.0"}},
		{in: "localhost:18080/acme/x:main", want: Ref{FullName: FullName{"localhost:18080", "acme", "x"}, Ref: "main"}},
		{in: "localhost:18080/acme/x", want: Ref{FullName: FullName{"localhost:18080", "acme", "x"}}},
		{in: "acme/x", wantErr: true},
		{in: "buf.build/acme/x:", wantErr: true},
		{in: "buf.build/acme/x:a:b", wantErr: true},
		{in: "buf.build", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseRef(tt.in)
		if tt.wantErr {
			want := `could not parse reference "` + tt.in + `": must be in the form registry/owner/name[:ref]`
			if err == nil || err.Error() != want {
				t.Errorf("ParseRef(%q) error = %v, want %q", tt.in, err, want)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseRef(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("Ref.String() = %q, want %q", got.String(), tt.in)
		}
	}
}

func TestParseCommitID(t *testing.T) {
	if _, err := ParseCommitID("abcde"); err == nil || err.Error() != "expected dashless uuid to be of length 32 but was 5: abcde" {
		t.Errorf("short commit: %v", err)
	}
	if got, err := ParseCommitID("0B5E0B5E0B5E4B5E8B5E0B5E0B5E0B5E"); err != nil || got != "0b5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e" {
		t.Errorf("upper commit: %v %v", got, err)
	}
	if _, err := ParseCommitID("zb5e0b5e0b5e4b5e8b5e0b5e0b5e0b5e"); err == nil {
		t.Error("non-hex commit accepted")
	}
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"buf.build/acme/x", "localhost:8080/a/b:main", "a/b", "::", "a/b/c:d:e", "[::1]:80/a/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			return
		}
		// A parsed reference must print to a string that parses back to itself.
		r2, err := ParseRef(r.String())
		if err != nil || r2 != r {
			t.Fatalf("round trip of %q: %v -> %q -> %v, %v", s, r, r.String(), r2, err)
		}
	})
}
