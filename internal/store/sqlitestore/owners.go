package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/protomod/protomod/internal/store"
)

// CreateUser creates a user.
func (s *Store) CreateUser(ctx context.Context, name string) (store.Owner, error) {
	return s.createOwner(ctx, name, store.OwnerUser)
}

// CreateOrganization creates an organization.
func (s *Store) CreateOrganization(ctx context.Context, name string) (store.Owner, error) {
	return s.createOwner(ctx, name, store.OwnerOrganization)
}

func (s *Store) createOwner(ctx context.Context, name string, kind store.OwnerKind) (store.Owner, error) {
	if err := store.ValidateOwnerName(name); err != nil {
		return store.Owner{}, err
	}
	now := s.now()
	o := store.Owner{ID: store.NewID(), Name: name, Kind: kind, CreateTime: now.UTC(), UpdateTime: now.UTC()}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var existing string
		err := tx.QueryRowContext(ctx, "SELECT name FROM owners WHERE name = ?", name).Scan(&existing)
		if err == nil {
			return fmt.Errorf("%w: an owner named %q already exists", store.ErrAlreadyExists, existing)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.ExecContext(ctx,
			"INSERT INTO owners (id, name, kind, create_time, update_time) VALUES (?, ?, ?, ?, ?)",
			o.ID, o.Name, int(o.Kind), nanos(now), nanos(now))
		return err
	})
	if err != nil {
		return store.Owner{}, fmt.Errorf("create %s %q: %w", kind, name, err)
	}
	return o, nil
}

// AddMember makes a user a member of an organization. Adding an existing
// member again is not an error.
func (s *Store) AddMember(ctx context.Context, orgName, userName string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		org, err := ownerByName(ctx, tx, orgName)
		if err != nil {
			return err
		}
		if org.Kind != store.OwnerOrganization {
			return fmt.Errorf("%w: %q is a user, not an organization", store.ErrInvalid, orgName)
		}
		user, err := ownerByName(ctx, tx, userName)
		if err != nil {
			return err
		}
		if user.Kind != store.OwnerUser {
			return fmt.Errorf("%w: %q is an organization, not a user; only users can be members", store.ErrInvalid, userName)
		}
		_, err = tx.ExecContext(ctx,
			"INSERT INTO members (org_id, user_id, create_time) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			org.ID, user.ID, nanos(s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("add %q to organization %q: %w", userName, orgName, err)
	}
	return nil
}

// OwnerByID returns the owner with this ID.
func (s *Store) OwnerByID(ctx context.Context, id string) (store.Owner, error) {
	row := s.rdb.QueryRowContext(ctx, "SELECT id, name, kind, create_time, update_time FROM owners WHERE id = ?", id)
	o, err := scanOwner(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Owner{}, fmt.Errorf("%w: owner %s", store.ErrNotFound, id)
	}
	return o, err
}

// OwnerByName returns the owner with this name (case-insensitive).
func (s *Store) OwnerByName(ctx context.Context, name string) (store.Owner, error) {
	return ownerByName(ctx, s.rdb, name)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func ownerByName(ctx context.Context, q queryer, name string) (store.Owner, error) {
	row := q.QueryRowContext(ctx, "SELECT id, name, kind, create_time, update_time FROM owners WHERE name = ?", name)
	o, err := scanOwner(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Owner{}, fmt.Errorf("%w: owner %s", store.ErrNotFound, name)
	}
	return o, err
}

type scanner interface{ Scan(dest ...any) error }

func scanOwner(row scanner) (store.Owner, error) {
	var o store.Owner
	var kind int
	var ct, ut int64
	if err := row.Scan(&o.ID, &o.Name, &kind, &ct, &ut); err != nil {
		return store.Owner{}, err
	}
	o.Kind = store.OwnerKind(kind)
	o.CreateTime, o.UpdateTime = fromNanos(ct), fromNanos(ut)
	return o, nil
}

// IsMember reports whether userID is ownerID or a member of organization ownerID.
func (s *Store) IsMember(ctx context.Context, ownerID, userID string) (bool, error) {
	if userID == "" {
		return false, nil
	}
	if ownerID == userID {
		return true, nil
	}
	var one int
	err := s.rdb.QueryRowContext(ctx, "SELECT 1 FROM members WHERE org_id = ? AND user_id = ?", ownerID, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// CreateToken creates an API token for a user and returns it. Only its
// sha256 is stored.
func (s *Store) CreateToken(ctx context.Context, userName, note string) (string, store.Token, error) {
	plain, err := store.GenerateToken()
	if err != nil {
		return "", store.Token{}, err
	}
	hash := store.HashToken(plain)
	now := s.now()
	tok := store.Token{ID: store.NewID(), Note: note, CreateTime: now.UTC()}
	err = s.write(ctx, func(tx *sql.Tx) error {
		user, err := ownerByName(ctx, tx, userName)
		if err != nil {
			return err
		}
		if user.Kind != store.OwnerUser {
			return fmt.Errorf("%w: %q is an organization; tokens belong to users", store.ErrInvalid, userName)
		}
		tok.UserID = user.ID
		_, err = tx.ExecContext(ctx,
			"INSERT INTO tokens (id, hash, user_id, note, create_time) VALUES (?, ?, ?, ?, ?)",
			tok.ID, hash[:], user.ID, note, nanos(now))
		return err
	})
	if err != nil {
		return "", store.Token{}, fmt.Errorf("create token for %q: %w", userName, err)
	}
	return plain, tok, nil
}

// UserByTokenHash returns the user owning the token with this hash.
func (s *Store) UserByTokenHash(ctx context.Context, hash [32]byte) (store.Owner, error) {
	row := s.rdb.QueryRowContext(ctx, `
		SELECT o.id, o.name, o.kind, o.create_time, o.update_time
		FROM tokens t JOIN owners o ON o.id = t.user_id
		WHERE t.hash = ?`, hash[:])
	o, err := scanOwner(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Owner{}, fmt.Errorf("%w: no such token", store.ErrNotFound)
	}
	return o, err
}
