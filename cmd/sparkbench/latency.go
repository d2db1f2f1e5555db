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
// time, through the gateway (REST in, SSE out) and directly.
func (b *bench) latency(ctx context.Context) error {
	n := b.opt.messages
	names := []string{b.user("lat-a"), b.user("lat-b"), b.user("lat-c"), b.user("lat-d")}
	for _, u := range names {
		if err := b.admin.Register(ctx, u, b.password); err != nil {
			return fmt.Errorf("register: %w", err)
		}
	}
	b.res.LatencyUS.Messages = n

	gw, lost, dups, err := b.latencyGateway(ctx, names[0], names[1], n)
	b.res.addLost("latency-gateway", lost, dups)
	if err != nil {
		return err
	}
	direct, lost, dups, err := b.latencyDirect(ctx, names[2], names[3], n)
	b.res.addLost("latency-direct", lost, dups)
	if err != nil {
		return err
	}
	l := &b.res.LatencyUS
	l.Gateway = dist(gw, time.Microsecond)
	l.Direct = dist(direct, time.Microsecond)
	l.P50Ratio = ratio(l.Gateway.P50, l.Direct.P50)
	l.P99Ratio = ratio(l.Gateway.P99, l.Direct.P99)
	l.Note = fmt.Sprintf("one message at a time after %d unmeasured; gateway: from before the REST POST to the parsed SSE event; direct: from before the stanza write to the parsed stanza; gateway minus direct p50 ≈ %.0f µs is the gateway's share (HTTP request in, stanza arrival to SSE write out)",
		latencyWarmup, l.Gateway.P50-l.Direct.P50)
	return nil
}

// sequential sends warm-up plus n messages with send, each after the
// previous one arrived (or was given up after 5 s), and returns the
// latencies of the last n.
func sequential(ctx context.Context, n int, tag string, arrivals <-chan arrival, send func(ctx context.Context, body string) error) (lat []time.Duration, lost, dups int, err error) {
	seen := make(map[string]bool, n+latencyWarmup)
	lat = make([]time.Duration, 0, n)
	for i := range n + latencyWarmup {
		key := tag + " " + strconv.Itoa(i)
		t0 := time.Now()
		if err := send(ctx, key); err != nil {
			return lat, lost, dups, fmt.Errorf("send %d: %w", i, err)
		}
		timeout := time.NewTimer(5 * time.Second)
	wait:
		for {
			select {
			case a := <-arrivals:
				if seen[a.key] {
					dups++
					continue
				}
				seen[a.key] = true
				if a.key != key {
					continue // a late one, given up before
				}
				if i >= latencyWarmup {
					lat = append(lat, a.at.Sub(t0))
				}
				break wait
			case <-timeout.C:
				break wait
			case <-ctx.Done():
				timeout.Stop()
				return lat, lost, dups, ctx.Err()
			}
		}
		timeout.Stop()
	}
	// Give stragglers a moment, then count what never came.
	grace := time.NewTimer(time.Second)
	defer grace.Stop()
drain:
	for {
		select {
		case a := <-arrivals:
			if seen[a.key] {
				dups++
			}
			seen[a.key] = true
		case <-grace.C:
			break drain
		}
	}
	for i := range n + latencyWarmup {
		if !seen[tag+" "+strconv.Itoa(i)] {
			lost++
		}
	}
	return lat, lost, dups, nil
}

func (b *bench) latencyGateway(ctx context.Context, from, to string, n int) ([]time.Duration, int, int, error) {
	hcA, hcB := b.clients.forUser(0), b.clients.forUser(1)
	tokA, err := b.api.login(ctx, b.clients.forLogin(), from, b.password)
	if err != nil {
		return nil, 0, 0, err
	}
	tokB, err := b.api.login(ctx, b.clients.forLogin(), to, b.password)
	if err != nil {
		return nil, 0, 0, err
	}
	arrivals := make(chan arrival, 2*(n+latencyWarmup))
	st, err := b.api.open(ctx, hcB, tokB, func(ev ssetest.Event, at time.Time) {
		if body, ok := chatBody(ev); ok && strings.HasPrefix(body, "lat ") {
			select {
			case arrivals <- arrival{body, at}:
			default:
			}
		}
	})
	if err != nil {
		return nil, 0, 0, err
	}
	defer st.close()
	return sequential(ctx, n, "lat", arrivals, func(ctx context.Context, body string) error {
		return b.api.post(ctx, hcA, tokA, to, body)
	})
}

func (b *bench) latencyDirect(ctx context.Context, from, to string, n int) ([]time.Duration, int, int, error) {
	a, err := dialDirect(ctx, b.c2s, b.domain, from, b.password)
	if err != nil {
		return nil, 0, 0, err
	}
	defer closeDirect(a)
	r, err := dialDirect(ctx, b.c2s, b.domain, to, b.password)
	if err != nil {
		return nil, 0, 0, err
	}
	arrivals := make(chan arrival, 2*(n+latencyWarmup))
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
	defer func() { closeDirect(r); <-done }()
	toJID := to + "@" + b.domain
	seq := 0
	return sequential(ctx, n, "lat", arrivals, func(ctx context.Context, body string) error {
		seq++
		return a.SendRaw(ctx, chatStanza(toJID, "l"+strconv.Itoa(seq), body))
	})
}

// closeDirect closes c, bounded.
func closeDirect(c *xmppconn.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.Close(ctx)
}
