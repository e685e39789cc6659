package sqlitestore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/protomod/protomod/internal/store"
)

// Fsck checks the store: SQLite's own integrity and foreign keys; every
// commit has all its file and dependency rows, its blobs exist and hash
// right, its dependency closure is closed and has one commit per module, and
// its digest recomputes; every label points at an existing commit of its
// module; every label move names an existing commit. It reports (or, with
// CollectOrphans, deletes) blobs that no commit references.
//
// Fsck reads a consistent snapshot of the metadata, so pushes may go on
// meanwhile. Collecting orphans needs the data directory to itself: it
// fails if another process has the store open, and holds off this
// process's pushes until it is done.
func (s *Store) Fsck(ctx context.Context, opts store.FsckOptions) (store.FsckReport, error) {
	var rep store.FsckReport
	if opts.CollectOrphans {
		release, err := s.lock.exclusive()
		if err != nil {
			return rep, fmt.Errorf("collect orphan blobs in %s: %w", s.dir, err)
		}
		defer release()
		s.gate.Lock()
		defer s.gate.Unlock()
	}
	problem := func(format string, args ...any) {
		rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
	}
	conn, err := s.rdb.Conn(ctx)
	if err != nil {
		return rep, err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return rep, err
	}
	defer func() { _ = tx.Rollback() }()

	for _, pragma := range []string{"PRAGMA integrity_check", "PRAGMA foreign_key_check"} {
		rows, err := tx.QueryContext(ctx, pragma)
		if err != nil {
			return rep, fmt.Errorf("%s: %w", pragma, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return rep, err
			}
			if len(vals) == 1 && fmt.Sprint(vals[0]) == "ok" {
				continue
			}
			problem("%s: %v", pragma, vals)
		}
		rows.Close()
	}

	type commitRow struct {
		c         store.Commit
		fileCount int
		depCount  int
	}
	var commits []commitRow
	rows, err := tx.QueryContext(ctx, `
		SELECT c.id, c.module_id, COALESCE(m.owner_id, ''), c.digest, c.create_time, c.created_by, c.source_control_url,
		       c.file_count, c.dep_count
		FROM commits c LEFT JOIN modules m ON m.id = c.module_id ORDER BY c.seq`)
	if err != nil {
		return rep, err
	}
	for rows.Next() {
		var r commitRow
		var ct int64
		if err := rows.Scan(&r.c.ID, &r.c.ModuleID, &r.c.OwnerID, &r.c.Digest, &ct, &r.c.CreatedByUserID,
			&r.c.SourceControlURL, &r.fileCount, &r.depCount); err != nil {
			rows.Close()
			return rep, err
		}
		r.c.CreateTime = fromNanos(ct)
		commits = append(commits, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, err
	}

	byID := make(map[string]commitRow, len(commits))
	for _, r := range commits {
		byID[r.c.ID] = r
	}
	deps := make(map[string]store.Deps, len(commits))
	referenced := make(map[[32]byte]bool)
	blobOK := make(map[[32]byte]error)
	for _, r := range commits {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rep.Commits++
		id := r.c.ID
		if r.c.OwnerID == "" {
			problem("commit %s: module %s does not exist", id, r.c.ModuleID)
		}
		files, err := commitFiles(ctx, tx, id)
		if err != nil {
			problem("commit %s: %v", id, err)
			continue
		}
		if len(files) != r.fileCount {
			problem("commit %s is partial: it has %d file rows, want %d", id, len(files), r.fileCount)
		}
		d, err := commitDeps(ctx, tx, id)
		if err != nil {
			return rep, err
		}
		deps[id] = d
		if len(d.All) != r.depCount {
			problem("commit %s is partial: it has %d dependency rows, want %d", id, len(d.All), r.depCount)
		}
		if len(r.c.Digest) != 64 {
			problem("commit %s: stored digest has %d bytes, want 64", id, len(r.c.Digest))
		}
		contents := make([]store.File, 0, len(files))
		filesOK := true
		for _, f := range files {
			referenced[f.SHA256] = true
			data, err := s.blobs.Get(ctx, f.SHA256)
			if _, seen := blobOK[f.SHA256]; !seen {
				blobOK[f.SHA256] = err
				if err != nil {
					problem("commit %s file %s: %v", id, f.Path, err)
				}
			}
			if err != nil {
				filesOK = false
				continue
			}
			if int64(len(data)) != f.Size {
				problem("commit %s file %s: blob has %d bytes, want %d", id, f.Path, len(data), f.Size)
			}
			contents = append(contents, store.File{Path: f.Path, Content: data})
		}
		var depDigests [][]byte
		modules := map[string]string{r.c.ModuleID: id}
		depsOK := true
		for _, depID := range d.All {
			dr, ok := byID[depID]
			if !ok {
				problem("commit %s: dependency %s does not exist", id, depID)
				depsOK = false
				continue
			}
			if other, dup := modules[dr.c.ModuleID]; dup {
				problem("commit %s: module %s appears twice in its dependencies (commits %s and %s)", id, dr.c.ModuleID, other, depID)
			}
			modules[dr.c.ModuleID] = depID
			depDigests = append(depDigests, dr.c.Digest)
		}
		for _, direct := range d.Direct {
			// Commits are listed in creation order and a dependency is
			// always older, so its deps are known here.
			for _, transitive := range deps[direct].All {
				if _, ok := slices.BinarySearch(d.All, transitive); !ok {
					problem("commit %s: dependency closure misses %s, a dependency of %s", id, transitive, direct)
				}
			}
		}
		if opts.Digest != nil && filesOK && depsOK {
			want, err := opts.Digest(contents, depDigests)
			if err != nil {
				problem("commit %s: recompute digest: %v", id, err)
			} else if !bytes.Equal(want, r.c.Digest) {
				problem("commit %s: stored digest %x does not match its content (recomputed %x)", id, r.c.Digest, want)
			}
		}
	}
	rep.Blobs = len(referenced)

	lrows, err := tx.QueryContext(ctx, "SELECT id, module_id, name, commit_id FROM labels ORDER BY rowid")
	if err != nil {
		return rep, err
	}
	for lrows.Next() {
		var id, moduleID, name, commitID string
		if err := lrows.Scan(&id, &moduleID, &name, &commitID); err != nil {
			lrows.Close()
			return rep, err
		}
		rep.Labels++
		c, ok := byID[commitID]
		switch {
		case !ok:
			problem("label %q (%s): points at commit %s, which does not exist", name, id, commitID)
		case c.c.ModuleID != moduleID:
			problem("label %q (%s): points at commit %s of another module", name, id, commitID)
		}
	}
	lrows.Close()
	if err := lrows.Err(); err != nil {
		return rep, err
	}
	var badMoves int
	if err := tx.QueryRowContext(ctx,
		"SELECT COUNT(*) FROM label_moves WHERE commit_id NOT IN (SELECT id FROM commits) OR label_id NOT IN (SELECT id FROM labels)").
		Scan(&badMoves); err != nil {
		return rep, err
	}
	if badMoves > 0 {
		problem("%d label history entries name a missing label or commit", badMoves)
	}

	err = s.blobs.Walk(ctx, func(sha [32]byte) error {
		if referenced[sha] {
			return nil
		}
		rep.Orphans++
		if opts.CollectOrphans {
			if err := s.cache.Delete(ctx, sha); err != nil {
				return err
			}
			rep.Collected++
		}
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return rep, fmt.Errorf("walk blobs: %w", err)
	}
	return rep, err
}
