package store

import (
	"context"
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5/pgconn"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/bookmark"
)

// TestFull: with the database at its page limit (PRAGMA max_page_count,
// which SQLite enforces as a full disk), writes fail with an error matching
// ErrFull, through exec and through transactions; reads keep working; once
// the limit is raised, writes work again.
func TestFull(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// max_page_count is a setting of one connection: keep the pool to one.
	s.db.SetMaxOpenConns(1)
	var pages int
	if err := s.db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetting(ctx, "small", "fits in a page that has room"); err != nil && !errors.Is(err, ErrFull) {
		t.Fatal(err)
	}

	big := strings.Repeat("x", 64<<10) // needs new pages
	err = s.PutSetting(ctx, "big", big)
	if !errors.Is(err, ErrFull) {
		t.Fatalf("PutSetting at the page limit: %v, want ErrFull", err)
	}
	var sf interface{ StorageFull() bool }
	if !errors.As(err, &sf) || !sf.StorageFull() {
		t.Fatalf("%v: no StorageFull behaviour", err)
	}
	if !strings.Contains(err.Error(), "full") {
		t.Fatalf("error text %q", err)
	}
	_, err = s.CreateBookmark(ctx, bookmark.Bookmark{Type: "url", Name: big, Value: "https://x.example.org/", Creator: "a@localhost"})
	if !errors.Is(err, ErrFull) {
		t.Fatalf("CreateBookmark at the page limit: %v, want ErrFull", err)
	}
	if _, err := s.Setting(ctx, "big"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("read at the page limit: %v, want ErrNotFound (nothing written)", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping at the page limit: %v", err)
	}

	if _, err := s.db.ExecContext(ctx, "PRAGMA max_page_count = 1000000"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetting(ctx, "big", big); err != nil {
		t.Fatalf("PutSetting with room again: %v", err)
	}
	if v, err := s.Setting(ctx, "big"); err != nil || v != big {
		t.Fatalf("read back: %d bytes, %v", len(v), err)
	}
}

func TestMarkFull(t *testing.T) {
	for _, err := range []error{nil, errors.New("other"), ErrNotFound, fmt.Errorf("wrapped: %w", ErrExists)} {
		if got := markFull(err); got != err {
			t.Errorf("markFull(%v) = %v, want it unchanged", err, got)
		}
	}
}

// TestMarkFullPostgres: PostgreSQL's disk_full matches ErrFull; its other
// errors stay as they are.
func TestMarkFullPostgres(t *testing.T) {
	full := fmt.Errorf("exec: %w", &pgconn.PgError{Code: "53100", Message: "could not extend file"})
	if err := markFull(full); !errors.Is(err, ErrFull) || !errors.Is(err, full) {
		t.Errorf("markFull(disk_full) = %v, want ErrFull wrapping it", err)
	}
	other := &pgconn.PgError{Code: "23505"}
	if err := markFull(other); err != other {
		t.Errorf("markFull(unique_violation) = %v, want it unchanged", err)
	}
	if !isDuplicate(other) || isDuplicate(full) {
		t.Error("isDuplicate: 23505 is a duplicate, 53100 is not")
	}
}

func TestNumbered(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1`:                                    `SELECT 1`,
		`WHERE a = ? AND b IN (?, ?)`:                 `WHERE a = $1 AND b IN ($2, $3)`,
		`WHERE kind = 'user?' AND name = ?`:           `WHERE kind = 'user?' AND name = $1`,
		`SELECT "odd?col" FROM t WHERE x = ? LIMIT ?`: `SELECT "odd?col" FROM t WHERE x = $1 LIMIT $2`,
	} {
		if got := numbered(in); got != want {
			t.Errorf("numbered(%q) = %q, want %q", in, got, want)
		}
	}
}
