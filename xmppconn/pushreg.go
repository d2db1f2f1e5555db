package xmppconn

import (
	"bytes"
	"context"
	"encoding/xml"
	"time"

	"gosrc.io/xmpp/stanza"
)

// PushRegistration is where a user's server sends push notifications
// (XEP-0357): the app server's JID (the gateway's push component), the
// node that names the user there and the secret the app server checks.
type PushRegistration struct {
	Service, Node, Secret string
}

// Why every connection enables push: ejabberd (23.01, mod_push) keeps a
// registration per user, service and node, and ties it to the session that
// enabled it. It pushes only while that session is gone, so the gateway's
// own live session (whose events reach the tabs, or a Web Push of the
// gateway's own when no tab is open) suppresses the server's push, and a
// message gives one notification, never two. A reconnected session is a
// new session to the server: it enables again, and the stored registration
// is replaced, not added to.

// enablePushOn applies ManagerConfig.PushApp on conn. A failure is
// logged: the session works without push, and the next connection tries
// again.
func (s *Session) enablePushOn(ctx context.Context, conn *Conn) {
	if err := s.applyPush(ctx, conn); err != nil {
		s.m.log.Warn("push registration not updated on the server", "user", s.user, "err", err)
	}
}

// UpdatePush asks ManagerConfig.PushApp again and enables or disables push
// now (after the user's first Web Push subscription, or the last one's
// removal).
func (s *Session) UpdatePush(ctx context.Context) error {
	c, err := s.usable()
	if err != nil {
		return err
	}
	return s.applyPush(ctx, c)
}

// applyPush enables the registration PushApp gives when it says on, and
// disables it when it gives one and says off.
func (s *Session) applyPush(ctx context.Context, c *Conn) error {
	if s.m.cfg.PushApp == nil {
		return nil
	}
	reg, on, err := s.m.cfg.PushApp(ctx, s.user)
	switch {
	case err != nil:
		return err
	case reg.Node == "":
		return nil
	case on:
		return pushIQ(ctx, c, enablePush(reg))
	}
	return pushIQ(ctx, c, &iqPayload{XMLName: xml.Name{Space: nsPush, Local: "disable"}, Attrs: pushAttrs(reg)})
}

// enablePush is the <enable/> of reg, with its secret as a publish option.
func enablePush(reg PushRegistration) *iqPayload {
	var b bytes.Buffer
	b.WriteString(`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>` +
		`http://jabber.org/protocol/pubsub#publish-options</value></field><field var='secret'><value>`)
	xml.EscapeText(&b, []byte(reg.Secret))
	b.WriteString(`</value></field></x>`)
	return &iqPayload{XMLName: xml.Name{Space: nsPush, Local: "enable"}, Attrs: pushAttrs(reg), Inner: b.Bytes()}
}

func pushAttrs(reg PushRegistration) []xml.Attr {
	return []xml.Attr{{Name: xml.Name{Local: "jid"}, Value: reg.Service}, {Name: xml.Name{Local: "node"}, Value: reg.Node}}
}

// pushIQ sends an iq set with p (an <enable/> or <disable/>) to the
// user's own account and waits for the answer.
func pushIQ(ctx context.Context, c *Conn, p *iqPayload) error {
	_, err := c.IQ(ctx, &stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeSet}, Payload: p})
	return err
}

// RenewPush enables reg for the user local on a connection of its own,
// with a server-issued token, and closes it: no presence is sent, so
// contacts see nothing and offline messages stay stored. It restores a
// registration the server dropped while the user has no session: ejabberd
// deletes one whenever a notification fails, and a notification sent while
// the push component is away (a gateway restart) fails. A user with a
// session needs none (each connection enables push).
func (m *Manager) RenewPush(ctx context.Context, local string, reg PushRegistration) error {
	c, err := m.dial(ctx, local, "")
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		c.Close(cctx)
	}()
	return pushIQ(ctx, c, enablePush(reg))
}
