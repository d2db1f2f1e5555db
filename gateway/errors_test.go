package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/xmppadmin"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// TestClassify: every error the packages below return becomes a status of
// its own, never a 500 for what is the client's or the XMPP server's doing.
func TestTokenIssuer(t *testing.T) {
	tests := []struct {
		err       error
		permanent bool
	}{
		{nil, false},
		{xmppadmin.ErrUserNotFound, true},
		{xmppadmin.ErrUnsupported, true},
		{xmppadmin.ErrUnavailable, false},
	}
	for _, tt := range tests {
		_, err := tokenIssuer{fakeDirectory{err: tt.err}}.IssueToken(context.Background(), "bob", time.Minute)
		if got := errors.Is(err, xmppconn.ErrNotAuthorized); got != tt.permanent {
			t.Errorf("IssueToken with %v: %v; matches ErrNotAuthorized = %v, want %v", tt.err, err, got, tt.permanent)
		}
		if tt.err != nil && !errors.Is(err, tt.err) {
			t.Errorf("IssueToken lost the cause %v: %v", tt.err, err)
		}
	}
}

type fakeDirectory struct {
	xmppadmin.Directory
	err error
}

func (f fakeDirectory) IssueToken(context.Context, string, time.Duration) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	return "token", nil
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{errorf(http.StatusConflict, "x"), 409},
		{echo.NewHTTPError(http.StatusRequestEntityTooLarge), 413},
		{fmt.Errorf("verify: %w", auth.ErrExpired), 401},
		{auth.ErrRevoked, 401},
		{xmppconn.ErrNotAuthorized, 401},
		{&xmppconn.StanzaError{Condition: "item-not-found"}, 404},
		{&xmppconn.StanzaError{Condition: "forbidden"}, 403},
		{&xmppconn.StanzaError{Condition: "conflict"}, 409},
		{&xmppconn.StanzaError{Condition: "bad-request"}, 400},
		{&xmppconn.StanzaError{Condition: "not-acceptable"}, 400},
		{&xmppconn.StanzaError{Condition: "policy-violation"}, 403},
		{&xmppconn.StanzaError{Condition: "resource-constraint"}, 503},
		{&xmppconn.StanzaError{Condition: "remote-server-timeout"}, 504},
		{&xmppconn.StanzaError{Condition: "service-unavailable"}, 502},
		{&xmppconn.StanzaError{Condition: "undefined-condition"}, 502},
		{&xmppconn.StreamError{Condition: "system-shutdown"}, 502},
		{xmppconn.ErrOffline, 502},
		{fmt.Errorf("dial: %w", xmppconn.ErrNetwork), 502},
		{xmppadmin.ErrUnavailable, 502},
		{xmppadmin.ErrUserExists, 409},
		{fmt.Errorf("xmppconn: token for bob: %w", xmppadmin.ErrUnsupported), 501},
		// What tokenIssuer returns: both sentinels; the more precise wins.
		{fmt.Errorf("xmppconn: token for bob: %w: %w", xmppconn.ErrNotAuthorized, xmppadmin.ErrUnsupported), 501},
		{context.DeadlineExceeded, 504},
		// A write the store refused for want of space (SQLITE_FULL).
		{fmt.Errorf("store: put setting: %w: %w", store.ErrFull, errors.New("database or disk is full (13)")), 507},
		{errors.New("something broke"), 500},
	}
	if !ErrorCode(codeStoreFull).Valid() {
		t.Errorf("code %q is not in openapi.yaml's Error.code enum", codeStoreFull)
	}
	for _, tt := range tests {
		e := classify(tt.err)
		if e.Status != tt.want || e.Code != codeFor(tt.want) || e.Message == "" {
			t.Errorf("classify(%v) = %d %q %q, want %d", tt.err, e.Status, e.Code, e.Message, tt.want)
		}
	}
}
