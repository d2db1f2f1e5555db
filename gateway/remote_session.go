package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// remoteSession is a Session that lives on another node, for one request:
// each verb is a call to the owner (remote.go). It is made per request, so
// it keeps the request's context for the methods that take none (Rooms,
// Presences: each is a call too) and what they answered, for the rest of
// the request. Every call names the request's token, which the owner
// records as its own requests do.
type remoteSession struct {
	s   *Server
	ctx context.Context // the request's, for the methods without one
	cl  auth.Claims

	mu        sync.Mutex
	node      string                        // the owner, as last known
	rooms     map[string]string             // Rooms, once asked
	presences map[string][]chatapi.Presence // contact → presences, from Roster and Presences
	raw       bool                          // WantRaw(true) was asked: hold's touches say so again
}

var _ Session = (*remoteSession)(nil)

// call runs verb on the owner's session with args and decodes its results
// into res (pointers, in order). An owner that cannot be reached, or no
// longer holds the session, sends the request through the seam once more:
// this node may take the user over (and then runs the verb itself) or find
// the new owner.
func (r *remoteSession) call(ctx context.Context, verb string, args []any, res ...any) error {
	a, err := json.Marshal(args)
	if err != nil {
		return err
	}
	req := remoteRequest{User: r.cl.Subject, Verb: verb, TokenID: sessionKey(r.cl), TokenExp: r.cl.ExpiresAt, Args: a}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		var ans []byte
		node := r.owner()
		ans, err = r.s.cfg.Peers.Call(ctx, node, body)
		if errors.Is(err, context.DeadlineExceeded) {
			// The node may be hung: the next request looks the lease up.
			r.s.knownOwners.forget(r.cl.Subject, node)
			return wrap(http.StatusGatewayTimeout, "the gateway node holding the user's session did not answer in time", err)
		}
		if errors.Is(err, ErrNodeLost) { // it died holding the request
			r.s.knownOwners.forget(r.cl.Subject, node)
			return remoteStatus(err)
		}
		if err == nil {
			err = decodeReply(ans, res)
		}
		moved := errors.Is(err, ErrNodeUnreachable) || errors.Is(err, errNotHere)
		if moved { // not the owner (any more): looked up afresh below or next time
			r.s.knownOwners.forget(r.cl.Subject, node)
		}
		if attempt > 0 || !moved {
			return remoteStatus(err)
		}
		// Ask the seam again: the lease may be free or elsewhere now.
		sess, serr := r.s.sessionFor(ctx, r.cl)
		if serr != nil {
			return serr
		}
		if other, ok := sess.(*remoteSession); ok {
			r.mu.Lock()
			r.node = other.owner()
			r.mu.Unlock()
			continue
		}
		// This node took the user over: run the verb here.
		v, ok := remoteVerbs[verb]
		if !ok {
			return fmt.Errorf("gateway: no remote verb %q", verb)
		}
		return decodeReply(runVerb(ctx, v, sess, a), res)
	}
}

// owner returns the node the session is on, as last known.
func (r *remoteSession) owner() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.node
}

// decodeReply decodes a remoteReply into res, or returns its error.
func decodeReply(ans []byte, res []any) error {
	var rep remoteReply
	if err := json.Unmarshal(ans, &rep); err != nil {
		return fmt.Errorf("gateway: a node's answer: %w", err)
	}
	if rep.Err != nil {
		return rep.Err.err()
	}
	return decodeArgs(rep.Results, res...)
}

// decodeArgs decodes the JSON array raw into ptrs, in order; a JSON null
// leaves a json.RawMessage nil.
func decodeArgs(raw json.RawMessage, ptrs ...any) error {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return fmt.Errorf("gateway: remote values: %w", err)
	}
	if len(items) != len(ptrs) {
		return fmt.Errorf("gateway: %d remote values, want %d", len(items), len(ptrs))
	}
	for i, it := range items {
		if rm, ok := ptrs[i].(*json.RawMessage); ok && string(it) == "null" {
			*rm = nil
			continue
		}
		if err := json.Unmarshal(it, ptrs[i]); err != nil {
			return fmt.Errorf("gateway: remote value %d: %w", i, err)
		}
	}
	return nil
}

// sync runs a verb for a method that takes no context, under the
// request's; a failure is logged and the method answers its zero value.
func (r *remoteSession) sync(verb string, args []any, res ...any) bool {
	ctx, cancel := context.WithTimeout(r.ctx, r.s.msg.timeout)
	defer cancel()
	if err := r.call(ctx, verb, args, res...); err != nil {
		r.s.log.Warn("remote session: "+verb, "user", r.cl.Subject, "node", r.owner(), "err", err)
		return false
	}
	return true
}

func (r *remoteSession) User() string { return r.cl.Subject }

// hold keeps the owner's session from its idle grace, and its user from
// being shown away, while an event stream on this node is open (the owner
// counts only its own streams): it touches the session every quarter of
// the grace or of the away time, whichever is shorter, at most every
// minute, until the returned stop is called, which waits for it.
func (r *remoteSession) hold() (stop func()) {
	every := holdEvery(r.s.cfg.Sessions.IdleTimeout, r.s.cfg.Sessions.AwayAfter)
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				cctx, ccancel := context.WithTimeout(ctx, every)
				// The touch says again whether the stream wants raw
				// events (every call touches the session): a session
				// that moved to another owner meanwhile starts undecided.
				if err := r.call(cctx, "WantRaw", []any{r.wantsRaw()}); err != nil && ctx.Err() == nil {
					r.s.log.Warn("remote session: touch", "user", r.cl.Subject, "node", r.owner(), "err", err)
				}
				ccancel()
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// Touch is not carried: every call touches the owner's session.
func (r *remoteSession) Touch() {}

// wantRawTimeout bounds the stream's wait for its owner to hear that it
// wants raw events; the stream's touches ask again (hold).
const wantRawTimeout = 2 * time.Second

// WantRaw is carried: the owner's session makes the raw events. A stream
// that wants them waits (at most wantRawTimeout) until the owner knows, so
// that every stanza after its opening has its raw event; one that does not
// tells the owner in the background, since that only saves work. Either
// order of two streams' calls leaves the owner in the same state (a want
// wins: xmppconn's WantRaw).
func (r *remoteSession) WantRaw(want bool) {
	tell := func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, wantRawTimeout)
		defer cancel()
		if err := r.call(ctx, "WantRaw", []any{want}); err != nil && !errors.Is(err, context.Canceled) {
			r.s.log.Warn("remote session: WantRaw", "user", r.cl.Subject, "node", r.owner(), "err", err)
		}
	}
	if !want {
		r.s.bg.run(tell)
		return
	}
	r.mu.Lock()
	r.raw = true
	r.mu.Unlock()
	tell(r.ctx)
}

func (r *remoteSession) wantsRaw() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.raw
}

// AddToken is not carried: every call names its token to the owner.
func (r *remoteSession) AddToken(string, time.Time) {}

func (r *remoteSession) RemoveToken(id string) int {
	n := 1 // unknown: the session stays
	r.sync("RemoveToken", []any{id}, &n)
	return n
}

func (r *remoteSession) Rooms() map[string]string {
	r.mu.Lock()
	rooms := r.rooms
	r.mu.Unlock()
	if rooms != nil {
		return rooms
	}
	rooms = map[string]string{}
	if r.sync("Rooms", nil, &rooms) {
		r.mu.Lock()
		r.rooms = rooms
		r.mu.Unlock()
	}
	return rooms
}

func (r *remoteSession) RoomNick(roomJID string) string { return r.Rooms()[roomJID] }

func (r *remoteSession) OwnPresence() (show, status string) {
	r.sync("OwnPresence", nil, &show, &status)
	return show, status
}

func (r *remoteSession) RoomSubject(roomJID string) (subject string, ok bool) {
	r.sync("RoomSubject", []any{roomJID}, &subject, &ok)
	return subject, ok
}

func (r *remoteSession) Presences(contact string) []chatapi.Presence {
	r.mu.Lock()
	p, ok := r.presences[contact]
	r.mu.Unlock()
	if ok {
		return p
	}
	r.sync("Presences", []any{contact}, &p)
	return p
}

// Roster also brings the presences of its contacts, which a roster read
// asks for next, one contact at a time.
func (r *remoteSession) Roster(ctx context.Context) ([]xmppconn.RosterItem, error) {
	var items []xmppconn.RosterItem
	var ps map[string][]chatapi.Presence
	if err := r.call(ctx, "Roster", nil, &items, &ps); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.presences = ps
	r.mu.Unlock()
	return items, nil
}

// SendStanza carries the raw XML; the owner checks and sends it, and
// answers with the reply's raw XML alone (nil for a stanza that gets
// none): that is all POST /xmpp reads of the parsed reply.
func (r *remoteSession) SendStanza(ctx context.Context, raw []byte) (*xmppconn.Stanza, error) {
	var reply []byte
	if err := r.call(ctx, "SendStanza", []any{raw}, &reply); err != nil {
		return nil, err
	}
	if reply == nil {
		return nil, nil
	}
	return &xmppconn.Stanza{Raw: reply}, nil
}

// The verbs below are carried as they are.

func (r *remoteSession) SendChat(ctx context.Context, to, body string, data json.RawMessage) (id string, err error) {
	err = r.call(ctx, "SendChat", []any{to, body, data}, &id)
	return id, err
}

func (r *remoteSession) SendChatState(ctx context.Context, to, state string) error {
	return r.call(ctx, "SendChatState", []any{to, state})
}

func (r *remoteSession) SendCorrection(ctx context.Context, to, id, body string) (nid string, err error) {
	err = r.call(ctx, "SendCorrection", []any{to, id, body}, &nid)
	return nid, err
}

func (r *remoteSession) SendDisplayed(ctx context.Context, to, id string) error {
	return r.call(ctx, "SendDisplayed", []any{to, id})
}

func (r *remoteSession) SendFile(ctx context.Context, to, rawURL, desc string) (id string, err error) {
	err = r.call(ctx, "SendFile", []any{to, rawURL, desc}, &id)
	return id, err
}

func (r *remoteSession) SendReactions(ctx context.Context, to, id string, reactions []string) (nid string, err error) {
	err = r.call(ctx, "SendReactions", []any{to, id, reactions}, &nid)
	return nid, err
}

func (r *remoteSession) SendReply(ctx context.Context, to, id, body string) (nid string, err error) {
	err = r.call(ctx, "SendReply", []any{to, id, body}, &nid)
	return nid, err
}

func (r *remoteSession) SendRetraction(ctx context.Context, to, id string) (nid string, err error) {
	err = r.call(ctx, "SendRetraction", []any{to, id}, &nid)
	return nid, err
}

func (r *remoteSession) QueryArchive(ctx context.Context, archive string, f xmppconn.ArchiveFilter, p xmppconn.Page) (res []*xmppconn.MAMResult, fin xmppconn.Fin, err error) {
	err = r.call(ctx, "QueryArchive", []any{archive, f, p}, &res, &fin)
	return res, fin, err
}

func (r *remoteSession) LastActivity(ctx context.Context, jid string) (d time.Duration, status string, err error) {
	err = r.call(ctx, "LastActivity", []any{jid}, &d, &status)
	return d, status, err
}

func (r *remoteSession) OwnProfile(ctx context.Context) (name, email string, err error) {
	err = r.call(ctx, "OwnProfile", nil, &name, &email)
	return name, email, err
}

func (r *remoteSession) SetPresence(ctx context.Context, show, status string) error {
	return r.call(ctx, "SetPresence", []any{show, status})
}

func (r *remoteSession) SetRosterItem(ctx context.Context, it xmppconn.RosterItem) error {
	return r.call(ctx, "SetRosterItem", []any{it})
}

func (r *remoteSession) RemoveRosterItem(ctx context.Context, jid string) error {
	return r.call(ctx, "RemoveRosterItem", []any{jid})
}

func (r *remoteSession) SetSubscription(ctx context.Context, jid, have, want string) error {
	return r.call(ctx, "SetSubscription", []any{jid, have, want})
}

func (r *remoteSession) EnterRoom(ctx context.Context, roomJID, nick, password string, create map[string][]string) (created bool, err error) {
	err = r.call(ctx, "EnterRoom", []any{roomJID, nick, password, create}, &created)
	return created, err
}

func (r *remoteSession) ExitRoom(ctx context.Context, roomJID string) error {
	return r.call(ctx, "ExitRoom", []any{roomJID})
}

func (r *remoteSession) SendGroupChat(ctx context.Context, room, body string) (id string, err error) {
	err = r.call(ctx, "SendGroupChat", []any{room, body}, &id)
	return id, err
}

func (r *remoteSession) SendRoomCorrection(ctx context.Context, room, id, body string) (nid string, err error) {
	err = r.call(ctx, "SendRoomCorrection", []any{room, id, body}, &nid)
	return nid, err
}

func (r *remoteSession) SendRoomReactions(ctx context.Context, room, id string, reactions []string) (nid string, err error) {
	err = r.call(ctx, "SendRoomReactions", []any{room, id, reactions}, &nid)
	return nid, err
}

func (r *remoteSession) SendRoomReply(ctx context.Context, room, id, nick, body string) (nid string, err error) {
	err = r.call(ctx, "SendRoomReply", []any{room, id, nick, body}, &nid)
	return nid, err
}

func (r *remoteSession) SendRoomRetraction(ctx context.Context, room, id string) (nid string, err error) {
	err = r.call(ctx, "SendRoomRetraction", []any{room, id}, &nid)
	return nid, err
}

func (r *remoteSession) Invite(ctx context.Context, roomJID, invitee, reason string) error {
	return r.call(ctx, "Invite", []any{roomJID, invitee, reason})
}

func (r *remoteSession) SetSubject(ctx context.Context, roomJID, subject string) error {
	return r.call(ctx, "SetSubject", []any{roomJID, subject})
}

func (r *remoteSession) RoomConfig(ctx context.Context, roomJID string) (f xmppconn.Form, err error) {
	err = r.call(ctx, "RoomConfig", []any{roomJID}, &f)
	return f, err
}

func (r *remoteSession) ConfigureRoom(ctx context.Context, roomJID string, fields map[string][]string) error {
	return r.call(ctx, "ConfigureRoom", []any{roomJID, fields})
}

func (r *remoteSession) DestroyRoom(ctx context.Context, roomJID, reason, alternate string) error {
	return r.call(ctx, "DestroyRoom", []any{roomJID, reason, alternate})
}

func (r *remoteSession) Affiliations(ctx context.Context, roomJID, affiliation string) (a []xmppconn.Affiliated, err error) {
	err = r.call(ctx, "Affiliations", []any{roomJID, affiliation}, &a)
	return a, err
}

func (r *remoteSession) SetAffiliation(ctx context.Context, roomJID, user, affiliation, reason string) error {
	return r.call(ctx, "SetAffiliation", []any{roomJID, user, affiliation, reason})
}

func (r *remoteSession) SetRole(ctx context.Context, roomJID, nick, role, reason string) error {
	return r.call(ctx, "SetRole", []any{roomJID, nick, role, reason})
}

func (r *remoteSession) SubscribeRoom(ctx context.Context, room, nick string) error {
	return r.call(ctx, "SubscribeRoom", []any{room, nick})
}

func (r *remoteSession) UnsubscribeRoom(ctx context.Context, room string) error {
	return r.call(ctx, "UnsubscribeRoom", []any{room})
}

func (r *remoteSession) DiscoInfo(ctx context.Context, to, node string) (info *xmppconn.DiscoInfo, err error) {
	err = r.call(ctx, "DiscoInfo", []any{to, node}, &info)
	return info, err
}

func (r *remoteSession) DiscoItems(ctx context.Context, to, node string) (items []xmppconn.DiscoItem, err error) {
	err = r.call(ctx, "DiscoItems", []any{to, node}, &items)
	return items, err
}

func (r *remoteSession) VCard(ctx context.Context, jid string) (v *xmppconn.VCard, err error) {
	err = r.call(ctx, "VCard", []any{jid}, &v)
	return v, err
}

func (r *remoteSession) SetVCard(ctx context.Context, v *xmppconn.VCard) error {
	return r.call(ctx, "SetVCard", []any{v})
}

func (r *remoteSession) Avatar(ctx context.Context, jid string) (a xmppconn.AvatarImage, err error) {
	err = r.call(ctx, "Avatar", []any{jid}, &a)
	return a, err
}

func (r *remoteSession) SetAvatar(ctx context.Context, typ string, data []byte) (id string, err error) {
	err = r.call(ctx, "SetAvatar", []any{typ, data}, &id)
	return id, err
}

func (r *remoteSession) RemoveAvatar(ctx context.Context) error {
	return r.call(ctx, "RemoveAvatar", nil)
}

func (r *remoteSession) Bookmarks(ctx context.Context) (cs []xmppconn.Conference, err error) {
	err = r.call(ctx, "Bookmarks", nil, &cs)
	return cs, err
}

func (r *remoteSession) SetBookmark(ctx context.Context, c xmppconn.Conference) error {
	return r.call(ctx, "SetBookmark", []any{c})
}

func (r *remoteSession) RemoveBookmark(ctx context.Context, room string) error {
	return r.call(ctx, "RemoveBookmark", []any{room})
}

func (r *remoteSession) CreateNode(ctx context.Context, service, node string, config *xmppconn.DataForm) error {
	return r.call(ctx, "CreateNode", []any{service, node, config})
}

func (r *remoteSession) Publish(ctx context.Context, service, node string, item xmppconn.Item, options *xmppconn.DataForm) (id string, err error) {
	err = r.call(ctx, "Publish", []any{service, node, item, options}, &id)
	return id, err
}

func (r *remoteSession) Subscribe(ctx context.Context, service, node, jid string) (id string, err error) {
	err = r.call(ctx, "Subscribe", []any{service, node, jid}, &id)
	return id, err
}

func (r *remoteSession) Unsubscribe(ctx context.Context, service, node, jid string) error {
	return r.call(ctx, "Unsubscribe", []any{service, node, jid})
}

func (r *remoteSession) Items(ctx context.Context, service, node string, max int) (items []xmppconn.Item, err error) {
	err = r.call(ctx, "Items", []any{service, node, max}, &items)
	return items, err
}

func (r *remoteSession) Retract(ctx context.Context, service, node, id string, notify bool) error {
	return r.call(ctx, "Retract", []any{service, node, id, notify})
}

func (r *remoteSession) DeleteNode(ctx context.Context, service, node string) error {
	return r.call(ctx, "DeleteNode", []any{service, node})
}

func (r *remoteSession) Subscriptions(ctx context.Context, service, node string) (subs []xmppconn.Subscription, err error) {
	err = r.call(ctx, "Subscriptions", []any{service, node}, &subs)
	return subs, err
}

func (r *remoteSession) RequestUploadSlot(ctx context.Context, service, filename string, size int64, contentType string) (slot xmppconn.UploadSlot, err error) {
	err = r.call(ctx, "RequestUploadSlot", []any{service, filename, size, contentType}, &slot)
	return slot, err
}

func (r *remoteSession) UpdatePush(ctx context.Context) error {
	return r.call(ctx, "UpdatePush", nil)
}

func (r *remoteSession) DeclineSubscription(ctx context.Context, jid string) error {
	return r.call(ctx, "DeclineSubscription", []any{jid})
}

func (r *remoteSession) Blocklist(ctx context.Context) (jids []string, err error) {
	err = r.call(ctx, "Blocklist", nil, &jids)
	return jids, err
}

func (r *remoteSession) Block(ctx context.Context, jids ...string) error {
	return r.call(ctx, "Block", []any{jids})
}

func (r *remoteSession) Unblock(ctx context.Context, jids ...string) error {
	return r.call(ctx, "Unblock", []any{jids})
}
