package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// Message kinds of a chatTally.
const (
	kindDirect = "one-to-one"
	kindRoom   = "room"
)

// chatTally counts the messages of a conversation among several users:
// each message the gateway accepted (200) has receivers, and each
// receiver's stream must carry it exactly once. Messages are told apart
// by body, which the senders make unique.
type chatTally struct {
	mu        sync.Mutex
	kind      map[string]string   // accepted body → kind
	phase     map[string]string   // accepted body → phase when it was accepted
	to        map[string][]string // accepted body → receivers (user names)
	order     []string            // accepted bodies in order of acceptance
	got       map[string]int      // body + "\x00" + receiver → deliveries
	echoes    map[string]int      // room body → times it came back to its sender
	refused   map[string]int      // kind → attempts answered 502/503/504
	maxTries  map[string]int      // kind → most attempts one message needed
	phaseSent map[string]int      // phase + " " + kind → accepted messages
	retried   map[string]int      // kind → messages accepted after a refusal
}

func newChatTally() *chatTally {
	return &chatTally{
		kind: make(map[string]string), phase: make(map[string]string), to: make(map[string][]string), got: make(map[string]int),
		echoes: make(map[string]int), refused: make(map[string]int), maxTries: make(map[string]int),
		phaseSent: make(map[string]int), retried: make(map[string]int),
	}
}

func (c *chatTally) accepted(phase, kind, body string, to []string, tries int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kind[body] = kind
	c.phase[body] = phase
	c.to[body] = to
	c.order = append(c.order, body)
	c.phaseSent[phase+" "+kind]++
	c.maxTries[kind] = max(c.maxTries[kind], tries)
	if tries > 1 {
		c.retried[kind]++
	}
}

func (c *chatTally) refusal(kind string) {
	c.mu.Lock()
	c.refused[kind]++
	c.mu.Unlock()
}

func (c *chatTally) deliver(body, receiver string) {
	c.mu.Lock()
	c.got[body+"\x00"+receiver]++
	c.mu.Unlock()
}

func (c *chatTally) echo(body string) {
	c.mu.Lock()
	c.echoes[body]++
	c.mu.Unlock()
}

// missing counts the (message, receiver) pairs not delivered yet.
func (c *chatTally) missing() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, b := range c.order {
		for _, r := range c.to[b] {
			if c.got[b+"\x00"+r] == 0 {
				n++
			}
		}
	}
	return n
}

// report logs, per kind, the messages accepted and the deliveries
// expected, made, duplicated and lost, and fails the test on any loss,
// duplicate, or delivery of a message the gateway never accepted.
func (c *chatTally) report(t *testing.T, what string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, kind := range []string{kindDirect, kindRoom} {
		var sent, want, delivered, dup int
		var lost, doubled []string
		for _, b := range c.order {
			if c.kind[b] != kind {
				continue
			}
			sent++
			for _, r := range c.to[b] {
				want++
				switch n := c.got[b+"\x00"+r]; {
				case n == 0:
					lost = append(lost, b+"→"+r+" ("+c.phase[b]+")")
				case n > 1:
					dup += n - 1
					doubled = append(doubled, fmt.Sprintf("%s→%s ×%d", b, r, n))
					fallthrough
				default:
					delivered++
				}
			}
		}
		var phases []string
		for _, p := range []string{"before", "during", "after"} {
			phases = append(phases, fmt.Sprintf("%s %d", p, c.phaseSent[p+" "+kind]))
		}
		extra := ""
		if kind == kindRoom {
			echoed := 0
			for _, b := range c.order {
				if c.kind[b] == kindRoom && c.echoes[b] > 0 {
					echoed++
				}
			}
			extra = fmt.Sprintf("; reflected back to the sender %d of %d", echoed, sent)
		}
		t.Logf("%s, %s: sent %d (accepted %s; %d accepted after refusals, attempts refused with 502/503/504 %d, most attempts for one message %d), "+
			"deliveries expected %d, delivered %d, duplicated %d, lost %d%s",
			what, kind, sent, strings.Join(phases, ", "), c.retried[kind], c.refused[kind], c.maxTries[kind], want, delivered, dup, len(lost), extra)
		if len(lost) > 0 {
			t.Errorf("%s, %s: lost %d: %s", what, kind, len(lost), firstFew(lost))
		}
		if dup > 0 {
			t.Errorf("%s, %s: duplicated %d: %s", what, kind, dup, firstFew(doubled))
		}
	}
	var unknown []string
	for k := range c.got {
		b, _, _ := strings.Cut(k, "\x00")
		if _, ok := c.kind[b]; !ok {
			unknown = append(unknown, b)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		t.Errorf("%s: delivered but never accepted: %s", what, firstFew(unknown))
	}
}

func firstFew(s []string) string {
	if len(s) > 10 {
		return strings.Join(s[:10], ", ") + fmt.Sprintf(" … (%d more)", len(s)-10)
	}
	return strings.Join(s, ", ")
}

// readChat reads user's stream into tl until stop is closed: chat
// messages from others, and room messages (from is room/nick, the nick
// being the sender's name). It returns when the stream ends; ended says
// whether that happened before stop.
func readChat(s *gatewaytest.Stream, user string, tl *chatTally, stop <-chan struct{}, ended *atomic.Int32) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		ev, err := s.TryNext(100 * time.Millisecond)
		if err != nil {
			if strings.Contains(err.Error(), "no event within") {
				continue
			}
			select {
			case <-stop:
			default:
				ended.Add(1)
			}
			return
		}
		switch ev.Name {
		case chatapi.EventChat:
			var c chatapi.Chat
			if json.Unmarshal([]byte(ev.Data), &c) != nil || c.Body == "" || c.Sent || c.Type == chatapi.TypeChatState {
				continue
			}
			tl.deliver(c.Body, user)
		case chatapi.EventMUC:
			var m chatapi.GroupChat
			if json.Unmarshal([]byte(ev.Data), &m) != nil || m.Type != chatapi.TypeGroupchat || m.Body == "" {
				continue
			}
			if _, nick, _ := strings.Cut(m.From, "/"); nick == user {
				tl.echo(m.Body)
				continue
			}
			tl.deliver(m.Body, user)
		}
	}
}

// retryable reports whether a client retries a request that got status:
// the XMPP server or the gateway is unavailable for now.
func retryable(status int) bool {
	return status == 502 || status == 503 || status == 504
}

// TestIntegrationFaultEjabberdKilled: a private ejabberd is killed
// (SIGKILL) and restarted while 20 users chat in pairs and in one room.
// Every user sends throughout; a send answered 502/503/504 was not
// accepted and is retried as a client would, with backoff, until
// accepted. Every accepted message must reach each of its receivers'
// streams exactly once: one-to-one messages the partner, room messages
// every other member.
func TestIntegrationFaultEjabberdKilled(t *testing.T) {
	srv := ejabberdtest.Start(t)
	e := newGateway(t, func(c *gateway.Config) {
		c.XMPP.Addr = srv.C2SAddr()
		c.Directory = ejabberdtest.AdminFor(srv)
		// A client of a restarted server comes back within a second.
		c.Sessions.ReconnectMin = 100 * time.Millisecond
		c.Sessions.ReconnectMax = time.Second
		c.Metrics = true
	})
	const users = 20
	metric := func(name string) float64 {
		t.Helper()
		r := e.Do(t, "GET", gateway.MetricsPath, "", "", "")
		if r.Status != 200 {
			t.Fatalf("GET /metrics: %d", r.Status)
		}
		return sample(t, string(r.Body), name)
	}
	lost := func() float64 {
		t.Helper()
		n := 0.0
		for _, reason := range []string{"ping-timeout", "closed-by-server", "connection-lost", "conflict", "stream-error"} {
			n += metric(`sparkgate_xmpp_connections_lost_total{reason="` + reason + `"}`)
		}
		return n
	}
	type member struct {
		ejabberdtest.User
		token  string
		stream *gatewaytest.Stream
	}
	ms := make([]member, users)
	for i := range ms {
		ms[i].User = ejabberdtest.NewUserOn(t, srv)
		ms[i].token = e.Login(t, ms[i].Name, ms[i].Password)
		ms[i].stream = e.OpenConnected(t, ms[i].token, "")
	}
	room := "fault" + strings.ToLower(ms[0].Name[1:9])
	rp := api + "/groupchat/room/" + room
	for i, m := range ms {
		if r := e.Do(t, "PUT", rp+"?nick="+url.QueryEscape(m.Name), m.token, "", ""); r.Status != 200 {
			t.Fatalf("join %d: %d %s", i, r.Status, r.Body)
		}
	}

	tl := newChatTally()
	stop := make(chan struct{})
	var readers sync.WaitGroup
	var ended atomic.Int32
	for _, m := range ms {
		readers.Go(func() { readChat(m.stream, m.Name, tl, stop, &ended) })
	}
	stopReaders := sync.OnceFunc(func() { close(stop); readers.Wait() })
	t.Cleanup(stopReaders)

	// The conversation: in every round each user sends one message to its
	// partner, and a third of them one to the room.
	const (
		rounds      = 12
		roundsAhead = 4 // rounds every user has sent before the kill
		interval    = 100 * time.Millisecond
	)
	var phase atomic.Value
	phase.Store("before")
	var progress [users]atomic.Int32
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	errs := make(chan error, users)
	var senders sync.WaitGroup
	for i := range ms {
		senders.Go(func() {
			me := ms[i]
			partner := ms[i^1].Name
			var others []string
			for j, o := range ms {
				if j != i {
					others = append(others, o.Name)
				}
			}
			send := func(kind, path, body string, to []string) error {
				backoff := 100 * time.Millisecond
				for tries := 1; ; tries++ {
					r, err := e.DoContext(ctx, "POST", path, me.token, "text/plain", body)
					if err != nil {
						return fmt.Errorf("%s: %w", body, err)
					}
					if r.Status == 200 {
						tl.accepted(phase.Load().(string), kind, body, to, tries)
						return nil
					}
					if !retryable(r.Status) {
						return fmt.Errorf("%s: %d %s", body, r.Status, r.Body)
					}
					tl.refusal(kind)
					select {
					case <-ctx.Done():
						return fmt.Errorf("%s: still refused after %d attempts: %d %s", body, tries, r.Status, r.Body)
					case <-time.After(backoff):
					}
					backoff = min(2*backoff, time.Second)
				}
			}
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for round := range rounds {
				// Half the users post to the room first, so that some room
				// messages meet the outage too.
				msgs := [][3]string{{kindDirect, api + "/chat/message/" + partner, fmt.Sprintf("d-%d-%d", i, round)}}
				if (i+round)%3 == 0 {
					r := [3]string{kindRoom, rp, fmt.Sprintf("r-%d-%d", i, round)}
					if i%2 == 0 {
						msgs = append(msgs, r)
					} else {
						msgs = append([][3]string{r}, msgs...)
					}
				}
				for _, m := range msgs {
					to := []string{partner}
					if m[0] == kindRoom {
						to = others
					}
					if err := send(m[0], m[1], m[2], to); err != nil {
						errs <- err
						return
					}
				}
				progress[i].Add(1)
				select {
				case <-tick.C:
				case <-ctx.Done():
					return
				}
			}
		})
	}

	// Kill once every user has sent its first rounds, keep the server down
	// for a while, restart it on the same data.
	for i := range ms {
		for progress[i].Load() < roundsAhead && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
	began := time.Now()
	phase.Store("during") // from the kill until the restarted server answers
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	// The outage, a second: senders are refused meanwhile, and every
	// session waits to reconnect.
	outage := time.Now().Add(time.Second)
	reconnecting := 0.0
	for time.Now().Before(outage) {
		if reconnecting = metric("sparkgate_xmpp_sessions_reconnecting"); reconnecting == users {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if reconnecting != users {
		t.Errorf("sparkgate_xmpp_sessions_reconnecting = %v with ejabberd down, want %d", reconnecting, users)
	}
	time.Sleep(time.Until(outage))
	rctx, rcancel := context.WithTimeout(t.Context(), 90*time.Second)
	err := srv.Restart(rctx)
	rcancel()
	if err != nil {
		t.Fatal(err)
	}
	phase.Store("after")
	restarted := time.Now()
	t.Logf("ejabberd down for %v", time.Since(began).Round(time.Millisecond))

	senders.Wait()
	close(errs)
	for err := range errs {
		t.Error("send:", err)
	}
	// Wait for every delivery, then a little more for duplicates.
	sentAll := time.Now()
	deadline := sentAll.Add(30 * time.Second)
	for tl.missing() > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("senders done %v after the restart; last delivery %v after that",
		sentAll.Sub(restarted).Round(time.Millisecond), time.Since(sentAll).Round(time.Millisecond))
	time.Sleep(time.Second)
	stopReaders()
	if n := ended.Load(); n > 0 {
		t.Errorf("%d streams ended during the test", n)
	}
	tl.report(t, fmt.Sprintf("ejabberd killed and restarted, %d users", users))
	if n := lost(); n < users {
		t.Errorf("sparkgate_xmpp_connections_lost_total = %v after ejabberd was killed, want at least %d", n, users)
	}
	if n := metric("sparkgate_xmpp_sessions_reconnecting"); n != 0 {
		t.Errorf("sparkgate_xmpp_sessions_reconnecting = %v after the restart, want 0", n)
	}
}
