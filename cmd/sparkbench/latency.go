package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sparkgate/sparkgate/sse/ssetest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// arrival is one message seen by a receiver.
type arrival struct {
	key string
	at  time.Time
}

// chatBody returns the body of a chatapi.chat event that is not the
// user's own sent message.
func chatBody(ev ssetest.Event) (string, bool) {
	if ev.Name != "chatapi.chat" {
		return "", false
	}
	var c struct {
		Type string `json:"type"`
		Body string `json:"body"`
		Sent bool   `json:"sent"`
	}
	if json.Unmarshal([]byte(ev.Data), &c) != nil || c.Sent || c.Type != "chat" {
		return "", false
	}
	return c.Body, true
}

// directBody returns the body of an inbound chat message.
func directBody(st xmppconn.Stanza) (string, bool) {
	if st.Name != "message" || st.Message == nil || st.Carbon != nil || st.MAM != nil {
		return "", false
	}
	return st.Message.Body, st.Message.Body != ""
}

// latencyWarmup messages go first in each run and are not measured.
const latencyWarmup = 50

// latency measures one-way latency: sender → receiver, one message at a
// time, through the gateway (REST in, SSE out) and directly, alternating
// between the two so that both see the same load on a shared machine.
func (b *bench) latency(ctx context.Context) error {
	n := b.opt.messages
	names := []string{b.user("lat-a"), b.user("lat-b"), b.user("lat-c"), b.user("lat-d")}
	for _, u := range names {
		if err := b.admin.Register(ctx, u, b.password); err != nil {
			return fmt.Errorf("register: %w", err)
		}
	}
	b.res.LatencyUS.Messages = n

	gw, err := b.latencyGateway(ctx, names[0], names[1])
	if err != nil {
		return err
	}
	defer gw.close()
	direct, err := b.latencyDirect(ctx, names[2], names[3])
	if err != nil {
		return err
	}
	defer direct.close()
	err = alternate(ctx, n, gw, direct)
	b.res.addLost("latency-gateway", gw.lost, gw.dups)
	b.res.addLost("latency-direct", direct.lost, direct.dups)
	if err != nil {
		return err
	}
	l := &b.res.LatencyUS
	l.Gateway = dist(gw.lat, time.Microsecond)
	l.Direct = dist(direct.lat, time.Microsecond)
	l.GatewayQ = quantiles(gw.lat, time.Microsecond)
	l.DirectQ = quantiles(direct.lat, time.Microsecond)
	l.P50Ratio = ratio(l.Gateway.P50, l.Direct.P50)
	l.P99Ratio = ratio(l.Gateway.P99, l.Direct.P99)
	l.Note = fmt.Sprintf("one message at a time, gateway and direct alternating, after %d unmeasured each; gateway: from before the REST POST to the parsed SSE event; direct: from before the stanza write to the parsed stanza",
		latencyWarmup)
	return nil
}

// side is one way of sending a message and seeing it arrive.
type side struct {
	arrivals <-chan arrival
	send     func(ctx context.Context, body string) error
	close    func()

	seen     map[string]bool
	lat      []time.Duration
	lost     int
	dups     int
	sentKeys []string
}

// once sends body and waits for it (at most 5 s), recording the latency
// when measure is set.
func (s *side) once(ctx context.Context, key string, measure bool) error {
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.sentKeys = append(s.sentKeys, key)
	t0 := time.Now()
	if err := s.send(ctx, key); err != nil {
		return err
	}
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case a := <-s.arrivals:
			if s.seen[a.key] {
				s.dups++
				continue
			}
			s.seen[a.key] = true
			if a.key != key {
				continue // a late one, given up before
			}
			if measure {
				s.lat = append(s.lat, a.at.Sub(t0))
			}
			return nil
		case <-timeout.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// settle waits a moment for stragglers and counts what never came.
func (s *side) settle() {
	grace := time.NewTimer(time.Second)
	defer grace.Stop()
	for {
		select {
		case a := <-s.arrivals:
			if s.seen[a.key] {
				s.dups++
			}
			s.seen[a.key] = true
		case <-grace.C:
			for _, k := range s.sentKeys {
				if !s.seen[k] {
					s.lost++
				}
			}
			return
		}
	}
}

// alternate sends warm-up plus n messages on every side in turn, each
// after the previous one arrived (or was given up after 5 s); the order of
// the sides flips every round.
func alternate(ctx context.Context, n int, sides ...*side) error {
	for i := range n + latencyWarmup {
		for k := range sides {
			j := k
			if i%2 == 1 {
				j = len(sides) - 1 - k
			}
			if err := sides[j].once(ctx, "lat "+strconv.Itoa(i), i >= latencyWarmup); err != nil {
				return fmt.Errorf("send %d: %w", i, err)
			}
		}
	}
	for _, s := range sides {
		s.settle()
	}
	return nil
}

func (b *bench) latencyGateway(ctx context.Context, from, to string) (*side, error) {
	hcA, hcB := b.clients.forUser(0), b.clients.forUser(1)
	tokA, err := b.api.login(ctx, b.clients.forLogin(), from, b.password)
	if err != nil {
		return nil, err
	}
	tokB, err := b.api.login(ctx, b.clients.forLogin(), to, b.password)
	if err != nil {
		return nil, err
	}
	arrivals := make(chan arrival, 4096)
	st, err := b.api.open(ctx, hcB, tokB, func(ev ssetest.Event, at time.Time) {
		if body, ok := chatBody(ev); ok && strings.HasPrefix(body, "lat ") {
			select {
			case arrivals <- arrival{body, at}:
			default:
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return &side{
		arrivals: arrivals,
		send: func(ctx context.Context, body string) error {
			return b.api.post(ctx, hcA, tokA, to, body)
		},
		close: st.close,
	}, nil
}

func (b *bench) latencyDirect(ctx context.Context, from, to string) (*side, error) {
	a, err := dialDirect(ctx, b.c2s, b.domain, from, b.password)
	if err != nil {
		return nil, err
	}
	r, err := dialDirect(ctx, b.c2s, b.domain, to, b.password)
	if err != nil {
		closeDirect(a)
		return nil, err
	}
	arrivals := make(chan arrival, 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for st := range r.In() {
			if body, ok := directBody(st); ok && strings.HasPrefix(body, "lat ") {
				select {
				case arrivals <- arrival{body, time.Now()}:
				default:
				}
			}
		}
	}()
	toJID := to + "@" + b.domain
	seq := 0
	return &side{
		arrivals: arrivals,
		send: func(ctx context.Context, body string) error {
			seq++
			return a.SendRaw(ctx, chatStanza(toJID, "l"+strconv.Itoa(seq), body))
		},
		close: func() { closeDirect(a); closeDirect(r); <-done },
	}, nil
}

// closeDirect closes c, bounded.
func closeDirect(c *xmppconn.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.Close(ctx)
}
