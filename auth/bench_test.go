package auth

import (
	"testing"
)

func BenchmarkIssue(b *testing.B) {
	tk, _ := newTokens(b, newClock())
	for b.Loop() {
		if _, _, err := tk.Issue(b.Context(), "alice@example.org", MethodPassword); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	tk, _ := newTokens(b, newClock())
	tok, _, _ := tk.Issue(b.Context(), "alice@example.org", MethodPassword)
	for b.Loop() {
		if _, err := tk.Verify(b.Context(), tok); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(tok)), "token-bytes")
}

func BenchmarkTOTPValidateWrong(b *testing.B) {
	clock := newClock()
	tt, _ := newTOTP(b, clock)
	enroll(b, tt, totpUser)
	for b.Loop() {
		tt.Validate(b.Context(), totpUser, "000000")
		clock.Advance(DefaultFailureWindow) // stay unlocked
	}
}
