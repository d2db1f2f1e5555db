package auth

import (
	"encoding/base64"
	"log/slog"
	"strings"
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

// FuzzPasskeyResponse feeds arbitrary browser responses to the Finish
// methods: they must fail cleanly, never panic or accept.
func FuzzPasskeyResponse(f *testing.F) {
	clock := newClock()
	p, _ := newPasskeys(f, clock, func(c *PasskeysConfig) {
		c.Logger = slog.New(slog.DiscardHandler) // f must not be used inside the target
	})
	d := register(f, p, "alice@x")
	_, good := d.assert(f, p, "alice@x")
	for _, s := range []string{
		string(good), "", "{}", "null", `{"id":"","rawId":"","type":"public-key","response":{}}`,
		`{"type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":""}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, resp []byte) {
		ctx := t.Context()
		id, _, err := p.BeginLogin(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if user, err := p.FinishLogin(ctx, id, resp); err == nil {
			t.Fatalf("fuzzed assertion accepted for %q", user)
		}
		id, _, err = p.BeginRegistration(ctx, "bob@x")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.FinishRegistration(ctx, "bob@x", id, resp, ""); err == nil {
			t.Fatal("fuzzed attestation accepted")
		}
	})
}

// FuzzSealedChallenge feeds arbitrary client data challenges to the
// check of discoverable logins' sealed challenges: never a panic, nothing
// but what the sealer made is accepted, and a sealed challenge changed in
// any way (a byte, or cut) is refused.
func FuzzSealedChallenge(f *testing.F) {
	s := challengeSealer{key: []byte("fuzzing key of thirty-two bytes!")}
	// The same in every fuzzing process, as the seeds are.
	good := s.sealNonce([]byte("sixteen byte non"), t0.Add(5*time.Minute))
	enc := base64.RawURLEncoding.EncodeToString(good)
	for _, c := range []string{enc, enc[:len(enc)-1], enc + "A", "", "AAAA", strings.Repeat("A", 54), strings.Repeat("_", 54), enc[:53] + "="} {
		f.Add(c, 0, byte(0))
	}
	f.Add(enc, 20, byte(1))
	f.Fuzz(func(t *testing.T, challenge string, at int, flip byte) {
		raw, exp, ok := s.open(challenge)
		if ok && (len(raw) != sealedLen || challenge != base64.RawURLEncoding.EncodeToString(raw)) {
			t.Fatalf("accepted %q as %x", challenge, raw)
		}
		if ok && challenge != enc {
			t.Fatalf("accepted %q, which the sealer did not make", challenge)
		}
		if ok && !exp.Equal(t0.Add(5*time.Minute)) {
			t.Fatalf("expiry %v", exp)
		}
		if flip != 0 {
			changed := append([]byte(nil), good...)
			changed[uint(at)%sealedLen] ^= flip
			if _, _, ok := s.open(base64.RawURLEncoding.EncodeToString(changed)); ok {
				t.Fatalf("a sealed challenge with byte %d changed by %#x was accepted", uint(at)%sealedLen, flip)
			}
		}
	})
}

// FuzzTOTPValidate feeds arbitrary codes: never a panic, and nothing but
// six ASCII digits (spaces aside) can succeed.
func FuzzTOTPValidate(f *testing.F) {
	clock := newClock()
	tt, _ := newTOTP(f, clock)
	secret, _ := enroll(f, tt, totpUser)
	for _, s := range []string{codeAt(f, secret, clock.Now()), "", "000000", "12 34 56", "١٢٣٤٥٦", "1234567", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		// Keep the lockout out of the way; each input gets a fresh step.
		clock.Advance(time.Hour)
		err := tt.Validate(t.Context(), totpUser, code)
		if err == nil && len(normalizeCode(code)) != 6 {
			t.Fatalf("code %q accepted", code)
		}
	})
}
