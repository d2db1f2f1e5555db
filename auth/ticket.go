package auth

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Tickets. Some clients must put their credential where it gets written
// down: a browser's EventSource cannot send headers, so its access token
// goes into the URL, and URLs end up in the access logs of every proxy on
// the way, valid for the token's whole life. A ticket stands in for an
// access token there: it is signed like a token, lives a minute at most,
// and can be redeemed once, on any gateway sharing the store. Redeeming
// it gives the claims of the access token it was issued from, which must
// still hold (not expired, not revoked, its user's tokens not revoked, its
// family not revoked): what the ticket opens is as good as that token,
// and ends with it.

// MaxTicketTTL bounds a ticket's life.
const MaxTicketTTL = time.Minute

// ticketPurposePrefix begins the purpose of every ticket; the use follows.
// VerifyPurpose never accepts a ticket, since IssuePurpose refuses
// purposes with this prefix.
const ticketPurposePrefix = "ticket:"

// TicketParent is, in a ticket, what it needs of the access token it was
// issued from to give its claims back (Claims.Parent).
type TicketParent struct {
	ID       string `json:"jti"`
	Expires  int64  `json:"exp"`
	IssuedMS int64  `json:"iat_ms"`
	Method   string `json:"amr"`
}

// IssueTicket signs a ticket for use (a name of the caller's, such as
// "sse") that stands for parent, an access token Verify accepted. It
// lives ttl, at most MaxTicketTTL and never longer than parent. It returns
// the ticket and when it expires.
func (t *Tokens) IssueTicket(ctx context.Context, parent Claims, use string, ttl time.Duration) (string, time.Time, error) {
	switch {
	case use == "":
		return "", time.Time{}, fmt.Errorf("auth: issue ticket: empty use")
	case parent.ID == "" || parent.Purpose != "" || parent.Method == "":
		return "", time.Time{}, fmt.Errorf("%w: a ticket stands for an access token", ErrInvalidToken)
	}
	ttl = min(ttl, MaxTicketTTL, parent.ExpiresAt.Sub(t.now()))
	if ttl < time.Second {
		return "", time.Time{}, fmt.Errorf("%w (%w): the token expires too soon for a ticket", ErrExpired, ErrInvalidToken)
	}
	par := &TicketParent{ID: parent.ID, Expires: parent.ExpiresAt.Unix(), IssuedMS: parent.IssuedAt.UnixMilli(), Method: parent.Method}
	tok, c, err := t.issueWith(parent.Subject, "", ticketPurposePrefix+use, parent, ttl, par)
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, c.ExpiresAt, nil
}

// RedeemTicket checks a ticket issued for use, spends it (of any number of
// calls for one ticket, on any number of gateways sharing the store, one
// succeeds) and returns the claims of the access token it stands for,
// which must still hold. Every refusal matches ErrInvalidToken, a spent or
// revoked one ErrRevoked, an expired one ErrExpired; any other error is a
// store failure.
func (t *Tokens) RedeemTicket(ctx context.Context, ticket, use string) (Claims, error) {
	c, err := t.parse(ticket)
	if err != nil {
		return Claims{}, err
	}
	if use == "" || c.Purpose != ticketPurposePrefix+use || c.Parent == nil || c.Parent.ID == "" {
		return Claims{}, fmt.Errorf("%w: not a ticket for %s", ErrInvalidToken, use)
	}
	if err := t.checkRevoked(ctx, c); err != nil {
		return Claims{}, err
	}
	if err := t.Consume(ctx, c); err != nil {
		return Claims{}, err
	}
	p := c.Parent
	parent := Claims{
		Subject:   c.Subject,
		ID:        p.ID,
		Issuer:    c.Issuer,
		Audience:  c.Audience,
		IssuedAt:  time.UnixMilli(p.IssuedMS).UTC(),
		NotBefore: time.UnixMilli(p.IssuedMS).UTC().Truncate(time.Second),
		ExpiresAt: time.Unix(p.Expires, 0).UTC(),
		Method:    p.Method,
		KeyID:     c.KeyID,
		Family:    c.Family,
		Remember:  c.Remember,
	}
	if err := t.Recheck(ctx, parent); err != nil {
		return Claims{}, err
	}
	return parent, nil
}

// isTicketPurpose reports whether purpose is a ticket's.
func isTicketPurpose(purpose string) bool { return strings.HasPrefix(purpose, ticketPurposePrefix) }
