package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/store"
)

// authClock is a clock the test moves by hand.
type authClock struct{ t time.Time }

func (f *authClock) now() time.Time          { return f.t }
func (f *authClock) advance(d time.Duration) { f.t = f.t.Add(d) }

func TestKeyedLimiter(t *testing.T) {
	clk := &authClock{t: time.Unix(1_000_000, 0)}
	l := newKeyedLimiter(RateLimit{Every: 10 * time.Second, Burst: 2}, clk.now)
	for i := range 2 {
		if ok, _ := l.take("a"); !ok {
			t.Fatalf("attempt %d refused within the burst", i)
		}
	}
	ok, d := l.take("a")
	if ok || d <= 0 || d > 10*time.Second {
		t.Fatalf("third attempt: ok=%v retry=%v, want refused within 10s", ok, d)
	}
	if ok, _ := l.take("b"); !ok {
		t.Fatal("another key is limited too")
	}
	clk.advance(10 * time.Second)
	if ok, _ := l.take("a"); !ok {
		t.Fatal("no attempt earned back after Every")
	}
	if ok, _ := l.take("a"); ok {
		t.Fatal("more than one attempt earned back")
	}
	// Full buckets are dropped by purge.
	clk.advance(time.Hour)
	l.mu.Lock()
	l.purge(clk.now())
	n := len(l.keys)
	l.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d idle keys kept after purge", n)
	}
	// Burst < 0 switches the limit off.
	off := newKeyedLimiter(RateLimit{Burst: -1}, clk.now)
	for range 100 {
		if ok, _ := off.take("a"); !ok {
			t.Fatal("a switched-off limiter refused")
		}
	}
}

func TestFailures(t *testing.T) {
	clk := &authClock{t: time.Unix(1_000_000, 0)}
	f := newFailures(3, time.Minute, clk.now)
	tests := []struct {
		name       string
		advance    time.Duration
		fail       bool
		clear      bool
		wantLocked bool
	}{
		{"first", 0, true, false, false},
		{"second", 10 * time.Second, true, false, false},
		{"third-locks", 10 * time.Second, true, false, true},
		{"still-locked", 30 * time.Second, false, false, true},
		{"first-aged-out", 11 * time.Second, false, false, false},
		{"again", 0, true, false, true},
		{"cleared", 0, false, true, false},
	}
	for _, tt := range tests {
		clk.advance(tt.advance)
		if tt.fail {
			f.add("u")
		}
		if tt.clear {
			f.clear("u")
		}
		until := f.locked("u")
		if got := !until.IsZero(); got != tt.wantLocked {
			t.Fatalf("%s: locked=%v (until %v), want %v", tt.name, got, until, tt.wantLocked)
		}
		if !f.locked("other").IsZero() {
			t.Fatalf("%s: another user is locked", tt.name)
		}
	}
	if newFailures(-1, time.Minute, clk.now) != nil {
		t.Fatal("a negative max does not switch the lockout off")
	}
	var off *failures
	off.add("u")
	if !off.locked("u").IsZero() {
		t.Fatal("a nil failures locks")
	}
}

func TestUsedTickets(t *testing.T) {
	clk := &authClock{t: time.Unix(1_000_000, 0)}
	u := newUsedTickets(clk.now)
	exp := clk.now().Add(time.Minute)
	if !u.use("a", exp) || u.use("a", exp) || !u.use("b", exp) {
		t.Fatal("use is not once per id")
	}
}

func TestChallengeIndex(t *testing.T) {
	clk := &authClock{t: time.Unix(1_000_000, 0)}
	x := newChallengeIndex(clk.now)
	x.put("abc", "c1")
	x.put("", "c2")
	if id, ok := x.take("abc"); !ok || id != "c1" {
		t.Fatalf("take = %q %v", id, ok)
	}
	if _, ok := x.take("abc"); ok {
		t.Fatal("an entry was taken twice")
	}
	x.put("old", "c3")
	clk.advance(challengeTTL)
	if _, ok := x.take("old"); ok {
		t.Fatal("an expired entry was found")
	}
}

func TestCredentialChallenge(t *testing.T) {
	ch := base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	cd := func(challenge string) string {
		b, _ := json.Marshal(map[string]string{"type": "webauthn.get", "challenge": challenge, "origin": "http://localhost"})
		return base64.RawURLEncoding.EncodeToString(b)
	}
	tests := []struct {
		name string
		body string
		want string
		ok   bool
	}{
		{"raw", `{"response":{"clientDataJSON":"` + cd(ch) + `"}}`, ch, true},
		{"padded-challenge", `{"response":{"clientDataJSON":"` + cd(ch+"=") + `"}}`, ch, true},
		{"padded-clientdata", `{"response":{"clientDataJSON":"` + cd(ch) + `=="}}`, ch, true},
		{"no-response", `{"id":"x"}`, "", false},
		{"not-base64", `{"response":{"clientDataJSON":"***"}}`, "", false},
		{"empty-challenge", `{"response":{"clientDataJSON":"` + cd("") + `"}}`, "", false},
		{"not-json", `nope`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := credentialChallenge([]byte(tt.body))
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("credentialChallenge = %q, %v; want %q ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
	opts := `{"publicKey":{"challenge":"` + ch + `","rpId":"localhost"}}`
	if got := optionsChallenge([]byte(opts)); got != ch {
		t.Fatalf("optionsChallenge = %q, want %q", got, ch)
	}
}

func TestBodyKind(t *testing.T) {
	tests := []struct {
		body string
		want proofBody
	}{
		{"", bodyEmpty},
		{"hunter2", bodyPassword},
		{"eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhIn0.c2ln", bodyTicket},
		{"eyJ.a.b", bodyTicket},
		{"eyJ..b", bodyPassword},
		{"eyJ.a.b.c", bodyPassword},
		{"eyJ.a b.c", bodyPassword},
		{"eyJ.a.b=", bodyPassword},
		{"xeyJ.a.b", bodyPassword},
	}
	for _, tt := range tests {
		if got := bodyKind(tt.body); got != tt.want {
			t.Errorf("bodyKind(%q) = %v, want %v", tt.body, got, tt.want)
		}
	}
}

func TestValidCode(t *testing.T) {
	for code, want := range map[string]bool{
		"123456": true, "12345678": true, "12345": false, "123456789": false,
		"12345a": false, "１２３４５６": false, "": false, "123 456": false,
		// Recovery codes: 10 base32 characters, any case, spaced or not.
		"abcde-fgh23": true, "ABCDE FGH23": true, "2222222222": true, "abcde-fgh2": false, "abcde-fgh21": false,
	} {
		if got := validCode(code); got != want {
			t.Errorf("validCode(%q) = %v, want %v", code, got, want)
		}
	}
}

// FuzzTOTPBody fuzzes the readers of the TOTP login: the body decoder and
// its classification, and the code check.
func FuzzTOTPBody(f *testing.F) {
	f.Add("text/plain", []byte("hunter2"), "123456")
	f.Add("application/json", []byte(`"eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhIn0.c2ln"`), "00000000")
	f.Add("", []byte(""), "")
	f.Add("application/json; charset=utf-8", []byte(`"\u0000"`), "1234567")
	f.Add("text/plain; charset=\"", []byte("\xff"), "12 456")
	f.Fuzz(func(t *testing.T, ct string, raw []byte, code string) {
		if validCode(code) {
			// A TOTP code (6 to 8 digits) or a recovery code's shape
			// (10 base32 characters, which "2222222222" is too).
			_, recovery := auth.RecoveryCode(code)
			if !recovery && (len(code) < 6 || len(code) > 8 || strings.Trim(code, "0123456789") != "") {
				t.Fatalf("validCode accepted %q", code)
			}
		}
		s, err := decodeText(ct, raw)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 {
				t.Fatalf("decodeText error %v is not a 4xx *Error", err)
			}
			return
		}
		switch bodyKind(s) {
		case bodyEmpty:
			if s != "" {
				t.Fatalf("non-empty %q classified empty", s)
			}
		case bodyTicket:
			parts := strings.Split(s, ".")
			if len(parts) != 3 || !strings.HasPrefix(s, "eyJ") {
				t.Fatalf("%q classified as a ticket", s)
			}
			const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			for _, p := range parts {
				if p == "" || strings.Trim(p, b64url) != "" {
					t.Fatalf("%q classified as a ticket: part %q", s, p)
				}
			}
		}
	})
}

// FuzzCredentialBody fuzzes the reader of PublicKeyCredential bodies and
// the challenge lookup of SparkWeb clients.
func FuzzCredentialBody(f *testing.F) {
	f.Add("application/json", []byte(`{"response":{"clientDataJSON":"eyJjaGFsbGVuZ2UiOiJhYmNkIn0"}}`))
	f.Add("text/plain", []byte(`  {"id":"x"}  `))
	f.Add("", []byte(`[1,2]`))
	f.Add("application/xml", []byte(`<x/>`))
	f.Add("application/json", []byte(`{"response":{"clientDataJSON":"=="}}`))
	f.Fuzz(func(t *testing.T, ct string, raw []byte) {
		body, err := decodeCredential(ct, raw)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 {
				t.Fatalf("decodeCredential error %v is not a 4xx *Error", err)
			}
			return
		}
		if !json.Valid(body) || body[0] != '{' {
			t.Fatalf("accepted %q", body)
		}
		ch, err := credentialChallenge(body)
		if err == nil {
			if b, err := base64.RawURLEncoding.DecodeString(ch); err != nil || len(b) == 0 {
				t.Fatalf("challenge %q is not normalized base64url", ch)
			}
		}
	})
}

func BenchmarkKeyedLimiter(b *testing.B) {
	l := newKeyedLimiter(DefaultUserRateLimit, time.Now)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "user" + strconv.Itoa(i) + "@example.org"
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		l.take(keys[i%len(keys)])
	}
}

// TestLockout: failures lock a (user, address) pair after a few and the
// user on every address only after many more (issue 24, design risk A),
// counted in memory or in a store (store.DB, as gateways sharing one do).
func TestLockout(t *testing.T) {
	for _, kind := range []string{"memory", "store"} {
		t.Run(kind, func(t *testing.T) {
			clk := &authClock{t: time.Unix(1_000_000, 0)}
			var l, off lockout = memoryLockout{pair: newFailures(2, time.Minute, clk.now), user: newFailures(5, time.Minute, clk.now)},
				memoryLockout{}
			if kind == "store" {
				st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "lockout.db"))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				l = storedLockout{st: st, pairMax: 2, user: 5, window: time.Minute, now: clk.now}
				off = storedLockout{st: st, pairMax: -1, user: -1, window: time.Minute, now: clk.now}
			}
			testLockout(t, l, off, clk)
		})
	}
}

func testLockout(t *testing.T, l, off lockout, clk *authClock) {
	ctx := t.Context()
	locked := func(l lockout, user, addr string) bool {
		t.Helper()
		until, err := l.locked(ctx, user, addr)
		if err != nil {
			t.Fatal(err)
		}
		return !until.IsZero()
	}
	tests := []struct {
		name   string
		fail   string // address a failure of u comes from, if any
		clear  string // address u logs in from, if any
		locked []string
		free   []string
	}{
		{name: "first", fail: "a", free: []string{"a", "b"}},
		{name: "pair-locks", fail: "a", locked: []string{"a"}, free: []string{"b", "c"}},
		{name: "other-address", fail: "b", locked: []string{"a"}, free: []string{"b", "c"}},
		// A success at a forgets that pair only.
		{name: "success-clears-pair", clear: "a", free: []string{"a", "b", "c"}},
		{name: "four", fail: "c", free: []string{"a", "b", "c", "d"}},
		{name: "user-locks", fail: "d", locked: []string{"a", "b", "c", "d", "e"}},
	}
	for _, tt := range tests {
		if tt.fail != "" {
			if _, err := l.add(ctx, "u", tt.fail); err != nil {
				t.Fatal(err)
			}
		}
		if tt.clear != "" {
			if err := l.clear(ctx, "u", tt.clear); err != nil {
				t.Fatal(err)
			}
		}
		for _, addr := range tt.locked {
			if !locked(l, "u", addr) {
				t.Errorf("%s: u at %s is not locked", tt.name, addr)
			}
		}
		for _, addr := range tt.free {
			if locked(l, "u", addr) {
				t.Errorf("%s: u at %s is locked", tt.name, addr)
			}
		}
		if locked(l, "v", "a") {
			t.Errorf("%s: another user is locked", tt.name)
		}
	}
	clk.advance(time.Minute)
	if locked(l, "u", "a") {
		t.Error("still locked after the window")
	}
	for range 3 {
		if _, err := l.add(ctx, "w", "a"); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.forget(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	if locked(l, "w", "a") {
		t.Error("still locked after forget")
	}
	if _, err := off.add(ctx, "u", "a"); err != nil {
		t.Fatal(err)
	}
	if locked(off, "u", "a") {
		t.Error("a lockout without counts locks")
	}
}

// failingAttempts is an AttemptStore whose database is down.
type failingAttempts struct{}

func (failingAttempts) TakeAttempt(context.Context, string, time.Time, time.Duration, int) (bool, time.Duration, error) {
	return false, 0, errors.New("connection refused")
}

// TestStoredLimiter: a limit switched off never asks the store; a store
// that fails refuses the attempt for a second (fail closed), or lets it
// through when the limiter fails open (the away budget of pushes).
func TestStoredLimiter(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	off := storedLimiter{st: failingAttempts{}, prefix: "ip:", limit: RateLimit{Burst: -1}, now: time.Now, log: log}
	if ok, _ := off.take("a"); !ok {
		t.Error("a limit switched off refused")
	}
	down := storedLimiter{st: failingAttempts{}, prefix: "ip:", limit: RateLimit{Every: time.Second, Burst: 5}, now: time.Now, log: log}
	if ok, wait := down.take("a"); ok || wait != time.Second {
		t.Errorf("store down: %v, wait %v; want refused for 1s", ok, wait)
	}
	open := perMinute(5, failingAttempts{}, "away:", time.Now, log, true)
	for i := range 10 {
		if ok, wait := open.take("a"); !ok || wait != 0 {
			t.Fatalf("store down, failing open, attempt %d: %v, wait %v; want let through", i, ok, wait)
		}
	}
	if ok, _ := perMinute(5, failingAttempts{}, "push:", time.Now, log, false).take("a"); ok {
		t.Error("store down, failing closed: let through")
	}
}
