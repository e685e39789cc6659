// Package sqlitestore is the embedded registry store: metadata in a SQLite
// database (pure Go, WAL mode, one serialized writer) and file contents in a
// content-addressed blob directory, both under one data directory:
//
//	<data dir>/registry.db   the metadata (plus -wal and -shm files)
//	<data dir>/blobs/        the blobs (see package fsblob)
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/protomod/protomod/internal/store"
	"github.com/protomod/protomod/internal/store/fsblob"
)

// DBFile and BlobDir are the names of the store's parts in the data directory.
const (
	DBFile   = "registry.db"
	BlobDir  = "blobs"
	LockFile = "lock"
)

// errInUse: another process has the data directory open.
var errInUse = errors.New("another process (a running server?) has the data directory open; stop it first")

// Store implements store.Store.
type Store struct {
	dir string
	wdb *sql.DB // one connection, for writes
	rdb *sql.DB // a pool, for reads
	wmu sync.Mutex
	// gate is held shared by pushes (from their first blob write to their
	// commit) and exclusively while fsck deletes orphan blobs.
	gate  sync.RWMutex
	lock  *dirLock
	blobs store.Blobs // reads and verifies the disk (writes, fsck)
	cache store.Blobs // blobs with an in-memory cache (Blob)
	now   func() time.Time
}

var _ store.Store = (*Store)(nil)

// Options tune Open.
type Options struct {
	// BusyTimeout is how long a write waits for another process holding
	// the database's write lock (default 10s).
	BusyTimeout time.Duration
	// MaxReaders caps concurrent read connections (default 8).
	MaxReaders int
	// BlobCacheBytes keeps up to this many bytes of recently read file
	// contents in memory (default 32 MiB; negative disables the cache).
	BlobCacheBytes int64
}

// Open opens (creating if needed) the store in dataDir.
func Open(ctx context.Context, dataDir string, opts Options) (*Store, error) {
	if dataDir == "" {
		return nil, errors.New("open store: no data directory given")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("open store: create data directory: %w", err)
	}
	blobs, err := fsblob.Open(filepath.Join(dataDir, BlobDir))
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", dataDir, err)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	if opts.MaxReaders <= 0 {
		opts.MaxReaders = 8
	}
	lock, err := lockDir(filepath.Join(dataDir, LockFile))
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", dataDir, err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = lock.close()
		}
	}()
	dbPath := filepath.Join(dataDir, DBFile)
	dsn := func(txlock string) string {
		q := url.Values{}
		q.Set("_busy_timeout", fmt.Sprint(opts.BusyTimeout.Milliseconds()))
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "FULL")
		q.Set("_foreign_keys", "1")
		q.Set("_txlock", txlock)
		return "file:" + (&url.URL{Path: dbPath}).EscapedPath() + "?" + q.Encode()
	}
	wdb, err := sql.Open("sqlite", dsn("immediate"))
	if err != nil {
		return nil, fmt.Errorf("open store database %s: %w", dbPath, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	s := &Store{dir: dataDir, wdb: wdb, lock: lock, blobs: blobs, cache: blobs, now: time.Now}
	switch {
	case opts.BlobCacheBytes == 0:
		s.cache = store.NewBlobCache(blobs, 32<<20)
	case opts.BlobCacheBytes > 0:
		s.cache = store.NewBlobCache(blobs, opts.BlobCacheBytes)
	}
	if err := s.migrate(ctx); err != nil {
		_ = wdb.Close()
		return nil, fmt.Errorf("open store database %s: %w", dbPath, err)
	}
	rdb, err := sql.Open("sqlite", dsn("deferred"))
	if err != nil {
		_ = wdb.Close()
		return nil, fmt.Errorf("open store database %s: %w", dbPath, err)
	}
	rdb.SetMaxOpenConns(opts.MaxReaders)
	rdb.SetMaxIdleConns(opts.MaxReaders)
	s.rdb = rdb
	ok = true
	return s, nil
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// Close closes the database. Blobs need no closing.
func (s *Store) Close() error {
	return errors.Join(s.rdb.Close(), s.wdb.Close(), s.lock.close())
}

func (s *Store) migrate(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var v int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return err
		}
		switch {
		case v == schemaVersion:
			return nil
		case v > schemaVersion:
			return fmt.Errorf("the database has schema version %d, newer than this program's %d; use a newer protomod", v, schemaVersion)
		}
		if _, err := tx.ExecContext(ctx, schema); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion))
		return err
	})
}

// write runs fn in a write transaction. Writers of this process are
// serialized; other processes are waited for up to the busy timeout.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return wrapBusy(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return wrapBusy(err)
	}
	return wrapBusy(tx.Commit())
}

// wrapBusy marks SQLite's lock errors as store.ErrBusy so callers can tell
// the client to retry.
func wrapBusy(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: the database is locked by another writer: %v", store.ErrBusy, err)
		}
	}
	return err
}

func nanos(t time.Time) int64 { return t.UnixNano() }
func fromNanos(n int64) time.Time {
	return time.Unix(0, n).UTC()
}
