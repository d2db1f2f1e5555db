package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
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
	storeDown := errors.New("store down")
	tests := []struct {
		err       error
		locked    error // what the operator's lockout check says
		permanent bool
	}{
		{nil, nil, false},
		{xmppadmin.ErrUserNotFound, nil, true},
		{xmppadmin.ErrUnsupported, nil, true},
		{xmppadmin.ErrUnavailable, nil, false},
		// A user an operator locked out gets no token, for good; a
		// lockout that cannot be checked is tried again.
		{errLockedOut, errLockedOut, true},
		{storeDown, storeDown, false},
	}
	for _, tt := range tests {
		locked := func(context.Context, string) error { return tt.locked }
		_, err := tokenIssuer{fakeDirectory{err: tt.err}, locked}.IssueToken(context.Background(), "bob", time.Minute)
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
		{fmt.Errorf("room: %w", &xmppconn.StanzaError{Condition: "item-not-found"}), 404},
		{fmt.Errorf("%w: %w", xmppconn.ErrRoomFull, &xmppconn.StanzaError{Condition: "service-unavailable"}), 403},
		{fmt.Errorf("%w: %w", xmppconn.ErrNicknameInUse, &xmppconn.StanzaError{Condition: "conflict"}), 409},
		{fmt.Errorf("%w: %w", xmppconn.ErrFileNotAccepted, &xmppconn.StanzaError{Condition: "not-acceptable"}), 413},
		{fmt.Errorf("%w: %w", xmppconn.ErrUnknownArchiveID, &xmppconn.StanzaError{Condition: "item-not-found"}), 400},
		{fmt.Errorf("configure: %w: muc#maxhistoryfetch", xmppconn.ErrRoomOptionUnsupported), 400},
		{fmt.Errorf("%w: an iq's type must be get, set, result or error", xmppconn.ErrInvalidStanza), 400},
		{xmppconn.ErrInBandRegistration, 403},
		// A service the gateway chose that does not exist is its own
		// set-up's fault; the client's node that does not exist is not.
		{ofGatewayService(&xmppconn.StanzaError{Condition: "remote-server-not-found"}), 502},
		{&xmppconn.StanzaError{Condition: "remote-server-not-found"}, 404},
		{ofGatewayService(&xmppconn.StanzaError{Condition: "item-not-found"}), 404},
		{ofGatewayService(errorf(http.StatusBadRequest, "bad node name")), 400},
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

// TestStanzaStatuses is the one decision of what each stanza error
// condition (RFC 6120 section 8.3.3) answers with, whatever the operation:
// the client's fault is 4xx, the XMPP server's 5xx, never 500.
func TestStanzaStatuses(t *testing.T) {
	want := map[string]int{
		"bad-request":             400,
		"jid-malformed":           400,
		"not-acceptable":          400,
		"unexpected-request":      400,
		"forbidden":               403,
		"not-authorized":          403, // never 401: the token is good
		"not-allowed":             403,
		"policy-violation":        403,
		"registration-required":   403,
		"subscription-required":   403,
		"payment-required":        403,
		"item-not-found":          404,
		"gone":                    404,
		"recipient-unavailable":   404,
		"remote-server-not-found": 404,
		"conflict":                409,
		"resource-constraint":     503,
		"remote-server-timeout":   504,
		"service-unavailable":     502,
		"feature-not-implemented": 502,
		"internal-server-error":   502,
		"redirect":                502,
		"undefined-condition":     502,
		"a-condition-of-tomorrow": 502,
	}
	for cond, status := range want {
		for _, err := range []error{
			&xmppconn.StanzaError{Type: "cancel", Condition: cond},
			fmt.Errorf("xmppconn: some verb: %w", &xmppconn.StanzaError{Condition: cond, Text: "why"}),
		} {
			e := classify(err)
			if e.Status != status || e.Code != codeFor(status) || !strings.Contains(e.Message, cond) {
				t.Errorf("classify(%v) = %d %q %q, want %d and the condition named", err, e.Status, e.Code, e.Message, status)
			}
		}
	}
	for cond := range stanzaStatuses {
		if _, ok := want[cond]; !ok {
			t.Errorf("stanzaStatuses has %q, which this test does not decide", cond)
		}
	}
}
