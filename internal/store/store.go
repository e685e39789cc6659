// Package store defines the registry's storage: the metadata of owners,
// modules, commits and labels, and the content-addressed blobs that hold
// file contents. The handlers of `protomod serve` see only the interfaces in
// this package, so another backend (for example PostgreSQL plus object
// storage) can replace the embedded SQLite one without touching them.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors that callers can test for with errors.Is. Implementations wrap them
// with a message that names the missing or conflicting thing.
var (
	// ErrNotFound: the owner, module, commit, label, token or blob does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a create collided with an existing name.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalid: an argument breaks a rule of the store (bad name, bad digest, ...).
	ErrInvalid = errors.New("invalid argument")
	// ErrBusy: the store could not get the write lock in time; the caller may retry.
	ErrBusy = errors.New("store busy")
	// ErrCorrupt: stored data fails verification (a blob does not hash to its address).
	ErrCorrupt = errors.New("corrupt data")
)

// OwnerKind tells users from organizations.
type OwnerKind int

// Owner kinds. The values match buf.registry.owner.v1.Owner's oneof numbers.
const (
	OwnerUser         OwnerKind = 1
	OwnerOrganization OwnerKind = 2
)

func (k OwnerKind) String() string {
	switch k {
	case OwnerUser:
		return "user"
	case OwnerOrganization:
		return "organization"
	default:
		return "unknown owner kind"
	}
}

// Owner is a user or an organization.
type Owner struct {
	ID         string
	Name       string
	Kind       OwnerKind
	CreateTime time.Time
	UpdateTime time.Time
}

// Visibility of a module. The values match buf.registry.module.v1.ModuleVisibility.
type Visibility int

// Visibilities.
const (
	VisibilityPublic  Visibility = 1
	VisibilityPrivate Visibility = 2
)

// ModuleState of a module. The values match buf.registry.module.v1.ModuleState.
type ModuleState int

// Module states.
const (
	ModuleActive     ModuleState = 1
	ModuleDeprecated ModuleState = 2
)

// DefaultLabelName is the default label of a module created without one.
const DefaultLabelName = "main"

// Module is a named module of an owner.
type Module struct {
	ID           string
	OwnerID      string
	OwnerName    string
	Name         string
	Visibility   Visibility
	State        ModuleState
	Description  string
	URL          string
	DefaultLabel string
	CreateTime   time.Time
	UpdateTime   time.Time
}

// FullName returns owner/name.
func (m Module) FullName() string { return m.OwnerName + "/" + m.Name }

// Commit is an immutable snapshot of a module's files and dependencies.
type Commit struct {
	ID               string // dashless, 32 lowercase hex characters
	ModuleID         string
	OwnerID          string
	Digest           []byte // the 64 raw bytes of the b5 digest
	CreateTime       time.Time
	CreatedByUserID  string
	SourceControlURL string
}

// FileRef is one file of a commit: its path and the address of its content.
type FileRef struct {
	Path   string
	SHA256 [32]byte
	Size   int64
}

// Deps lists a commit's dependencies.
type Deps struct {
	// Direct are the commits that the commit's files import from.
	Direct []string
	// All is the transitive closure: every commit reachable from the
	// commit, Direct included. The commit's digest covers exactly these.
	All []string
}

// Label is a movable name for a commit of a module.
type Label struct {
	ID              string
	ModuleID        string
	OwnerID         string
	Name            string
	CommitID        string
	CreateTime      time.Time
	UpdateTime      time.Time
	UpdatedByUserID string
}

// LabelMove is one entry of a label's history: the label was set to CommitID.
type LabelMove struct {
	Seq             int64 // increases with every move, store-wide
	CommitID        string
	Time            time.Time
	UpdatedByUserID string
}

// File is a file with its content, as uploaded.
type File struct {
	Path    string
	Content []byte
}

// PushContent is one module's new content in a Push.
type PushContent struct {
	ModuleID string
	// Files are the module's files, validated by the caller.
	Files []File
	// Digest is the b5 digest of Files and the digests of Deps.All.
	Digest []byte
	// Direct and All are the dependencies, as in Deps, except that each
	// may also name an earlier content of the same Push.
	Direct []DepRef
	All    []DepRef
	// Labels are the names of the labels to point at the commit. Empty
	// means the module's default label.
	Labels           []string
	SourceControlURL string
}

// DepRef names a dependency of a PushContent: an existing commit, or the
// commit that an earlier content of the same Push resolves to.
type DepRef struct {
	CommitID string // set for an existing commit
	Content  int    // index of an earlier PushContent when CommitID is empty
}

// PushResult tells what a PushContent became.
type PushResult struct {
	Commit Commit
	// Created is false when an identical commit (same module, digest and
	// dependencies) already existed and was reused.
	Created bool
}

// Page asks for one page of a listing.
type Page struct {
	Size  int    // 0 means the implementation's default
	Token string // empty for the first page
	Desc  bool   // newest first
}

// Token is a stored API token; only its hash is kept.
type Token struct {
	ID         string
	UserID     string
	Note       string
	CreateTime time.Time
}

// Store is the registry's storage. All methods are safe for concurrent use.
// Lookups that find nothing return an error wrapping ErrNotFound.
type Store interface {
	// Owners and membership.
	CreateUser(ctx context.Context, name string) (Owner, error)
	CreateOrganization(ctx context.Context, name string) (Owner, error)
	AddMember(ctx context.Context, orgName, userName string) error
	OwnerByID(ctx context.Context, id string) (Owner, error)
	OwnerByName(ctx context.Context, name string) (Owner, error)
	// IsMember reports whether userID is ownerID itself or a member of
	// the organization ownerID.
	IsMember(ctx context.Context, ownerID, userID string) (bool, error)

	// Tokens. CreateToken returns the plaintext token, which is not kept.
	CreateToken(ctx context.Context, userName, note string) (string, Token, error)
	// UserByTokenHash returns the user owning the token with this sha256 hash.
	UserByTokenHash(ctx context.Context, hash [32]byte) (Owner, error)

	// Modules. CreateModules creates all of the modules or none: each
	// names its owner by OwnerID or, if that is empty, OwnerName.
	CreateModules(ctx context.Context, ms []Module) ([]Module, error)
	ModuleByID(ctx context.Context, id string) (Module, error)
	ModuleByName(ctx context.Context, ownerName, moduleName string) (Module, error)
	// ListModules lists modules of the given owners (all owners when
	// empty), by create time. The returned token is empty on the last page.
	ListModules(ctx context.Context, ownerIDs []string, page Page) ([]Module, string, error)

	// Commits.
	CommitByID(ctx context.Context, id string) (Commit, error)
	CommitFiles(ctx context.Context, commitID string) ([]FileRef, error)
	CommitDeps(ctx context.Context, commitID string) (Deps, error)
	ListCommits(ctx context.Context, moduleID string, page Page) ([]Commit, string, error)

	// Labels.
	LabelByID(ctx context.Context, id string) (Label, error)
	LabelByName(ctx context.Context, moduleID, name string) (Label, error)
	ListLabels(ctx context.Context, moduleID string, page Page) ([]Label, string, error)
	LabelHistory(ctx context.Context, labelID string, page Page) ([]LabelMove, string, error)

	// Push stores the blobs of all contents, then creates their commits
	// and moves their labels in one transaction: after a crash either all
	// of it is visible or none of it.
	Push(ctx context.Context, userID string, contents []PushContent) ([]PushResult, error)

	// Blob returns a file's content, verified against its address.
	Blob(ctx context.Context, sha [32]byte) ([]byte, error)

	// Fsck checks the store's integrity. digest recomputes a commit's b5
	// from its files and its dependencies' digests.
	Fsck(ctx context.Context, opts FsckOptions) (FsckReport, error)

	Close() error
}

// Blobs stores contents by their sha256. Put must be durable when it
// returns. Implementations must be safe for concurrent use.
type Blobs interface {
	Put(ctx context.Context, sha [32]byte, data []byte) error
	// Get returns the content, verified against sha (ErrCorrupt if not).
	Get(ctx context.Context, sha [32]byte) ([]byte, error)
	// Walk calls fn for every stored address, in no particular order.
	Walk(ctx context.Context, fn func(sha [32]byte) error) error
	Delete(ctx context.Context, sha [32]byte) error
}
