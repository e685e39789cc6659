package server

import (
	"context"

	"github.com/protomod/protomod/internal/store"
	"github.com/protomod/protomod/internal/store/sqlitestore"
)

// OpenStore opens the embedded store in dataDir (DefaultDataDir() if empty)
// for the admin commands: CreateUser, CreateOrganization, AddMember and
// CreateToken are methods of the returned store; use Fsck below for checks.
// A server may be running on the same directory at the same time.
func OpenStore(ctx context.Context, dataDir string) (*sqlitestore.Store, error) {
	if dataDir == "" {
		dataDir = DefaultDataDir()
	}
	return sqlitestore.Open(ctx, dataDir, sqlitestore.Options{})
}

// Fsck checks a store, recomputing every commit's b5 digest. With collect,
// it also deletes orphan blobs; that needs the data directory to itself
// (no server running on it).
func Fsck(ctx context.Context, st store.Store, collect bool) (store.FsckReport, error) {
	return st.Fsck(ctx, store.FsckOptions{Digest: b5, CollectOrphans: collect})
}
