package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/xmppconn"
	"time"
)

// The owner's side of the remote session (remote.go): each verb decodes
// its arguments, runs on the user's session here and returns its results.

// remoteVerb runs one verb on sess with the JSON array args.
type remoteVerb func(ctx context.Context, sess Session, args json.RawMessage) ([]any, error)

// serveRemote answers another node's request for a session of this node.
func (s *Server) serveRemote(ctx context.Context, req []byte) []byte {
	var r remoteRequest
	if err := json.Unmarshal(req, &r); err != nil {
		return encodeReply(nil, fmt.Errorf("%w: a request from another node: %w", xmppconn.ErrInvalidStanza, err))
	}
	if err := ctx.Err(); err != nil { // the caller gave up meanwhile
		return encodeReply(nil, err)
	}
	if r.Verb == verbEndLogin { // the server's, not the session's
		var key, reason string
		if err := decodeArgs(r.Args, &key, &reason); err != nil {
			return encodeReply(nil, err)
		}
		if !s.endLocalLogin(ctx, r.User, key, reason) {
			return encodeReply(nil, errNotHere)
		}
		return encodeReply(nil, nil)
	}
	if r.Verb == verbDeliver { // remote_deliver.go
		return s.serveDeliver(r)
	}
	sess, ok := s.sessions.Get(r.User)
	if !ok || !s.ownsUser(r.User) { // a session whose ownership is lost is ending
		return encodeReply(nil, errNotHere)
	}
	if r.TokenID != "" && !r.TokenExp.IsZero() {
		sess.AddToken(r.TokenID, r.TokenExp) // as sessionFor does here
	} else {
		sess.Touch()
	}
	if r.Verb == "WantRaw" { // a stream on the calling node: open, or its touch
		s.tabs.saw(r.User, time.Now())
	}
	v, ok := remoteVerbs[r.Verb]
	if !ok {
		return encodeReply(nil, fmt.Errorf("%w: %q", errNotRemote, r.Verb))
	}
	res, err := v(ctx, sess, r.Args)
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		// This node stops serving (it shuts down): the caller asks the
		// seam again rather than answer that its client left.
		err = fmt.Errorf("%w: %w", errNotHere, err)
	}
	return encodeReply(res, err)
}

// runVerb runs v and encodes its answer.
func runVerb(ctx context.Context, v remoteVerb, sess Session, args json.RawMessage) []byte {
	res, err := v(ctx, sess, args)
	return encodeReply(res, err)
}

// encodeReply encodes a verb's results, or its error.
func encodeReply(res []any, err error) []byte {
	var rep remoteReply
	if err != nil {
		rep.Err = encodeError(err)
	} else {
		if res == nil {
			res = []any{}
		}
		b, merr := json.Marshal(res)
		if merr != nil {
			rep.Err = encodeError(merr)
		} else {
			rep.Results = b
		}
	}
	b, err := json.Marshal(rep)
	if err != nil { // a wireError always encodes
		panic(err)
	}
	return b
}

// verb0, verb1 and verb2 adapt a verb with no, one or two results; their
// func decodes the arguments into its own variables first (decode).
func verb0(f func(ctx context.Context, sess Session, decode func(...any) error) error) remoteVerb {
	return func(ctx context.Context, sess Session, args json.RawMessage) ([]any, error) {
		return nil, f(ctx, sess, func(p ...any) error { return decodeArgs(args, p...) })
	}
}

func verb1[R any](f func(ctx context.Context, sess Session, decode func(...any) error) (R, error)) remoteVerb {
	return func(ctx context.Context, sess Session, args json.RawMessage) ([]any, error) {
		r, err := f(ctx, sess, func(p ...any) error { return decodeArgs(args, p...) })
		return []any{r}, err
	}
}

type dec = func(...any) error

// remoteVerbs are the verbs another node may run here, by name.
var remoteVerbs = map[string]remoteVerb{
	"DeclineSubscription": verb0(func(ctx context.Context, s Session, d dec) error {
		var jid string
		if err := d(&jid); err != nil {
			return err
		}
		return s.DeclineSubscription(ctx, jid)
	}),
	"SendStanza": verb1(func(ctx context.Context, s Session, d dec) ([]byte, error) {
		var raw []byte
		if err := d(&raw); err != nil {
			return nil, err
		}
		st, err := s.SendStanza(ctx, raw)
		if err != nil || st == nil {
			return nil, err
		}
		return st.Raw, nil
	}),
	"Blocklist": verb1(func(ctx context.Context, s Session, d dec) ([]string, error) {
		if err := d(); err != nil {
			return nil, err
		}
		return s.Blocklist(ctx)
	}),
	"Block": verb0(func(ctx context.Context, s Session, d dec) error {
		var jids []string
		if err := d(&jids); err != nil {
			return err
		}
		return s.Block(ctx, jids...)
	}),
	"Unblock": verb0(func(ctx context.Context, s Session, d dec) error {
		var jids []string
		if err := d(&jids); err != nil {
			return err
		}
		return s.Unblock(ctx, jids...)
	}),
	"RemoveToken": verb1(func(_ context.Context, s Session, d dec) (int, error) {
		var id string
		if err := d(&id); err != nil {
			return 0, err
		}
		return s.RemoveToken(id), nil
	}),
	// Touch is what a stream's touches (remoteSession.hold) called before
	// they said WantRaw; kept for nodes of that version during an upgrade.
	// (A node of that version answers WantRaw "unknown verb", having
	// touched the session all the same: serveRemote touches first.)
	"Touch": verb0(func(_ context.Context, s Session, d dec) error {
		s.Touch() // serveRemote has, too: the verb is the request
		return d()
	}),
	"WantRaw": verb0(func(_ context.Context, s Session, d dec) error {
		var want bool
		if err := d(&want); err != nil {
			return err
		}
		s.WantRaw(want)
		return nil
	}),
	"Rooms": verb1(func(_ context.Context, s Session, d dec) (map[string]string, error) {
		return s.Rooms(), d()
	}),
	"RoomSubject": func(_ context.Context, s Session, args json.RawMessage) ([]any, error) {
		var room string
		if err := decodeArgs(args, &room); err != nil {
			return nil, err
		}
		subj, ok := s.RoomSubject(room)
		return []any{subj, ok}, nil
	},
	"OwnPresence": func(_ context.Context, s Session, args json.RawMessage) ([]any, error) {
		if err := decodeArgs(args); err != nil {
			return nil, err
		}
		show, status := s.OwnPresence()
		return []any{show, status}, nil
	},
	"Presences": verb1(func(_ context.Context, s Session, d dec) ([]chatapi.Presence, error) {
		var contact string
		if err := d(&contact); err != nil {
			return nil, err
		}
		return s.Presences(contact), nil
	}),
	"Roster": func(ctx context.Context, s Session, args json.RawMessage) ([]any, error) {
		if err := decodeArgs(args); err != nil {
			return nil, err
		}
		items, err := s.Roster(ctx)
		if err != nil {
			return nil, err
		}
		ps := make(map[string][]chatapi.Presence, len(items))
		for _, it := range items {
			if p := s.Presences(it.JID); len(p) > 0 {
				ps[it.JID] = p
			}
		}
		return []any{items, ps}, nil
	},
	"SendChat": verb1(func(ctx context.Context, s Session, d dec) (string, error) {
		var to, body string
		var data json.RawMessage
		if err := d(&to, &body, &data); err != nil {
			return "", err
		}
		return s.SendChat(ctx, to, body, data)
	}),
	"SendChatState": verb0(func(ctx context.Context, s Session, d dec) error {
		var to, state string
		if err := d(&to, &state); err != nil {
			return err
		}
		return s.SendChatState(ctx, to, state)
	}),
	"SendCorrection": verb1(func(ctx context.Context, s Session, d dec) (string, error) {
		var to, id, body string
		if err := d(&to, &id, &body); err != nil {
			return "", err
		}
		return s.SendCorrection(ctx, to, id, body)
	}),
	"SendDisplayed": verb0(func(ctx context.Context, s Session, d dec) error {
		var to, id string
		if err := d(&to, &id); err != nil {
			return err
		}
		return s.SendDisplayed(ctx, to, id)
	}),
	"SendFile": verb1(func(ctx context.Context, s Session, d dec) (string, error) {
		var to, url, desc string
		if err := d(&to, &url, &desc); err != nil {
			return "", err
		}
		return s.SendFile(ctx, to, url, desc)
	}),
	"SendReactions": verb1(func(ctx context.Context, s Session, d dec) (string, error) {
		var to, id string
		var reactions []string
		if err := d(&to, &id, &reactions); err != nil {
			return "", err
		}
		return s.SendReactions(ctx, to, id, reactions)
	}),
	"SendReply": verb1(func(ctx context.Context, s Session, d dec) (string, error) {
		var to, id, body string
		if err := d(&to, &id, &body); err != nil {
			return "", err
		}
		return s.SendReply(ctx, to, id, body)
	}),
	"SendRetraction": verb1(func(ctx context.Context, s Session, d dec) (string, error) {
		var to, id string
		if err := d(&to, &id); err != nil {
			return "", err
		}
		return s.SendRetraction(ctx, to, id)
	}),
	"QueryArchive": func(ctx context.Context, s Session, args json.RawMessage) ([]any, error) {
		var archive string
		var f xmppconn.ArchiveFilter
		var p xmppconn.Page
		if err := decodeArgs(args, &archive, &f, &p); err != nil {
			return nil, err
		}
		res, fin, err := s.QueryArchive(ctx, archive, f, p)
		return []any{res, fin}, err
	},
	"LastActivity": func(ctx context.Context, s Session, args json.RawMessage) ([]any, error) {
		var jid string
		if err := decodeArgs(args, &jid); err != nil {
			return nil, err
		}
		d, status, err := s.LastActivity(ctx, jid)
		return []any{d, status}, err
	},
	"SetPresence": verb0(func(ctx context.Context, s Session, d dec) error {
		var show, status string
		if err := d(&show, &status); err != nil {
			return err
		}
		return s.SetPresence(ctx, show, status)
	}),
	"SetRosterItem": verb0(func(ctx context.Context, s Session, d dec) error {
		var it xmppconn.RosterItem
		if err := d(&it); err != nil {
			return err
		}
		return s.SetRosterItem(ctx, it)
	}),
	"RemoveRosterItem": verb0(func(ctx context.Context, s Session, d dec) error {
		var jid string
		if err := d(&jid); err != nil {
			return err
		}
		return s.RemoveRosterItem(ctx, jid)
	}),
	"SetSubscription": verb0(func(ctx context.Context, s Session, d dec) error {
		var jid, have, want string
		if err := d(&jid, &have, &want); err != nil {
			return err
		}
		return s.SetSubscription(ctx, jid, have, want)
	}),
	"EnterRoom": verb1(func(ctx context.Context, s Session, d dec) (bool, error) {
		var room, nick, password string
		var create map[string][]string
		if err := d(&room, &nick, &password, &create); err != nil {
			return false, err
		}
		return s.EnterRoom(ctx, room, nick, password, create)
	}),
	"ExitRoom": verb0(func(ctx context.Context, s Session, d dec) error {
		var room string
		if err := d(&room); err != nil {
			return err
		}
		return s.ExitRoom(ctx, room)
	}),
	"SendGroupChat": verb1(func(ctx context.Context, s Session, d dec) (string, error) {
		var room, body string
		if err := d(&room, &body); err != nil {
			return "", err
		}
		return s.SendGroupChat(ctx, room, body)
	}),
	"SendRoomCorrection": verb1(func(ctx context.Context, s Session, d dec) (string, error) {
		var room, id, body string
		if err := d(&room, &id, &body); err != nil {
			return "", err
		}
		return s.SendRoomCorrection(ctx, room, id, body)
	}),
	"SendRoomReactions": verb1(func(ctx context.Context, s Session, d dec) (string, error) {
		var room, id string
		var reactions []string
		if err := d(&room, &id, &reactions); err != nil {
			return "", err
		}
		return s.SendRoomReactions(ctx, room, id, reactions)
	}),
	"SendRoomReply": verb1(func(ctx context.Context, s Session, d dec) (string, error) {
		var room, id, nick, body string
		if err := d(&room, &id, &nick, &body); err != nil {
			return "", err
		}
		return s.SendRoomReply(ctx, room, id, nick, body)
	}),
	"SendRoomRetraction": verb1(func(ctx context.Context, s Session, d dec) (string, error) {
		var room, id string
		if err := d(&room, &id); err != nil {
			return "", err
		}
		return s.SendRoomRetraction(ctx, room, id)
	}),
	"Invite": verb0(func(ctx context.Context, s Session, d dec) error {
		var room, invitee, reason string
		if err := d(&room, &invitee, &reason); err != nil {
			return err
		}
		return s.Invite(ctx, room, invitee, reason)
	}),
	"SetSubject": verb0(func(ctx context.Context, s Session, d dec) error {
		var room, subject string
		if err := d(&room, &subject); err != nil {
			return err
		}
		return s.SetSubject(ctx, room, subject)
	}),
	"RoomConfig": verb1(func(ctx context.Context, s Session, d dec) (xmppconn.Form, error) {
		var room string
		if err := d(&room); err != nil {
			return xmppconn.Form{}, err
		}
		return s.RoomConfig(ctx, room)
	}),
	"ConfigureRoom": verb0(func(ctx context.Context, s Session, d dec) error {
		var room string
		var fields map[string][]string
		if err := d(&room, &fields); err != nil {
			return err
		}
		return s.ConfigureRoom(ctx, room, fields)
	}),
	"DestroyRoom": verb0(func(ctx context.Context, s Session, d dec) error {
		var room, reason, alternate string
		if err := d(&room, &reason, &alternate); err != nil {
			return err
		}
		return s.DestroyRoom(ctx, room, reason, alternate)
	}),
	"Affiliations": verb1(func(ctx context.Context, s Session, d dec) ([]xmppconn.Affiliated, error) {
		var room, affiliation string
		if err := d(&room, &affiliation); err != nil {
			return nil, err
		}
		return s.Affiliations(ctx, room, affiliation)
	}),
	"SetAffiliation": verb0(func(ctx context.Context, s Session, d dec) error {
		var room, user, affiliation, reason string
		if err := d(&room, &user, &affiliation, &reason); err != nil {
			return err
		}
		return s.SetAffiliation(ctx, room, user, affiliation, reason)
	}),
	"SetRole": verb0(func(ctx context.Context, s Session, d dec) error {
		var room, nick, role, reason string
		if err := d(&room, &nick, &role, &reason); err != nil {
			return err
		}
		return s.SetRole(ctx, room, nick, role, reason)
	}),
	"SubscribeRoom": verb0(func(ctx context.Context, s Session, d dec) error {
		var room, nick string
		if err := d(&room, &nick); err != nil {
			return err
		}
		return s.SubscribeRoom(ctx, room, nick)
	}),
	"UnsubscribeRoom": verb0(func(ctx context.Context, s Session, d dec) error {
		var room string
		if err := d(&room); err != nil {
			return err
		}
		return s.UnsubscribeRoom(ctx, room)
	}),
	"DiscoInfo": verb1(func(ctx context.Context, s Session, d dec) (*xmppconn.DiscoInfo, error) {
		var to, node string
		if err := d(&to, &node); err != nil {
			return nil, err
		}
		return s.DiscoInfo(ctx, to, node)
	}),
	"DiscoItems": verb1(func(ctx context.Context, s Session, d dec) ([]xmppconn.DiscoItem, error) {
		var to, node string
		if err := d(&to, &node); err != nil {
			return nil, err
		}
		return s.DiscoItems(ctx, to, node)
	}),
	"VCard": verb1(func(ctx context.Context, s Session, d dec) (*xmppconn.VCard, error) {
		var jid string
		if err := d(&jid); err != nil {
			return nil, err
		}
		return s.VCard(ctx, jid)
	}),
	"OwnProfile": func(ctx context.Context, s Session, args json.RawMessage) ([]any, error) {
		if err := decodeArgs(args); err != nil {
			return nil, err
		}
		name, email, err := s.OwnProfile(ctx)
		return []any{name, email}, err
	},
	"SetVCard": verb0(func(ctx context.Context, s Session, d dec) error {
		var v *xmppconn.VCard
		if err := d(&v); err != nil {
			return err
		}
		return s.SetVCard(ctx, v)
	}),
	"Avatar": verb1(func(ctx context.Context, s Session, d dec) (xmppconn.AvatarImage, error) {
		var jid string
		if err := d(&jid); err != nil {
			return xmppconn.AvatarImage{}, err
		}
		return s.Avatar(ctx, jid)
	}),
	"SetAvatar": verb1(func(ctx context.Context, s Session, d dec) (string, error) {
		var typ string
		var data []byte
		if err := d(&typ, &data); err != nil {
			return "", err
		}
		return s.SetAvatar(ctx, typ, data)
	}),
	"RemoveAvatar": verb0(func(ctx context.Context, s Session, d dec) error {
		if err := d(); err != nil {
			return err
		}
		return s.RemoveAvatar(ctx)
	}),
	"Bookmarks": verb1(func(ctx context.Context, s Session, d dec) ([]xmppconn.Conference, error) {
		if err := d(); err != nil {
			return nil, err
		}
		return s.Bookmarks(ctx)
	}),
	"SetBookmark": verb0(func(ctx context.Context, s Session, d dec) error {
		var c xmppconn.Conference
		if err := d(&c); err != nil {
			return err
		}
		return s.SetBookmark(ctx, c)
	}),
	"RemoveBookmark": verb0(func(ctx context.Context, s Session, d dec) error {
		var room string
		if err := d(&room); err != nil {
			return err
		}
		return s.RemoveBookmark(ctx, room)
	}),
	"CreateNode": verb0(func(ctx context.Context, s Session, d dec) error {
		var service, node string
		var config *xmppconn.DataForm
		if err := d(&service, &node, &config); err != nil {
			return err
		}
		return s.CreateNode(ctx, service, node, config)
	}),
	"Publish": verb1(func(ctx context.Context, s Session, d dec) (string, error) {
		var service, node string
		var item xmppconn.Item
		var options *xmppconn.DataForm
		if err := d(&service, &node, &item, &options); err != nil {
			return "", err
		}
		return s.Publish(ctx, service, node, item, options)
	}),
	"Subscribe": verb1(func(ctx context.Context, s Session, d dec) (string, error) {
		var service, node, jid string
		if err := d(&service, &node, &jid); err != nil {
			return "", err
		}
		return s.Subscribe(ctx, service, node, jid)
	}),
	"Unsubscribe": verb0(func(ctx context.Context, s Session, d dec) error {
		var service, node, jid string
		if err := d(&service, &node, &jid); err != nil {
			return err
		}
		return s.Unsubscribe(ctx, service, node, jid)
	}),
	"Items": verb1(func(ctx context.Context, s Session, d dec) ([]xmppconn.Item, error) {
		var service, node string
		var max int
		if err := d(&service, &node, &max); err != nil {
			return nil, err
		}
		return s.Items(ctx, service, node, max)
	}),
	"Retract": verb0(func(ctx context.Context, s Session, d dec) error {
		var service, node, id string
		var notify bool
		if err := d(&service, &node, &id, &notify); err != nil {
			return err
		}
		return s.Retract(ctx, service, node, id, notify)
	}),
	"DeleteNode": verb0(func(ctx context.Context, s Session, d dec) error {
		var service, node string
		if err := d(&service, &node); err != nil {
			return err
		}
		return s.DeleteNode(ctx, service, node)
	}),
	"Subscriptions": verb1(func(ctx context.Context, s Session, d dec) ([]xmppconn.Subscription, error) {
		var service, node string
		if err := d(&service, &node); err != nil {
			return nil, err
		}
		return s.Subscriptions(ctx, service, node)
	}),
	"RequestUploadSlot": verb1(func(ctx context.Context, s Session, d dec) (xmppconn.UploadSlot, error) {
		var service, filename, contentType string
		var size int64
		if err := d(&service, &filename, &size, &contentType); err != nil {
			return xmppconn.UploadSlot{}, err
		}
		return s.RequestUploadSlot(ctx, service, filename, size, contentType)
	}),
	"UpdatePush": verb0(func(ctx context.Context, s Session, d dec) error {
		if err := d(); err != nil {
			return err
		}
		return s.UpdatePush(ctx)
	}),
}
