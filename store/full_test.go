package store

import (
	"context"
	"errors"
	"fmt"
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
