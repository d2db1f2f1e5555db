package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/store"
)

var _ auth.Store = (*store.SQLite)(nil)

// newStore opens a fresh SQLite database in a temp dir and closes it at the end.
func newStore(t testing.TB) (*store.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sparkgate.db")
	s, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, path
}

var t0 = time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)

func TestOpenMigratesOnce(t *testing.T) { eachBackend(t, testOpenMigratesOnce) }

func testOpenMigratesOnce(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, path := newStore(t)
	v, err := s.Version(ctx)
	if want := latestMigration(t); err != nil || v != want {
		t.Fatalf("Version = %d, %v; want %d", v, err, want)
	}
	n, err := s.Migrate(ctx)
	if err != nil || n != 0 {
		t.Fatalf("second Migrate applied %d, %v; want 0", n, err)
	}
	if _, err := s.RevokeToken(ctx, "keep", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopen: data kept, nothing applied again.
	s2, err := openAt(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if n, err := s2.Migrate(ctx); err != nil || n != 0 {
		t.Fatalf("Migrate after reopen applied %d, %v; want 0", n, err)
	}
	if ok, err := s2.TokenRevoked(ctx, "keep"); err != nil || !ok {
		t.Fatalf("TokenRevoked after reopen = %v, %v; want true", ok, err)
	}
}

func TestFilePermissions(t *testing.T) {
	_, path := newStore(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("database mode = %v, want 0600", got)
	}
}

func TestOpenInvalidPath(t *testing.T) {
	for _, p := range []string{"", "nul\x00", filepath.Join(t.TempDir(), "missing", "dir", "db")} {
		if s, err := store.Open(t.Context(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

// TestOddPath: characters that mean something in a file: URI stay part of
// the file name.
func TestOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "we?ird #dir %41")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "db?x=1#y")
	s, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.RevokeToken(t.Context(), "j", t0); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if d := cmp.Diff([]string{"db?x=1#y", "db?x=1#y-shm", "db?x=1#y-wal"}, names); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
}

func TestPingAndClose(t *testing.T) { eachBackend(t, testPingAndClose) }

func testPingAndClose(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping after Close succeeded")
	}
}

func TestNotFound(t *testing.T) { eachBackend(t, testNotFound) }

func testNotFound(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	for name, f := range map[string]func() error{
		"totp-secret":    func() error { _, err := s.TOTPSecret(ctx, "nobody@example.org"); return err },
		"activate-totp":  func() error { return s.ActivateTOTPSecret(ctx, "nobody@example.org") },
		"delete-totp":    func() error { return s.DeleteTOTPSecret(ctx, "nobody@example.org") },
		"setting":        func() error { _, err := s.Setting(ctx, "nope"); return err },
		"delete-setting": func() error { return s.DeleteSetting(ctx, "nope") },
	} {
		t.Run(name, func(t *testing.T) {
			err := f()
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("err = %v, want store.ErrNotFound", err)
			}
			if !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("err = %v, want it to match auth.ErrNotFound", err)
			}
		})
	}
	if errors.Is(auth.ErrNotFound, store.ErrNotFound) || errors.Is(errors.New("x"), store.ErrNotFound) {
		t.Error("unrelated error matches store.ErrNotFound")
	}
}

func TestRevokeToken(t *testing.T) { eachBackend(t, testRevokeToken) }

func testRevokeToken(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	if ok, err := s.TokenRevoked(ctx, "j1"); err != nil || ok {
		t.Fatalf("TokenRevoked before = %v, %v", ok, err)
	}
	if first, err := s.RevokeToken(ctx, "j1", t0.Add(time.Hour)); err != nil || !first {
		t.Fatalf("first RevokeToken = %v, %v; want true", first, err)
	}
	if first, err := s.RevokeToken(ctx, "j1", t0.Add(time.Hour)); err != nil || first {
		t.Fatalf("second RevokeToken = %v, %v; want false", first, err)
	}
	if ok, err := s.TokenRevoked(ctx, "j1"); err != nil || !ok {
		t.Fatalf("TokenRevoked after = %v, %v", ok, err)
	}
	if _, err := s.RevokeToken(ctx, "j2", t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}

	n, err := s.Purge(ctx, t0.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1", n, err)
	}
	if ok, _ := s.TokenRevoked(ctx, "j1"); ok {
		t.Error("expired j1 still recorded after Purge")
	}
	if ok, _ := s.TokenRevoked(ctx, "j2"); !ok {
		t.Error("unexpired j2 purged")
	}
}

func TestRevokeUserBefore(t *testing.T) { eachBackend(t, testRevokeUserBefore) }

func testRevokeUserBefore(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	const u = "alice@example.org"
	if got, err := s.UserRevokedBefore(ctx, u); err != nil || !got.IsZero() {
		t.Fatalf("UserRevokedBefore unset = %v, %v; want zero", got, err)
	}
	steps := []struct {
		set, want time.Time
	}{
		{t0.Add(1500 * time.Millisecond), t0.Add(1500 * time.Millisecond)}, // ms precision kept
		{t0, t0.Add(1500 * time.Millisecond)},                              // earlier never wins
		{t0.Add(time.Hour), t0.Add(time.Hour)},
	}
	for i, st := range steps {
		if err := s.RevokeUserBefore(ctx, u, st.set); err != nil {
			t.Fatal(err)
		}
		got, err := s.UserRevokedBefore(ctx, u)
		if err != nil || !got.Equal(st.want) {
			t.Errorf("%d: cutoff = %v, %v; want %v", i, got, err, st.want)
		}
	}
}

func TestTOTPSecret(t *testing.T) { eachBackend(t, testTOTPSecret) }

func testTOTPSecret(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	const u = "bob@example.org"
	want := auth.TOTPSecret{User: u, Ciphertext: []byte{1, 2, 3, 0, 255}, Nonce: []byte("123456789012"), CreatedAt: t0}
	if err := s.PutTOTPSecret(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.TOTPSecret(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("TOTPSecret (-want +got):\n%s", d)
	}
	if err := s.ActivateTOTPSecret(ctx, u); err != nil {
		t.Fatal(err)
	}
	want.Active = true
	if got, _ := s.TOTPSecret(ctx, u); !cmp.Equal(want, got) {
		t.Errorf("after activate: %+v", got)
	}

	// Replace: a new pending enrolment overwrites.
	want2 := auth.TOTPSecret{User: u, Ciphertext: []byte("new"), Nonce: []byte("n2"), CreatedAt: t0.Add(time.Minute)}
	if err := s.PutTOTPSecret(ctx, want2); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.TOTPSecret(ctx, u); !cmp.Equal(want2, got) {
		t.Errorf("after replace: %+v", got)
	}

	if ok, _ := s.UseTOTPStep(ctx, u, 42, t0.Add(time.Hour)); !ok {
		t.Fatal("first UseTOTPStep = false")
	}
	if err := s.DeleteTOTPSecret(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TOTPSecret(ctx, u); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if ok, _ := s.UseTOTPStep(ctx, u, 42, t0.Add(time.Hour)); !ok {
		t.Error("used steps survived DeleteTOTPSecret")
	}
}

func TestUseTOTPStep(t *testing.T) { eachBackend(t, testUseTOTPStep) }

func testUseTOTPStep(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	tests := []struct {
		user string
		step int64
		want bool
	}{
		{"a@x", 100, true},
		{"a@x", 100, false}, // replay
		{"a@x", 101, true},
		{"b@x", 100, true}, // per user
	}
	for i, tt := range tests {
		got, err := s.UseTOTPStep(ctx, tt.user, tt.step, t0.Add(time.Minute))
		if err != nil || got != tt.want {
			t.Errorf("%d: UseTOTPStep(%s, %d) = %v, %v; want %v", i, tt.user, tt.step, got, err, tt.want)
		}
	}
	if n, err := s.Purge(ctx, t0.Add(time.Minute)); err != nil || n != 3 {
		t.Errorf("Purge = %d, %v; want 3", n, err)
	}
	if ok, _ := s.UseTOTPStep(ctx, "a@x", 100, t0.Add(time.Hour)); !ok {
		t.Error("step still recorded after purge")
	}
}

func TestRecoveryCodes(t *testing.T) { eachBackend(t, testRecoveryCodes) }

// testRecoveryCodes: a put replaces the user's codes, each is used once,
// users are apart, and DeleteTOTPSecret takes them with the secret.
func testRecoveryCodes(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	const u, other = "bob@example.org", "eve@example.org"
	mac := func(i byte) []byte { return append(make([]byte, 31), i) }
	must(t, s.PutTOTPSecret(ctx, auth.TOTPSecret{User: u, Ciphertext: []byte("c"), Nonce: []byte("n"), Active: true, CreatedAt: t0}))
	must(t, s.PutRecoveryCodes(ctx, u, [][]byte{mac(1), mac(2), mac(3)}))
	must(t, s.PutRecoveryCodes(ctx, other, [][]byte{mac(1)}))
	steps := []struct {
		op   string
		user string
		code byte
		want bool
		left int
	}{
		{"use", u, 1, true, 2},
		{"use", u, 1, false, 2}, // used already
		{"use", u, 9, false, 2}, // never made
		{"use", other, 2, false, 2},
		{"replace", u, 0, false, 2}, // put 4 and 5: 1–3 are gone
		{"use", u, 2, false, 2},
		{"use", u, 5, true, 1},
	}
	for i, st := range steps {
		if st.op == "replace" {
			must(t, s.PutRecoveryCodes(ctx, u, [][]byte{mac(4), mac(5)}))
		} else if got, err := s.UseRecoveryCode(ctx, st.user, mac(st.code)); err != nil || got != st.want {
			t.Errorf("%d: UseRecoveryCode(%s, %d) = %v, %v; want %v", i, st.user, st.code, got, err, st.want)
		}
		if n, err := s.RecoveryCodes(ctx, u); err != nil || n != st.left {
			t.Errorf("%d: RecoveryCodes = %d, %v; want %d", i, n, err, st.left)
		}
	}
	must(t, s.DeleteTOTPSecret(ctx, u))
	if n, err := s.RecoveryCodes(ctx, u); err != nil || n != 0 {
		t.Errorf("after DeleteTOTPSecret: %d codes, %v; want none", n, err)
	}
	if n, _ := s.RecoveryCodes(ctx, other); n != 1 {
		t.Errorf("another user's codes: %d, want 1", n)
	}
}

func TestTOTPFailures(t *testing.T) { eachBackend(t, testTOTPFailures) }

func testTOTPFailures(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	const u = "c@x"
	for i := range 4 {
		if err := s.AddTOTPFailure(ctx, u, t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddTOTPFailure(ctx, "other@x", t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.TOTPFailures(ctx, u, t0.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]time.Time{t0.Add(2 * time.Minute), t0.Add(3 * time.Minute)}, got); d != "" {
		t.Errorf("TOTPFailures (-want +got):\n%s", d)
	}
	// Purge keeps a day of failures.
	if n, err := s.Purge(ctx, t0.Add(24*time.Hour+90*time.Second)); err != nil || n != 2 {
		t.Errorf("Purge = %d, %v; want 2", n, err)
	}
	if err := s.ClearTOTPFailures(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.TOTPFailures(ctx, u, time.Time{}); len(got) != 0 {
		t.Errorf("after clear: %v", got)
	}
	if got, _ := s.TOTPFailures(ctx, "other@x", time.Time{}); len(got) != 1 {
		t.Errorf("other user's failures: %v", got)
	}
}

func TestSettings(t *testing.T) { eachBackend(t, testSettings) }

func testSettings(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	for _, v := range []string{"one", "two"} {
		if err := s.PutSetting(ctx, "k", v); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Setting(ctx, "k"); err != nil || got != v {
			t.Errorf("Setting = %q, %v; want %q", got, err, v)
		}
	}
	if err := s.DeleteSetting(ctx, "k"); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentWriters runs writers of every kind at once, including
// transactions that read before they write, and expects no SQLITE_BUSY.
func TestConcurrentWriters(t *testing.T) { eachBackend(t, testConcurrentWriters) }

func testConcurrentWriters(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	const workers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			user := fmt.Sprintf("u%d@example.org", w)
			for i := range each {
				var err error
				switch i % 5 {
				case 0:
					_, err = s.RevokeToken(ctx, fmt.Sprintf("%d-%d", w, i), t0)
				case 1:
					_, err = s.UseTOTPStep(ctx, user, int64(i), t0)
				case 2:
					err = s.PutTOTPSecret(ctx, auth.TOTPSecret{User: user, Ciphertext: []byte{1}, Nonce: []byte{2}, CreatedAt: t0})
				case 3:
					// Read-then-write transaction.
					err = s.DeleteTOTPSecret(ctx, user)
				case 4:
					_, err = s.Purge(ctx, t0.Add(time.Hour))
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 5 {
			t.Error(err)
		}
	}
	if n > 0 {
		t.Errorf("%d of %d operations failed", n, workers*each)
	}
}

// TestRunPurger runs the purger in a synctest bubble: an hour of fake time
// passes and the expired row is gone, with no real waiting.
func TestRunPurger(t *testing.T) { eachBackend(t, testRunPurger) }

func testRunPurger(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		now := time.Now() // the bubble's fake clock
		if _, err := s.RevokeToken(ctx, "short", now.Add(30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RevokeToken(ctx, "long", now.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			s.RunPurger(ctx, time.Hour, nil)
			close(done)
		}()
		time.Sleep(time.Hour + time.Second)
		synctest.Wait()
		if ok, _ := s.TokenRevoked(ctx, "short"); ok {
			t.Error("expired row survived a purge")
		}
		if ok, _ := s.TokenRevoked(ctx, "long"); !ok {
			t.Error("live row purged")
		}
		cancel()
		<-done
	})
}

// latestMigration is the version of the newest file in migrations/, so the
// test does not change each time an area adds a migration.
func latestMigration(t testing.TB) int64 {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil || len(names) == 0 {
		t.Fatalf("migrations: %v, %d files", err, len(names))
	}
	var latest int64
	for _, n := range names {
		var v int64
		if _, err := fmt.Sscanf(filepath.Base(n), "%d_", &v); err == nil && v > latest {
			latest = v
		}
	}
	return latest
}
