package xmppconn

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"

	"gosrc.io/xmpp/stanza"
)

// Room administration (XEP-0045 sections 8 to 10): the subject, roles
// (kick, voice), affiliations (owner, admin, member, outcast) and the
// room's destruction. The room checks the user's rights; a refusal comes
// back as a *StanzaError (forbidden, not-allowed), a room that does not
// exist as item-not-found.

// nsMUCAdmin is XEP-0045's admin namespace (roles and affiliations).
const nsMUCAdmin = "http://jabber.org/protocol/muc#admin"

// Affiliations a room knows (XEP-0045 section 5.2); AffiliationNone
// removes one.
const (
	AffiliationOwner   = "owner"
	AffiliationAdmin   = "admin"
	AffiliationMember  = "member"
	AffiliationOutcast = "outcast"
	AffiliationNone    = "none"
)

// Roles of an occupant (XEP-0045 section 5.1); RoleNone removes the
// occupant from the room (a kick).
const (
	RoleModerator   = "moderator"
	RoleParticipant = "participant"
	RoleVisitor     = "visitor"
	RoleNone        = "none"
)

// SetSubject changes the room's subject (XEP-0045 section 8.1); an empty
// subject clears it. It returns once the room answered: nil when it
// passed the new subject on (its reflection to the user, which carries
// the request's id), the room's *StanzaError when it refused it
// (forbidden to occupants the room does not let change it). The user
// must be in the room.
func (s *Session) SetSubject(ctx context.Context, roomJID, subject string) error {
	id := newID()
	w := s.addWaiter(func(st *Stanza) bool {
		return st.Name == "message" && st.ID == id && (st.From == roomJID || strings.HasPrefix(st.From, roomJID+"/"))
	})
	defer s.removeWaiter(w)
	if err := s.sendSubject(ctx, roomJID, id, subject); err != nil {
		return err
	}
	select {
	case st := <-w.ch:
		if st.Type == "error" {
			return messageError(st)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.ctx.Done():
		return ErrSessionEnded
	}
}

func (s *Session) sendSubject(ctx context.Context, roomJID, id, subject string) error {
	if subject == "" {
		// An empty <subject/> clears it; the library leaves an empty
		// subject out, so the element is written by hand.
		raw := fmt.Sprintf(`<message to='%s' type='groupchat' id='%s'><subject/></message>`, xmlEscape(roomJID), xmlEscape(id))
		c, err := s.usable()
		if err != nil {
			return err
		}
		return c.SendRaw(ctx, []byte(raw))
	}
	return s.send(ctx, stanza.Message{Attrs: stanza.Attrs{To: roomJID, Type: stanza.MessageTypeGroupchat, Id: id}, Subject: subject})
}

func xmlEscape(v string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(v))
	return b.String()
}

// adminItem is one muc#admin item.
type adminItem struct {
	Affiliation string `xml:"affiliation,attr,omitempty"`
	Role        string `xml:"role,attr,omitempty"`
	JID         string `xml:"jid,attr,omitempty"`
	Nick        string `xml:"nick,attr,omitempty"`
	Reason      string `xml:"reason,omitempty"`
}

func (s *Session) adminSet(ctx context.Context, roomJID string, it adminItem) error {
	inner, err := xml.Marshal(struct {
		XMLName xml.Name `xml:"item"`
		adminItem
	}{adminItem: it})
	if err != nil {
		return err
	}
	_, err = s.iqSet(ctx, roomJID, queryPayload(nsMUCAdmin, inner))
	return err
}

// SetRole gives the occupant nick a role (XEP-0045 sections 8.2 to 8.6,
// 9.6): RoleNone kicks, RoleParticipant grants voice, RoleVisitor
// revokes it, RoleModerator makes a moderator. The reason reaches the
// occupant.
func (s *Session) SetRole(ctx context.Context, roomJID, nick, role, reason string) error {
	return s.adminSet(ctx, roomJID, adminItem{Nick: nick, Role: role, Reason: reason})
}

// SetAffiliation gives the user (a bare JID) an affiliation with the room
// (XEP-0045 sections 9.1 to 9.8, 10.3 to 10.7): AffiliationOutcast bans,
// AffiliationNone removes any.
func (s *Session) SetAffiliation(ctx context.Context, roomJID, user, affiliation, reason string) error {
	return s.adminSet(ctx, roomJID, adminItem{JID: user, Affiliation: affiliation, Reason: reason})
}

// Affiliated is one user of an affiliation list.
type Affiliated struct {
	JID         string
	Affiliation string
	Nick        string
	Reason      string
}

// Affiliations lists the users with the affiliation (XEP-0045 sections
// 9.5, 9.8, 10.5, 10.8). Admins and owners may list them.
func (s *Session) Affiliations(ctx context.Context, roomJID, affiliation string) ([]Affiliated, error) {
	inner, err := xml.Marshal(struct {
		XMLName     xml.Name `xml:"item"`
		Affiliation string   `xml:"affiliation,attr"`
	}{Affiliation: affiliation})
	if err != nil {
		return nil, err
	}
	reply, err := s.iqGet(ctx, roomJID, queryPayload(nsMUCAdmin, inner))
	if err != nil {
		return nil, err
	}
	var x struct {
		Query *struct {
			Items []adminItem `xml:"item"`
		} `xml:"http://jabber.org/protocol/muc#admin query"`
	}
	if err := xml.Unmarshal(reply.Raw, &x); err != nil || x.Query == nil {
		return nil, fmt.Errorf("%w: no affiliation list in the reply", ErrProtocol)
	}
	out := make([]Affiliated, 0, len(x.Query.Items))
	for _, it := range x.Query.Items {
		out = append(out, Affiliated{JID: it.JID, Affiliation: it.Affiliation, Nick: it.Nick, Reason: it.Reason})
	}
	return out, nil
}

// DestroyRoom destroys the room (XEP-0045 section 10.9), telling its
// occupants the reason and, when not empty, an alternative room to go to.
// Only owners may.
func (s *Session) DestroyRoom(ctx context.Context, roomJID, reason, alternate string) error {
	inner, err := xml.Marshal(struct {
		XMLName xml.Name `xml:"destroy"`
		JID     string   `xml:"jid,attr,omitempty"`
		Reason  string   `xml:"reason,omitempty"`
	}{JID: alternate, Reason: reason})
	if err != nil {
		return err
	}
	if _, err := s.iqSet(ctx, roomJID, queryPayload(nsMUCOwner, inner)); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.rooms, roomJID)
	s.mu.Unlock()
	s.forgetPresences(roomJID)
	return nil
}
