// Package goproxy serves generated Go SDKs over the GOPROXY protocol: the
// `@v/list`, `.info`, `.mod`, `.zip` and `@latest` endpoints for module
// paths <host>/gen/go/<owner>/<module>/<plugin owner>/<plugin>[/vN].
//
// The handler reads modules and commits through Registry, generates each
// (commit, plugin, version, revision) once with internal/gengo, keeps the
// go.mod and zip in a Store, and serves the stored bytes from then on.
// Everything it does not serve is a 404 with a text/plain message, so that
// the go command falls through to the next GOPROXY entry.
package goproxy

import (
	"context"
	"errors"

	"github.com/protomod/protomod/internal/gengo"
)

// Errors a Registry or Store returns; wrap them with a message.
var (
	// ErrNotFound: no such module, commit, label or key; also a private
	// module the caller may not read.
	ErrNotFound = errors.New("not found")
	// ErrUnauthenticated: the caller sent a token the registry does not
	// accept.
	ErrUnauthenticated = errors.New("unauthenticated")
)

// Module is a registry module.
type Module struct {
	ID          string
	Owner, Name string
	// DefaultLabel names the label whose commit is @latest ("main" if empty).
	DefaultLabel string
	// Private modules' artifacts are marked as private in Cache-Control.
	Private bool
}

// Registry is what the handler needs from the registry. Methods are called
// concurrently.
type Registry interface {
	// Module returns owner/name if the caller may read it. token is the
	// caller's API token ("" for an anonymous request). A missing module, or
	// a private one the caller may not read, is ErrNotFound; a token the
	// registry does not accept is ErrUnauthenticated.
	Module(ctx context.Context, token, owner, name string) (Module, error)
	// Commits returns every commit of the module, in any order, with Owner
	// and Module set.
	Commits(ctx context.Context, moduleID string) ([]gengo.Commit, error)
	// Label returns the ID of the commit a label of the module points to,
	// or ErrNotFound.
	Label(ctx context.Context, moduleID, name string) (string, error)
	// LabelHistory returns the IDs of the commits a label of the module
	// has pointed to, in the order it moved (the current one last), or
	// ErrNotFound. @v/list lists the default label's history.
	LabelHistory(ctx context.Context, moduleID, name string) ([]string, error)
	// Deps returns a commit's dependency closure: every commit reachable
	// from it, one per module, with Owner and Module set.
	Deps(ctx context.Context, commitID string) ([]gengo.Commit, error)
	// Files returns the files of a commit by path.
	Files(ctx context.Context, commitID string) (map[string][]byte, error)
}

// Store keeps generated artifacts forever. Keys are
// "<escaped module path>/@v/<escaped version>.mod" and ".zip" (the GOPROXY
// layout, so a directory store can also be served statically); they hold
// only lowercase letters, digits and -._~!/@.
type Store interface {
	// Get returns the bytes under key, or an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// PutIfAbsent stores data under key unless the key already holds bytes,
	// and returns the bytes the key holds afterwards: data, or what was
	// there before. It must be atomic: concurrent callers all get the same
	// bytes.
	PutIfAbsent(ctx context.Context, key string, data []byte) ([]byte, error)
}
