package gateway

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/xmppconn"
)

// The rest of a pubsub node's life on the pubsub service (XEP-0060):
// leaving it, reading what it holds, taking an item back, deleting it.
// The service decides who may (the publisher or the owner, the node's
// access model) and the gateway says its refusal (errors.go).

// defaultItems is how many items GET /pubsub/items answers without max.
const defaultItems = 20

// UnsubscribePubSubNode serves DELETE /pubsub/subscribe/{node}.
func (s *Server) UnsubscribePubSubNode(c echo.Context, node Node) error {
	n, sess, err := s.pubsubNode(c, node)
	if err != nil {
		return err
	}
	err = sess.Unsubscribe(c.Request().Context(), s.collab.pubsub, n, sess.User())
	var se *xmppconn.StanzaError
	if errors.As(err, &se) && se.Condition == "unexpected-request" {
		// XEP-0060 section 6.2.3.2: not-subscribed.
		return errorf(http.StatusConflict, "the user is not subscribed to this node")
	}
	return done(c, ofGatewayService(err))
}

// ListPubSubItems serves GET /pubsub/items/{node}.
func (s *Server) ListPubSubItems(c echo.Context, node Node, params ListPubSubItemsParams) error {
	n, sess, err := s.pubsubNode(c, node)
	if err != nil {
		return err
	}
	max := defaultItems
	if params.Max != nil {
		if *params.Max < 1 || *params.Max > 100 {
			return errorf(http.StatusBadRequest, "max must be 1 to 100")
		}
		max = *params.Max
	}
	items, err := sess.Items(c.Request().Context(), s.collab.pubsub, n, max)
	if err != nil {
		return ofGatewayService(err)
	}
	out := PubSubItems{Items: make([]PubSubItem, 0, len(items))}
	for _, it := range items {
		payload, data := xmppconn.ItemContent(it.Payload)
		pi := PubSubItem{Id: it.ID, Payload: payload}
		if data != nil {
			pi.Data = data
		}
		out.Items = append(out.Items, pi)
	}
	return c.JSON(http.StatusOK, out)
}

// RetractPubSubItem serves DELETE /pubsub/items/{node}/{itemId}: the
// subscribers are told.
func (s *Server) RetractPubSubItem(c echo.Context, node Node, itemID string) error {
	n, sess, err := s.pubsubNode(c, node)
	if err != nil {
		return err
	}
	if itemID == "" || !xmlSafe(itemID) {
		return errorf(http.StatusBadRequest, "the item id is empty or holds control characters")
	}
	return done(c, ofGatewayService(sess.Retract(c.Request().Context(), s.collab.pubsub, n, itemID, true)))
}

// DeletePubSubNode serves DELETE /pubsub/nodes/{node}.
func (s *Server) DeletePubSubNode(c echo.Context, node Node) error {
	n, sess, err := s.pubsubNode(c, node)
	if err != nil {
		return err
	}
	return done(c, ofGatewayService(sess.DeleteNode(c.Request().Context(), s.collab.pubsub, n)))
}

// done answers 200 without a body, or err.
func done(c echo.Context, err error) error {
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

// pubsubNode checks the node name of the path and answers the user's
// session.
func (s *Server) pubsubNode(c echo.Context, node Node) (string, Session, error) {
	n, err := nodeName(node)
	if err != nil {
		return "", nil, err
	}
	sess, err := s.session(c)
	if err != nil {
		return "", nil, err
	}
	return n, sess, nil
}
