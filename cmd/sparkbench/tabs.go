package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sparkgate/sparkgate/sse/ssetest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// Tabs is the SSE fan-out of one user's messages to many open streams
// (tabs), against ejabberd's fan-out of the same messages to as many
// resources of one user. Messages are headlines: RFC 6121 delivers a
// headline to the bare JID to every available resource, and MAM does not
// archive headlines, so ejabberd's SQL archive stays out of the figure.
type Tabs struct {
	Streams int     `json:"streams"`
	Posts   int     `json:"posts"`
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
	Max     float64 `json:"max_ms"`
	// SameP50 and SameP99 are the gateway's with as many tabs as the
	// direct side has resources (SameN); the ratios compare those.
	SameN     int     `json:"same_n"`
	SameP50   float64 `json:"same_n_p50_ms"`
	SameP99   float64 `json:"same_n_p99_ms"`
	DirectN   int     `json:"direct_resources"`
	DirectP50 float64 `json:"direct_p50_ms"`
	DirectP99 float64 `json:"direct_p99_ms"`
	P50Ratio  float64 `json:"p50_ratio"`
	P99Ratio  float64 `json:"p99_ratio"`
	// EventsPerSec is delivered events per second with RateStreams tabs
	// open and the sender keeping RateWindow messages in flight.
	RateStreams  int     `json:"rate_streams"`
	RateWindow   int     `json:"rate_window"`
	EventsPerSec float64 `json:"events_per_s"`
	DirectPerSec float64 `json:"direct_events_per_s"`
	RateRatio    float64 `json:"rate_ratio"`
	// WrittenPerSec is every event the gateway wrote to the rate's streams
	// per second (its metrics): with raw events on, each headline is two
	// events, its raw XML and its chatapi.chat, where EventsPerSec counts
	// one.
	WrittenPerSec float64 `json:"written_events_per_s,omitempty"`
	// RestP50 and RestP99 are the time from a REST post of the user (POST
	// /chat/message) to the last of Streams tabs receiving the gateway's
	// echo of it: an HTTP request with a JWT published into the hub, as a
	// Mercure publish is; no XMPP round trip comes before the hub.
	RestP50 float64 `json:"rest_post_p50_ms,omitempty"`
	RestP99 float64 `json:"rest_post_p99_ms,omitempty"`
	RestMax float64 `json:"rest_post_max_ms,omitempty"`
	Note    string  `json:"note,omitempty"`
}

// tabBody returns the body of a chatapi.chat event, the headline of the
// end-to-end runs or the echo of a REST post, without a JSON decoder: the
// readers share the cores with the gateway they measure, and the bench
// writes the bodies itself ("tab <n>", no escapes).
func tabBody(ev ssetest.Event) (string, bool) {
	if ev.Name != "chatapi.chat" {
		return "", false
	}
	return jsonField(ev.Data, "body")
}

func headline(to, body string) []byte {
	var b strings.Builder
	b.WriteString("<message type='headline' to='")
	b.WriteString(to)
	b.WriteString("'><body>")
	b.WriteString(body)
	b.WriteString("</body></message>")
	return []byte(b.String())
}

// tabReceiver counts one receiver's first arrivals of each post.
type tabReceiver struct {
	seen map[int]bool // touched only by the receiver's goroutine
}

// tabTally is what all receivers of one run saw.
type tabTally struct {
	results  []fanoutPost
	offset   int // post number of results[0]
	dups     atomic.Int64
	events   atomic.Int64 // every first arrival
	inWindow atomic.Int64 // first arrivals during the rate window
	windowOn atomic.Bool
}

func (t *tabTally) record(r *tabReceiver, body string, at time.Time) {
	rest, ok := strings.CutPrefix(body, "tab ")
	if !ok {
		return
	}
	p, err := strconv.Atoi(rest)
	if err != nil || p < 0 {
		return
	}
	if r.seen[p] {
		t.dups.Add(1)
		return
	}
	r.seen[p] = true
	t.events.Add(1)
	if t.windowOn.Load() {
		t.inWindow.Add(1)
	}
	if p < t.offset || p >= t.offset+len(t.results) {
		return
	}
	res := &t.results[p-t.offset]
	res.got.Add(1)
	ns := at.UnixNano()
	for {
		old := res.last.Load()
		if ns <= old || res.last.CompareAndSwap(old, ns) {
			return
		}
	}
}

// tabs measures the gateway's SSE fan-out to many tabs of one user, and
// ejabberd's to as many resources, both fed by one direct sender.
func (b *bench) tabs(ctx context.Context) error {
	t := &b.res.Tabs
	streams, posts := b.opt.tabs, b.opt.posts
	// Every resource's presence reaches the user's other resources, so n
	// resources cost ejabberd n² presence stanzas before the first post:
	// the direct side (and the gateway's figure it is compared with) stop
	// at 200.
	direct := min(streams, 200)
	sender, user, dUser := b.user("tab-send"), b.user("tab-user"), b.user("tab-direct")
	for _, u := range []string{sender, user, dUser} {
		if err := b.admin.Register(ctx, u, b.password); err != nil {
			return err
		}
	}
	snd, err := dialDirect(ctx, b.c2s, b.domain, sender, b.password)
	if err != nil {
		return err
	}
	drained := make(chan struct{})
	go func() { // the REST posts' messages arrive here
		defer close(drained)
		for range snd.In() {
		}
	}()
	defer func() { closeDirect(snd); <-drained }()

	// The gateway: one session, many streams.
	gw := &tabTally{results: make([]fanoutPost, posts)}
	tok, err := b.api.login(ctx, b.clients.forLogin(), user, b.password)
	if err != nil {
		return err
	}
	sts := make([]*stream, streams)
	closeStreams := func(from int) {
		var wg sync.WaitGroup
		for i := from; i < len(sts); i++ {
			if sts[i] != nil {
				wg.Go(sts[i].close)
				sts[i] = nil
			}
		}
		wg.Wait()
	}
	defer closeStreams(0)
	var closes closeCounts
	b.log.Info("tabs: opening streams", "streams", streams)
	if err := forEach(ctx, streams, b.opt.workers, func(ctx context.Context, i int) error {
		r := &tabReceiver{seen: map[int]bool{}}
		s, err := b.api.openResuming(ctx, b.clients.forUser(i), tok, &closes, func(ev ssetest.Event, at time.Time) {
			if body, ok := tabBody(ev); ok {
				gw.record(r, body, at)
			}
		})
		sts[i] = s
		return err
	}); err != nil {
		return fmt.Errorf("streams: %w", err)
	}
	to := user + "@" + b.domain
	send := func(p int) error { return snd.SendRaw(ctx, headline(to, "tab "+strconv.Itoa(p))) }
	times, lost := measurePosts(ctx, gw.results, streams, &gw.events, send)
	b.res.addLost("tabs-gateway", lost, int(gw.dups.Load()))
	d := dist(times, time.Millisecond)
	t.Streams, t.Posts, t.P50, t.P99, t.Max = streams, posts, d.P50, d.P99, d.Max

	// The user's own REST posts: the gateway echoes each to the user's
	// tabs straight into the hub (and sends it to the sender's account).
	gw.results, gw.offset = make([]fanoutPost, posts), posts
	hc := b.clients.forLogin()
	times, lost = measurePosts(ctx, gw.results, streams, &gw.events, func(p int) error {
		return b.api.post(ctx, hc, tok, sender+"@"+b.domain, "tab "+strconv.Itoa(posts+p))
	})
	b.res.addLost("tabs-gateway-rest", lost, 0)
	d = dist(times, time.Millisecond)
	t.RestP50, t.RestP99, t.RestMax = d.P50, d.P99, d.Max

	// The same with as many tabs as the direct side has resources.
	if direct < streams {
		closeStreams(direct)
		gw.results, gw.offset = make([]fanoutPost, posts), 2*posts
		times, lost = measurePosts(ctx, gw.results, direct, &gw.events, func(p int) error { return send(2*posts + p) })
		b.res.addLost("tabs-gateway", lost, 0)
		d = dist(times, time.Millisecond)
	}
	t.SameN, t.SameP50, t.SameP99 = direct, d.P50, d.P99

	// Delivered events per second with fewer tabs open.
	rateStreams := min(100, streams)
	closeStreams(rateStreams)
	t.RateStreams, t.RateWindow = rateStreams, 64
	written0, _ := b.eventsWritten(ctx)
	rateStart := time.Now()
	t.EventsPerSec = b.tabRate(ctx, gw, rateStreams, 3*posts, func(p int) error {
		return snd.SendRaw(ctx, headline(to, "tab "+strconv.Itoa(p)))
	})
	if written1, err := b.eventsWritten(ctx); err == nil && written0 > 0 {
		// Over the sending window and the wait for the last events: a
		// little under the rate within the window.
		t.WrittenPerSec = round((written1-written0)/time.Since(rateStart).Seconds(), 0)
	}
	closeStreams(0)
	t.Note = "end to end = a direct XMPP client sends a headline: ejabberd, the user's XMPP session in the gateway, translation (raw XML and chatapi.chat), the hub, each tab's stream; rest = the user's REST post (JWT, echo published into the hub) to the last tab, like a Mercure publish; tabs' streams: " + closes.String()

	// ejabberd alone: as many resources of one user.
	dt := &tabTally{results: make([]fanoutPost, posts)}
	conns := make([]*xmppconn.Conn, direct)
	var readers sync.WaitGroup
	var stanzas, dropped atomic.Int64
	var measuring atomic.Bool
	measuring.Store(true)
	defer func() {
		_ = forEach(context.Background(), direct, 64, func(_ context.Context, i int) error {
			if conns[i] != nil {
				closeDirect(conns[i])
			}
			return nil
		})
		readers.Wait()
	}()
	b.log.Info("tabs: dialling resources", "resources", direct)
	if err := forEach(ctx, direct, b.opt.workers, func(ctx context.Context, i int) error {
		c, err := dialDirect(ctx, b.c2s, b.domain, dUser, b.password)
		if err != nil {
			return err
		}
		conns[i] = c
		r := &tabReceiver{seen: map[int]bool{}}
		readers.Go(func() {
			for st := range c.In() {
				stanzas.Add(1)
				if st.Name == "message" && st.Type == "headline" && st.Message != nil {
					dt.record(r, st.Message.Body, time.Now())
				}
			}
			if measuring.Load() { // not closed by the bench
				if dropped.Add(1) == 1 {
					b.log.Warn("tabs: ejabberd ended a resource's stream", "err", c.Err())
				}
			}
		})
		return nil
	}); err != nil {
		return fmt.Errorf("resources: %w", err)
	}
	// Each new resource's presence reaches the others: let that settle.
	quiet(ctx, &stanzas, time.Second, time.Minute)
	dto := dUser + "@" + b.domain
	// A resource ejabberd drops (it did: about half of them once, in a
	// full run) would hold every post for the 10 s limit: 17 minutes.
	live := func() int { return direct - int(dropped.Load()) }
	times, lost, _ = measurePostsTo(ctx, dt.results, live, &dt.events, nil, func(p int) error {
		return snd.SendRaw(ctx, headline(dto, "tab "+strconv.Itoa(p)))
	})
	measuring.Store(false)
	if n := dropped.Load(); n > 0 {
		t.Note += fmt.Sprintf("; direct: ejabberd ended %d of the %d resources' streams, the posts waited for the others", n, direct)
	}
	b.res.addLost("tabs-direct", lost, int(dt.dups.Load()))
	d = dist(times, time.Millisecond)
	t.DirectN, t.DirectP50, t.DirectP99 = direct, d.P50, d.P99
	t.P50Ratio, t.P99Ratio = ratio(t.SameP50, t.DirectP50), ratio(t.SameP99, t.DirectP99)

	// Keep rateStreams resources for the rate, like the gateway side.
	_ = forEach(ctx, direct-rateStreams, 64, func(_ context.Context, k int) error {
		closeDirect(conns[rateStreams+k])
		conns[rateStreams+k] = nil
		return nil
	})
	t.DirectPerSec = b.tabRate(ctx, dt, rateStreams, posts, func(p int) error {
		return snd.SendRaw(ctx, headline(dto, "tab "+strconv.Itoa(p)))
	})
	t.RateRatio = ratio(t.EventsPerSec, t.DirectPerSec)
	return nil
}

// eventsWritten reads the gateway's count of events written to streams.
func (b *bench) eventsWritten(ctx context.Context) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.api.base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, "sparkgate_stream_events_total "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, errors.New("metrics: no sparkgate_stream_events_total")
}

// tabRate sends numbered posts from first on for the throughput duration
// (at most 5 s), keeping a window of messages the first receiver has not
// yet seen, and returns the first arrivals per second over all receivers.
func (b *bench) tabRate(ctx context.Context, tl *tabTally, receivers, first int, send func(p int) error) float64 {
	window := 64
	d := min(b.opt.duration, 5*time.Second)
	// The window is kept by the total of arrivals: receivers events per post.
	base := tl.events.Load()
	tl.inWindow.Store(0)
	tl.windowOn.Store(true)
	start := time.Now()
	deadline := start.Add(d)
	sent := 0
	for time.Now().Before(deadline) && ctx.Err() == nil {
		delivered := int((tl.events.Load() - base) / int64(receivers))
		if sent-delivered >= window {
			time.Sleep(100 * time.Microsecond)
			continue
		}
		if err := send(first + sent); err != nil {
			break
		}
		sent++
	}
	tl.windowOn.Store(false)
	elapsed := time.Since(start)
	// Let the rest arrive so that it is not counted in the next run.
	end := time.Now().Add(10 * time.Second)
	for tl.events.Load()-base < int64(sent*receivers) && time.Now().Before(end) {
		time.Sleep(10 * time.Millisecond)
	}
	if missing := int64(sent*receivers) - (tl.events.Load() - base); missing > 0 {
		b.res.addLost("tabs-rate", int(missing), 0)
	}
	if sent == 0 {
		return 0
	}
	return round(float64(tl.inWindow.Load())/elapsed.Seconds(), 0)
}
