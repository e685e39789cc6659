package login

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// oauthServer is a device-flow endpoint on loopback. tokenReplies are the
// answers to successive token polls: status and JSON body.
type oauthServer struct {
	serverConfig
	t *testing.T

	mu    sync.Mutex
	polls int
}

// serverConfig is how a test server answers; nil functions give the
// normal answer.
type serverConfig struct {
	registration func(w http.ResponseWriter)
	authz        func(w http.ResponseWriter)
	tokenReplies []reply
}

type reply struct {
	status int
	body   string
}

func (s *oauthServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := s.t
	if r.Method != http.MethodPost || r.Header.Get("Accept") != "application/json" {
		t.Errorf("%s %s with Accept %q", r.Method, r.URL.Path, r.Header.Get("Accept"))
	}
	body, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case "/oauth2/device/registration":
		var req map[string]string
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &req) != nil || req["client_name"] != "protomod-test" {
			t.Errorf("registration: %s %q", r.Header.Get("Content-Type"), body)
		}
		if s.registration != nil {
			s.registration(w)
			return
		}
		io.WriteString(w, `{"client_id":"cid","client_secret":"csecret"}`)
	case "/oauth2/device/authorization":
		form := parseForm(t, r, body)
		if form.Get("client_id") != "cid" || form.Get("client_secret") != "csecret" {
			t.Errorf("authorization form %v", form)
		}
		if s.authz != nil {
			s.authz(w)
			return
		}
		io.WriteString(w, `{"device_code":"dev123","user_code":"ABCD-EFGH","verification_uri":"https://example.invalid/activate","verification_uri_complete":"https://example.invalid/activate?code=ABCD-EFGH","expires_in":600,"interval":1}`)
	case "/oauth2/device/token":
		form := parseForm(t, r, body)
		want := url.Values{
			"grant_type":    {"urn:ietf:params:oauth:grant-type:device_code"},
			"device_code":   {"dev123"},
			"client_id":     {"cid"},
			"client_secret": {"csecret"},
		}
		if form.Encode() != want.Encode() {
			t.Errorf("token form %v, want %v", form, want)
		}
		s.mu.Lock()
		i := s.polls
		s.polls++
		s.mu.Unlock()
		if i >= len(s.tokenReplies) {
			t.Errorf("unexpected poll %d", i+1)
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_request"}`)
			return
		}
		w.WriteHeader(s.tokenReplies[i].status)
		io.WriteString(w, s.tokenReplies[i].body)
	default:
		t.Errorf("unexpected path %s", r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
	}
}

func parseForm(t *testing.T, r *http.Request, body []byte) url.Values {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("%s: content type %q", r.URL.Path, ct)
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		t.Errorf("%s: %v", r.URL.Path, err)
	}
	return v
}

func status(code int) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) { w.WriteHeader(code) }
}

func TestDeviceFlow(t *testing.T) {
	tests := []struct {
		name         string
		server       serverConfig
		cancelOnShow bool
		wantToken    string
		wantErr      string // "URL" stands for the server's URL
		wantIs       error
		wantShow     string
		wantPolls    int
	}{
		{
			name:      "token on the first poll",
			server:    serverConfig{tokenReplies: []reply{{200, `{"access_token":"tok-1","token_type":"bearer"}`}}},
			wantToken: "tok-1",
			wantShow:  "https://example.invalid/activate?code=ABCD-EFGH ABCD-EFGH",
			wantPolls: 1,
		},
		{
			name: "pending, then the token",
			server: serverConfig{tokenReplies: []reply{
				{400, `{"error":"authorization_pending"}`},
				{200, `{"access_token":"tok-2"}`},
			}},
			wantToken: "tok-2",
			wantShow:  "https://example.invalid/activate?code=ABCD-EFGH ABCD-EFGH",
			wantPolls: 2,
		},
		{
			name: "verification_uri when there is no complete one",
			server: serverConfig{
				authz: func(w http.ResponseWriter) {
					io.WriteString(w, `{"device_code":"dev123","user_code":"WXYZ","verification_uri":"https://example.invalid/activate","interval":0}`)
				},
				tokenReplies: []reply{{200, `{"access_token":"tok-3"}`}},
			},
			wantToken: "tok-3",
			wantShow:  "https://example.invalid/activate WXYZ",
			wantPolls: 1,
		},
		{
			name:      "access denied",
			server:    serverConfig{tokenReplies: []reply{{400, `{"error":"access_denied","error_description":"the user said no"}`}}},
			wantErr:   "access_denied: the user said no",
			wantShow:  "https://example.invalid/activate?code=ABCD-EFGH ABCD-EFGH",
			wantPolls: 1,
		},
		{
			name:      "expired device code",
			server:    serverConfig{tokenReplies: []reply{{400, `{"error":"expired_token"}`}}},
			wantErr:   "expired_token",
			wantShow:  "https://example.invalid/activate?code=ABCD-EFGH ABCD-EFGH",
			wantPolls: 1,
		},
		{
			name:    "registration not offered (404)",
			server:  serverConfig{registration: status(http.StatusNotFound)},
			wantIs:  ErrDeviceFlowUnsupported,
			wantErr: ErrDeviceFlowUnsupported.Error(),
		},
		{
			name:    "authorization not implemented (501)",
			server:  serverConfig{authz: status(http.StatusNotImplemented)},
			wantIs:  ErrDeviceFlowUnsupported,
			wantErr: ErrDeviceFlowUnsupported.Error(),
		},
		{
			name:    "server error without a body",
			server:  serverConfig{registration: status(http.StatusInternalServerError)},
			wantErr: "POST URL/oauth2/device/registration: 500 Internal Server Error",
		},
		{
			name: "invalid JSON",
			server: serverConfig{registration: func(w http.ResponseWriter) {
				io.WriteString(w, `{"client_id":`)
			}},
			wantErr: "POST URL/oauth2/device/registration: invalid JSON response: unexpected end of JSON input",
		},
		{
			name:         "cancelled while waiting",
			server:       serverConfig{},
			cancelOnShow: true,
			wantIs:       context.Canceled,
			wantErr:      context.Canceled.Error(),
			wantShow:     "https://example.invalid/activate?code=ABCD-EFGH ABCD-EFGH",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &oauthServer{serverConfig: tt.server, t: t}
			srv := httptest.NewServer(s)
			defer srv.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var shown string
			token, err := DeviceFlow(ctx, srv.Client(), srv.URL, "protomod-test", func(link, code string) {
				shown = link + " " + code
				if tt.cancelOnShow {
					cancel()
				}
			})
			if tt.wantErr != "" {
				want := strings.ReplaceAll(tt.wantErr, "URL", srv.URL)
				if err == nil || err.Error() != want {
					t.Errorf("error %v, want %q", err, want)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("error %v is not %v", err, tt.wantIs)
				}
			} else if err != nil || token != tt.wantToken {
				t.Errorf("DeviceFlow() = %q, %v; want %q", token, err, tt.wantToken)
			}
			if shown != tt.wantShow {
				t.Errorf("shown %q, want %q", shown, tt.wantShow)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.polls != tt.wantPolls {
				t.Errorf("%d token polls, want %d", s.polls, tt.wantPolls)
			}
		})
	}
}

func TestDeviceFlowUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there any more
	_, err := DeviceFlow(context.Background(), http.DefaultClient, base, "protomod-test", func(string, string) {
		t.Error("show called")
	})
	if err == nil || errors.Is(err, ErrDeviceFlowUnsupported) {
		t.Errorf("error %v, want a connection error", err)
	}
}

// pipeWith returns the read end of a pipe holding data (writer closed).
func pipeWith(t *testing.T, data string) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	go func() {
		io.WriteString(w, data)
		w.Close()
	}()
	return r
}

func TestReadSecret(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr error
	}{
		{in: "secret\n", want: "secret"},
		{in: "  spaced token \r\n", want: "spaced token"},
		{in: "no-newline", want: "no-newline"},
		{in: "first\nsecond\n", want: "first"},
		{in: "\n", want: ""},
		{in: "", wantErr: io.EOF},
	}
	for _, tt := range tests {
		got, err := ReadSecret(pipeWith(t, tt.in))
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ReadSecret(%q) error %v, want %v", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ReadSecret(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	if IsTerminal(pipeWith(t, "x")) {
		t.Error("a pipe is a terminal")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is a terminal")
	}
}
