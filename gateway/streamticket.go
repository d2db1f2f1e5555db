package gateway

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
)

// Stream tickets. EventSource cannot send headers, so the reference had
// clients put their access token into the event stream's URL, where every
// proxy on the way writes it into its access log, good for hours. A
// ticket (POST /sse/ticket) stands in for the token there: signed, a
// minute at most, spent by the one stream it opens (auth.RedeemTicket,
// shared by every node through the token store). The stream is the
// token's: it ends when the token expires or is logged out, as one opened
// with the token would.

// streamTicketUse names the event stream's tickets among auth's.
const streamTicketUse = "sse"

// streamTicketTTL is how long a ticket can open a stream: enough for a
// client to open it, short enough that a logged copy is worth nothing.
const streamTicketTTL = auth.MaxTicketTTL

// IssueStreamTicket serves POST /sse/ticket.
func (s *Server) IssueStreamTicket(c echo.Context) error {
	ticket, exp, err := s.tokens.IssueTicket(c.Request().Context(), claimsOf(c), streamTicketUse, streamTicketTTL)
	if errors.Is(err, auth.ErrInvalidToken) {
		return unauthorized() // the token expires within a second
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, StreamTicket{Ticket: ticket, ExpiresAt: exp.UTC().Truncate(time.Second)})
}

// redeemStreamTicket is the authentication of the stream's ticket scheme:
// it spends the ticket and leaves the claims of its token on the echo
// context, as verifyToken does for the token itself; every refusal is 401.
func (s *Server) redeemStreamTicket(c echo.Context) error {
	raw := c.QueryParam("ticket")
	if raw == "" {
		return unauthorized()
	}
	cl, err := s.tokens.RedeemTicket(c.Request().Context(), raw, streamTicketUse)
	return s.acceptClaims(c, cl, err, "ticket") // authn.go
}
