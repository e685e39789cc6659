package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/protomod/protomod/internal/store"
)

const (
	defaultPageSize = 10
	maxPageSize     = 250
)

// CreateModules creates modules in one transaction: all or none. Empty
// fields get defaults: visibility public, state active, default label "main".
func (s *Store) CreateModules(ctx context.Context, ms []store.Module) ([]store.Module, error) {
	out := make([]store.Module, len(ms))
	now := s.now()
	for i, m := range ms {
		if err := store.ValidateModuleName(m.Name); err != nil {
			return nil, err
		}
		if m.Visibility == 0 {
			m.Visibility = store.VisibilityPublic
		}
		if m.Visibility != store.VisibilityPublic && m.Visibility != store.VisibilityPrivate {
			return nil, fmt.Errorf("%w: unknown module visibility %d", store.ErrInvalid, m.Visibility)
		}
		if m.State == 0 {
			m.State = store.ModuleActive
		}
		if m.DefaultLabel == "" {
			m.DefaultLabel = store.DefaultLabelName
		}
		if err := store.ValidateLabelName(m.DefaultLabel); err != nil {
			return nil, err
		}
		m.ID = store.NewID()
		m.CreateTime, m.UpdateTime = now.UTC(), now.UTC()
		out[i] = m
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		for i := range out {
			if err := createModule(ctx, tx, &out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func createModule(ctx context.Context, tx *sql.Tx, m *store.Module) error {
	var owner store.Owner
	var err error
	if m.OwnerID != "" {
		owner, err = scanOwner(tx.QueryRowContext(ctx, "SELECT id, name, kind, create_time, update_time FROM owners WHERE id = ?", m.OwnerID))
		if errors.Is(err, sql.ErrNoRows) {
			err = fmt.Errorf("%w: owner %s", store.ErrNotFound, m.OwnerID)
		}
	} else {
		owner, err = ownerByName(ctx, tx, m.OwnerName)
	}
	if err != nil {
		return fmt.Errorf("create module %s: %w", m.Name, err)
	}
	m.OwnerID, m.OwnerName = owner.ID, owner.Name
	var existing string
	err = tx.QueryRowContext(ctx, "SELECT name FROM modules WHERE owner_id = ? AND name = ?", owner.ID, m.Name).Scan(&existing)
	if err == nil {
		return fmt.Errorf("%w: module %s/%s already exists", store.ErrAlreadyExists, owner.Name, existing)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO modules (id, owner_id, name, visibility, state, description, url, default_label, create_time, update_time)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.OwnerID, m.Name, int(m.Visibility), int(m.State), m.Description, m.URL, m.DefaultLabel,
		nanos(m.CreateTime), nanos(m.UpdateTime))
	if err != nil {
		return fmt.Errorf("create module %s/%s: %w", m.OwnerName, m.Name, err)
	}
	return nil
}

const moduleColumns = `m.id, m.owner_id, o.name, m.name, m.visibility, m.state, m.description, m.url,
	m.default_label, m.create_time, m.update_time`

func scanModule(row scanner) (store.Module, error) {
	var m store.Module
	var vis, state int
	var ct, ut int64
	if err := row.Scan(&m.ID, &m.OwnerID, &m.OwnerName, &m.Name, &vis, &state, &m.Description, &m.URL,
		&m.DefaultLabel, &ct, &ut); err != nil {
		return store.Module{}, err
	}
	m.Visibility, m.State = store.Visibility(vis), store.ModuleState(state)
	m.CreateTime, m.UpdateTime = fromNanos(ct), fromNanos(ut)
	return m, nil
}

// ModuleByID returns the module with this ID.
func (s *Store) ModuleByID(ctx context.Context, id string) (store.Module, error) {
	m, err := scanModule(s.rdb.QueryRowContext(ctx,
		"SELECT "+moduleColumns+" FROM modules m JOIN owners o ON o.id = m.owner_id WHERE m.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Module{}, fmt.Errorf("%w: module %s", store.ErrNotFound, id)
	}
	return m, err
}

// ModuleByName returns the module owner/name (case-insensitive).
func (s *Store) ModuleByName(ctx context.Context, ownerName, moduleName string) (store.Module, error) {
	m, err := scanModule(s.rdb.QueryRowContext(ctx,
		"SELECT "+moduleColumns+" FROM modules m JOIN owners o ON o.id = m.owner_id WHERE o.name = ? AND m.name = ?",
		ownerName, moduleName))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Module{}, fmt.Errorf("%w: module %s/%s", store.ErrNotFound, ownerName, moduleName)
	}
	return m, err
}

// pageArgs turns a Page into a keyset condition on column key (an integer
// that grows with creation), an ORDER BY direction and a LIMIT.
func pageArgs(p store.Page, key string) (cond string, args []any, order string, limit int, err error) {
	limit = p.Size
	if limit <= 0 {
		limit = defaultPageSize
	}
	if limit > maxPageSize {
		limit = maxPageSize
	}
	order = key + " ASC"
	op := ">"
	if p.Desc {
		order, op = key+" DESC", "<"
	}
	cond = "1"
	if p.Token != "" {
		after, perr := strconv.ParseInt(p.Token, 10, 64)
		if perr != nil || after < 0 {
			return "", nil, "", 0, fmt.Errorf("%w: page token %q is not one this server issued", store.ErrInvalid, p.Token)
		}
		cond = key + " " + op + " ?"
		args = []any{after}
	}
	return cond, args, order, limit, nil
}

// ListModules lists modules of the given owners (all when empty) by creation.
func (s *Store) ListModules(ctx context.Context, ownerIDs []string, p store.Page) ([]store.Module, string, error) {
	cond, args, order, limit, err := pageArgs(p, "m.rowid")
	if err != nil {
		return nil, "", err
	}
	if len(ownerIDs) > 0 {
		cond += " AND m.owner_id IN (?" + strings.Repeat(", ?", len(ownerIDs)-1) + ")"
		for _, id := range ownerIDs {
			args = append(args, id)
		}
	}
	rows, err := s.rdb.QueryContext(ctx,
		"SELECT m.rowid, "+moduleColumns+" FROM modules m JOIN owners o ON o.id = m.owner_id WHERE "+cond+
			" ORDER BY "+order+" LIMIT "+strconv.Itoa(limit+1), args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []store.Module
	var keys []int64
	for rows.Next() {
		var key int64
		m, err := scanModule(prefixScanner{rows, &key})
		if err != nil {
			return nil, "", err
		}
		out, keys = append(out, m), append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := trimPage(out, keys, limit)
	return out, next, nil
}

// prefixScanner scans a leading key column, then hands the rest on.
type prefixScanner struct {
	rows *sql.Rows
	key  *int64
}

func (p prefixScanner) Scan(dest ...any) error {
	return p.rows.Scan(append([]any{p.key}, dest...)...)
}

func trimPage[T any](items []T, keys []int64, limit int) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	return items[:limit], strconv.FormatInt(keys[limit-1], 10)
}

const commitColumns = `c.id, c.module_id, m.owner_id, c.digest, c.create_time, c.created_by, c.source_control_url`

func scanCommit(row scanner) (store.Commit, error) {
	var c store.Commit
	var ct int64
	if err := row.Scan(&c.ID, &c.ModuleID, &c.OwnerID, &c.Digest, &ct, &c.CreatedByUserID, &c.SourceControlURL); err != nil {
		return store.Commit{}, err
	}
	c.CreateTime = fromNanos(ct)
	return c, nil
}

// CommitByID returns the commit with this ID.
func (s *Store) CommitByID(ctx context.Context, id string) (store.Commit, error) {
	return commitByID(ctx, s.rdb, id)
}

func commitByID(ctx context.Context, q queryer, id string) (store.Commit, error) {
	c, err := scanCommit(q.QueryRowContext(ctx,
		"SELECT "+commitColumns+" FROM commits c JOIN modules m ON m.id = c.module_id WHERE c.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Commit{}, fmt.Errorf("%w: commit %s", store.ErrNotFound, id)
	}
	return c, err
}

// CommitFiles returns a commit's files, sorted by path.
func (s *Store) CommitFiles(ctx context.Context, commitID string) ([]store.FileRef, error) {
	return commitFiles(ctx, s.rdb, commitID)
}

func commitFiles(ctx context.Context, q queryer, commitID string) ([]store.FileRef, error) {
	rows, err := q.QueryContext(ctx, "SELECT path, sha256, size FROM commit_files WHERE commit_id = ? ORDER BY path", commitID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.FileRef
	for rows.Next() {
		var f store.FileRef
		var sha []byte
		if err := rows.Scan(&f.Path, &sha, &f.Size); err != nil {
			return nil, err
		}
		if len(sha) != 32 {
			return nil, fmt.Errorf("%w: commit %s file %s has a %d-byte sha256", store.ErrCorrupt, commitID, f.Path, len(sha))
		}
		f.SHA256 = [32]byte(sha)
		out = append(out, f)
	}
	return out, rows.Err()
}

// CommitDeps returns a commit's direct and transitive dependencies, each
// sorted by ID.
func (s *Store) CommitDeps(ctx context.Context, commitID string) (store.Deps, error) {
	return commitDeps(ctx, s.rdb, commitID)
}

func commitDeps(ctx context.Context, q queryer, commitID string) (store.Deps, error) {
	rows, err := q.QueryContext(ctx, "SELECT dep_id, direct FROM commit_deps WHERE commit_id = ? ORDER BY dep_id", commitID)
	if err != nil {
		return store.Deps{}, err
	}
	defer rows.Close()
	var d store.Deps
	for rows.Next() {
		var id string
		var direct bool
		if err := rows.Scan(&id, &direct); err != nil {
			return store.Deps{}, err
		}
		d.All = append(d.All, id)
		if direct {
			d.Direct = append(d.Direct, id)
		}
	}
	return d, rows.Err()
}

// ListCommits lists a module's commits by creation.
func (s *Store) ListCommits(ctx context.Context, moduleID string, p store.Page) ([]store.Commit, string, error) {
	cond, args, order, limit, err := pageArgs(p, "c.seq")
	if err != nil {
		return nil, "", err
	}
	rows, err := s.rdb.QueryContext(ctx,
		"SELECT c.seq, "+commitColumns+" FROM commits c JOIN modules m ON m.id = c.module_id WHERE c.module_id = ? AND "+
			cond+" ORDER BY "+order+" LIMIT "+strconv.Itoa(limit+1), append([]any{moduleID}, args...)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []store.Commit
	var keys []int64
	for rows.Next() {
		var key int64
		c, err := scanCommit(prefixScanner{rows, &key})
		if err != nil {
			return nil, "", err
		}
		out, keys = append(out, c), append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := trimPage(out, keys, limit)
	return out, next, nil
}

const labelColumns = `l.id, l.module_id, m.owner_id, l.name, l.commit_id, l.create_time, l.update_time, l.updated_by`

func scanLabel(row scanner) (store.Label, error) {
	var l store.Label
	var ct, ut int64
	if err := row.Scan(&l.ID, &l.ModuleID, &l.OwnerID, &l.Name, &l.CommitID, &ct, &ut, &l.UpdatedByUserID); err != nil {
		return store.Label{}, err
	}
	l.CreateTime, l.UpdateTime = fromNanos(ct), fromNanos(ut)
	return l, nil
}

// LabelByID returns the label with this ID.
func (s *Store) LabelByID(ctx context.Context, id string) (store.Label, error) {
	l, err := scanLabel(s.rdb.QueryRowContext(ctx,
		"SELECT "+labelColumns+" FROM labels l JOIN modules m ON m.id = l.module_id WHERE l.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Label{}, fmt.Errorf("%w: label %s", store.ErrNotFound, id)
	}
	return l, err
}

// LabelByName returns a module's label (names are case-sensitive).
func (s *Store) LabelByName(ctx context.Context, moduleID, name string) (store.Label, error) {
	l, err := scanLabel(s.rdb.QueryRowContext(ctx,
		"SELECT "+labelColumns+" FROM labels l JOIN modules m ON m.id = l.module_id WHERE l.module_id = ? AND l.name = ?",
		moduleID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Label{}, fmt.Errorf("%w: label %s", store.ErrNotFound, name)
	}
	return l, err
}

// ListLabels lists a module's labels by creation.
func (s *Store) ListLabels(ctx context.Context, moduleID string, p store.Page) ([]store.Label, string, error) {
	cond, args, order, limit, err := pageArgs(p, "l.rowid")
	if err != nil {
		return nil, "", err
	}
	rows, err := s.rdb.QueryContext(ctx,
		"SELECT l.rowid, "+labelColumns+" FROM labels l JOIN modules m ON m.id = l.module_id WHERE l.module_id = ? AND "+
			cond+" ORDER BY "+order+" LIMIT "+strconv.Itoa(limit+1), append([]any{moduleID}, args...)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []store.Label
	var keys []int64
	for rows.Next() {
		var key int64
		l, err := scanLabel(prefixScanner{rows, &key})
		if err != nil {
			return nil, "", err
		}
		out, keys = append(out, l), append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := trimPage(out, keys, limit)
	return out, next, nil
}

// LabelHistory lists the commits a label pointed to, in the order it moved.
func (s *Store) LabelHistory(ctx context.Context, labelID string, p store.Page) ([]store.LabelMove, string, error) {
	cond, args, order, limit, err := pageArgs(p, "seq")
	if err != nil {
		return nil, "", err
	}
	rows, err := s.rdb.QueryContext(ctx,
		"SELECT seq, commit_id, time, updated_by FROM label_moves WHERE label_id = ? AND "+cond+
			" ORDER BY "+order+" LIMIT "+strconv.Itoa(limit+1), append([]any{labelID}, args...)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []store.LabelMove
	var keys []int64
	for rows.Next() {
		var mv store.LabelMove
		var t int64
		if err := rows.Scan(&mv.Seq, &mv.CommitID, &t, &mv.UpdatedByUserID); err != nil {
			return nil, "", err
		}
		mv.Time = fromNanos(t)
		out, keys = append(out, mv), append(keys, mv.Seq)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := trimPage(out, keys, limit)
	return out, next, nil
}

// Blob returns a verified file content.
func (s *Store) Blob(ctx context.Context, sha [32]byte) ([]byte, error) {
	return s.cache.Get(ctx, sha)
}
