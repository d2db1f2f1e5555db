package gateway

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// The blocklist (XEP-0191) through the user's session. The server pushes
// every change to all clients of the account, the gateway's session
// included, which turns the push into chatapi.blocklist for every tab: the
// handlers publish nothing themselves.

// GetBlocklist serves GET /blocklist.
func (s *Server) GetBlocklist(c echo.Context) error {
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	jids, err := sess.Blocklist(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, BlocklistEntity{Jids: jids})
}

// BlockContact serves PUT /blocklist/{jid}.
func (s *Server) BlockContact(c echo.Context, jidParam JIDString) error {
	return s.changeBlocklist(c, jidParam, true)
}

// UnblockContact serves DELETE /blocklist/{jid}.
func (s *Server) UnblockContact(c echo.Context, jidParam JIDString) error {
	return s.changeBlocklist(c, jidParam, false)
}

// changeBlocklist blocks (block true) or unblocks the bare JID of the path.
func (s *Server) changeBlocklist(c echo.Context, jidParam JIDString, block bool) error {
	jid, sess, ctx, cancel, err := s.otherParty(c, jidParam, "the user cannot block their own address")
	if err != nil {
		return err
	}
	defer cancel()
	if block {
		err = sess.Block(ctx, jid)
	} else {
		err = sess.Unblock(ctx, jid)
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}
