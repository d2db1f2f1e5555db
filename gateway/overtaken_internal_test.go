package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// TestOvertakenRequest: a request whose XMPP session ends under it
// because its token was revoked meanwhile (a logout, "sign out
// everywhere" from another device) answers 401, so the page signs in
// again; with a token that still holds, or for an XMPP server that is
// really unreachable, it stays 502.
func TestOvertakenRequest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "sparkgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys, err := auth.LoadOrCreateKeys(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens(auth.TokensConfig{Keys: keys, Store: st, Audience: "localhost", Issuer: "test"})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(user string) auth.Claims {
		t.Helper()
		_, cl, err := tokens.Issue(ctx, user, auth.MethodPassword)
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	good := issue("alice@localhost")
	loggedOut := issue("bob@localhost")
	if err := tokens.Revoke(ctx, loggedOut); err != nil {
		t.Fatal(err)
	}
	everywhere := issue("carol@localhost")
	if err := tokens.RevokeUser(ctx, "carol@localhost", time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}

	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil)), tokens: tokens}
	e := echo.New()
	e.HTTPErrorHandler = s.handleError
	var claims *auth.Claims
	var fail error
	e.GET("/x", func(c echo.Context) error {
		if claims != nil {
			c.Set(claimsKey, *claims)
		}
		return fmt.Errorf("a session verb: %w", fail)
	})
	for _, tt := range []struct {
		name   string
		claims *auth.Claims
		err    error
		want   int
	}{
		{"valid token, connection closed", &good, xmppconn.ErrClosed, http.StatusBadGateway},
		{"logged out, connection closed", &loggedOut, xmppconn.ErrClosed, http.StatusUnauthorized},
		{"logged out, session ended", &loggedOut, xmppconn.ErrSessionEnded, http.StatusUnauthorized},
		{"signed out everywhere, stream closed", &everywhere, xmppconn.ErrStreamClosed, http.StatusUnauthorized},
		{"logged out, server unreachable", &loggedOut, xmppconn.ErrOffline, http.StatusBadGateway},
		{"no token, connection closed", nil, xmppconn.ErrClosed, http.StatusBadGateway},
	} {
		t.Run(tt.name, func(t *testing.T) {
			claims, fail = tt.claims, tt.err
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
			if rec.Code != tt.want {
				t.Fatalf("status %d (%s), want %d", rec.Code, rec.Body, tt.want)
			}
		})
	}
}
