package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/jid"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// maxPubSubPayload bounds a published JSON payload (the spec says the
// same).
const maxPubSubPayload = 64 << 10

// maxNodeDetails bounds how many nodes of a listing get their meta-data
// (one disco#info each); further nodes are listed by id and name only.
const maxNodeDetails = 100

// nsPubSubMetaData is the FORM_TYPE of a node's disco#info meta-data
// (XEP-0060 section 5.4).
const nsPubSubMetaData = "http://jabber.org/protocol/pubsub#meta-data"

// CreatePubSubNode serves POST /pubsub/create/{node}: the user creates (and
// owns) node on the pubsub service.
func (s *Server) CreatePubSubNode(c echo.Context, node Node) error {
	n, err := nodeName(node)
	if err != nil {
		return err
	}
	sess, err := s.session(c)
	if err != nil {
		return err
	}
	if err := sess.CreateNode(c.Request().Context(), s.collab.pubsub, n, nil); err != nil {
		return ofGatewayService(err)
	}
	return c.NoContent(http.StatusOK)
}

// ListPubSubNodes serves GET /pubsub/nodes: the nodes of the pubsub
// service, with title, description and owners from their meta-data.
func (s *Server) ListPubSubNodes(c echo.Context) error {
	sess, err := s.session(c)
	if err != nil {
		return err
	}
	nodes, err := s.listNodes(c.Request().Context(), sess, s.collab.pubsub, true)
	if err != nil {
		return ofGatewayService(err)
	}
	return c.JSON(http.StatusOK, NodeEntities{Nodes: nodes})
}

// ListPepNodes serves GET /pep/nodes: the nodes of the user's own PEP
// service (XEP-0163).
func (s *Server) ListPepNodes(c echo.Context) error {
	sess, err := s.session(c)
	if err != nil {
		return err
	}
	nodes, err := s.listNodes(c.Request().Context(), sess, sess.User(), false)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NodeEntities{Nodes: nodes})
}

// listNodes lists the nodes of service; with details, each node's
// meta-data (title, description, owners) is read too.
func (s *Server) listNodes(ctx context.Context, sess Session, service string, details bool) ([]NodeEntity, error) {
	items, err := sess.DiscoItems(ctx, service, "")
	if err != nil {
		return nil, err
	}
	nodes := make([]NodeEntity, 0, len(items))
	for _, it := range items {
		if it.Node == "" {
			continue
		}
		ne := NodeEntity{Id: ptr(it.Node)}
		if it.Name != "" {
			ne.Name = ptr(it.Name)
		}
		if details && len(nodes) < maxNodeDetails {
			info, err := sess.DiscoInfo(ctx, service, it.Node)
			switch {
			case err == nil:
				md := info.Form(nsPubSubMetaData)
				if v := md.Value("pubsub#title"); v != "" {
					ne.Name = ptr(v)
				}
				if v := md.Value("pubsub#description"); v != "" {
					ne.Description = ptr(v)
				}
				if owners := md.Fields["pubsub#owner"]; len(owners) > 0 {
					ne.Owners = &owners
				}
			case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
				return nil, err
			default:
				// A node that vanished or hides its meta-data is still
				// listed.
				s.log.Debug("pubsub node meta-data", "node", it.Node, "err", err)
			}
		}
		nodes = append(nodes, ne)
	}
	return nodes, nil
}

// ListPubSubSubscribers serves GET /pubsub/subscribers/{node}: the users
// subscribed to the node, for its owner (the service refuses anyone else,
// 403).
func (s *Server) ListPubSubSubscribers(c echo.Context, node Node) error {
	n, err := nodeName(node)
	if err != nil {
		return err
	}
	sess, err := s.session(c)
	if err != nil {
		return err
	}
	subs, err := sess.Subscriptions(c.Request().Context(), s.collab.pubsub, n)
	if err != nil {
		return ofGatewayService(err)
	}
	if len(subs) == 0 {
		// ejabberd answers an empty list for a node that does not exist.
		if err := nodeExists(c.Request().Context(), sess, s.collab.pubsub, n); err != nil {
			return ofGatewayService(err)
		}
	}
	users := make([]UserEntity, 0, len(subs))
	seen := make(map[string]bool, len(subs))
	for _, sub := range subs {
		if sub.Subscription != "subscribed" {
			continue
		}
		name := bareJID(sub.JID)
		if local, dom, ok := strings.Cut(name, "@"); ok && dom == s.cfg.Domain {
			name = local
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		users = append(users, UserEntity{Username: ptr(name)})
	}
	return c.JSON(http.StatusOK, UserEntities{Users: users})
}

// SubscribePubSubNode serves POST /pubsub/subscribe/{node}: the user's
// bare JID subscribes; notifications arrive as chatapi.pubsub.
func (s *Server) SubscribePubSubNode(c echo.Context, node Node) error {
	n, err := nodeName(node)
	if err != nil {
		return err
	}
	sess, err := s.session(c)
	if err != nil {
		return err
	}
	if _, err := sess.Subscribe(c.Request().Context(), s.collab.pubsub, n, sess.User()); err != nil {
		return ofGatewayService(err)
	}
	return c.NoContent(http.StatusOK)
}

// PublishPubSubItem serves POST /pubsub/publish/{node}: the JSON body as
// an XEP-0335 item on the pubsub service.
func (s *Server) PublishPubSubItem(c echo.Context, node Node) error {
	return ofGatewayService(s.publishJSON(c, node, s.collab.pubsub))
}

// PublishPepItem serves POST /pep/publish/{node}: the JSON body as an
// XEP-0335 item on the user's own PEP node (created on first publish).
func (s *Server) PublishPepItem(c echo.Context, node Node) error {
	return s.publishJSON(c, node, "")
}

// publishJSON publishes the request's JSON to node on service (empty: the
// user's PEP service).
func (s *Server) publishJSON(c echo.Context, node Node, service string) error {
	n, err := nodeName(node)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, maxPubSubPayload+1))
	if err != nil {
		return errorf(http.StatusBadRequest, "the request body could not be read")
	}
	if len(raw) > maxPubSubPayload {
		return errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("the payload is larger than %d bytes", maxPubSubPayload))
	}
	payload, err := jsonItemPayload(c.Request().Header.Get("Content-Type"), raw)
	if err != nil {
		return err
	}
	sess, err := s.session(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if service != "" {
		// The pubsub service would create a missing node on publish; the
		// API creates nodes only with POST /pubsub/create.
		if err := nodeExists(ctx, sess, service, n); err != nil {
			return err
		}
	}
	item := xmppconn.Item{ID: rand.Text(), Payload: payload}
	if _, err := sess.Publish(ctx, service, n, item, nil); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

// nodeExists returns nil when node exists on service, an error matching
// xmppconn.ErrItemNotFound (404) when it does not.
func nodeExists(ctx context.Context, sess Session, service, node string) error {
	_, err := sess.DiscoInfo(ctx, service, node)
	return err
}

// jsonItemPayload checks that body (of the given Content-Type) is one JSON
// object and returns it, compacted, in an XEP-0335 container. It is the
// parser of untrusted input on the publish path (FuzzJSONItemPayload).
func jsonItemPayload(contentType string, body []byte) ([]byte, error) {
	mt := "application/json"
	if contentType != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(contentType); err != nil {
			return nil, errorf(http.StatusBadRequest, "the Content-Type header is malformed")
		}
	}
	if mt != "application/json" && mt != "text/plain" {
		return nil, errorf(http.StatusUnsupportedMediaType, "the payload must be application/json or JSON text as text/plain")
	}
	if !utf8.Valid(body) {
		return nil, errorf(http.StatusBadRequest, "the payload is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return nil, errorf(http.StatusBadRequest, "the payload must be a JSON object")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, trimmed); err != nil {
		return nil, errorf(http.StatusBadRequest, "the payload must be a JSON object")
	}
	if !xmlSafe(compact.String()) {
		return nil, errorf(http.StatusBadRequest, "the payload contains characters XML cannot carry")
	}
	out, err := xmppconn.JSONPayload(compact.Bytes())
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "the payload cannot be carried in XML")
	}
	return out, nil
}

// xmlSafe reports whether every character of s may appear in XML 1.0
// (section 2.2): JSON strings may hold raw control characters only as
// escapes, but a compacted document keeps any U+FFFE, U+FFFF it got.
func xmlSafe(s string) bool {
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return false
		}
	}
	return true
}

// nodeName checks a node name from the path: not empty, valid UTF-8, no
// control characters, at most 1023 bytes.
func nodeName(node Node) (string, error) {
	n := string(node)
	switch {
	case n == "":
		return "", errorf(http.StatusBadRequest, "the node name is empty")
	case len(n) > jid.MaxPartBytes:
		return "", errorf(http.StatusBadRequest, "the node name is longer than 1023 bytes")
	case !utf8.ValidString(n) || !xmlSafe(n) || strings.ContainsAny(n, "\t\r\n"):
		return "", errorf(http.StatusBadRequest, "the node name contains control characters")
	}
	return n, nil
}
