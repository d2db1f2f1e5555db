package xmppconn

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
	"time"

	"gosrc.io/xmpp/stanza"
)

// nsMUCOwner is XEP-0045's owner namespace (room configuration).
const nsMUCOwner = "http://jabber.org/protocol/muc#owner"

// EnterRoom joins a room like joinRoom and reports whether the join
// created it (status 201, XEP-0045 section 10.1.1). A created room is
// configured at once with the fields of create (muc#roomconfig var →
// values; nil or empty accepts the service's defaults, an instant room,
// section 10.1.2), so others can enter it at once. Creation is all or
// nothing: when the fields cannot be applied (ErrRoomOptionUnsupported,
// or the room's refusal), the new room is destroyed again and the error
// returned with created true.
func (s *Session) EnterRoom(ctx context.Context, roomJID, nick, password string, create map[string][]string) (created bool, err error) {
	full := roomJID + "/" + nick
	w := s.addWaiter(func(st *Stanza) bool {
		return st.Name == "presence" && st.From == full && st.Type == "" && hasStatus(st, "201")
	})
	defer s.removeWaiter(w)
	if _, in := s.Rooms()[roomJID]; !in {
		// The room sends every occupant's presence on entry: forget what
		// an earlier visit left in the cache (the room does not tell a
		// leaving occupant who else leaves later).
		s.forgetPresences(roomJID)
	}
	if err := s.joinRoom(ctx, roomJID, nick, password); err != nil {
		return false, err
	}
	// The room's answer went to both waiters in the same step, so ours is
	// already filled if the room was created.
	select {
	case <-w.ch:
		created = true
	default:
	}
	if created {
		if err := s.ConfigureRoom(ctx, roomJID, create); err != nil {
			// All or nothing: a room that cannot have the options asked
			// for is not left behind with the service's defaults (and the
			// user in it, unknown to the caller).
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if derr := s.DestroyRoom(dctx, roomJID, "the room could not be configured as asked", ""); derr != nil {
				_ = s.ExitRoom(dctx, roomJID)
				return true, fmt.Errorf("xmppconn: configure the new room: %w (and destroying it failed: %v)", err, derr)
			}
			return true, fmt.Errorf("xmppconn: configure the new room (destroyed again): %w", err)
		}
	}
	return created, nil
}

// ExitRoom leaves a room like leaveRoom and forgets the presences of its
// occupants.
func (s *Session) ExitRoom(ctx context.Context, roomJID string) error {
	err := s.leaveRoom(ctx, roomJID)
	s.forgetPresences(roomJID)
	return err
}

func (s *Session) forgetPresences(bare string) {
	s.mu.Lock()
	delete(s.presences, bare)
	s.mu.Unlock()
}

func hasStatus(st *Stanza, code string) bool {
	if st.Presence == nil {
		return false
	}
	for _, ext := range st.Presence.Extensions {
		if n, ok := ext.(*stanza.Node); ok && n.XMLName.Space == nsMUCUser {
			for i := range n.Nodes {
				if c := &n.Nodes[i]; c.XMLName.Local == "status" && nodeAttr(c, "code") == code {
					return true
				}
			}
		}
	}
	return false
}

// RoomConfig reads a room's configuration form (XEP-0045 section 10.2);
// only owners may, others get a forbidden error.
func (s *Session) RoomConfig(ctx context.Context, roomJID string) (Form, error) {
	reply, err := s.iqGet(ctx, roomJID, queryPayload(nsMUCOwner, nil))
	if err != nil {
		return Form{}, err
	}
	var x struct {
		Query *struct {
			Form *formXML `xml:"jabber:x:data x"`
		} `xml:"http://jabber.org/protocol/muc#owner query"`
	}
	if err := xml.Unmarshal(reply.Raw, &x); err != nil || x.Query == nil || x.Query.Form == nil {
		return Form{}, fmt.Errorf("%w: no room configuration form in the reply", ErrProtocol)
	}
	return x.Query.Form.form(), nil
}

// ConfigureRoom submits room configuration fields (XEP-0045 section
// 10.2); fields not given keep their values. No fields at all submits an
// empty form, which accepts the current (or, for a new room, the
// default) configuration. Fields are checked against the room's form
// first: one the form does not offer is refused with
// ErrRoomOptionUnsupported and nothing is submitted (servers answer an
// unknown field in their own ways: ejabberd 23.01 with
// internal-server-error).
func (s *Session) ConfigureRoom(ctx context.Context, roomJID string, fields map[string][]string) error {
	if len(fields) > 0 {
		offered, err := s.RoomConfig(ctx, roomJID)
		if err != nil {
			return err
		}
		if missing := unoffered(offered, fields); len(missing) > 0 {
			return fmt.Errorf("%w: %s", ErrRoomOptionUnsupported, strings.Join(missing, ", "))
		}
	}
	form := &stanza.Form{Type: stanza.FormTypeSubmit}
	if len(fields) > 0 {
		form.Fields = append(form.Fields, &stanza.Field{Var: "FORM_TYPE", Type: "hidden", ValuesList: []string{"http://jabber.org/protocol/muc#roomconfig"}})
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		form.Fields = append(form.Fields, &stanza.Field{Var: k, ValuesList: fields[k]})
	}
	var b bytes.Buffer
	if err := xml.NewEncoder(&b).Encode(form); err != nil {
		return err
	}
	_, err := s.iqSet(ctx, roomJID, queryPayload(nsMUCOwner, b.Bytes()))
	return err
}

// unoffered returns, sorted, the fields of fields that the form does not
// have.
func unoffered(form Form, fields map[string][]string) []string {
	var missing []string
	for v := range fields {
		if _, ok := form.Fields[v]; !ok {
			missing = append(missing, v)
		}
	}
	sort.Strings(missing)
	return missing
}

// muc#user invite (XEP-0045 section 7.8.2).
type mucInvite struct {
	stanza.MsgExtension
	XMLName xml.Name `xml:"http://jabber.org/protocol/muc#user x"`
	Invite  struct {
		To     string `xml:"to,attr"`
		Reason string `xml:"reason,omitempty"`
	} `xml:"invite"`
}

// Invite sends a mediated invitation (XEP-0045 section 7.8.2) through the
// room to invitee, with reason.
func (s *Session) Invite(ctx context.Context, roomJID, invitee, reason string) error {
	x := &mucInvite{}
	x.Invite.To, x.Invite.Reason = invitee, reason
	m := stanza.Message{Attrs: stanza.Attrs{To: roomJID, Id: newID()}}
	m.Extensions = append(m.Extensions, x)
	return s.send(ctx, m)
}
