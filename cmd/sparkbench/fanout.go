package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sparkgate/sparkgate/sse/ssetest"
)

// errRoomsMissing says the gateway does not implement the rooms API yet.
var errRoomsMissing = errors.New("rooms API not landed")

// roomBody returns the body of a live chatapi.muc groupchat event (not
// one from the room's history, which has a stamp), without a JSON decoder:
// the members' readers share the cores with the gateway they measure, and
// the bench writes the bodies itself ("fo <n>", no escapes).
func roomBody(ev ssetest.Event) (string, bool) {
	if ev.Name != "chatapi.muc" || !strings.Contains(ev.Data, `"type":"groupchat"`) || strings.Contains(ev.Data, `"stamp":"`) {
		return "", false
	}
	return jsonField(ev.Data, "body")
}

// jsonField returns the value of the string field name in the JSON object
// data when it needs no unescaping, as the bench's bodies do not.
func jsonField(data, name string) (string, bool) {
	key := `"` + name + `":"`
	i := strings.Index(data, key)
	if i < 0 {
		return "", false
	}
	rest := data[i+len(key):]
	j := strings.IndexAny(rest, `"\`)
	if j < 0 || rest[j] != '"' {
		return "", false
	}
	return rest[:j], true
}

// fanoutPost is what the members saw of one post.
type fanoutPost struct {
	got  atomic.Int64
	last atomic.Int64 // unix nanoseconds of the latest first arrival
}

// fanout measures the time from a room post to the last member's event:
// one room, every member with its own stream, posts one at a time.
func (b *bench) fanout(ctx context.Context) error {
	f := &b.res.FanoutMS
	m, posts := b.opt.members, b.opt.posts
	f.Members, f.Posts = m, posts
	names := make([]string, m+1) // names[0] posts, the others hold streams
	for i := range names {
		names[i] = b.user(fmt.Sprintf("fo%d", i))
	}
	room := strings.ToLower(strings.TrimSuffix(b.prefix, "-")) + "fanout"
	tokens := make([]string, len(names))
	// The poster first: its join says whether the rooms API exists.
	if err := b.admin.Register(ctx, names[0], b.password); err != nil {
		return err
	}
	tok, err := b.api.login(ctx, b.clients.forLogin(), names[0], b.password)
	if err != nil {
		return err
	}
	tokens[0] = tok
	if err := b.join(ctx, 0, tok, room, names[0]); err != nil {
		if errors.Is(err, errRoomsMissing) {
			f.NotMeasured = "rooms API not landed (PUT /groupchat/room/{roomName} answers 501)"
			f.Members, f.Posts = 0, 0
			return nil
		}
		return fmt.Errorf("poster join: %w", err)
	}

	if err := forEach(ctx, m, 8, func(ctx context.Context, k int) error {
		return b.admin.Register(ctx, names[k+1], b.password)
	}); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if err := forEach(ctx, m, b.opt.workers, func(ctx context.Context, k int) error {
		tok, err := b.api.login(ctx, b.clients.forLogin(), names[k+1], b.password)
		tokens[k+1] = tok
		return err
	}); err != nil {
		return fmt.Errorf("logins: %w", err)
	}

	results := make([]fanoutPost, posts)
	var (
		dups    atomic.Int64
		events  atomic.Int64
		streams = make([]*stream, m)
		closes  closeCounts
	)
	defer func() {
		var wg sync.WaitGroup
		for _, s := range streams {
			if s != nil {
				wg.Go(s.close)
			}
		}
		wg.Wait()
	}()
	b.log.Info("fan-out: opening streams", "members", m)
	if err := forEach(ctx, m, b.opt.workers, func(ctx context.Context, k int) error {
		seen := map[int]bool{} // touched only by this stream's reader
		s, err := b.api.openResuming(ctx, b.clients.forUser(k+1), tokens[k+1], &closes, func(ev ssetest.Event, at time.Time) {
			events.Add(1)
			if body, ok := roomBody(ev); ok {
				record(results, seen, &dups, body, at)
			}
		})
		streams[k] = s
		return err
	}); err != nil {
		return fmt.Errorf("streams: %w", err)
	}

	b.log.Info("fan-out: joining", "members", m, "room", room)
	joinStart := time.Now()
	var joined atomic.Int64
	var joinErr atomic.Value
	_ = forEach(ctx, m, b.opt.workers, func(ctx context.Context, k int) error {
		if err := b.join(ctx, k+1, tokens[k+1], room, names[k+1]); err != nil {
			joinErr.CompareAndSwap(nil, err.Error())
			return nil
		}
		joined.Add(1)
		return nil
	})
	if int(joined.Load()) < m {
		f.Note = fmt.Sprintf("%d of %d members joined through the gateway; first refusal: %v (ejabberd's mod_muc max_users is 200 unless its config raises it)", joined.Load(), m, joinErr.Load())
	}
	members := int(joined.Load())
	f.Members = members
	if members == 0 {
		return errors.New("no member joined")
	}
	joinTime := time.Since(joinStart)
	// Let the join presences (members squared of them) drain.
	quiet(ctx, &events, time.Second, 2*time.Minute)
	drained := time.Since(joinStart)
	b.log.Info("fan-out: joined", "members", members, "join", joinTime.Round(time.Millisecond), "drained", drained.Round(time.Millisecond), "events", events.Load(), "closes", closes.String())

	hc := b.clients.forUser(0)
	times, lost, cpu := measurePostsTo(ctx, results, func() int { return members }, &events, b.meterPosts(), func(p int) error {
		return b.api.do(ctx, hc, http.MethodPost, "/sparkweb/api/rest/groupchat/room/"+url.PathEscape(room), tokens[0], "text/plain", "fo "+strconv.Itoa(p))
	})
	f.CPU = cpu
	b.res.addLost("fanout", lost, int(dups.Load()))
	d := dist(times, time.Millisecond)
	f.P50, f.P99, f.Max = d.P50, d.P99, d.Max
	f.Note = strings.TrimPrefix(f.Note+"; ", "; ") + fmt.Sprintf("%d joins (%d at a time) took %.1f s, their presences drained after %.1f s; members' streams: %s (they resume like the web client)",
		members, b.opt.workers, joinTime.Seconds(), drained.Seconds(), closes.String())
	for i := range streams { // the direct run below holds as many connections
		if streams[i] != nil {
			streams[i].close()
			streams[i] = nil
		}
	}
	if err := b.fanoutDirect(ctx, members); err != nil {
		return fmt.Errorf("direct: %w", err)
	}
	f.P50Ratio, f.P99Ratio = ratio(f.P50, f.DirectP50), ratio(f.P99, f.DirectP99)
	return nil
}

// measurePosts sends posts one at a time with send, each once every
// member has it or after 10 s, and returns the time from each post to its
// last member, and how many member deliveries never came.
func measurePosts(ctx context.Context, results []fanoutPost, members int, events *atomic.Int64, send func(p int) error) ([]time.Duration, int) {
	times, lost, _ := measurePostsTo(ctx, results, func() int { return members }, events, nil, send)
	return times, lost
}

// measurePostsTo is measurePosts for members that can leave: members()
// is how many are still there. A post waits for them only, and is
// measured when they all have it; what the leavers missed is not counted
// as lost (the caller reports them). With a meter, it also returns the
// CPU per post each process used from before the first post until the
// last one was in (or given up), before the quiet wait.
func measurePostsTo(ctx context.Context, results []fanoutPost, members func() int, events *atomic.Int64, meter *cpuMeter, send func(p int) error) ([]time.Duration, int, *RoomCPU) {
	var times []time.Duration
	sent := 0
	for p := range results {
		t0 := time.Now()
		if err := send(p); err != nil {
			break
		}
		sent++
		deadline := time.Now().Add(10 * time.Second)
		for results[p].got.Load() < int64(members()) && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(200 * time.Microsecond)
		}
		if results[p].got.Load() >= int64(members()) {
			times = append(times, time.Unix(0, results[p].last.Load()).Sub(t0))
		}
	}
	cpu := meter.perPost(sent)
	quiet(ctx, events, 500*time.Millisecond, 10*time.Second)
	// Late arrivals of posts given up on are not lost after all.
	lost := 0
	for p := range results {
		lost += max(members()-int(results[p].got.Load()), 0)
	}
	return times, lost, cpu
}

// record notes member's first arrival of post p at at; seen belongs to
// the member's reader.
func record(results []fanoutPost, seen map[int]bool, dups *atomic.Int64, body string, at time.Time) {
	rest, ok := strings.CutPrefix(body, "fo ")
	if !ok {
		return
	}
	p, err := strconv.Atoi(rest)
	if err != nil || p < 0 || p >= len(results) {
		return
	}
	if seen[p] {
		dups.Add(1)
		return
	}
	seen[p] = true
	results[p].got.Add(1)
	ns := at.UnixNano()
	for {
		old := results[p].last.Load()
		if ns <= old || results[p].last.CompareAndSwap(old, ns) {
			return
		}
	}
}

// fanoutDirect is the same room fan-out between direct clients: members
// xmppconn streams in another room, a direct client posting.
func (b *bench) fanoutDirect(ctx context.Context, members int) error {
	f := &b.res.FanoutMS
	names := make([]string, members+1)
	for i := range names {
		names[i] = b.user(fmt.Sprintf("fd%d", i))
	}
	room := strings.ToLower(strings.TrimSuffix(b.prefix, "-")) + "fanoutd@" + "conference." + b.domain
	if err := forEach(ctx, len(names), 8, func(ctx context.Context, i int) error {
		return b.admin.Register(ctx, names[i], b.password)
	}); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	results := make([]fanoutPost, b.opt.posts)
	var dups, events atomic.Int64
	ms, err := b.dialMembers(ctx, names, room, &events, recordButPoster(results, len(names), &dups))
	defer closeMembers(ms)
	if err != nil {
		return err
	}
	join := func(ctx context.Context, i int) error { return ms[i].join(ctx, room, names[i]) }
	if err := join(ctx, 0); err != nil {
		return fmt.Errorf("poster join: %w", err)
	}
	if err := ms[0].instantRoom(ctx, room); err != nil {
		return fmt.Errorf("instant room: %w", err)
	}
	var joined atomic.Int64
	joinStart := time.Now()
	_ = forEach(ctx, members, b.opt.workers, func(ctx context.Context, k int) error {
		if join(ctx, k+1) == nil {
			joined.Add(1)
		}
		return nil
	})
	f.Note += fmt.Sprintf("; direct: %d joins took %.1f s", joined.Load(), time.Since(joinStart).Seconds())
	f.DirectMembers = int(joined.Load())
	if f.DirectMembers == 0 {
		return errors.New("no member joined")
	}
	quiet(ctx, &events, time.Second, 2*time.Minute)
	direct := f.DirectMembers
	times, lost, cpu := measurePostsTo(ctx, results, func() int { return direct }, &events, b.meterPosts(), func(p int) error {
		return ms[0].c.SendRaw(ctx, []byte("<message type='groupchat' to='"+room+"'><body>fo "+strconv.Itoa(p)+"</body></message>"))
	})
	f.DirectCPU = cpu // the gateway's: what its idle sessions cost meanwhile
	b.res.addLost("fanout-direct", lost, int(dups.Load()))
	d := dist(times, time.Millisecond)
	f.DirectP50, f.DirectP99, f.DirectMax = d.P50, d.P99, d.Max
	return nil
}

// join puts user i in room through the gateway.
func (b *bench) join(ctx context.Context, i int, token, room, nick string) error {
	err := b.api.do(ctx, b.clients.forUser(i), http.MethodPut, "/sparkweb/api/rest/groupchat/room/"+url.PathEscape(room)+"?nick="+url.QueryEscape(nick), token, "", "")
	if err != nil && strings.Contains(err.Error(), ": 501 ") {
		return errRoomsMissing
	}
	return err
}

// closeCounts counts the close events streams got, by reason, and the
// resumes that followed.
type closeCounts struct {
	mu      sync.Mutex
	reasons map[string]int
	resumes int
}

func (c *closeCounts) add(reason string, resumed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reasons == nil {
		c.reasons = map[string]int{}
	}
	c.reasons[reason]++
	if resumed {
		c.resumes++
	}
}

// String says what happened, e.g. "2 closed (slow 2), 2 resumed".
func (c *closeCounts) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(c.reasons)) {
		n += c.reasons[r]
		parts = append(parts, r+" "+strconv.Itoa(c.reasons[r]))
	}
	if n == 0 {
		return "no stream closed by the gateway"
	}
	return fmt.Sprintf("%d closed by the gateway (%s), %d resumed with Last-Event-ID", n, strings.Join(parts, ", "), c.resumes)
}

// resumeDelay is how long the web client waits before it reopens a stream
// the gateway ended with resume true (web/static/events.js).
const resumeDelay = 300 * time.Millisecond

// openResuming opens the token's event stream like api.open, and keeps it
// open the way a browser tab does: when the gateway ends it with
// chatapi.close {resume: true} it reopens after resumeDelay, and when the
// connection drops it reopens after the stream's retry time (EventSource),
// each time with the Last-Event-ID it saw, so that no event is lost. on
// gets every event but the close events, which go to closes. It reads the
// response body directly (no second buffer), so that the benchmark's
// readers cost little next to the gateway they share the cores with.
func (a *api) openResuming(ctx context.Context, hc *http.Client, token string, closes *closeCounts, on func(ev ssetest.Event, at time.Time)) (*stream, error) {
	sctx, cancel := context.WithCancel(context.Background())
	connect := func(ctx context.Context, lastID string) (io.ReadCloser, *ssetest.Reader, error) {
		req, err := http.NewRequestWithContext(sctx, http.MethodGet, a.base+"/sparkweb/api/sse?token="+url.QueryEscape(token), nil)
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("Accept", "text/event-stream")
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		stop := context.AfterFunc(ctx, cancel) // give up the open with ctx
		defer stop()
		resp, err := hc.Do(req)
		if err != nil {
			return nil, nil, err
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			return nil, nil, fmt.Errorf("open stream: %d %s", resp.StatusCode, b)
		}
		rd := ssetest.NewReader(resp.Body)
		if ev, err := rd.Next(); err != nil || ev.Name != "onConnect" {
			resp.Body.Close()
			return nil, nil, fmt.Errorf("open stream: first event %q, %v", ev.Name, err)
		}
		return resp.Body, rd, nil
	}
	body, rd, err := connect(ctx, "")
	if err != nil {
		cancel()
		return nil, err
	}
	pause := func(d time.Duration) bool {
		select {
		case <-time.After(d):
			return true
		case <-sctx.Done():
			return false
		}
	}
	s := &stream{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		lastID := ""
		for {
			ev, err := rd.Next()
			if err == nil && ev.Name != "chatapi.close" {
				if ev.ID != "" {
					lastID = ev.ID
				}
				on(ev, time.Now())
				continue
			}
			body.Close()
			delay := time.Duration(max(rd.Retry, 0)) * time.Millisecond
			if err == nil { // chatapi.close
				var c struct {
					Reason string `json:"reason"`
					Resume bool   `json:"resume"`
				}
				_ = json.Unmarshal([]byte(ev.Data), &c)
				closes.add(c.Reason, c.Resume)
				if !c.Resume {
					return
				}
				delay = resumeDelay
			}
			// Reopen, a few times at most, until the bench closes the stream.
			for attempt := 0; ; attempt++ {
				if attempt == 10 || !pause(delay) {
					return
				}
				if body, rd, err = connect(sctx, lastID); err == nil {
					break
				}
			}
		}
	}()
	return s, nil
}

// quiet waits until counter has not moved for still, at most limit.
func quiet(ctx context.Context, counter *atomic.Int64, still, limit time.Duration) {
	end := time.Now().Add(limit)
	last, since := counter.Load(), time.Now()
	for time.Now().Before(end) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		if v := counter.Load(); v != last {
			last, since = v, time.Now()
		} else if time.Since(since) >= still {
			return
		}
	}
}
