package xmppconn

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"time"
)

const (
	nsTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsBind    = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSession = "urn:ietf:params:xml:ns:xmpp-session"
	nsStreams = "urn:ietf:params:xml:ns:xmpp-streams"
)

// features is the part of <stream:features/> this package looks at.
type features struct {
	StartTLS *struct {
		Required *struct{} `xml:"required"`
	} `xml:"urn:ietf:params:xml:ns:xmpp-tls starttls"`
	Mechanisms []string  `xml:"urn:ietf:params:xml:ns:xmpp-sasl mechanisms>mechanism"`
	Bind       *struct{} `xml:"urn:ietf:params:xml:ns:xmpp-bind bind"`
	Session    *struct {
		Optional *struct{} `xml:"optional"`
	} `xml:"urn:ietf:params:xml:ns:xmpp-session session"`
}

// Dial connects to cfg.Addr and negotiates a client stream: stream header,
// STARTTLS as cfg.TLS asks, SASL PLAIN (Password) or X-OAUTH2 (Token), and
// resource binding. Every step is bounded by ctx. It sends no presence.
//
// Errors match ErrConfig, ErrNetwork (and unwrap to *net.OpError when the
// socket failed), ErrTLS, ErrNotAuthorized, ErrTemporaryAuth, ErrProtocol,
// a *StreamError, or ctx's error.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("xmppconn: dial %s: %w", s.Addr, context.Cause(ctx))
		}
		return nil, netErr(err)
	}
	n := &negotiation{s: s, nc: nc}
	// Abort blocking I/O when ctx ends.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	err = n.run()
	if !stop() || ctx.Err() != nil {
		nc.Close()
		return nil, fmt.Errorf("xmppconn: negotiation with %s: %w", s.Addr, context.Cause(ctx))
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return newConn(s, n.conn, nc, n.er, n.jid), nil
}

// negotiation holds the state of Dial between the TCP connect and the
// bound resource.
type negotiation struct {
	s    *settings
	nc   net.Conn // the TCP connection
	conn net.Conn // nc, or the TLS connection over it
	er   *elemReader
	tls  bool
	jid  string
}

func (n *negotiation) run() error {
	n.conn = n.nc
	f, err := n.open()
	if err != nil {
		return err
	}
	if f.StartTLS != nil && n.s.TLS != TLSOff {
		if err := n.startTLS(); err != nil {
			return err
		}
		if f, err = n.open(); err != nil {
			return err
		}
	} else if n.s.TLS == TLSRequired {
		return fmt.Errorf("%w: server %s does not offer STARTTLS", ErrTLS, n.s.Addr)
	} else if f.StartTLS != nil && f.StartTLS.Required != nil {
		return fmt.Errorf("%w: server requires STARTTLS but TLS is off", ErrTLS)
	}
	if err := n.auth(f); err != nil {
		return err
	}
	if f, err = n.open(); err != nil {
		return err
	}
	if f.Bind == nil {
		return protoErr("server offers no resource binding")
	}
	if err := n.bind(); err != nil {
		return err
	}
	if err := checkBound(n.jid, n.s.User, n.s.Domain); err != nil {
		return err
	}
	if f.Session != nil && f.Session.Optional == nil {
		return n.session()
	}
	return nil
}

func (n *negotiation) write(b []byte) error {
	if _, err := n.conn.Write(b); err != nil {
		return netErr(err)
	}
	return nil
}

// open sends a stream header, reads the server's and its features.
func (n *negotiation) open() (*features, error) {
	var b bytes.Buffer
	b.WriteString("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' xml:lang='en' to='")
	xml.EscapeText(&b, []byte(n.s.Domain))
	b.WriteString("'>")
	if err := n.write(b.Bytes()); err != nil {
		return nil, err
	}
	n.er = newElemReader(n.conn, n.s.MaxStanzaSize)
	hdr, err := n.er.header()
	if err != nil {
		return nil, err
	}
	if v := attr(hdr, "version"); v == "" || v[0] < '1' {
		return nil, protoErr("server stream version %q", v)
	}
	el, err := n.expect(nsStream, "features")
	if err != nil {
		return nil, err
	}
	var f features
	if err := xml.Unmarshal(el.raw, &f); err != nil {
		return nil, fmt.Errorf("%w: stream features: %w", ErrProtocol, err)
	}
	return &f, nil
}

// expect reads the next element and fails unless it is space:local; a
// stream error is returned as *StreamError.
func (n *negotiation) expect(space, local string) (element, error) {
	el, err := n.er.next(false)
	if err != nil {
		if err == errStreamEnd {
			return element{}, ErrStreamClosed
		}
		return element{}, err
	}
	if el.name.Space == nsStream && el.name.Local == "error" {
		return element{}, parseStreamError(el.raw)
	}
	if el.name.Space != space || (local != "" && el.name.Local != local) {
		return element{}, protoErr("expected <%s xmlns=%q>, got <%s xmlns=%q>", local, space, el.name.Local, el.name.Space)
	}
	return el, nil
}

func (n *negotiation) startTLS() error {
	if err := n.write([]byte("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")); err != nil {
		return err
	}
	el, err := n.expect(nsTLS, "")
	if err != nil {
		return err
	}
	if el.name.Local != "proceed" {
		return fmt.Errorf("%w: server answered <%s/> to STARTTLS", ErrTLS, el.name.Local)
	}
	if n.er.cap.buffered() != 0 {
		return protoErr("data after <proceed/>")
	}
	tc := tls.Client(n.nc, n.s.tlsConfig)
	if err := tc.Handshake(); err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) {
			return fmt.Errorf("%w: %w", ErrTLS, netErr(err))
		}
		return fmt.Errorf("%w: %w", ErrTLS, err)
	}
	n.conn = tc
	n.tls = true
	return nil
}

func (n *negotiation) auth(f *features) error {
	mech, secret := "PLAIN", n.s.Password
	if n.s.Token != "" {
		mech, secret = "X-OAUTH2", n.s.Token
	}
	offered := false
	for _, m := range f.Mechanisms {
		offered = offered || m == mech
	}
	if !offered {
		return fmt.Errorf("%w: server does not offer SASL %s (offers %v)", ErrProtocol, mech, f.Mechanisms)
	}
	// PLAIN and X-OAUTH2 have the same message: authzid NUL authcid NUL secret.
	msg := make([]byte, 0, 2+len(n.s.User)+len(secret))
	msg = append(msg, 0)
	msg = append(msg, n.s.User...)
	msg = append(msg, 0)
	msg = append(msg, secret...)
	var b bytes.Buffer
	b.WriteString("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='")
	b.WriteString(mech)
	b.WriteString("'>")
	b.WriteString(base64.StdEncoding.EncodeToString(msg))
	b.WriteString("</auth>")
	clear(msg)
	err := n.write(b.Bytes())
	clear(b.Bytes())
	if err != nil {
		return err
	}
	el, err := n.expect(nsSASL, "")
	if err != nil {
		return err
	}
	switch el.name.Local {
	case "success":
		return nil
	case "failure":
		return parseSASLFailure(el.raw)
	}
	return protoErr("unexpected SASL answer <%s/>", el.name.Local)
}

func parseSASLFailure(raw []byte) error {
	var f struct {
		Children []struct {
			XMLName xml.Name
			Text    string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(raw, &f); err != nil {
		return &AuthError{Condition: "not-authorized", Text: "unreadable failure"}
	}
	e := &AuthError{Condition: "not-authorized"}
	for _, c := range f.Children {
		if c.XMLName.Local == "text" {
			e.Text = c.Text
		} else {
			e.Condition = c.XMLName.Local
		}
	}
	return e
}

func parseStreamError(raw []byte) error {
	var f struct {
		Children []struct {
			XMLName xml.Name
			Text    string `xml:",chardata"`
		} `xml:",any"`
	}
	e := &StreamError{Condition: "undefined-condition"}
	if err := xml.Unmarshal(raw, &f); err != nil {
		return e
	}
	for _, c := range f.Children {
		if c.XMLName.Space != nsStreams {
			continue
		}
		if c.XMLName.Local == "text" {
			e.Text = c.Text
		} else {
			e.Condition = c.XMLName.Local
		}
	}
	return e
}

func (n *negotiation) bind() error {
	var b bytes.Buffer
	b.WriteString("<iq type='set' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>")
	xml.EscapeText(&b, []byte(n.s.Resource))
	b.WriteString("</resource></bind></iq>")
	if err := n.write(b.Bytes()); err != nil {
		return err
	}
	el, err := n.expect(nsClient, "iq")
	if err != nil {
		return err
	}
	s, err := decodeStanza(el.raw)
	if err != nil {
		return fmt.Errorf("%w: bind reply: %w", ErrProtocol, err)
	}
	if s.ID != "bind-1" {
		return protoErr("bind reply with id %q", s.ID)
	}
	if s.Type == "error" {
		return fmt.Errorf("xmppconn: bind: %w", stanzaError(&s))
	}
	var r struct {
		JID string `xml:"urn:ietf:params:xml:ns:xmpp-bind bind>jid"`
	}
	if err := xml.Unmarshal(el.raw, &r); err != nil || r.JID == "" {
		return protoErr("bind reply without jid")
	}
	n.jid = r.JID
	return nil
}

// session does the legacy RFC 3921 session establishment for servers that
// still require it.
func (n *negotiation) session() error {
	if err := n.write([]byte("<iq type='set' id='sess-1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")); err != nil {
		return err
	}
	el, err := n.expect(nsClient, "iq")
	if err != nil {
		return err
	}
	s, err := decodeStanza(el.raw)
	if err != nil {
		return fmt.Errorf("%w: session reply: %w", ErrProtocol, err)
	}
	if s.Type == "error" {
		return fmt.Errorf("xmppconn: session: %w", stanzaError(&s))
	}
	return nil
}
