package auth

import (
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary Authorization headers through
// ParseAuthorization and Verify: neither may panic, an accepted header
// yields a token without spaces, and nothing forged is accepted.
func FuzzVerify(f *testing.F) {
	clock := newClock()
	tk, _ := newTokens(f, clock)
	valid, _, err := tk.Issue(f.Context(), "alice@example.org", MethodPassword)
	if err != nil {
		f.Fatal(err)
	}
	purpose, _, _ := tk.IssuePurpose(f.Context(), "alice@example.org", "push-reply", time.Minute)
	for _, s := range []string{
		valid, "Bearer " + valid, "bearer " + valid + " ", purpose,
		"", "Bearer", "Basic YWxpY2U6c2VjcmV0", "a.b.c", "..", "Bearer ..",
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.",
		valid[:len(valid)-2] + "AA",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, ok := ParseAuthorization(header)
		if ok {
			for _, r := range tok {
				if r == ' ' || r == '\t' || r == '\n' {
					t.Fatalf("token %q contains whitespace", tok)
				}
			}
			if tok == valid {
				return // the one genuine token
			}
			if c, err := tk.Verify(t.Context(), tok); err == nil {
				t.Fatalf("forged token accepted: %+v", c)
			}
		}
		if header != valid {
			tk.Verify(t.Context(), header)
		}
		tk.VerifyPurpose(t.Context(), header, "push-reply")
	})
}
