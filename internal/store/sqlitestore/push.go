package sqlitestore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/protomod/protomod/internal/store"
)

// Push writes every content's blobs (durably), then in one transaction
// creates the commits (or finds identical existing ones) and moves the
// labels. A crash before the commit leaves only orphan blobs.
func (s *Store) Push(ctx context.Context, userID string, contents []store.PushContent) ([]store.PushResult, error) {
	if len(contents) == 0 {
		return nil, fmt.Errorf("push: %w: nothing to push", store.ErrInvalid)
	}
	s.gate.RLock()
	defer s.gate.RUnlock()
	shas := make([][]store.FileRef, len(contents))
	written := make(map[[32]byte]bool)
	for i, c := range contents {
		if len(c.Digest) != 64 {
			return nil, fmt.Errorf("push: %w: content %d has a %d-byte digest, want 64", store.ErrInvalid, i, len(c.Digest))
		}
		refs := make([]store.FileRef, len(c.Files))
		for j, f := range c.Files {
			sha := sha256.Sum256(f.Content)
			refs[j] = store.FileRef{Path: f.Path, SHA256: sha, Size: int64(len(f.Content))}
			if written[sha] {
				continue
			}
			if err := s.blobs.Put(ctx, sha, f.Content); err != nil {
				return nil, fmt.Errorf("push: %w", err)
			}
			written[sha] = true
		}
		shas[i] = refs
	}
	results := make([]store.PushResult, len(contents))
	err := s.write(ctx, func(tx *sql.Tx) error {
		for i, c := range contents {
			r, err := s.pushOne(ctx, tx, userID, i, c, shas[i], results[:i])
			if err != nil {
				return err
			}
			results[i] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	return results, nil
}

func (s *Store) pushOne(ctx context.Context, tx *sql.Tx, userID string, i int, c store.PushContent,
	files []store.FileRef, earlier []store.PushResult) (store.PushResult, error) {
	var defaultLabel, moduleName string
	err := tx.QueryRowContext(ctx, "SELECT default_label, name FROM modules WHERE id = ?", c.ModuleID).Scan(&defaultLabel, &moduleName)
	if errors.Is(err, sql.ErrNoRows) {
		return store.PushResult{}, fmt.Errorf("%w: module %s", store.ErrNotFound, c.ModuleID)
	}
	if err != nil {
		return store.PushResult{}, err
	}
	resolve := func(refs []store.DepRef) ([]string, error) {
		ids := make([]string, 0, len(refs))
		for _, r := range refs {
			id := r.CommitID
			if id == "" {
				if r.Content < 0 || r.Content >= i {
					return nil, fmt.Errorf("%w: content %d depends on content %d, which does not come before it", store.ErrInvalid, i, r.Content)
				}
				id = earlier[r.Content].Commit.ID
			}
			ids = append(ids, id)
		}
		slices.Sort(ids)
		return slices.Compact(ids), nil
	}
	direct, err := resolve(c.Direct)
	if err != nil {
		return store.PushResult{}, err
	}
	all, err := resolve(c.All)
	if err != nil {
		return store.PushResult{}, err
	}
	for _, d := range direct {
		if _, ok := slices.BinarySearch(all, d); !ok {
			return store.PushResult{}, fmt.Errorf("%w: direct dependency %s is missing from the closure", store.ErrInvalid, d)
		}
	}
	for _, d := range all {
		dc, err := commitByID(ctx, tx, d)
		if err != nil {
			return store.PushResult{}, err
		}
		if dc.ModuleID == c.ModuleID {
			return store.PushResult{}, fmt.Errorf("%w: module %s cannot depend on its own commit %s", store.ErrInvalid, moduleName, d)
		}
	}

	commit, found, err := findIdentical(ctx, tx, c.ModuleID, c.Digest, all)
	if err != nil {
		return store.PushResult{}, err
	}
	created := false
	if !found {
		now := s.now()
		commit = store.Commit{
			ID:               store.NewID(),
			ModuleID:         c.ModuleID,
			Digest:           c.Digest,
			CreateTime:       now.UTC(),
			CreatedByUserID:  userID,
			SourceControlURL: c.SourceControlURL,
		}
		if err := tx.QueryRowContext(ctx, "SELECT owner_id FROM modules WHERE id = ?", c.ModuleID).Scan(&commit.OwnerID); err != nil {
			return store.PushResult{}, err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO commits (id, module_id, digest, create_time, created_by, source_control_url, file_count, dep_count)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			commit.ID, commit.ModuleID, commit.Digest, nanos(now), userID, c.SourceControlURL, len(files), len(all)); err != nil {
			return store.PushResult{}, err
		}
		for _, f := range files {
			if _, err := tx.ExecContext(ctx,
				"INSERT INTO commit_files (commit_id, path, sha256, size) VALUES (?, ?, ?, ?)",
				commit.ID, f.Path, f.SHA256[:], f.Size); err != nil {
				return store.PushResult{}, fmt.Errorf("store file %q: %w", f.Path, err)
			}
		}
		for _, d := range all {
			_, isDirect := slices.BinarySearch(direct, d)
			if _, err := tx.ExecContext(ctx,
				"INSERT INTO commit_deps (commit_id, dep_id, direct) VALUES (?, ?, ?)",
				commit.ID, d, isDirect); err != nil {
				return store.PushResult{}, err
			}
		}
		created = true
	}

	labels := c.Labels
	if len(labels) == 0 {
		labels = []string{defaultLabel}
	}
	for _, name := range labels {
		if err := s.moveLabel(ctx, tx, c.ModuleID, name, commit.ID, userID); err != nil {
			return store.PushResult{}, err
		}
	}
	return store.PushResult{Commit: commit, Created: created}, nil
}

// findIdentical looks for a commit of the module with the same digest and
// the same dependency closure.
func findIdentical(ctx context.Context, tx *sql.Tx, moduleID string, digest []byte, all []string) (store.Commit, bool, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id FROM commits WHERE module_id = ? AND digest = ? ORDER BY seq", moduleID, digest)
	if err != nil {
		return store.Commit{}, false, err
	}
	var candidates []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return store.Commit{}, false, err
		}
		candidates = append(candidates, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return store.Commit{}, false, err
	}
	for _, id := range candidates {
		deps, err := commitDeps(ctx, tx, id)
		if err != nil {
			return store.Commit{}, false, err
		}
		if slices.Equal(deps.All, all) {
			c, err := commitByID(ctx, tx, id)
			if err != nil {
				return store.Commit{}, false, err
			}
			if !bytes.Equal(c.Digest, digest) {
				continue
			}
			return c, true, nil
		}
	}
	return store.Commit{}, false, nil
}

// moveLabel points a module's label at commitID, creating the label if
// needed and recording the move. A label already there does not move.
func (s *Store) moveLabel(ctx context.Context, tx *sql.Tx, moduleID, name, commitID, userID string) error {
	if err := store.ValidateLabelName(name); err != nil {
		return err
	}
	now := nanos(s.now())
	var labelID, current string
	err := tx.QueryRowContext(ctx, "SELECT id, commit_id FROM labels WHERE module_id = ? AND name = ?", moduleID, name).Scan(&labelID, &current)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		labelID = store.NewID()
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO labels (id, module_id, name, commit_id, create_time, update_time, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, labelID, moduleID, name, commitID, now, now, userID); err != nil {
			return fmt.Errorf("create label %q: %w", name, err)
		}
	case err != nil:
		return err
	case current == commitID:
		return nil
	default:
		if _, err := tx.ExecContext(ctx,
			"UPDATE labels SET commit_id = ?, update_time = ?, updated_by = ? WHERE id = ?",
			commitID, now, userID, labelID); err != nil {
			return fmt.Errorf("move label %q: %w", name, err)
		}
	}
	if _, err := tx.ExecContext(ctx,
		"INSERT INTO label_moves (label_id, commit_id, time, updated_by) VALUES (?, ?, ?, ?)",
		labelID, commitID, now, userID); err != nil {
		return fmt.Errorf("record move of label %q: %w", name, err)
	}
	return nil
}
