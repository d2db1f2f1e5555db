package xmppconn

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gosrc.io/xmpp/stanza"
)

// Conn is an established client stream. Its methods are safe for concurrent
// use by multiple goroutines.
type Conn struct {
	s   *settings
	nc  net.Conn // the stream's connection (TLS or TCP)
	tcp net.Conn // the TCP connection under it
	er  *elemReader

	ctx          context.Context // cancelled when the stream ends
	cancel       context.CancelFunc
	closeSent    atomic.Bool // Close wrote </stream:stream>
	jid          string      // full JID bound by the server
	bare, domain string

	in      chan Stanza   // inbound queue, closed by the reader when it ends; nil in inline mode
	inl     *inline       // inline mode's state (inline.go), else nil
	done    chan struct{} // closed when the stream has ended
	closing chan struct{} // closed by Close or a fatal error, stops the reader
	endOnce sync.Once
	err     error // end reason, set before done is closed

	wmu chan struct{} // one writer at a time (a semaphore, so waits honour ctx)

	pmu     sync.Mutex
	pending map[string]*pendingIQ

	wg sync.WaitGroup // the reader, keepalive and answer-writer goroutines

	replies replyQueue // automatic answers waiting for the socket (autoreply.go)

	// The keepalive runs on a timer, so an idle Conn has one goroutine.
	liveMu      sync.Mutex
	liveTimer   *time.Timer
	liveStopped bool

	stalled atomic.Bool // the reader waits for room in the queue
	stats   struct {
		stanzas, queueFull, decodeErrors, strayReplies, autoReplies, repliesDropped atomic.Uint64
	}
}

type pendingIQ struct {
	to string // the address the request went to; the reply must come from it
	ch chan Stanza
}

// Stats counts what the reader saw since the Conn was established.
type Stats struct {
	Stanzas      uint64 // stanzas read (all kinds, replies included)
	QueueFull    uint64 // times the reader found the consumer queue full
	DecodeErrors uint64 // well-formed stanzas the decoder rejected (skipped)
	StrayReplies uint64 // IQ replies nobody waited for (dropped)
	AutoReplies  uint64 // IQ requests answered by the Conn itself
	// AutoRepliesDropped counts automatic answers (IQ replies, receipts)
	// not written because too many waited for the socket (autoreply.go).
	AutoRepliesDropped uint64
}

func newConn(s *settings, nc, tcp net.Conn, er *elemReader, jid string) *Conn {
	c := &Conn{
		s:       s,
		nc:      nc,
		tcp:     tcp,
		er:      er,
		jid:     jid,
		done:    make(chan struct{}),
		closing: make(chan struct{}),
		wmu:     make(chan struct{}, 1),
		pending: make(map[string]*pendingIQ),
	}
	if s.inline {
		c.inl = newInline()
	} else {
		c.in = make(chan Stanza, s.QueueSize)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.bare, _, _ = strings.Cut(jid, "/")
	_, c.domain, _ = strings.Cut(c.bare, "@")
	c.wg.Add(1)
	go c.readLoop()
	if s.KeepAlive > 0 {
		c.liveMu.Lock()
		c.liveTimer = time.AfterFunc(s.KeepAlive, c.keepAlive)
		c.liveMu.Unlock()
	}
	return c
}

// JID returns the full JID the server bound for this stream.
func (c *Conn) JID() string { return c.jid }

// In returns the inbound queue. Stanzas come in the order the server sent
// them. The channel is closed after the stream has ended and every stanza
// read before the end has been queued (except one the reader was holding
// for a full queue when Close or a write failure ended the stream); Err
// then tells why. A Conn in inline mode (a Session's, inline.go) has no
// queue: In returns nil.
func (c *Conn) In() <-chan Stanza { return c.in }

// Next returns the next inbound stanza, waiting at most until ctx ends.
// After the stream has ended and the queue is drained it returns Err().
func (c *Conn) Next(ctx context.Context) (Stanza, error) {
	select {
	case s, ok := <-c.in:
		if !ok {
			return Stanza{}, c.Err()
		}
		return s, nil
	case <-ctx.Done():
		return Stanza{}, context.Cause(ctx)
	}
}

// Done is closed when the stream has ended, for whatever reason.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns nil while the stream is up, and afterwards why it ended:
// ErrClosed after Close, ErrStreamClosed, a *StreamError, an ErrNetwork
// error (ErrPingTimeout among them) or an ErrProtocol error.
func (c *Conn) Err() error {
	select {
	case <-c.closing: // err is set before closing is closed
		return c.err
	default:
		return nil
	}
}

// Stats returns the reader's counters.
func (c *Conn) Stats() Stats {
	return Stats{
		Stanzas:      c.stats.stanzas.Load(),
		QueueFull:    c.stats.queueFull.Load(),
		DecodeErrors: c.stats.decodeErrors.Load(),
		StrayReplies: c.stats.strayReplies.Load(),
		AutoReplies:  c.stats.autoReplies.Load(),

		AutoRepliesDropped: c.stats.repliesDropped.Load(),
	}
}

// fail ends the stream with err (the first reason wins): it stops the
// reader and the keepalive and closes the socket.
func (c *Conn) fail(err error) {
	c.endOnce.Do(func() {
		c.err = err
		close(c.closing)
		c.liveMu.Lock()
		c.liveStopped = true
		if c.liveTimer != nil {
			c.liveTimer.Stop()
		}
		c.liveMu.Unlock()
		c.cancel()
		// Closing the TCP connection (not a TLS one over it) never waits for
		// a close_notify to be written.
		c.tcp.Close()
	})
}

func (c *Conn) readLoop() {
	defer c.wg.Done()
	defer c.endRead()
	// An idle reader waits for the network in waitInput, called from this
	// small frame, rather than deep in the decoder's frames in readOne:
	// the runtime then shrinks an idle connection's stack to a few KiB.
	for {
		c.er.waitInput()
		if !c.readOne() {
			return
		}
	}
}

// endRead runs when the reader ends, which is only after fail was called
// (or the reader called it itself): it wakes up IQ callers, then closes
// the queue and done.
func (c *Conn) endRead() {
	c.pmu.Lock()
	c.pending = nil
	c.pmu.Unlock()
	if c.in != nil {
		close(c.in)
	}
	close(c.done)
	if c.inl != nil {
		c.exitInline()
	}
}

// readOne reads and routes one top-level element; it returns false when
// the reader must stop.
func (c *Conn) readOne() bool {
	el, err := c.er.next(true)
	if err != nil {
		switch {
		case err == errStreamEnd && c.closeSent.Load():
			err = ErrClosed
		case err == errStreamEnd:
			err = ErrStreamClosed
		}
		c.fail(err)
		return false
	}
	c.stats.stanzas.Add(1)
	if el.name.Space == nsStream && el.name.Local == "error" {
		c.fail(parseStreamError(el.raw))
		return false
	}
	if el.name.Space != nsClient {
		// Nonzas (stream management and the like) are not for the consumer.
		c.s.log.Debug("xmppconn: ignoring top-level element", slog.String("name", el.name.Local), slog.String("ns", el.name.Space))
		return true
	}
	return c.dispatch(el)
}

func (c *Conn) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// dispatch routes one stanza; it returns false when the reader must stop.
func (c *Conn) dispatch(el element) bool {
	name := el.name.Local
	if name == "iq" {
		typ := el.attrValue("type")
		if typ == "result" || typ == "error" {
			c.routeReply(el)
			return true
		}
	}
	if el.stanza == nil {
		c.stats.decodeErrors.Add(1)
		c.s.log.Warn("xmppconn: skipping a stanza the decoder rejected",
			slog.String("name", name), slog.String("id", el.attrValue("id")), slog.Any("err", el.decodeErr))
		if c.s.OnStanzaSkipped != nil {
			c.s.OnStanzaSkipped()
		}
		return true
	}
	s := el.stanza
	if name == "iq" {
		if !c.wantIQ(s) {
			c.autoReply(s)
			return true
		}
	}
	if c.inl != nil {
		return c.handInline(s)
	}
	select {
	case c.in <- *s:
		return true
	default:
	}
	c.queueFull()
	defer c.stalled.Store(false)
	select {
	case c.in <- *s:
		return true
	case <-c.closing:
		return false
	}
}

// queueFull counts and announces that the reader waits for its consumer.
// Stalled before the hook: whoever the hook tells (a Close, say) must
// already see the reader as stalled, or it waits for an answer the reader
// will never read (TestCloseWithStalledConsumer, seen under load).
func (c *Conn) queueFull() {
	c.stats.queueFull.Add(1)
	c.stalled.Store(true)
	if c.s.OnQueueFull != nil {
		c.s.OnQueueFull()
	}
}

// waitForRoom is the inline mode's wait on a full queue: until ready is
// closed (true) or the stream ends (false).
func (c *Conn) waitForRoom(ready <-chan struct{}) bool {
	c.queueFull()
	defer c.stalled.Store(false)
	select {
	case <-ready:
		return true
	case <-c.closing:
		return false
	}
}

// routeReply hands an IQ result or error to the caller waiting for it.
func (c *Conn) routeReply(el element) {
	id := el.attrValue("id")
	from := el.attrValue("from")
	c.pmu.Lock()
	p := c.pending[id]
	if p != nil && c.sameAddr(p.to, from) {
		delete(c.pending, id)
	} else {
		p = nil
	}
	c.pmu.Unlock()
	if p == nil {
		c.stats.strayReplies.Add(1)
		c.s.log.Debug("xmppconn: dropping an IQ reply nobody waits for", slog.String("id", id))
		return
	}
	s := el.stanza
	if s == nil {
		c.stats.decodeErrors.Add(1)
		s = &Stanza{Name: "iq", Raw: el.raw, Type: el.attrValue("type"), ID: id, From: from}
	}
	p.ch <- *s // buffered, one reply per entry
}

// sameAddr reports whether a reply from from answers a request sent to to.
// A request without to (or to the own account or domain) is answered by the
// server, which may write its from as nothing, the domain, or the account.
func (c *Conn) sameAddr(to, from string) bool {
	if to == from {
		return true
	}
	self := func(a string) bool { return a == "" || a == c.domain || a == c.bare || a == c.jid }
	return self(to) && self(from)
}

// wantIQ reports whether an IQ request goes to the consumer.
func (c *Conn) wantIQ(s *Stanza) bool {
	if c.s.DeliverIQ == nil {
		return false
	}
	var payload xml.Name
	if s.IQ != nil {
		if s.IQ.Any != nil {
			payload = s.IQ.Any.XMLName
		} else if s.IQ.Payload != nil {
			payload = payloadName(s.Raw)
		}
	}
	return c.s.DeliverIQ(s.Type, payload)
}

// payloadName returns the name of the first child of a stanza.
func payloadName(raw []byte) xml.Name { return payloadStart(raw).Name }

// payloadStart is payloadName with the payload's attributes.
func payloadStart(raw []byte) xml.StartElement {
	d := xml.NewDecoder(bytes.NewReader(raw))
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 1 {
				return t
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
}

// autoReply answers an IQ request nobody handles: a result for a ping from
// the server, service-unavailable otherwise. The reply is queued for the
// Conn's answer writer, so that the reader never waits for the socket
// (autoreply.go).
func (c *Conn) autoReply(s *Stanza) {
	payload := payloadStart(s.Raw)
	var reply []byte
	switch {
	case s.Type == "get" && payload.Name == (xml.Name{Space: nsDiscoInfo, Local: "query"}):
		reply = discoInfoReply(s, payload) // nil for a node the client has not
	case s.Type == "get" && c.sameAddr("", s.From) && payload.Name == (xml.Name{Space: nsPing, Local: "ping"}):
		reply = iqAnswer(s, "")
	}
	if reply == nil {
		reply = iqAnswer(s, "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>")
	}
	c.stats.autoReplies.Add(1)
	c.writeAsync(reply)
}

// Send marshals v (a stanza.Message, stanza.Presence, *stanza.IQ or any
// value encoding/xml can marshal into one stanza) and writes it; anything
// else than one message, presence or iq element is refused with
// ErrInvalidStanza. The write is bounded by ctx; a write cut off half-way
// ends the stream, because the server would see broken XML.
func (c *Conn) Send(ctx context.Context, v any) error {
	raw, err := xml.Marshal(v)
	if err != nil {
		return fmt.Errorf("xmppconn: marshal %T: %w", v, err)
	}
	// A value may marshal to anything (a slice to several elements, a
	// custom marshaller to a stream element): check as SendRaw does.
	return c.SendRaw(ctx, raw)
}

// SendRaw writes raw, which must be exactly one well-formed message,
// presence or iq element in the jabber:client namespace, as parseStanza
// checks it (no XML declaration, comments or DTD, within its limits);
// otherwise it returns ErrInvalidStanza. A from attribute is left out:
// the server stamps the stream's own address. Use IQ for IQ requests that
// expect a reply.
func (c *Conn) SendRaw(ctx context.Context, raw []byte) error {
	st, err := parseStanza(raw)
	if err != nil {
		return err
	}
	return c.write(ctx, st.xml)
}

// write writes b as one unit. Waiting for the socket honours ctx; a write
// that fails or is cut off ends the stream.
func (c *Conn) write(ctx context.Context, b []byte) error {
	select {
	case c.wmu <- struct{}{}:
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-c.done:
		return c.endErr()
	}
	defer func() { <-c.wmu }()
	if c.isClosing() {
		return c.endErr()
	}
	// A context that ended already (the select above may pick the lock
	// anyway) writes nothing: the stream stays whole.
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if dl, ok := ctx.Deadline(); ok {
		c.nc.SetWriteDeadline(dl)
	} else {
		c.nc.SetWriteDeadline(time.Time{})
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		c.nc.SetWriteDeadline(time.Unix(1, 0))
	})
	_, err := c.nc.Write(b)
	if !stop() {
		// The callback has started: let it finish before the next writer
		// sets its own deadline.
		<-fired
	}
	if err != nil {
		werr := netErr(err)
		if ctx.Err() != nil {
			werr = fmt.Errorf("xmppconn: write cut off: %w", context.Cause(ctx))
		}
		c.fail(werr)
		return werr
	}
	return nil
}

// endErr is the error for operations after the stream has ended.
func (c *Conn) endErr() error {
	<-c.closing
	if c.err == nil {
		return ErrClosed
	}
	return c.err
}

// newID returns an unpredictable stanza id.
func newID() string { return rand.Text() }

// IQ sends the IQ request iq and waits for its reply, at most until ctx
// ends. An empty iq.Id is replaced by a random one (iq is modified). The
// route for the reply is registered before the request is written and only
// a reply from the addressee is accepted; a reply arriving after ctx ended
// is dropped. A reply of type error is returned together with a
// *StanzaError.
//
// The reply is read by the same reader that fills the inbound queue: a
// goroutine that drains In() must not wait for an IQ while the queue may be
// full, or it waits until ctx ends.
func (c *Conn) IQ(ctx context.Context, iq *stanza.IQ) (Stanza, error) {
	if iq.Id == "" {
		iq.Id = newID()
	}
	raw, err := xml.Marshal(iq)
	if err != nil {
		return Stanza{}, fmt.Errorf("xmppconn: marshal iq: %w", err)
	}
	return c.iq(ctx, iq.Id, iq.To, raw)
}

// RawIQ sends an IQ of type typ ("get" or "set") to the address to (empty
// for the own account's server) with payload as its child, under a fresh
// random id, and waits for the reply like IQ. payload must be one
// well-formed element.
func (c *Conn) RawIQ(ctx context.Context, typ, to string, payload []byte) (Stanza, error) {
	id := newID()
	var b bytes.Buffer
	b.Grow(len(payload) + 96)
	b.WriteString("<iq type='")
	xml.EscapeText(&b, []byte(typ))
	b.WriteString("' id='")
	b.WriteString(id)
	if to != "" {
		b.WriteString("' to='")
		xml.EscapeText(&b, []byte(to))
	}
	b.WriteString("'>")
	b.Write(payload)
	b.WriteString("</iq>")
	st, err := parseStanza(b.Bytes())
	if err != nil {
		return Stanza{}, err
	}
	return c.iq(ctx, id, to, st.xml)
}

func (c *Conn) iq(ctx context.Context, id, to string, raw []byte) (Stanza, error) {
	p := &pendingIQ{to: to, ch: make(chan Stanza, 1)}
	c.pmu.Lock()
	if c.pending == nil {
		c.pmu.Unlock()
		return Stanza{}, c.endErr()
	}
	if c.pending[id] != nil {
		c.pmu.Unlock()
		return Stanza{}, fmt.Errorf("%w: an iq with the id %q already waits for its reply", ErrInvalidStanza, id)
	}
	c.pending[id] = p
	c.pmu.Unlock()
	defer func() {
		c.pmu.Lock()
		if c.pending != nil && c.pending[id] == p {
			delete(c.pending, id)
		}
		c.pmu.Unlock()
	}()
	if err := c.write(ctx, raw); err != nil {
		return Stanza{}, err
	}
	select {
	case s := <-p.ch:
		if s.Type == "error" {
			return s, stanzaError(&s)
		}
		return s, nil
	case <-ctx.Done():
		return Stanza{}, context.Cause(ctx)
	case <-c.done:
		// The reply may have been routed just before the end.
		select {
		case s := <-p.ch:
			if s.Type == "error" {
				return s, stanzaError(&s)
			}
			return s, nil
		default:
		}
		return Stanza{}, c.endErr()
	}
}

// keepAlive runs on the keepalive timer: it writes a whitespace keepalive
// and pings the server, then schedules itself again. A ping without reply
// within PingTimeout ends the stream, unless the reader is stalled on a full
// queue (then the reply cannot be read and the consumer, not the network,
// is the bottleneck). With PingTimeout at most half the interval, a dead
// peer is noticed within 1.5 intervals.
func (c *Conn) keepAlive() {
	c.liveMu.Lock()
	if c.liveStopped {
		c.liveMu.Unlock()
		return
	}
	// The reader still runs (fail sets liveStopped before it can end), so
	// the WaitGroup is not at zero here.
	c.wg.Add(1)
	c.liveMu.Unlock()
	defer c.wg.Done()

	ctx, cancel := context.WithTimeout(c.ctx, c.s.PingTimeout)
	err := c.write(ctx, []byte{' '})
	if err == nil {
		_, err = c.RawIQ(ctx, "get", "", []byte("<ping xmlns='urn:xmpp:ping'/>"))
	}
	timedOut := ctx.Err() != nil
	cancel()
	var se *StanzaError
	switch {
	case c.isClosing():
		return
	case err == nil, errors.As(err, &se): // an error reply is a sign of life too
	case timedOut && c.stalled.Load():
	case timedOut:
		c.fail(fmt.Errorf("%w: %w: no reply within %v", ErrNetwork, ErrPingTimeout, c.s.PingTimeout))
		return
	}
	c.liveMu.Lock()
	if !c.liveStopped {
		c.liveTimer.Reset(c.s.KeepAlive)
	}
	c.liveMu.Unlock()
}

// Close closes the stream: it writes </stream:stream>, waits for the
// server to close its side (at most until ctx ends), then closes the socket
// and waits for the Conn's goroutines. It returns nil once the socket is
// closed, also when the stream had already ended; ctx's error if ctx ended
// before the server answered.
func (c *Conn) Close(ctx context.Context) error {
	select {
	case <-c.closing:
		// Already ending: just wait for the goroutines.
		c.wg.Wait()
		return nil
	default:
	}
	var cerr error
	// Only the first Close writes the stream's end; the others wait too.
	// A reader stalled on a full queue would never read the server's
	// answer: then there is nothing to wait for.
	var err error
	if c.closeSent.CompareAndSwap(false, true) {
		err = c.write(ctx, []byte("</stream:stream>"))
	}
	if err == nil && !c.stalled.Load() {
		select {
		case <-c.done:
		case <-ctx.Done():
			cerr = context.Cause(ctx)
		}
	}
	c.fail(ErrClosed)
	c.wg.Wait()
	return cerr
}
