package xmppconn

import (
	"context"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gosrc.io/xmpp/stanza"
)

// Last seen (XEP-0012, Last Activity). Asked of a contact's bare JID, the
// server answers for the account: while it has a session, 0 (ejabberd);
// while it has none, the time since its last session ended, with the
// status of its last unavailable presence. ejabberd's mod_last answers
// only someone the contact shares presence with, as RFC 6121 wants of
// presence itself (subscription-required otherwise), and item-not-found
// for an account that never signed in.

// nsLast is XEP-0012's namespace.
const nsLast = "jabber:iq:last"

// maxLastSeconds bounds what a reply may say: a century. Beyond it the
// answer is not a time a person could have been seen.
const maxLastSeconds = 100 * 365 * 24 * 3600

// lastQuery is the payload of a Last Activity request and reply.
type lastQuery struct {
	XMLName xml.Name `xml:"jabber:iq:last query"`
	Seconds string   `xml:"seconds,attr,omitempty"`
	Status  string   `xml:",chardata"`
}

// Namespace returns jabber:iq:last.
func (*lastQuery) Namespace() string { return nsLast }

// GetSet returns nil: a Last Activity query has no paging.
func (*lastQuery) GetSet() *stanza.ResultSet { return nil }

// LastActivity asks the server how long ago jid (a bare JID) was last
// signed in, and the status it left with: 0 while it is. Errors are the
// server's (ErrSubscriptionRequired, or ErrForbidden on other servers,
// when the user may not see the contact's presence; ErrItemNotFound for
// an account that never signed in).
func (s *Session) LastActivity(ctx context.Context, jid string) (time.Duration, string, error) {
	reply, err := s.iq(ctx, newIQ(stanza.IQTypeGet, jid, &lastQuery{}))
	if err != nil {
		return 0, "", err
	}
	return ParseLastActivity(&reply)
}

// ParseLastActivity reads the reply to a Last Activity request: the idle
// time and the status text. A reply without a query, or whose seconds are
// not a whole number from 0 to a century, is ErrProtocol.
func ParseLastActivity(reply *Stanza) (time.Duration, string, error) {
	var iq struct {
		Query *lastQuery `xml:"jabber:iq:last query"`
	}
	if reply == nil || len(reply.Raw) == 0 {
		return 0, "", fmt.Errorf("xmppconn: last activity: %w: empty reply", ErrProtocol)
	}
	if err := xml.Unmarshal(reply.Raw, &iq); err != nil {
		return 0, "", fmt.Errorf("xmppconn: last activity: %w: %v", ErrProtocol, err)
	}
	if iq.Query == nil {
		return 0, "", fmt.Errorf("xmppconn: last activity: %w: no query in the reply", ErrProtocol)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(iq.Query.Seconds), 10, 64)
	if err != nil || n > maxLastSeconds {
		return 0, "", fmt.Errorf("xmppconn: last activity: %w: seconds %q", ErrProtocol, iq.Query.Seconds)
	}
	return time.Duration(n) * time.Second, strings.TrimSpace(iq.Query.Status), nil
}
