package xmppconn

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// nsComponent is the namespace of an external component's stream
// (XEP-0114).
const nsComponent = "jabber:component:accept"

// Bounds of the push component, each with its reason.
const (
	// pushQueue is how many notifications wait for a worker; past it the
	// server is told to wait (a "wait" error keeps the registration, any
	// other error would make ejabberd delete it).
	pushQueue = 1024
	// pushWorkers deliver notifications at once: each may wait on the
	// store and queue Web Pushes, which never blocks for long.
	pushWorkers = 8
	// componentKeepAlive is how often an idle component stream gets a
	// whitespace ping, so a dead connection is found and replaced.
	componentKeepAlive = 30 * time.Second
	// componentMinBackoff and componentMaxBackoff bound the wait between
	// two connection attempts.
	componentMinBackoff = 500 * time.Millisecond
	componentMaxBackoff = 30 * time.Second
)

// ComponentConfig configures RunPushComponent.
type ComponentConfig struct {
	// Addr is host:port of the server's component listener.
	Addr string
	// Domain is the component's own JID, e.g. push.example.org.
	Domain string
	// Secret is the listener's shared secret for this component.
	Secret string
	// Push receives each notification, on one of a few worker goroutines;
	// the server has already been answered. Its error is only logged.
	Push func(ctx context.Context, n PushNotification) error
	// MaxStanzaSize bounds one inbound stanza; zero means
	// DefaultMaxStanzaSize.
	MaxStanzaSize int
	// Logger receives connection changes and dropped notifications; nil
	// means slog.Default().
	Logger *slog.Logger
	// Connected, when set, is told each time the component is online.
	Connected func()
}

// RunPushComponent connects to the XMPP server as the external component
// cfg.Domain (XEP-0114) and serves as its push app server (XEP-0357): it
// answers disco#info with identity pubsub/push and feature urn:xmpp:push:0,
// answers each notification the server publishes with a result at once and
// hands it to cfg.Push. A lost or refused connection is retried with
// backoff. It blocks until ctx ends, then closes the connection, waits for
// its workers and returns nil.
func RunPushComponent(ctx context.Context, cfg ComponentConfig) error {
	if cfg.Addr == "" || cfg.Domain == "" || cfg.Secret == "" || cfg.Push == nil {
		return fmt.Errorf("%w: a component needs Addr, Domain, Secret and Push", ErrConfig)
	}
	if cfg.MaxStanzaSize <= 0 {
		cfg.MaxStanzaSize = DefaultMaxStanzaSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	queue := make(chan PushNotification, pushQueue)
	var wg sync.WaitGroup
	for range pushWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case n := <-queue:
					if err := cfg.Push(ctx, n); err != nil && ctx.Err() == nil {
						cfg.Logger.Warn("push notification not delivered", "node", n.Node, "err", err)
					}
				}
			}
		}()
	}
	defer wg.Wait()
	backoff := componentMinBackoff
	for ctx.Err() == nil {
		start := time.Now()
		err := serveComponent(ctx, cfg, queue)
		if ctx.Err() != nil {
			break
		}
		if time.Since(start) > componentMaxBackoff {
			backoff = componentMinBackoff // it was up for a while
		}
		cfg.Logger.Warn("push component disconnected; reconnecting", "addr", cfg.Addr, "in", backoff, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(backoff + rand.N(backoff/2)):
		}
		backoff = min(2*backoff, componentMaxBackoff)
	}
	return nil
}

// serveComponent runs one connection: handshake, then stanzas until the
// connection fails or ctx ends.
func serveComponent(ctx context.Context, cfg ComponentConfig, queue chan<- PushNotification) error {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	nc, err := d.DialContext(dctx, "tcp", cfg.Addr)
	cancel()
	if err != nil {
		return netErr(err)
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	er, err := componentHandshake(nc, cfg)
	if err != nil {
		return err
	}
	cfg.Logger.Info("push component online", "domain", cfg.Domain, "addr", cfg.Addr)
	if cfg.Connected != nil {
		cfg.Connected()
	}
	var wmu sync.Mutex
	write := func(b []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		_, err := nc.Write(b)
		return err
	}
	pingDone := make(chan struct{})
	defer func() { <-pingDone }()
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	go func() {
		defer close(pingDone)
		t := time.NewTicker(componentKeepAlive)
		defer t.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-t.C:
				if write([]byte(" ")) != nil {
					nc.Close()
					return
				}
			}
		}
	}()
	for {
		el, err := er.next(false)
		if err != nil {
			if err == errStreamEnd {
				return ErrStreamClosed
			}
			return err
		}
		if el.name.Space == nsStream && el.name.Local == "error" {
			return parseStreamError(el.raw)
		}
		if el.name.Space != nsComponent || el.name.Local != "iq" {
			continue // messages and presences to the component mean nothing here
		}
		if reply := componentIQ(el.raw, cfg.Domain, queue, cfg.Logger); reply != nil {
			if err := write(reply); err != nil {
				return netErr(err)
			}
		}
	}
}

// componentHandshake opens the stream and proves the secret: the SHA-1
// of the stream id and the secret, in hex (XEP-0114 section 3).
func componentHandshake(nc net.Conn, cfg ComponentConfig) (*elemReader, error) {
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	defer nc.SetDeadline(time.Time{})
	var b bytes.Buffer
	b.WriteString("<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='")
	xml.EscapeText(&b, []byte(cfg.Domain))
	b.WriteString("'>")
	if _, err := nc.Write(b.Bytes()); err != nil {
		return nil, netErr(err)
	}
	er := newElemReader(nc, cfg.MaxStanzaSize)
	er.tok.defaultSpace = nsComponent
	hdr, err := er.header()
	if err != nil {
		return nil, err
	}
	id := ""
	for _, a := range hdr.Attr {
		if a.Name.Local == "id" && a.Name.Space == "" {
			id = a.Value
		}
	}
	if id == "" {
		return nil, protoErr("component stream header without an id")
	}
	sum := sha1.Sum([]byte(id + cfg.Secret))
	if _, err := nc.Write([]byte("<handshake>" + hex.EncodeToString(sum[:]) + "</handshake>")); err != nil {
		return nil, netErr(err)
	}
	el, err := er.next(false)
	switch {
	case errors.Is(err, errStreamEnd):
		return nil, ErrStreamClosed
	case err != nil:
		return nil, err
	case el.name.Space == nsStream && el.name.Local == "error":
		// not-authorized: a wrong secret or a domain the listener does
		// not serve; a retry with backoff is all that can be done.
		return nil, fmt.Errorf("%w: %w", ErrNotAuthorized, parseStreamError(el.raw))
	case el.name.Local != "handshake":
		return nil, protoErr("expected <handshake/>, got <%s>", el.name.Local)
	}
	return er, nil
}
