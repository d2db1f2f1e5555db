package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
)

// TestAcceptClaims: the one ending of both authentications (the token's
// and the stream ticket's) tells a refused credential (401) from a check
// that could not be made (503, logged), and only a good one's claims
// reach the handler.
func TestAcceptClaims(t *testing.T) {
	good := auth.Claims{Subject: "alice@example.org", ID: "j1"}
	storeDown := errors.New("database is locked")
	tests := []struct {
		name   string
		cl     auth.Claims
		err    error
		status int // 0: accepted
		logged bool
	}{
		{"good", good, nil, 0, false},
		{"invalid", auth.Claims{}, fmt.Errorf("%w: bad signature", auth.ErrInvalidToken), http.StatusUnauthorized, false},
		{"expired", auth.Claims{}, auth.ErrExpired, http.StatusUnauthorized, false},
		{"revoked", auth.Claims{}, fmt.Errorf("ticket: %w", auth.ErrRevoked), http.StatusUnauthorized, false},
		{"store down", auth.Claims{}, fmt.Errorf("revocation read: %w", storeDown), http.StatusServiceUnavailable, true},
		{"no local part", auth.Claims{Subject: "example.org"}, nil, http.StatusUnauthorized, false},
		{"not canonical", auth.Claims{Subject: "Alice@example.org"}, nil, http.StatusUnauthorized, false},
	}
	for _, what := range []string{"token", "ticket"} {
		for _, tt := range tests {
			t.Run(what+"/"+tt.name, func(t *testing.T) {
				var logs strings.Builder
				s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil))}
				c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
				err := s.acceptClaims(c, tt.cl, tt.err, what)
				_, set := c.Get(claimsKey).(auth.Claims)
				if tt.status == 0 {
					if err != nil || !set {
						t.Fatalf("refused a good credential: %v (claims set %v)", err, set)
					}
					return
				}
				var he *echo.HTTPError
				if !errors.As(err, &he) || he.Code != tt.status {
					t.Fatalf("answer %v, want %d", err, tt.status)
				}
				if set {
					t.Fatal("a refused credential's claims reached the context")
				}
				if msg := fmt.Sprint(he.Message); tt.status == http.StatusServiceUnavailable && !strings.Contains(msg, "the "+what+" could not be checked") {
					t.Fatalf("503 message %q does not name the %s", msg, what)
				}
				if got := strings.Contains(logs.String(), what+" check failed"); got != tt.logged {
					t.Fatalf("logged %v, want %v:\n%s", got, tt.logged, logs.String())
				}
				if strings.Contains(logs.String(), "database is locked") != tt.logged {
					t.Fatalf("the store's error is not in the log:\n%s", logs.String())
				}
			})
		}
	}
}
