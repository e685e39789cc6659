package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/protomod/protomod/internal/store"
)

const uploadPath = "/buf.registry.module.v1.UploadService/Upload"

// TestHostileUploads sends uploads that must all be refused with the right
// Connect code and a clear message, and checks that none of them stored
// anything: no commit, no label, no blob.
func TestHostileUploads(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	alice := e.user("alice")
	bob := e.user("bob")
	e.org("acme", "alice")
	ca, cb := e.client(alice), e.client(bob)
	ca.createModule(t, "acme", "base", modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC)
	ca.createModule(t, "acme", "x", modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC)
	ca.createModule(t, "acme", "y", modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC)
	ca.createModule(t, "acme", "secret", modulev1.ModuleVisibility_MODULE_VISIBILITY_PRIVATE)
	cb.createModule(t, "bob", "mine", modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC)
	base1 := ca.mustPush(t, nil, content{owner: "acme", module: "base", files: readModule(t, "base")})[0]
	base2 := ca.mustPush(t, nil, content{owner: "acme", module: "base", files: map[string]string{
		"base/v1/base.proto": "syntax = \"proto3\";\npackage base.v1;\nmessage Base { string id = 1; string name = 2; }\n",
	}})[0]
	secret := ca.mustPush(t, nil, content{owner: "acme", module: "secret", files: map[string]string{"s.proto": "syntax = \"proto3\";\n"}})[0]
	// y@first depends on base1; pushing something that needs both y and
	// base2 puts two commits of base in one closure.
	y := ca.mustPush(t, []string{base1.Id}, content{owner: "acme", module: "y", files: map[string]string{
		"y.proto": "syntax = \"proto3\";\nimport \"base/v1/base.proto\";\n",
	}})[0]

	blobsBefore := countBlobs(t, e.dir)
	ok := "syntax = \"proto3\";\npackage x;\n"
	x := func(files map[string]string) content { return content{owner: "acme", module: "x", files: files} }
	manyFiles := map[string]string{}
	for i := range 100_000 {
		manyFiles[fmt.Sprintf("f%d.proto", i)] = ""
	}

	for _, tc := range []struct {
		name     string
		client   *clients
		deps     []string
		contents []content
		code     connect.Code
		msg      string
	}{
		{"path traversal", ca, nil, []content{x(map[string]string{"../evil.proto": ok})}, connect.CodeInvalidArgument, `invalid module file path "../evil.proto": path must not contain ".."`},
		{"traversal inside", ca, nil, []content{x(map[string]string{"a/../../evil.proto": ok})}, connect.CodeInvalidArgument, `path must not contain ".."`},
		{"absolute path", ca, nil, []content{x(map[string]string{"/etc/x.proto": ok})}, connect.CodeInvalidArgument, `"/etc/x.proto": path must be relative to the module root`},
		{"unnormalized path", ca, nil, []content{x(map[string]string{"./a.proto": ok})}, connect.CodeInvalidArgument, `not normalized, expected "a.proto"`},
		{"empty path", ca, nil, []content{x(map[string]string{"": ok, "a.proto": ok})}, connect.CodeInvalidArgument, "path is empty"},
		{"backslash path", ca, nil, []content{x(map[string]string{`a\b.proto`: ok})}, connect.CodeInvalidArgument, `contains '\'`},
		{"control character", ca, nil, []content{x(map[string]string{"a\nb.proto": ok})}, connect.CodeInvalidArgument, "control characters"},
		{"not a module file", ca, nil, []content{x(map[string]string{"a.proto": ok, "notes.txt": "hi"})}, connect.CodeInvalidArgument, `"notes.txt" is not a module file`},
		{"nested LICENSE", ca, nil, []content{x(map[string]string{"a.proto": ok, "sub/LICENSE": "MIT"})}, connect.CodeInvalidArgument, `"sub/LICENSE" is not a module file`},
		{"two doc files", ca, nil, []content{x(map[string]string{"a.proto": ok, "buf.md": "a", "README.md": "b"})}, connect.CodeInvalidArgument, "only one documentation file may be uploaded, got README.md, buf.md"},
		{"no proto files", ca, nil, []content{x(map[string]string{"LICENSE": "MIT"})}, connect.CodeInvalidArgument, "module acme/x has no .proto files"},
		{"100k files", ca, nil, []content{x(manyFiles)}, connect.CodeResourceExhausted, "the upload has 100000 files, more than this server's limit of 20000"},
		{"file over the per-file limit", ca, nil, []content{x(map[string]string{"a.proto": ok + "//" + strings.Repeat("x", 17<<20)})}, connect.CodeResourceExhausted, `file "a.proto" has 17825824 bytes, more than this server's limit of 16777216 bytes per file`},
		{"missing import", ca, nil, []content{x(map[string]string{"a.proto": "syntax = \"proto3\";\nimport \"base/v1/base.proto\";\n"})}, connect.CodeInvalidArgument, "the upload does not compile: acme/x:a.proto:2:1:imported file does not exist"},
		{"missing dep commit", ca, []string{"0123456789abcdef0123456789abcdef"}, []content{x(map[string]string{"a.proto": ok})}, connect.CodeNotFound, "dependency commit 0123456789abcdef0123456789abcdef not found"},
		{"malformed dep commit", ca, []string{"v1"}, []content{x(map[string]string{"a.proto": ok})}, connect.CodeInvalidArgument, `dependency "v1" is not a commit ID`},
		{"unclosed brace", ca, nil, []content{x(map[string]string{"a.proto": "syntax = \"proto3\";\nmessage A {\n"})}, connect.CodeInvalidArgument, "the upload does not compile: acme/x:a.proto:2:11:encountered unmatched `{` delimiter"},
		{"unterminated comment", ca, nil, []content{x(map[string]string{"a.proto": "syntax = \"proto3\";\n/* oops\n"})}, connect.CodeInvalidArgument, "the upload does not compile: acme/x:a.proto:2:1:encountered unmatched `/*` delimiter"},
		{"unterminated string", ca, nil, []content{x(map[string]string{"a.proto": "syntax = \"proto3\";\nimport \"a.proto;\n"})}, connect.CodeInvalidArgument, "\nacme/x:a.proto:2:8:unterminated string literal\n"},
		{"stray brace", ca, nil, []content{x(map[string]string{"a.proto": ok + "message A {}\n}\n"})}, connect.CodeInvalidArgument, "the upload does not compile: acme/x:a.proto:4:1:encountered unmatched `}` delimiter\nacme/x:a.proto:4:1:unexpected `}` in file scope"},
		{"stray character", ca, nil, []content{x(map[string]string{"a.proto": ok + "message A { int32 x = 1; } $\n"})}, connect.CodeInvalidArgument, "the upload does not compile: acme/x:a.proto:3:28:unexpected `$` in file scope"},
		{"import without semicolon", ca, nil, []content{x(map[string]string{"a.proto": ok + "import \"google/protobuf/empty.proto\"\nmessage A {}\n"})}, connect.CodeInvalidArgument, "the upload does not compile: acme/x:a.proto:4:1:unexpected `message` after import"},
		{"undefined type", ca, nil, []content{x(map[string]string{"a.proto": ok + "message A { Missing m = 1; }\n"})}, connect.CodeInvalidArgument, "the upload does not compile: acme/x:a.proto:3:13:cannot find `Missing` in this scope"},
		{"bad label", ca, nil, []content{{owner: "acme", module: "x", files: map[string]string{"a.proto": ok}, labels: []string{"has space"}}}, connect.CodeInvalidArgument, `label name "has space" must not contain whitespace`},
		{"two commits of one module", ca, []string{y.Id, base2.Id}, []content{x(map[string]string{
			"a.proto": "syntax = \"proto3\";\nimport \"y.proto\";\nimport \"base/v1/base.proto\";\n",
		})}, connect.CodeInvalidArgument, "the dependencies of acme/x include module acme/base twice"},
		{"depends on itself", ca, []string{base1.Id}, []content{{owner: "acme", module: "base", files: map[string]string{
			"b.proto": "syntax = \"proto3\";\nimport \"base/v1/base.proto\";\n",
		}}}, connect.CodeInvalidArgument, "module acme/base would depend on commit " + base1.Id + " of itself"},
		// The files form no cycle (y2 -> x -> yy), the modules do (x <-> y).
		{"module cycle", ca, nil, []content{
			x(map[string]string{"x.proto": "syntax = \"proto3\";\nimport \"yy.proto\";\n"}),
			{owner: "acme", module: "y", files: map[string]string{
				"yy.proto": "syntax = \"proto3\";\n",
				"y2.proto": "syntax = \"proto3\";\nimport \"x.proto\";\n",
			}},
		}, connect.CodeInvalidArgument, "cycle detected in module dependencies:\n    acme/x\n -> acme/y\n -> acme/x"},
		{"file imports itself", ca, nil, []content{x(map[string]string{"a.proto": "syntax = \"proto3\";\nimport \"a.proto\";\n"})}, connect.CodeInvalidArgument, "the upload does not compile: acme/x:a.proto:2:1:detected cyclic import while importing \"a.proto\""},
		{"same module twice", ca, nil, []content{x(map[string]string{"a.proto": ok}), x(map[string]string{"b.proto": ok})}, connect.CodeInvalidArgument, "module acme/x appears twice in the upload"},
		{"same path in two modules", ca, nil, []content{x(map[string]string{"a.proto": ok}), {owner: "acme", module: "y", files: map[string]string{"a.proto": ok}}}, connect.CodeInvalidArgument, "a.proto is contained in more than one uploaded module: acme/x and acme/y"},
		{"unknown module", ca, nil, []content{{owner: "acme", module: "nope", files: map[string]string{"a.proto": ok}}}, connect.CodeNotFound, "module acme/nope not found"},
		{"no token", e.client(""), nil, []content{x(map[string]string{"a.proto": ok})}, connect.CodeUnauthenticated, "uploading requires authentication"},
		{"wrong token", e.client("pm_wrong"), nil, []content{x(map[string]string{"a.proto": ok})}, connect.CodeUnauthenticated, "the token is not valid for this registry"},
		{"another owner's public module", cb, nil, []content{x(map[string]string{"a.proto": ok})}, connect.CodePermissionDenied, "pushing to acme/x: user bob is not a member of acme"},
		{"another owner's private module", cb, nil, []content{{owner: "acme", module: "secret", files: map[string]string{"a.proto": ok}}}, connect.CodeNotFound, "module acme/secret not found"},
		{"another owner's private commit as dep", cb, []string{secret.Id}, []content{{owner: "bob", module: "mine", files: map[string]string{"a.proto": ok}}}, connect.CodeNotFound, "dependency commit " + secret.Id + " not found"},
		{"no contents", ca, nil, nil, connect.CodeInvalidArgument, "the upload has no contents"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.client.push(ctx, tc.deps, tc.contents...)
			wantCode(t, err, tc.code, tc.msg)
		})
	}

	t.Run("file import cycle", func(t *testing.T) {
		_, err := ca.push(ctx, nil,
			x(map[string]string{"x.proto": "syntax = \"proto3\";\nimport \"yy.proto\";\n"}),
			content{owner: "acme", module: "y", files: map[string]string{"yy.proto": "syntax = \"proto3\";\nimport \"x.proto\";\n"}},
		)
		wantCode(t, err, connect.CodeInvalidArgument, "")
		// The compiler may enter the cycle from either file.
		const prefix = "invalid_argument: the upload does not compile: "
		if got := err.Error(); got != prefix+`acme/x:x.proto:2:1:detected cyclic import while importing "yy.proto"` &&
			got != prefix+`acme/y:yy.proto:2:1:detected cyclic import while importing "x.proto"` {
			t.Errorf("error %q does not name the import cycle", got)
		}
	})

	t.Run("invalid UTF-8 path", func(t *testing.T) {
		body := encodeUpload("acme", "x", "bad\xff.proto", []byte(ok))
		resp := postRaw(t, e.srv.URL()+uploadPath, alice, bytes.NewReader(body), int64(len(body)))
		wantWireError(t, resp, http.StatusBadRequest, "invalid_argument", "invalid UTF-8")
	})

	t.Run("1 GiB file is refused before it is read", func(t *testing.T) {
		const size = 1 << 30
		prefix := encodeUploadPrefix("acme", "x", "big.proto", size)
		zeros := &countingZeros{left: size}
		resp := postRaw(t, e.srv.URL()+uploadPath, alice, io.MultiReader(bytes.NewReader(prefix), zeros), int64(len(prefix))+size)
		wantWireError(t, resp, http.StatusTooManyRequests, "resource_exhausted", "larger than this server's limit of 134217728 bytes")
		if read := zeros.read.Load(); read > 64<<20 {
			t.Errorf("the client sent %d bytes of the 1 GiB body before the refusal", read)
		}
	})

	t.Run("1 GiB file without Content-Length stops at the limit", func(t *testing.T) {
		const size = 1 << 30
		prefix := encodeUploadPrefix("acme", "x", "big.proto", size)
		zeros := &countingZeros{left: size}
		resp := postRaw(t, e.srv.URL()+uploadPath, alice, io.MultiReader(bytes.NewReader(prefix), zeros), -1)
		wantWireError(t, resp, http.StatusTooManyRequests, "resource_exhausted", "134217728")
		if read := zeros.read.Load(); read > 256<<20 {
			t.Errorf("the server read %d bytes of the 1 GiB body", read)
		}
	})

	// Nothing was stored: no new blob, no commit or label in acme/x or bob/mine.
	if got := countBlobs(t, e.dir); got != blobsBefore {
		t.Errorf("blobs: %d before the hostile uploads, %d after", blobsBefore, got)
	}
	for _, name := range [][2]string{{"acme", "x"}, {"bob", "mine"}} {
		m, err := e.st.ModuleByName(ctx, name[0], name[1])
		if err != nil {
			t.Fatal(err)
		}
		commits, _, err := e.st.ListCommits(ctx, m.ID, store.Page{})
		if err != nil || len(commits) != 0 {
			t.Errorf("%s/%s has commits %v (err %v)", name[0], name[1], commits, err)
		}
		labels, _, err := e.st.ListLabels(ctx, m.ID, store.Page{})
		if err != nil || len(labels) != 0 {
			t.Errorf("%s/%s has labels %v (err %v)", name[0], name[1], labels, err)
		}
	}
	for _, name := range []string{"base", "y", "secret"} {
		m, _ := e.st.ModuleByName(ctx, "acme", name)
		commits, _, _ := e.st.ListCommits(ctx, m.ID, store.Page{Size: 100})
		want := map[string]int{"base": 2, "y": 1, "secret": 1}[name]
		if len(commits) != want {
			t.Errorf("acme/%s has %d commits, want %d", name, len(commits), want)
		}
	}
}

func countBlobs(t *testing.T, dataDir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(dataDir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// encodeUploadPrefix hand-encodes an UploadRequest with one content holding
// one file, up to (not including) the file's content bytes, so that tests
// can stream contents that do not fit in memory or that proto.Marshal
// refuses.
func encodeUploadPrefix(owner, module, path string, contentLen int) []byte {
	var name []byte
	name = protowire.AppendTag(name, 1, protowire.BytesType)
	name = protowire.AppendString(name, owner)
	name = protowire.AppendTag(name, 2, protowire.BytesType)
	name = protowire.AppendString(name, module)
	var ref []byte
	ref = protowire.AppendTag(ref, 2, protowire.BytesType)
	ref = protowire.AppendBytes(ref, name)
	var filePrefix []byte
	filePrefix = protowire.AppendTag(filePrefix, 1, protowire.BytesType)
	filePrefix = protowire.AppendString(filePrefix, path)
	filePrefix = protowire.AppendTag(filePrefix, 2, protowire.BytesType)
	filePrefix = protowire.AppendVarint(filePrefix, uint64(contentLen))
	fileLen := len(filePrefix) + contentLen
	var contentPrefix []byte
	contentPrefix = protowire.AppendTag(contentPrefix, 1, protowire.BytesType)
	contentPrefix = protowire.AppendBytes(contentPrefix, ref)
	contentPrefix = protowire.AppendTag(contentPrefix, 2, protowire.BytesType)
	contentPrefix = protowire.AppendVarint(contentPrefix, uint64(fileLen))
	contentLenTotal := len(contentPrefix) + fileLen
	var out []byte
	out = protowire.AppendTag(out, 1, protowire.BytesType)
	out = protowire.AppendVarint(out, uint64(contentLenTotal))
	out = append(out, contentPrefix...)
	return append(out, filePrefix...)
}

func encodeUpload(owner, module, path string, data []byte) []byte {
	return append(encodeUploadPrefix(owner, module, path, len(data)), data...)
}

// countingZeros yields left zero bytes and counts how many were read.
type countingZeros struct {
	left int64
	read atomic.Int64
}

func (z *countingZeros) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > z.left {
		n = z.left
	}
	clear(p[:n])
	z.left -= n
	z.read.Add(n)
	return int(n), nil
}

// postRaw sends a Connect unary request with a raw body; size -1 sends it
// chunked, without Content-Length.
func postRaw(t *testing.T, url, token string, body io.Reader, size int64) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/proto")
	req.Header.Set("Connect-Protocol-Version", "1")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// wantWireError checks a Connect error response as the reference CLI sees it.
func wantWireError(t *testing.T, resp *http.Response, status int, code, msgPart string) {
	t.Helper()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d (body %s)", resp.StatusCode, status, data)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var body struct{ Code, Message string }
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatalf("error body %q: %v", data, err)
	}
	if body.Code != code || !strings.Contains(body.Message, msgPart) {
		t.Fatalf("error body %s, want code %s and a message containing %q", data, code, msgPart)
	}
}
