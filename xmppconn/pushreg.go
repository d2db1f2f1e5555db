package xmppconn

import (
	"bytes"
	"context"
	"encoding/xml"

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

// enablePushOn enables push on conn when ManagerConfig.PushApp has a
// registration for the user. A failure is logged: the session works
// without it, and the next connection tries again.
func (s *Session) enablePushOn(ctx context.Context, conn *Conn) {
	if s.m.cfg.PushApp == nil {
		return
	}
	reg, ok, err := s.m.cfg.PushApp(ctx, s.user)
	if err == nil && ok {
		err = pushIQ(ctx, conn, enablePush(reg))
	}
	if err != nil {
		s.m.log.Warn("push not enabled on the server", "user", s.user, "err", err)
	}
}

// UpdatePush asks ManagerConfig.PushApp again and enables push now (after
// the user's first Web Push subscription, say). To turn push off, call
// DisablePush with the registration that was enabled.
func (s *Session) UpdatePush(ctx context.Context) error {
	c, err := s.usable()
	if err != nil {
		return err
	}
	if s.m.cfg.PushApp == nil {
		return nil
	}
	reg, ok, err := s.m.cfg.PushApp(ctx, s.user)
	if err != nil || !ok {
		return err
	}
	return pushIQ(ctx, c, enablePush(reg))
}

// DisablePush tells the server to stop sending notifications for reg.
func (s *Session) DisablePush(ctx context.Context, reg PushRegistration) error {
	c, err := s.usable()
	if err != nil {
		return err
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
