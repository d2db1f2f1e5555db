package gateway

import (
	"context"
	"encoding/json"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// Session is what a handler may ask of a user's XMPP session: the verbs of
// *xmppconn.Session that the gateway uses, and nothing else. The session
// lives on this node (an *xmppconn.Session) or, with several nodes, on the
// node that owns the user (a remote session, remote_session.go, which
// carries each verb there over NATS). Handlers get it from one seam,
// sessionFor, and cannot tell the two apart: the same arguments, the same
// results, errors that match the same sentinels.
type Session interface {
	// User returns the session's bare JID.
	User() string
	// Touch, AddToken and RemoveToken keep the session's bookkeeping
	// (xmppconn.Session's: what keeps it alive).
	Touch()
	AddToken(id string, exp time.Time)
	RemoveToken(id string) int
	// WantRaw tells the session an event stream opened, and whether it
	// carries raw XML (chatapi.xmpp), which the session then makes.
	WantRaw(want bool)

	// What the session knows without asking the server.
	Rooms() map[string]string
	RoomNick(roomJID string) string
	RoomSubject(roomJID string) (subject string, ok bool)
	Presences(contact string) []chatapi.Presence
	OwnPresence() (show, status string)

	// Messages.
	SendChat(ctx context.Context, to, body string, data json.RawMessage) (string, error)
	SendChatState(ctx context.Context, to, state string) error
	SendCorrection(ctx context.Context, to, id, body string) (string, error)
	SendDisplayed(ctx context.Context, to, id string) error
	SendFile(ctx context.Context, to, rawURL, desc string) (string, error)
	SendReactions(ctx context.Context, to, id string, reactions []string) (string, error)
	SendReply(ctx context.Context, to, id, body string) (string, error)
	SendRetraction(ctx context.Context, to, id string) (string, error)
	SendStanza(ctx context.Context, raw []byte) (*xmppconn.Stanza, error)
	QueryArchive(ctx context.Context, archive string, f xmppconn.ArchiveFilter, p xmppconn.Page) ([]*xmppconn.MAMResult, xmppconn.Fin, error)

	// Presence, roster and subscriptions.
	SetPresence(ctx context.Context, show, status string) error
	LastActivity(ctx context.Context, jid string) (time.Duration, string, error)
	Roster(ctx context.Context) ([]xmppconn.RosterItem, error)
	SetRosterItem(ctx context.Context, it xmppconn.RosterItem) error
	RemoveRosterItem(ctx context.Context, jid string) error
	SetSubscription(ctx context.Context, jid, have, want string) error
	DeclineSubscription(ctx context.Context, jid string) error
	Blocklist(ctx context.Context) ([]string, error)
	Block(ctx context.Context, jids ...string) error
	Unblock(ctx context.Context, jids ...string) error

	// Rooms.
	EnterRoom(ctx context.Context, roomJID, nick, password string, create map[string][]string) (created bool, err error)
	ExitRoom(ctx context.Context, roomJID string) error
	SendGroupChat(ctx context.Context, room, body string) (string, error)
	SendRoomCorrection(ctx context.Context, room, id, body string) (string, error)
	SendRoomReactions(ctx context.Context, room, id string, reactions []string) (string, error)
	SendRoomReply(ctx context.Context, room, id, nick, body string) (string, error)
	SendRoomRetraction(ctx context.Context, room, id string) (string, error)
	Invite(ctx context.Context, roomJID, invitee, reason string) error
	SetSubject(ctx context.Context, roomJID, subject string) error
	RoomConfig(ctx context.Context, roomJID string) (xmppconn.Form, error)
	ConfigureRoom(ctx context.Context, roomJID string, fields map[string][]string) error
	DestroyRoom(ctx context.Context, roomJID, reason, alternate string) error
	Affiliations(ctx context.Context, roomJID, affiliation string) ([]xmppconn.Affiliated, error)
	SetAffiliation(ctx context.Context, roomJID, user, affiliation, reason string) error
	SetRole(ctx context.Context, roomJID, nick, role, reason string) error
	SubscribeRoom(ctx context.Context, room, nick string) error
	UnsubscribeRoom(ctx context.Context, room string) error

	// Service discovery, profiles, bookmarks, pubsub, upload, push.
	DiscoInfo(ctx context.Context, to, node string) (*xmppconn.DiscoInfo, error)
	DiscoItems(ctx context.Context, to, node string) ([]xmppconn.DiscoItem, error)
	VCard(ctx context.Context, jid string) (*xmppconn.VCard, error)
	OwnProfile(ctx context.Context) (name, email string, err error)
	SetVCard(ctx context.Context, v *xmppconn.VCard) error
	Avatar(ctx context.Context, jid string) (xmppconn.AvatarImage, error)
	SetAvatar(ctx context.Context, typ string, data []byte) (string, error)
	RemoveAvatar(ctx context.Context) error
	Bookmarks(ctx context.Context) ([]xmppconn.Conference, error)
	SetBookmark(ctx context.Context, c xmppconn.Conference) error
	RemoveBookmark(ctx context.Context, room string) error
	CreateNode(ctx context.Context, service, node string, config *xmppconn.DataForm) error
	Publish(ctx context.Context, service, node string, item xmppconn.Item, options *xmppconn.DataForm) (string, error)
	Subscribe(ctx context.Context, service, node, jid string) (string, error)
	Unsubscribe(ctx context.Context, service, node, jid string) error
	Subscriptions(ctx context.Context, service, node string) ([]xmppconn.Subscription, error)
	Items(ctx context.Context, service, node string, max int) ([]xmppconn.Item, error)
	Retract(ctx context.Context, service, node, id string, notify bool) error
	DeleteNode(ctx context.Context, service, node string) error
	RequestUploadSlot(ctx context.Context, service, filename string, size int64, contentType string) (xmppconn.UploadSlot, error)
	UpdatePush(ctx context.Context) error
}

var _ Session = (*xmppconn.Session)(nil)
