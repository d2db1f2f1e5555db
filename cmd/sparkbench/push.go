package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sparkgate/sparkgate/webpush/webpushtest"
)

// pushMessages is how many messages each push path measures, one at a
// time; pushWait bounds the wait for one push.
const (
	pushMessages = 50
	pushWait     = 15 * time.Second
)

// Push is the push scenario's figures: from before a message is sent to
// its Web Push decrypted by a push service on loopback, on both paths.
type Push struct {
	Messages int `json:"messages"`
	// Session: the receiver's gateway holds a session, no tab is open; the
	// gateway pushes from its session.
	Session Dist `json:"session"`
	// NoSession: the receiver signed out; the XMPP server pushes (XEP-0357)
	// through the gateway's component, which sends the Web Push.
	NoSession Dist   `json:"no_session"`
	Lost      int    `json:"lost"`
	Note      string `json:"note,omitempty"`
}

// push measures message → decrypted Web Push on the gateway's two paths.
// It needs the gateway and ejabberd this run started (the push component
// and its secret).
func (b *bench) push(ctx context.Context) error {
	if b.gw == nil || b.ej == nil || b.vapidPublic == "" {
		return errors.New("needs the gateway and ejabberd this run starts (no -gateway-url, no -xmpp-addr)")
	}
	svc := webpushtest.Start(b.vapidPublic)
	defer svc.Close()
	from, to := b.user("push-a"), b.user("push-b")
	for _, u := range []string{from, to} {
		if err := b.admin.Register(ctx, u, b.password); err != nil {
			return fmt.Errorf("register: %w", err)
		}
	}
	hc := b.clients.forUser(0)
	tokFrom, err := b.api.login(ctx, b.clients.forLogin(), from, b.password)
	if err != nil {
		return err
	}
	tokTo, err := b.api.login(ctx, b.clients.forLogin(), to, b.password)
	if err != nil {
		return err
	}
	sub, err := svc.NewSubscription()
	if err != nil {
		return err
	}
	if err := b.api.do(ctx, hc, http.MethodPut, "/sparkweb/api/rest/webpush/subscribe/bench", tokTo, "application/json", sub.JSON()); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	p := &b.res.PushMS
	p.Messages = pushMessages
	measure := func(label string) (Dist, error) {
		var lat []time.Duration
		for i := range pushMessages {
			body := fmt.Sprintf("push %s %d", label, i)
			start := time.Now()
			if err := b.api.post(ctx, hc, tokFrom, to, body); err != nil {
				return Dist{}, err
			}
			if waitPush(ctx, svc, body) {
				lat = append(lat, time.Since(start))
			} else {
				p.Lost++
			}
		}
		return dist(lat, time.Millisecond), nil
	}
	if p.Session, err = measure("session"); err != nil {
		return err
	}
	if err := b.api.do(ctx, hc, http.MethodPost, "/sparkweb/api/rest/logout", tokTo, "", ""); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	time.Sleep(500 * time.Millisecond) // the session's end reaches the server
	if p.NoSession, err = measure("away"); err != nil {
		return err
	}
	b.res.addLost("push", p.Lost, 0)
	p.Note = "one message at a time, from before the REST POST of the sender to the push service's decryption; collapse window off (-push-collapse 0s: it delays by its own length); session: the receiver logged in with no stream; no session: logged out, the XMPP server pushes through the gateway's component"
	return nil
}

// waitPush waits for the push whose payload holds body; other pushes are
// skipped.
func waitPush(ctx context.Context, svc *webpushtest.Service, body string) bool {
	deadline := time.After(pushWait)
	for {
		select {
		case m := <-svc.Messages():
			if m.Err == nil && bytes.Contains(m.Plaintext, []byte(body)) {
				return true
			}
		case <-deadline:
			return false
		case <-ctx.Done():
			return false
		}
	}
}
