package gateway

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/xmppconn"
)

// maxStanzaBody bounds the bytes of a POST /xmpp body: the spec's
// characters at up to four bytes each (xmppconn counts the characters).
const maxStanzaBody = 4 * xmppconn.MaxStanzaChars

// SendStanza serves POST /xmpp: one raw stanza from the user's session.
// The reply to an IQ request is the response (and reaches the user's
// event stream as chatapi.xmpp too); any other stanza is answered with
// an empty object.
func (s *Server) SendStanza(c echo.Context) error {
	body, err := readText(c.Request(), maxStanzaBody)
	if err != nil {
		return err
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	reply, err := sess.SendStanza(ctx, []byte(body))
	if err != nil {
		return err
	}
	var out StanzaReply
	if reply != nil {
		out.Xmpp = &reply.Raw
	}
	return c.JSON(http.StatusOK, out)
}
