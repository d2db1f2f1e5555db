package auth

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

func TestJitsiToken(t *testing.T) {
	secret := []byte("jitsi shared secret")
	tok, err := JitsiToken("sparkgate", secret, "standup", "Alice Liddell", "alice@example.com", time.Hour, t0)
	if err != nil {
		t.Fatal(err)
	}
	var got JitsiClaims
	_, err = jwt.ParseWithClaims(tok, &got, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return t0.Add(time.Minute) }),
		jwt.WithAudience("jitsi"), jwt.WithIssuer("sparkgate"), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	want := JitsiClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: "sparkgate", Audience: jwt.ClaimStrings{"jitsi"}, Subject: "*",
			IssuedAt: jwt.NewNumericDate(t0), NotBefore: jwt.NewNumericDate(t0.Add(-30 * time.Second)),
			ExpiresAt: jwt.NewNumericDate(t0.Add(time.Hour)),
		},
		Room:    "standup",
		Context: JitsiContext{User: JitsiUser{Name: "Alice Liddell", Email: "alice@example.com"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("claims (-want +got):\n%s", d)
	}
	// Another secret does not verify it.
	if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte("other"), nil }); err == nil {
		t.Fatal("verified with the wrong secret")
	}
}

func TestJitsiTokenRefuses(t *testing.T) {
	tests := []struct {
		name   string
		app    string
		secret []byte
		room   string
		ttl    time.Duration
	}{
		{"no-app", "", []byte("s"), "r", time.Hour},
		{"no-secret", "app", nil, "r", time.Hour},
		{"no-room", "app", []byte("s"), "", time.Hour},
		{"no-ttl", "app", []byte("s"), "r", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := JitsiToken(tt.app, tt.secret, tt.room, "n", "e", tt.ttl, t0); err == nil {
				t.Fatal("signed anyway")
			}
		})
	}
}

func TestGaleneToken(t *testing.T) {
	secret := []byte("galene key")
	tok, err := GaleneToken(secret, "k1", "sparkgate", "https://galene.example/group/standup/", "alice", []string{"present"}, time.Hour, t0)
	if err != nil {
		t.Fatal(err)
	}
	var got GaleneClaims
	parsed, err := jwt.ParseWithClaims(tok, &got, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return t0 }),
		jwt.WithAudience("https://galene.example/group/standup/"))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if parsed.Header["kid"] != "k1" || got.Subject != "alice" || !cmp.Equal(got.Permissions, []string{"present"}) {
		t.Fatalf("header %v claims %+v", parsed.Header, got)
	}
	if _, err := GaleneToken(nil, "", "i", "u", "a", nil, time.Hour, t0); err == nil {
		t.Fatal("signed without a secret")
	}
}
