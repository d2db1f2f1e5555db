package store_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/bookmark"
	"github.com/sparkgate/sparkgate/store"
)

// testForms makes "straße" and a full-width "ｓtrasse" old spellings of
// "strasse" (as Nodeprep does), refuses names with U+202E,
// and moves TOTP secrets by marking them, or fails for a ciphertext
// "corrupt".
func testForms() store.KeyForms {
	local := func(name string) (string, error) {
		if strings.ContainsRune(name, '\u202e') {
			return "", errors.New("refused")
		}
		return strings.NewReplacer("ß", "ss", "ａ", "a", "ｓ", "s").Replace(name), nil
	}
	return store.KeyForms{
		User: func(bare string) (string, error) {
			l, d, _ := strings.Cut(bare, "@")
			c, err := local(l)
			return c + "@" + d, err
		},
		Local: local,
		MoveTOTP: func(sec auth.TOTPSecret, user string) (auth.TOTPSecret, error) {
			if string(sec.Ciphertext) == "corrupt" {
				return auth.TOTPSecret{}, errors.New("auth: open totp secret: authentication failed")
			}
			sec.Ciphertext = append([]byte("for "+user+":"), sec.Ciphertext...)
			sec.User = user
			return sec, nil
		},
	}
}

func putTOTP(t *testing.T, s *store.SQLite, user, ciphertext string, active bool) {
	t.Helper()
	err := s.PutTOTPSecret(t.Context(), auth.TOTPSecret{User: user, Ciphertext: []byte(ciphertext), Nonce: []byte("n"), Active: active, CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSweepUserKeys(t *testing.T) { eachBackend(t, testSweepUserKeys) }

func testSweepUserKeys(t *testing.T, newStore opener) {
	const (
		old   = "straße@x"
		canon = "strasse@x"
	)
	type totpWant struct {
		ciphertext string // "" for no secret
		active     bool
	}
	// secrets stores TOTP secrets under the old and the canonical key.
	secrets := func(olds string, oldActive bool, canons string, canonActive bool) func(*testing.T, *store.SQLite) {
		return func(t *testing.T, s *store.SQLite) {
			putTOTP(t, s, old, olds, oldActive)
			if canons != "" {
				putTOTP(t, s, canon, canons, canonActive)
			}
		}
	}
	// cutoffs stores revocation cutoffs of the old and the canonical key.
	cutoffs := func(olds, canons time.Time) func(*testing.T, *store.SQLite) {
		return func(t *testing.T, s *store.SQLite) {
			must(t, s.RevokeUserBefore(t.Context(), old, olds))
			must(t, s.RevokeUserBefore(t.Context(), canon, canons))
		}
	}
	tests := []struct {
		name   string
		setup  func(t *testing.T, s *store.SQLite)
		totp   totpWant // canon's secret after the sweep
		cutoff time.Time
		sweep  store.KeySweep
	}{{
		name: "active-totp-moves",
		setup: func(t *testing.T, s *store.SQLite) {
			give(t, s, old) // TOTP (made active below), step, failure, passkey, push, property, cutoff t0
			putTOTP(t, s, old, "theirs", true)
		},
		totp:   totpWant{"for strasse@x:theirs", true},
		cutoff: t0,
		sweep:  store.KeySweep{Keys: 1, TOTPMoved: 1, CutoffsMerged: 1, Rows: 10},
	}, {
		name:  "canonical-active-totp-kept",
		setup: secrets("old", true, "mine", true),
		totp:  totpWant{"mine", true},
		sweep: store.KeySweep{Keys: 1, TOTPDropped: 1, Rows: 1},
	}, {
		name:  "canonical-pending-gives-way",
		setup: secrets("old", true, "pending", false),
		totp:  totpWant{"for strasse@x:old", true},
		sweep: store.KeySweep{Keys: 1, TOTPMoved: 1, Rows: 1},
	}, {
		name:  "pending-totp-dropped",
		setup: secrets("pending", false, "", false),
		sweep: store.KeySweep{Keys: 1, TOTPDropped: 1, Rows: 1},
	}, {
		name:   "later-cutoff-of-the-old-key-kept",
		setup:  cutoffs(t0.Add(2*time.Hour), t0.Add(time.Hour)),
		cutoff: t0.Add(2 * time.Hour),
		sweep:  store.KeySweep{Keys: 1, CutoffsMerged: 1, Rows: 1},
	}, {
		name:   "later-cutoff-of-the-canonical-key-kept",
		setup:  cutoffs(t0, t0.Add(time.Hour)),
		cutoff: t0.Add(time.Hour),
		sweep:  store.KeySweep{Keys: 1, CutoffsMerged: 1, Rows: 1},
	}, {
		name: "no-canonical-form",
		setup: func(t *testing.T, s *store.SQLite) {
			give(t, s, "evil\u202e@x")
			putTOTP(t, s, "evil\u202e@x", "theirs", true)
		},
		sweep: store.KeySweep{Keys: 1, TOTPDropped: 1, Rows: 10},
	}, {
		name: "two-spellings-one-factor",
		setup: func(t *testing.T, s *store.SQLite) {
			putTOTP(t, s, old, "first", true)
			putTOTP(t, s, "ｓtrasse@x", "second", true) // after straße in key order
		},
		totp:  totpWant{"for strasse@x:first", true},
		sweep: store.KeySweep{Keys: 2, TOTPMoved: 1, TOTPDropped: 1, Rows: 2},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			ctx := t.Context()
			give(t, s, "bob@x") // canonical: never touched
			tt.setup(t, s)
			got, err := s.SweepUserKeys(ctx, testForms())
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.sweep {
				t.Errorf("SweepUserKeys = %+v, want %+v", got, tt.sweep)
			}
			sec, err := s.TOTPSecret(ctx, canon)
			switch {
			case tt.totp.ciphertext == "" && err == nil:
				t.Errorf("%s has a TOTP secret %q, want none", canon, sec.Ciphertext)
			case tt.totp.ciphertext != "" && (err != nil || string(sec.Ciphertext) != tt.totp.ciphertext || sec.Active != tt.totp.active):
				t.Errorf("%s's TOTP secret = %q active %v (%v), want %+v", canon, sec.Ciphertext, sec.Active, err, tt.totp)
			}
			if cut, err := s.UserRevokedBefore(ctx, canon); err != nil || !cut.Equal(tt.cutoff) {
				t.Errorf("%s's cutoff = %v, %v; want %v", canon, cut, err, tt.cutoff)
			}
			// Idempotent: nothing left to sweep.
			if again, err := s.SweepUserKeys(ctx, testForms()); err != nil || again != (store.KeySweep{}) {
				t.Errorf("second SweepUserKeys = %+v, %v; want nothing done", again, err)
			}
			for _, k := range []string{old, "evil\u202e@x", "ｓtrasse@x"} {
				if left := owns(t, s, k); len(left) > 0 {
					t.Errorf("%s still owns %v", k, left)
				}
				if cut, _ := s.UserRevokedBefore(ctx, k); !cut.IsZero() {
					t.Errorf("%s still has a cutoff", k)
				}
			}
			if left := owns(t, s, "bob@x"); len(left) != 9 {
				t.Errorf("bob@x owns %v, want all 9 untouched", left)
			}
		})
	}
}

// TestSweepUserKeysMovesUsedSteps: a code used under the old key is not
// accepted again under the canonical one, and the recovery codes move.
func TestSweepUserKeysMovesUsedSteps(t *testing.T) { eachBackend(t, testSweepUserKeysMovesUsedSteps) }

func testSweepUserKeysMovesUsedSteps(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	putTOTP(t, s, "straße@x", "c", true)
	if _, err := s.UseTOTPStep(ctx, "straße@x", 42, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	must(t, s.AddTOTPFailure(ctx, "straße@x", t0))
	must(t, s.PutRecoveryCodes(ctx, "straße@x", [][]byte{[]byte("mac-1"), []byte("mac-2")}))
	if _, err := s.SweepUserKeys(ctx, testForms()); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.UseRecoveryCode(ctx, "strasse@x", []byte("mac-2")); err != nil || !ok {
		t.Errorf("a recovery code under the canonical key: %v, %v; want it moved", ok, err)
	}
	if n, _ := s.RecoveryCodes(ctx, "straße@x"); n != 0 {
		t.Errorf("%d recovery codes left under the old key", n)
	}
	if fresh, err := s.UseTOTPStep(ctx, "strasse@x", 42, t0.Add(time.Hour)); err != nil || fresh {
		t.Errorf("step 42 under the canonical key: fresh %v, %v; want used", fresh, err)
	}
	if fs, err := s.TOTPFailures(ctx, "strasse@x", t0.Add(-time.Hour)); err != nil || len(fs) != 1 {
		t.Errorf("failures under the canonical key = %v, %v; want 1", fs, err)
	}
}

// TestSweepUserKeysUnreadableSecret: a secret that cannot be moved stops
// the sweep, and stays where it was.
func TestSweepUserKeysUnreadableSecret(t *testing.T) {
	eachBackend(t, testSweepUserKeysUnreadableSecret)
}

func testSweepUserKeysUnreadableSecret(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	putTOTP(t, s, "straße@x", "corrupt", true)
	if _, err := s.SweepUserKeys(ctx, testForms()); err == nil {
		t.Fatal("SweepUserKeys over an unreadable secret = nil error")
	}
	if sec, err := s.TOTPSecret(ctx, "straße@x"); err != nil || !bytes.Equal(sec.Ciphertext, []byte("corrupt")) {
		t.Errorf("the old key's secret = %q, %v; want it kept", sec.Ciphertext, err)
	}
	if _, err := s.SweepUserKeys(ctx, store.KeyForms{}); err == nil {
		t.Error("SweepUserKeys with no forms = nil error")
	}
}

// TestSweepUserKeysBookmarks: bookmarks created under an old key go;
// audiences naming a user by an old name name the canonical one.
func TestSweepUserKeysBookmarks(t *testing.T) { eachBackend(t, testSweepUserKeysBookmarks) }

func testSweepUserKeysBookmarks(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	mine, err := s.CreateBookmark(ctx, bookmark.Bookmark{Type: bookmark.TypeURL, Name: "old", Value: "https://example.org/", Creator: "straße@x"})
	must(t, err)
	offered, err := s.CreateBookmark(ctx, bookmark.Bookmark{Type: bookmark.TypeURL, Name: "offered", Value: "https://example.org/",
		Creator: "admin@x", Users: []string{"straße", "strasse", "evil\u202e", "bob"}})
	must(t, err)
	got, err := s.SweepUserKeys(ctx, testForms())
	must(t, err)
	if got.Keys != 1 || got.Audience != 2 {
		t.Errorf("SweepUserKeys = %+v, want 1 key, 2 audience names", got)
	}
	if _, err := s.Bookmark(ctx, mine.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the old key's bookmark: %v, want not found", err)
	}
	b, err := s.Bookmark(ctx, offered.ID)
	must(t, err)
	users := slices.Sorted(slices.Values(b.Users))
	if !slices.Equal(users, []string{"bob", "strasse"}) {
		t.Errorf("audience = %v, want [bob strasse]", users)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
