package auth

import (
	"errors"
	"testing"
	"time"
)

// TestTickets: a ticket stands for the access token it was issued from
// (its claims come back on redemption), lives a minute at most and never
// longer than that token, is spent by its first redemption, is good for
// its own use only, is no purpose token and no access token, and stops
// holding with its token (revoked, its user's tokens revoked, expired).
func TestTickets(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, _ := newTokens(t, clock)
	access, parent, err := tk.Issue(ctx, "a@x", MethodTOTP)
	if err != nil {
		t.Fatal(err)
	}
	ticket, exp, err := tk.IssueTicket(ctx, parent, "sse", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(clock.Now().Add(MaxTicketTTL)) {
		t.Errorf("ticket expires %v, want a minute from now", exp)
	}
	got, err := tk.RedeemTicket(ctx, ticket, "sse")
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != parent.Subject || got.ID != parent.ID || !got.ExpiresAt.Equal(parent.ExpiresAt) ||
		!got.IssuedAt.Equal(parent.IssuedAt) || got.Method != MethodTOTP || got.Purpose != "" {
		t.Fatalf("redeemed claims %+v, want the access token's %+v", got, parent)
	}
	if _, err := tk.RedeemTicket(ctx, ticket, "sse"); !errors.Is(err, ErrRevoked) {
		t.Errorf("a ticket redeemed twice: %v, want ErrRevoked", err)
	}

	fresh := func() string {
		t.Helper()
		tic, _, err := tk.IssueTicket(ctx, parent, "sse", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return tic
	}
	other := fresh()
	tests := []struct {
		name, tok, use string
		want           error
	}{
		{"another use", other, "push", ErrInvalidToken},
		{"no use", other, "", ErrInvalidToken},
		{"the access token as a ticket", access, "sse", ErrInvalidToken},
		{"not a token", "abc.def.ghi", "sse", ErrInvalidToken},
	}
	for _, tt := range tests {
		if _, err := tk.RedeemTicket(ctx, tt.tok, tt.use); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := tk.RedeemTicket(ctx, other, "sse"); err != nil {
		t.Errorf("a refused redemption spent the ticket: %v", err)
	}
	tic := fresh()
	if _, err := tk.Verify(ctx, tic); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("a ticket as an access token: %v, want ErrInvalidToken", err)
	}
	if _, err := tk.VerifyPurpose(ctx, tic, "ticket:sse"); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("a ticket as a purpose token: %v, want ErrInvalidToken", err)
	}
	if _, _, err := tk.IssuePurpose(ctx, "a@x", "ticket:sse", time.Minute); err == nil {
		t.Error("IssuePurpose made a ticket's purpose")
	}
	if _, _, err := tk.IssueTicket(ctx, Claims{Subject: "a@x", ID: "x", Purpose: "push-reply", ExpiresAt: clock.Now().Add(time.Hour)}, "sse", time.Minute); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("a ticket for a purpose token: %v", err)
	}

	// Expired: the ticket itself.
	clock.Advance(MaxTicketTTL + time.Second)
	if _, err := tk.RedeemTicket(ctx, tic, "sse"); !errors.Is(err, ErrExpired) {
		t.Errorf("an expired ticket: %v, want ErrExpired", err)
	}
	// The access token revoked (a logout) after the ticket was issued.
	tic = fresh()
	if err := tk.Revoke(ctx, parent); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.RedeemTicket(ctx, tic, "sse"); !errors.Is(err, ErrRevoked) {
		t.Errorf("a ticket of a logged-out token: %v, want ErrRevoked", err)
	}

	// Every token of the user revoked (a password change).
	_, p2, _ := tk.Issue(ctx, "b@x", MethodPassword)
	tic2, _, err := tk.IssueTicket(ctx, p2, "sse", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Millisecond)
	if err := tk.RevokeUser(ctx, "b@x", clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.RedeemTicket(ctx, tic2, "sse"); !errors.Is(err, ErrRevoked) {
		t.Errorf("a ticket after the user's tokens were revoked: %v, want ErrRevoked", err)
	}

	// A ticket never outlives its token; none is made for a token about
	// to expire.
	_, p3, _ := tk.Issue(ctx, "c@x", MethodPassword)
	clock.Advance(p3.ExpiresAt.Sub(clock.Now()) - 20*time.Second)
	_, exp3, err := tk.IssueTicket(ctx, p3, "sse", time.Minute)
	if err != nil || exp3.After(p3.ExpiresAt) {
		t.Errorf("a ticket of a token with 20 s left expires %v (%v), want by %v", exp3, err, p3.ExpiresAt)
	}
	clock.Advance(20 * time.Second)
	if _, _, err := tk.IssueTicket(ctx, p3, "sse", time.Minute); !errors.Is(err, ErrExpired) {
		t.Errorf("a ticket of an expired token: %v, want ErrExpired", err)
	}
}

// A store that cannot answer is not a refusal: the redemption fails with
// the store's error (the gateway answers 503, not 401), and the ticket is
// not spent by it.
func TestTicketStoreDown(t *testing.T) {
	ctx := t.Context()
	clock := newClock()
	tk, st, _ := newCountingTokens(t, clock, -1) // every check reads the store
	_, parent, err := tk.Issue(ctx, "a@x", MethodPassword)
	if err != nil {
		t.Fatal(err)
	}
	ticket, _, err := tk.IssueTicket(ctx, parent, "sse", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	st.fail.Store(true)
	_, err = tk.RedeemTicket(ctx, ticket, "sse")
	if !errors.Is(err, errStoreDown) {
		t.Fatalf("redeemed with the store down: %v, want the store's error", err)
	}
	for _, refusal := range []error{ErrInvalidToken, ErrExpired, ErrRevoked} {
		if errors.Is(err, refusal) {
			t.Fatalf("the store's failure reads as a refusal: %v", err)
		}
	}
	st.fail.Store(false)
	if got, err := tk.RedeemTicket(ctx, ticket, "sse"); err != nil || got.ID != parent.ID {
		t.Fatalf("the ticket after the store came back: %+v, %v", got, err)
	}
}
