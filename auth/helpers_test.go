package auth

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)

// fakeClock is an injected clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// memStore is an in-memory Store for this package's tests; package store
// has its own tests against SQLite.
type memStore struct {
	mu       sync.Mutex
	revoked  map[string]time.Time
	cutoffs  map[string]time.Time
	secrets  map[string]TOTPSecret
	steps    map[string]bool
	failures map[string][]time.Time
	handles  map[string][]byte
	passkeys []PasskeyCredential
	recovery map[string]map[string]bool // user → recovery code MACs
}

func newMemStore() *memStore {
	return &memStore{
		revoked:  map[string]time.Time{},
		cutoffs:  map[string]time.Time{},
		secrets:  map[string]TOTPSecret{},
		steps:    map[string]bool{},
		failures: map[string][]time.Time{},
		handles:  map[string][]byte{},
		recovery: map[string]map[string]bool{},
	}
}

var (
	_ Store        = (*memStore)(nil)
	_ PasskeyStore = (*memStore)(nil)
)

var errMemNotFound = fmt.Errorf("memstore: %w", ErrNotFound)

func (m *memStore) RevokeToken(_ context.Context, jti string, exp time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.revoked[jti]; ok {
		return false, nil
	}
	m.revoked[jti] = exp
	return true, nil
}

func (m *memStore) TokenRevoked(_ context.Context, jti string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.revoked[jti]
	return ok, nil
}

func (m *memStore) RevokeUserBefore(_ context.Context, user string, cutoff time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cutoff.After(m.cutoffs[user]) {
		m.cutoffs[user] = cutoff
	}
	return nil
}

func (m *memStore) UserRevokedBefore(_ context.Context, user string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cutoffs[user], nil
}

func (m *memStore) PutTOTPSecret(_ context.Context, s TOTPSecret) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.secrets[s.User] = s
	return nil
}

func (m *memStore) TOTPSecret(_ context.Context, user string) (TOTPSecret, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.secrets[user]
	if !ok {
		return TOTPSecret{}, errMemNotFound
	}
	return s, nil
}

func (m *memStore) ActivateTOTPSecret(_ context.Context, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.secrets[user]
	if !ok {
		return errMemNotFound
	}
	s.Active = true
	m.secrets[user] = s
	return nil
}

func (m *memStore) DeleteTOTPSecret(_ context.Context, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.secrets[user]; !ok {
		return errMemNotFound
	}
	delete(m.secrets, user)
	delete(m.recovery, user)
	return nil
}

func (m *memStore) UseTOTPStep(_ context.Context, user string, step int64, _ time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := fmt.Sprintf("%s\x00%d", user, step)
	if m.steps[k] {
		return false, nil
	}
	m.steps[k] = true
	return true, nil
}

func (m *memStore) AddTOTPFailure(_ context.Context, user string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures[user] = append(m.failures[user], at)
	return nil
}

func (m *memStore) TOTPFailures(_ context.Context, user string, since time.Time) ([]time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []time.Time
	for _, f := range m.failures[user] {
		if !f.Before(since) {
			out = append(out, f)
		}
	}
	return out, nil
}

func (m *memStore) PutRecoveryCodes(_ context.Context, user string, macs [][]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	set := make(map[string]bool, len(macs))
	for _, mac := range macs {
		set[string(mac)] = true
	}
	m.recovery[user] = set
	return nil
}

func (m *memStore) UseRecoveryCode(_ context.Context, user string, mac []byte) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.recovery[user][string(mac)] {
		return false, nil
	}
	delete(m.recovery[user], string(mac))
	return true, nil
}

func (m *memStore) RecoveryCodes(_ context.Context, user string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.recovery[user]), nil
}

func (m *memStore) ClearTOTPFailures(_ context.Context, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.failures, user)
	return nil
}

// newKeys creates keys in a fresh temp dir.
func newKeys(t testing.TB) *Keys {
	t.Helper()
	k, err := LoadOrCreateKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const (
	testAud = "sparkgate-test"
	testIss = "https://gw.example.org"
)

// newTokens returns Tokens over fresh keys, an in-memory store and clock.
func newTokens(t testing.TB, clock *fakeClock, mod ...func(*TokensConfig)) (*Tokens, *memStore) {
	t.Helper()
	st := newMemStore()
	cfg := TokensConfig{
		Keys:              newKeys(t),
		Store:             st,
		Audience:          testAud,
		Issuer:            testIss,
		Clock:             clock.Now,
		SingleUsePurposes: []string{"push-reply"},
	}
	for _, f := range mod {
		f(&cfg)
	}
	tk, err := NewTokens(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tk, st
}

// logTo returns a JSON logger writing to w.
func logTo(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

func (m *memStore) WebAuthnHandle(_ context.Context, user string, candidate []byte) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if h, ok := m.handles[user]; ok {
		return h, nil
	}
	m.handles[user] = candidate
	return candidate, nil
}

func (m *memStore) UserByWebAuthnHandle(_ context.Context, handle []byte) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for u, h := range m.handles {
		if bytes.Equal(h, handle) {
			return u, nil
		}
	}
	return "", errMemNotFound
}

func (m *memStore) PasskeyCredentials(_ context.Context, user string) ([]PasskeyCredential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []PasskeyCredential
	for _, c := range m.passkeys {
		if c.User == user {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *memStore) AddPasskeyCredential(_ context.Context, c PasskeyCredential) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.passkeys {
		if bytes.Equal(o.ID, c.ID) {
			return fmt.Errorf("memstore: %w", ErrExists)
		}
	}
	m.passkeys = append(m.passkeys, c)
	return nil
}

func (m *memStore) UpdatePasskeyCredential(_ context.Context, user string, id, data []byte, lastUsed time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, o := range m.passkeys {
		if o.User == user && bytes.Equal(o.ID, id) {
			m.passkeys[i].Data, m.passkeys[i].LastUsedAt = data, lastUsed
			return nil
		}
	}
	return errMemNotFound
}

func (m *memStore) DeletePasskeyCredential(_ context.Context, user string, id []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, o := range m.passkeys {
		if o.User == user && bytes.Equal(o.ID, id) {
			m.passkeys = append(m.passkeys[:i], m.passkeys[i+1:]...)
			return nil
		}
	}
	return errMemNotFound
}

// testLogger sends debug logs to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
