package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestRecoveryCode(t *testing.T) {
	tests := []struct {
		typed, canon string
		ok           bool
	}{
		{"k3mqa-7xwe2", "k3mqa7xwe2", true},
		{"K3MQA-7XWE2", "k3mqa7xwe2", true},
		{" k3mqa 7xwe2 ", "k3mqa7xwe2", true},
		{"k3mqa7xwe2", "k3mqa7xwe2", true},
		{"k3-mq-a7-xw-e2", "k3mqa7xwe2", true},
		{"k3mqa-7xwe", "", false},          // short
		{"k3mqa-7xwe22", "", false},        // long
		{"k3mqa-7xwe0", "", false},         // 0 is not base32
		{"k3mqa-7xwe1", "", false},         // nor 1
		{"k3mqa-7xwé2", "", false},         // nor anything outside ASCII
		{"123456", "", false},              // a TOTP code
		{"12345678", "", false},            // an 8-digit one
		{"2345672345", "2345672345", true}, // digits 2–7 only: base32 all the same
		{"", "", false},
		{strings.Repeat("-", 100) + "k3mqa7xwe2", "", false}, // bounded before it is read
	}
	for _, tt := range tests {
		canon, ok := RecoveryCode(tt.typed)
		if canon != tt.canon || ok != tt.ok {
			t.Errorf("RecoveryCode(%q) = %q, %v; want %q, %v", tt.typed, canon, ok, tt.canon, tt.ok)
		}
	}
}

// TestRecoveryCodes: codes are made only for active TOTP, each works once
// in Validate, wrong ones count towards the lockout, new codes replace the
// old, and turning TOTP off takes them.
func TestRecoveryCodes(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tt, st := newTOTP(t, clock)
	if _, err := tt.NewRecoveryCodes(ctx, totpUser); !errors.Is(err, ErrNotEnrolled) {
		t.Fatalf("codes without TOTP: %v, want ErrNotEnrolled", err)
	}
	secret, _ := enroll(t, tt, totpUser)
	if _, err := tt.NewRecoveryCodes(ctx, totpUser); !errors.Is(err, ErrNotEnrolled) {
		t.Fatalf("codes for a pending enrolment: %v, want ErrNotEnrolled", err)
	}
	if err := tt.Validate(ctx, totpUser, codeAt(t, secret, clock.Now())); err != nil {
		t.Fatal(err)
	}
	codes, err := tt.NewRecoveryCodes(ctx, totpUser)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		canon, ok := RecoveryCode(c)
		if !ok || len(c) != 11 || c[5] != '-' || seen[canon] {
			t.Errorf("code %q: not a code, not shown in groups, or twice", c)
		}
		seen[canon] = true
		if st.recovery[totpUser][c] || st.recovery[totpUser][canon] {
			t.Errorf("the store holds code %q as it is", c)
		}
	}
	if len(codes) != RecoveryCodeCount {
		t.Fatalf("%d codes, want %d", len(codes), RecoveryCodeCount)
	}
	if s, err := tt.Status(ctx, totpUser); err != nil || s != (TOTPStatus{Active: true, RecoveryCodes: RecoveryCodeCount}) {
		t.Fatalf("Status = %+v, %v", s, err)
	}

	if err := tt.Validate(ctx, totpUser, strings.ToUpper(codes[0])); err != nil {
		t.Fatalf("a recovery code, typed in capitals: %v", err)
	}
	if err := tt.Validate(ctx, totpUser, codes[0]); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("the same code again: %v, want ErrInvalidCode", err)
	}
	if s, _ := tt.Status(ctx, totpUser); s.RecoveryCodes != RecoveryCodeCount-1 {
		t.Errorf("%d codes left after one use, want %d", s.RecoveryCodes, RecoveryCodeCount-1)
	}
	// Wrong codes lock the user out as wrong TOTP codes do (one failure
	// already, the reuse above).
	for i := 1; i < DefaultMaxFailures; i++ {
		if err := tt.Validate(ctx, totpUser, "aaaaa-aaaaa"); !errors.Is(err, ErrInvalidCode) {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	if err := tt.Validate(ctx, totpUser, codes[1]); !errors.Is(err, ErrLocked) {
		t.Fatalf("a right code while locked out: %v, want ErrLocked", err)
	}
	clock.Advance(DefaultFailureWindow)

	fresh, err := tt.NewRecoveryCodes(ctx, totpUser)
	if err != nil {
		t.Fatal(err)
	}
	if err := tt.Validate(ctx, totpUser, codes[1]); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("an old code after new ones were made: %v, want ErrInvalidCode", err)
	}
	if err := tt.Validate(ctx, totpUser, fresh[9]); err != nil {
		t.Errorf("a new code: %v", err)
	}
	if err := tt.Disable(ctx, totpUser); err != nil {
		t.Fatal(err)
	}
	if s, err := tt.Status(ctx, totpUser); err != nil || s != (TOTPStatus{}) {
		t.Errorf("Status after Disable = %+v, %v; want nothing", s, err)
	}
	if n, _ := st.RecoveryCodes(ctx, totpUser); n != 0 {
		t.Errorf("%d codes kept after Disable", n)
	}
}

// FuzzRecoveryCode: whatever is typed, RecoveryCode answers a code of 10
// lowercase base32 characters or nothing, reads its own answer back as
// itself, and ignores case, spaces and hyphens.
func FuzzRecoveryCode(f *testing.F) {
	for _, s := range []string{"k3mqa-7xwe2", "K3MQA 7XWE2", "123456", "", "k3mqa-7xwe0", "aaaaa-aaaaa-", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		canon, ok := RecoveryCode(typed)
		if !ok {
			if canon != "" {
				t.Fatalf("RecoveryCode(%q) = %q with false", typed, canon)
			}
			return
		}
		if len(canon) != recoveryLen {
			t.Fatalf("RecoveryCode(%q) = %q: not %d characters", typed, canon, recoveryLen)
		}
		for _, c := range canon {
			if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
				t.Fatalf("RecoveryCode(%q) = %q: %q is not lowercase base32", typed, canon, c)
			}
		}
		if again, ok := RecoveryCode(canon); !ok || again != canon {
			t.Fatalf("RecoveryCode(%q) = %q, %v; want itself", canon, again, ok)
		}
		if up, ok := RecoveryCode(strings.ToUpper(canon[:5]) + " - " + canon[5:]); !ok || up != canon {
			t.Fatalf("the same code in capitals with a gap: %q, %v", up, ok)
		}
	})
}
