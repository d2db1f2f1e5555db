package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sparkgate/sparkgate/bookmark"
)

var _ bookmark.Store = (*DB)(nil)

// Kinds of bookmark_audience rows.
const (
	audienceUser  = "user"
	audienceGroup = "group"
)

// errBookmarkNotFound matches both ErrNotFound and bookmark.ErrNotFound.
func errBookmarkNotFound(id int64) error {
	return fmt.Errorf("store: bookmark %d: %w (%w)", id, ErrNotFound, bookmark.ErrNotFound)
}

// CreateBookmark implements bookmark.Store.
func (s *DB) CreateBookmark(ctx context.Context, b bookmark.Bookmark) (bookmark.Bookmark, error) {
	now := time.Now()
	err := s.tx(ctx, func(tx *txn) error {
		if err := tx.QueryRowContext(ctx,
			`INSERT INTO bookmarks (type, name, value, creator, global, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			b.Type, b.Name, b.Value, b.Creator, b.Global, ms(now), ms(now)).Scan(&b.ID); err != nil {
			return err
		}
		return writeBookmarkDetails(ctx, tx, b)
	})
	if err != nil {
		return bookmark.Bookmark{}, fmt.Errorf("store: create bookmark: %w", err)
	}
	return s.Bookmark(ctx, b.ID)
}

// writeBookmarkDetails replaces the audience and properties of b.ID.
func writeBookmarkDetails(ctx context.Context, tx *txn, b bookmark.Bookmark) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM bookmark_audience WHERE bookmark_id = ?`, b.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM bookmark_properties WHERE bookmark_id = ?`, b.ID); err != nil {
		return err
	}
	for kind, names := range map[string][]string{audienceUser: b.Users, audienceGroup: b.Groups} {
		for _, n := range names {
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO bookmark_audience (bookmark_id, kind, name) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
				b.ID, kind, n); err != nil {
				return err
			}
		}
	}
	for _, p := range b.Properties {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO bookmark_properties (bookmark_id, name, value) VALUES (?, ?, ?)
			 ON CONFLICT (bookmark_id, name) DO UPDATE SET value = excluded.value`,
			b.ID, p.Name, p.Value); err != nil {
			return err
		}
	}
	return nil
}

// Bookmark implements bookmark.Store.
func (s *DB) Bookmark(ctx context.Context, id int64) (bookmark.Bookmark, error) {
	bs, err := s.queryBookmarks(ctx, `WHERE b.id = ?`, id)
	if err != nil {
		return bookmark.Bookmark{}, err
	}
	if len(bs) == 0 {
		return bookmark.Bookmark{}, errBookmarkNotFound(id)
	}
	return bs[0], nil
}

// UpdateBookmark implements bookmark.Store.
func (s *DB) UpdateBookmark(ctx context.Context, b bookmark.Bookmark) (bookmark.Bookmark, error) {
	err := s.tx(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE bookmarks SET type = ?, name = ?, value = ?, global = ?, updated_at = ? WHERE id = ?`,
			b.Type, b.Name, b.Value, b.Global, ms(time.Now()), b.ID)
		if err := affected(res, err, "update bookmark"); err != nil {
			return err
		}
		return writeBookmarkDetails(ctx, tx, b)
	})
	if errors.Is(err, ErrNotFound) {
		return bookmark.Bookmark{}, errBookmarkNotFound(b.ID)
	}
	if err != nil {
		return bookmark.Bookmark{}, fmt.Errorf("store: update bookmark: %w", err)
	}
	return s.Bookmark(ctx, b.ID)
}

// DeleteBookmark implements bookmark.Store.
func (s *DB) DeleteBookmark(ctx context.Context, id int64) error {
	res, err := s.exec(ctx, `DELETE FROM bookmarks WHERE id = ?`, id)
	if err := affected(res, err, "delete bookmark"); err != nil {
		if errors.Is(err, ErrNotFound) {
			return errBookmarkNotFound(id)
		}
		return err
	}
	return nil
}

// SetBookmarkProperty implements bookmark.Store.
func (s *DB) SetBookmarkProperty(ctx context.Context, id int64, name, value string) (bookmark.Bookmark, error) {
	return s.changeProperty(ctx, id, func(tx *txn) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO bookmark_properties (bookmark_id, name, value) VALUES (?, ?, ?)
			 ON CONFLICT (bookmark_id, name) DO UPDATE SET value = excluded.value`, id, name, value)
		return err
	})
}

// DeleteBookmarkProperty implements bookmark.Store.
func (s *DB) DeleteBookmarkProperty(ctx context.Context, id int64, name string) (bookmark.Bookmark, error) {
	return s.changeProperty(ctx, id, func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM bookmark_properties WHERE bookmark_id = ? AND name = ?`, id, name)
		return err
	})
}

func (s *DB) changeProperty(ctx context.Context, id int64, fn func(*txn) error) (bookmark.Bookmark, error) {
	err := s.tx(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE bookmarks SET updated_at = ? WHERE id = ?`, ms(time.Now()), id)
		if err := affected(res, err, "bookmark property"); err != nil {
			return err
		}
		return fn(tx)
	})
	if errors.Is(err, ErrNotFound) {
		return bookmark.Bookmark{}, errBookmarkNotFound(id)
	}
	if err != nil {
		return bookmark.Bookmark{}, fmt.Errorf("store: bookmark property: %w", err)
	}
	return s.Bookmark(ctx, id)
}

// VisibleBookmarks implements bookmark.Store.
func (s *DB) VisibleBookmarks(ctx context.Context, user, creator string, groups []string) ([]bookmark.Bookmark, error) {
	where := `WHERE b.global OR b.creator = ? OR b.id IN (SELECT bookmark_id FROM bookmark_audience WHERE kind = 'user' AND name = ?)`
	args := []any{creator, user}
	if len(groups) > 0 {
		where += ` OR b.id IN (SELECT bookmark_id FROM bookmark_audience WHERE kind = 'group' AND name IN (?` +
			strings.Repeat(", ?", len(groups)-1) + `))`
		for _, g := range groups {
			args = append(args, g)
		}
	}
	return s.queryBookmarks(ctx, where, args...)
}

// BookmarkGroups implements bookmark.Store.
func (s *DB) BookmarkGroups(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT name FROM bookmark_audience WHERE kind = 'group' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: bookmark groups: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return nil, fmt.Errorf("store: bookmark groups: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: bookmark groups: %w", err)
	}
	return out, nil
}

// DeleteUserBookmarks implements bookmark.Store.
func (s *DB) DeleteUserBookmarks(ctx context.Context, user, creator string) error {
	err := s.tx(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM bookmarks WHERE creator = ?`, creator); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM bookmark_audience WHERE kind = 'user' AND name = ?`, user)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete user bookmarks: %w", err)
	}
	return nil
}

// queryBookmarks loads the bookmarks matching where (over bookmarks b),
// with their audience and properties, ordered by id.
func (s *DB) queryBookmarks(ctx context.Context, where string, args ...any) ([]bookmark.Bookmark, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT b.id, b.type, b.name, b.value, b.creator, b.global, b.created_at, b.updated_at FROM bookmarks b `+where+` ORDER BY b.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: bookmarks: %w", err)
	}
	var out []bookmark.Bookmark
	index := make(map[int64]int)
	for rows.Next() {
		var b bookmark.Bookmark
		var created, updated int64
		if err := rows.Scan(&b.ID, &b.Type, &b.Name, &b.Value, &b.Creator, &b.Global, &created, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: bookmarks: %w", err)
		}
		b.Created, b.Updated = fromMS(created), fromMS(updated)
		index[b.ID] = len(out)
		out = append(out, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: bookmarks: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := `(SELECT b.id FROM bookmarks b ` + where + `)`
	aud, err := s.db.QueryContext(ctx, `SELECT bookmark_id, kind, name FROM bookmark_audience WHERE bookmark_id IN `+ids+` ORDER BY bookmark_id, kind, name`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: bookmark audience: %w", err)
	}
	for aud.Next() {
		var id int64
		var kind, name string
		if err := aud.Scan(&id, &kind, &name); err != nil {
			aud.Close()
			return nil, fmt.Errorf("store: bookmark audience: %w", err)
		}
		i, ok := index[id]
		if !ok {
			continue
		}
		if kind == audienceGroup {
			out[i].Groups = append(out[i].Groups, name)
		} else {
			out[i].Users = append(out[i].Users, name)
		}
	}
	aud.Close()
	if err := aud.Err(); err != nil {
		return nil, fmt.Errorf("store: bookmark audience: %w", err)
	}
	props, err := s.db.QueryContext(ctx, `SELECT bookmark_id, name, value FROM bookmark_properties WHERE bookmark_id IN `+ids+` ORDER BY bookmark_id, name`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: bookmark properties: %w", err)
	}
	defer props.Close()
	for props.Next() {
		var id int64
		var p bookmark.Property
		if err := props.Scan(&id, &p.Name, &p.Value); err != nil {
			return nil, fmt.Errorf("store: bookmark properties: %w", err)
		}
		if i, ok := index[id]; ok {
			out[i].Properties = append(out[i].Properties, p)
		}
	}
	if err := props.Err(); err != nil {
		return nil, fmt.Errorf("store: bookmark properties: %w", err)
	}
	for i := range out {
		slices.Sort(out[i].Users)
		slices.Sort(out[i].Groups)
	}
	return out, nil
}
