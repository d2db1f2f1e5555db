package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/sparkgate/sparkgate/sse/ssetest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// The soak scenario: many users chat at a steady rate for a long time,
// then log out. It answers two questions: does the gateway give back what
// the users took (goroutines, open files, memory) once they have gone, and
// does latency stay where it started?
//
// Traffic: each user logs in with a password, holds one event stream, and
// sends one message every -soak-interval (the users' turns spread evenly
// over the interval, so the aggregate rate is steady: users/interval
// posts per second). One in -soak-room-every messages of a user goes to
// the user's room (users are grouped -soak-room-size to a room) instead of
// to a random other user. Latency is from before the POST to the parsed
// SSE event of each receiver, grouped by the minute the message was sent in.
//
// Beside them, -soak-direct pairs of direct XMPP clients (xmppconn streams
// on the same ejabberd, no gateway) each send one message a second: a
// control, so that a latency drift can be told apart from the machine's
// load or ejabberd's own (its archive grows all through the run).

// Soak is the soak scenario's result.
type Soak struct {
	Users     int     `json:"users"`
	DurationS float64 `json:"duration_s"`
	IntervalS float64 `json:"interval_s"`
	RoomSize  int     `json:"room_size"`
	RoomEvery int     `json:"room_every"`
	// DirectPairs is the control's pairs of direct clients.
	DirectPairs int     `json:"direct_pairs"`
	Rate        string  `json:"rate"`
	PostsPerS   float64 `json:"posts_per_s"`
	EventsPerS  float64 `json:"deliveries_per_s"`
	SettleS     float64 `json:"settle_s"`

	Traffic SoakTraffic `json:"traffic"`
	// Samples are the gateway's figures: "baseline" before any login (but
	// after one warm-up user logged in, sent to itself and logged out),
	// "logged-in" once every user holds a stream (and is in its room),
	// "run" about every sample_every_s while chatting, "drained" when
	// the last message has arrived, "logged-out" right after every
	// logout, "settle" while waiting, and "after" at the end.
	SampleEveryS float64      `json:"sample_every_s"`
	Samples      []SoakSample `json:"samples"`
	// Windows are the latencies (ms) of the messages sent in each window
	// (a minute in a full run).
	Windows  []SoakWindow `json:"windows_ms"`
	ChatMs   Dist         `json:"chat_ms"`
	RoomMs   Dist         `json:"room_ms"`
	DirectMs Dist         `json:"direct_ms"`
	// DirectLost and DirectDuplicated count the control's messages.
	DirectLost       int `json:"direct_lost"`
	DirectDuplicated int `json:"direct_duplicated"`
	// P99Drift is the one-to-one p99 of the last window minus that of
	// the first (ms), P99DriftRatio their ratio; DirectP99Drift the same
	// of the control.
	P99Drift       float64     `json:"p99_drift_ms"`
	P99DriftRatio  float64     `json:"p99_drift_ratio"`
	DirectP99Drift float64     `json:"direct_p99_drift_ms"`
	Verdict        SoakVerdict `json:"verdict"`
}

// SoakTraffic counts what was sent and what arrived.
type SoakTraffic struct {
	ChatSent  int `json:"chat_sent"`  // one-to-one messages the gateway accepted (2xx)
	RoomPosts int `json:"room_posts"` // room messages the gateway accepted
	// Expected is ChatSent plus, per room post, the room's other members.
	Expected    int    `json:"expected_deliveries"`
	Delivered   int    `json:"delivered"`
	Duplicated  int    `json:"duplicated"`
	Lost        int    `json:"lost"`
	SendErrors  int    `json:"send_errors"`
	FirstError  string `json:"first_send_error,omitempty"`
	EarlyCloses int    `json:"streams_closed_early"` // chatapi.close before the logouts
	LogoutClose int    `json:"streams_closed_by_logout"`
	// MaxLagMs is how late the scheduler handed out a send at worst
	// (the senders were all busy): a steady rate needs it small.
	MaxLagMs float64 `json:"max_schedule_lag_ms"`
}

// SoakSample is the gateway's state at one moment.
type SoakSample struct {
	Phase      string  `json:"phase"`
	AtS        float64 `json:"at_s"` // since the baseline
	Goroutines int     `json:"goroutines"`
	RSSMiB     float64 `json:"rss_mib"`
	HeapMiB    float64 `json:"heap_inuse_mib"`
	FDs        int     `json:"open_fds"`
	Sessions   int     `json:"sessions"`
	Streams    int     `json:"streams"`
	EjabberdMB float64 `json:"ejabberd_rss_mib,omitempty"`
	// CPUS is the gateway's CPU time so far (seconds), Load1 the
	// machine's one-minute load average.
	CPUS  float64 `json:"gateway_cpu_s"`
	Load1 float64 `json:"load1"`
}

// SoakWindow is the latency of the messages sent in [FromS, ToS) of the
// run.
type SoakWindow struct {
	FromS float64 `json:"from_s"`
	ToS   float64 `json:"to_s"`
	Chat  Dist    `json:"chat"`
	Room  Dist    `json:"room"`
	// Direct is the control: direct clients, no gateway.
	Direct Dist `json:"direct"`
}

// SoakVerdict says whether the run passed, check by check.
type SoakVerdict struct {
	Pass       bool      `json:"pass"`
	Delivery   SoakCheck `json:"delivery"`
	Goroutines SoakCheck `json:"goroutines"`
	FDs        SoakCheck `json:"open_fds"`
	Memory     SoakCheck `json:"memory"`
	Latency    SoakCheck `json:"latency"`
}

// SoakCheck is one check of the verdict.
type SoakCheck struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Tolerances of the verdict.
const (
	soakGoroutineSlack = 10   // goroutines above the baseline after the logouts
	soakFDSlack        = 20   // open files above the baseline after the logouts: the store keeps up to 8 SQLite connections, opened on demand, each with the database and its journal
	soakRSSGrowth      = 1.02 // RSS at the end over RSS right after the logouts
	soakHeapSlackMiB   = 8    // heap in use above the baseline after the logouts
	soakP99Ratio       = 1.5  // last window's p99 over the first's ...
	soakP99SlackMs     = 5.0  // ... plus this much
)

// soakKey names one message: its sender and the sender's sequence number.
type soakKey struct{ from, seq int32 }

// soakMsg is what became of one message.
type soakMsg struct {
	expected int  // deliveries it should have
	got      int  // first arrivals so far
	accepted bool // the gateway answered 2xx
	room     bool
}

// soakRun is the state of one soak run.
type soakRun struct {
	b         *bench
	n         int
	roomSize  int
	names     []string
	tokens    []string
	rooms     []string // room of each user, "" without rooms
	members   []int    // members of each user's room
	streams   []*stream
	start     time.Time // of the chatting
	window    time.Duration
	events    atomic.Int64 // every event of every stream
	dups      atomic.Int64
	early     atomic.Int64 // chatapi.close before the logouts
	byLogout  atomic.Int64
	loggedOut atomic.Bool

	mu      sync.Mutex
	msgs    map[soakKey]*soakMsg
	chatLat [][]time.Duration // per window
	roomLat [][]time.Duration
	dirLat  [][]time.Duration
}

// soak runs the soak scenario.
func (b *bench) soak(ctx context.Context) error {
	o := b.opt
	n := o.soakUsers
	if n < 2 {
		return errors.New("-soak-users must be at least 2")
	}
	roomSize := o.soakRoomSize
	if roomSize < 2 || o.soakRoomEvery <= 0 {
		roomSize = 0
	}
	res := &Soak{
		Users: n, DurationS: o.soakDuration.Seconds(), IntervalS: o.soakInterval.Seconds(),
		RoomSize: roomSize, RoomEvery: o.soakRoomEvery, SettleS: o.soakSettle.Seconds(),
		DirectPairs: o.soakDirect,
	}
	if roomSize == 0 {
		res.RoomEvery = 0
		res.Rate = fmt.Sprintf("each user sends one message every %v to a random other user", o.soakInterval)
	} else {
		res.Rate = fmt.Sprintf("each user sends one message every %v to a random other user, but one in %d of a user's messages goes to the user's room of %d instead (users take turns in this, so room posts are spread evenly too)",
			o.soakInterval, o.soakRoomEvery, roomSize)
	}
	b.res.Soak = res
	r := &soakRun{b: b, n: n, roomSize: roomSize, msgs: map[soakKey]*soakMsg{}}
	r.window = min(time.Minute, o.soakDuration/5)
	if r.window <= 0 {
		r.window = o.soakDuration
	}
	nWin := int((o.soakDuration + r.window - 1) / r.window)
	r.chatLat, r.roomLat, r.dirLat = make([][]time.Duration, nWin), make([][]time.Duration, nWin), make([][]time.Duration, nWin)
	sampleEvery := min(30*time.Second, max(o.soakDuration/10, time.Second))
	res.SampleEveryS = sampleEvery.Seconds()

	r.names = make([]string, n)
	r.tokens = make([]string, n)
	r.streams = make([]*stream, n)
	r.rooms = make([]string, n)
	r.members = make([]int, n)
	roomBase := strings.ToLower(strings.TrimSuffix(b.prefix, "-")) + "soak"
	for i := range r.names {
		r.names[i] = b.user(fmt.Sprintf("soak%d", i))
		if roomSize > 0 {
			r.rooms[i] = roomBase + strconv.Itoa(i/roomSize)
			r.members[i] = min(roomSize, n-i/roomSize*roomSize)
		}
	}
	defer r.closeStreams()

	b.log.Info("soak: registering", "users", n)
	if err := forEach(ctx, n, 8, func(ctx context.Context, i int) error {
		return b.admin.Register(ctx, r.names[i], b.password)
	}); err != nil {
		return fmt.Errorf("register: %w", err)
	}

	t0 := time.Now()
	sample := func(phase string) error {
		s, err := b.soakSample(ctx, phase, t0)
		if err != nil {
			return err
		}
		res.Samples = append(res.Samples, s)
		b.log.Info("soak: sample", "phase", phase, "goroutines", s.Goroutines, "rss_mib", s.RSSMiB, "heap_mib", s.HeapMiB, "fds", s.FDs, "sessions", s.Sessions, "streams", s.Streams)
		return nil
	}
	closeIdle := func() {
		// Idle keep-alive connections (the bench's API clients, and the
		// default client that scrapes /metrics and calls the admin API)
		// each hold a goroutine and a file in the gateway.
		b.clients.closeIdle()
		http.DefaultClient.CloseIdleConnections()
	}
	if err := b.soakWarmUp(ctx); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	closeIdle()
	waitUntil(ctx, time.Now().Add(2*time.Second))
	if err := sample("baseline"); err != nil {
		return err
	}

	if err := r.logIn(ctx); err != nil {
		return err
	}
	quiet(ctx, &r.events, time.Second, time.Minute)
	if err := sample("logged-in"); err != nil {
		return err
	}

	ctl, err := r.dialControl(ctx, o.soakDirect)
	if err != nil {
		return fmt.Errorf("direct control: %w", err)
	}
	defer ctl.close()

	// Chat, sampling as it goes.
	b.log.Info("soak: chatting", "users", n, "duration", o.soakDuration, "interval", o.soakInterval)
	sampled := make(chan error, 1)
	stopSampling := make(chan struct{})
	var samples []SoakSample
	go func() {
		tick := time.NewTicker(sampleEvery)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				s, err := b.soakSample(ctx, "run", t0)
				if err != nil {
					sampled <- err
					return
				}
				samples = append(samples, s)
			case <-stopSampling:
				sampled <- nil
				return
			}
		}
	}()
	r.start = time.Now()
	ctlDone := make(chan struct{})
	go func() { defer close(ctlDone); ctl.run(ctx, r, o.soakDuration) }()
	lag, chatErr := r.chat(ctx, o.soakDuration, o.soakInterval, o.soakRoomEvery)
	elapsed := time.Since(r.start)
	<-ctlDone
	close(stopSampling)
	if err := <-sampled; err != nil {
		return err
	}
	res.Samples = append(res.Samples, samples...)
	if chatErr != nil {
		return chatErr
	}
	res.Traffic.MaxLagMs = round(float64(lag)/float64(time.Millisecond), 1)

	r.drain(ctx, 30*time.Second, ctl)
	if err := sample("drained"); err != nil {
		return err
	}
	ctl.close()
	res.DirectLost, res.DirectDuplicated = ctl.lost(), int(ctl.dups.Load())
	b.res.addLost("soak-direct", res.DirectLost, res.DirectDuplicated)
	r.count(&res.Traffic)
	res.PostsPerS = round(float64(res.Traffic.ChatSent+res.Traffic.RoomPosts)/elapsed.Seconds(), 1)
	res.EventsPerS = round(float64(res.Traffic.Delivered)/elapsed.Seconds(), 1)
	b.res.addLost("soak", res.Traffic.Lost, res.Traffic.Duplicated)

	// Everyone leaves; then the gateway gets time to give back.
	if err := r.logOut(ctx); err != nil {
		return err
	}
	res.Traffic.EarlyCloses = int(r.early.Load())
	res.Traffic.LogoutClose = int(r.byLogout.Load())
	closeIdle()
	if err := sample("logged-out"); err != nil {
		return err
	}
	end := time.Now().Add(o.soakSettle)
	for time.Until(end) > sampleEvery {
		waitUntil(ctx, time.Now().Add(sampleEvery))
		if err := sample("settle"); err != nil {
			return err
		}
	}
	waitUntil(ctx, end)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := sample("after"); err != nil {
		return err
	}

	r.latencies(res)
	res.Verdict = judge(res)
	if !res.Verdict.Pass {
		b.res.Errors = append(b.res.Errors, "soak: verdict fail (see soak.verdict)")
	}
	return nil
}

// soakWarmUp takes one user through a login, a stream, a message and a
// logout before the baseline, so that what the gateway sets up once, on
// first use (the store's journal files, pooled connections), is not
// counted as growth.
func (b *bench) soakWarmUp(ctx context.Context) error {
	name := b.user("soakwarm")
	if err := b.admin.Register(ctx, name, b.password); err != nil {
		return err
	}
	hc := b.clients.forUser(0)
	tok, err := b.api.login(ctx, b.clients.forLogin(), name, b.password)
	if err != nil {
		return err
	}
	got := make(chan struct{}, 1)
	st, err := b.api.open(ctx, hc, tok, func(ev ssetest.Event, _ time.Time) {
		if body, ok := chatBody(ev); ok && body == "warm-up" {
			got <- struct{}{}
		}
	})
	if err != nil {
		return err
	}
	defer st.close()
	if err := b.api.post(ctx, hc, tok, name, "warm-up"); err != nil {
		return err
	}
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		return errors.New("the warm-up message did not arrive")
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := b.api.do(ctx, hc, http.MethodPost, "/sparkweb/api/rest/logout", tok, "", ""); err != nil {
		return err
	}
	select {
	case <-st.done:
	case <-time.After(10 * time.Second):
	}
	return nil
}

// logIn logs every user in, opens its stream and puts it in its room (the
// first member of each room first, which creates it).
func (r *soakRun) logIn(ctx context.Context) error {
	b := r.b
	b.log.Info("soak: logging in", "users", r.n)
	if err := forEach(ctx, r.n, b.opt.workers, func(ctx context.Context, i int) error {
		tok, err := b.api.login(ctx, b.clients.forLogin(), r.names[i], b.password)
		r.tokens[i] = tok
		return err
	}); err != nil {
		return fmt.Errorf("logins: %w", err)
	}
	b.log.Info("soak: opening streams", "users", r.n)
	if err := forEach(ctx, r.n, b.opt.workers, func(ctx context.Context, i int) error {
		s, err := b.api.open(ctx, b.clients.forUser(i), r.tokens[i], r.receiver(i))
		r.streams[i] = s
		return err
	}); err != nil {
		return fmt.Errorf("streams: %w", err)
	}
	if r.roomSize == 0 {
		return nil
	}
	b.log.Info("soak: joining rooms", "rooms", (r.n+r.roomSize-1)/r.roomSize)
	join := func(ctx context.Context, i int) error {
		return b.join(ctx, i, r.tokens[i], r.rooms[i], r.names[i])
	}
	firsts, others := []int{}, []int{}
	for i := range r.n {
		if i%r.roomSize == 0 {
			firsts = append(firsts, i)
		} else {
			others = append(others, i)
		}
	}
	for _, group := range [][]int{firsts, others} {
		if err := forEach(ctx, len(group), b.opt.workers, func(ctx context.Context, k int) error {
			return join(ctx, group[k])
		}); err != nil {
			return fmt.Errorf("joining rooms: %w", err)
		}
	}
	return nil
}

// receiver returns the event callback of user i's stream; it runs on the
// stream's reader goroutine, which alone touches seen.
func (r *soakRun) receiver(i int) func(ssetest.Event, time.Time) {
	seen := map[soakKey]bool{}
	return func(ev ssetest.Event, at time.Time) {
		r.events.Add(1)
		var body string
		room := false
		switch ev.Name {
		case "chatapi.chat":
			b, ok := chatBody(ev)
			if !ok || !strings.HasPrefix(b, "sk ") {
				return
			}
			body = b
		case "chatapi.muc":
			b, ok := roomBody(ev)
			if !ok || !strings.HasPrefix(b, "sr ") {
				return
			}
			body, room = b, true
		case "chatapi.close":
			if r.loggedOut.Load() {
				var c struct{ Reason string }
				if json.Unmarshal([]byte(ev.Data), &c) == nil && c.Reason == "logout" {
					r.byLogout.Add(1)
				}
			} else {
				r.early.Add(1)
			}
			return
		default:
			return
		}
		key, sentAt, ok := parseSoakBody(body)
		if !ok || (room && int(key.from) == i) { // a room reflects the sender's own post
			return
		}
		if seen[key] {
			r.dups.Add(1)
			return
		}
		seen[key] = true
		d := at.Sub(sentAt)
		w := min(max(int(sentAt.Sub(r.start)/r.window), 0), len(r.chatLat)-1)
		r.mu.Lock()
		defer r.mu.Unlock()
		if m := r.msgs[key]; m != nil {
			m.got++
		}
		if room {
			r.roomLat[w] = append(r.roomLat[w], d)
		} else {
			r.chatLat[w] = append(r.chatLat[w], d)
		}
	}
}

// parseSoakBody reads "sk|sr <from> <seq> <sent unix ns>".
func parseSoakBody(body string) (soakKey, time.Time, bool) {
	f := strings.Fields(body)
	if len(f) != 4 {
		return soakKey{}, time.Time{}, false
	}
	from, err1 := strconv.ParseInt(f[1], 10, 32)
	seq, err2 := strconv.ParseInt(f[2], 10, 32)
	ns, err3 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return soakKey{}, time.Time{}, false
	}
	return soakKey{int32(from), int32(seq)}, time.Unix(0, ns), true
}

// soakJob is one message to send.
type soakJob struct {
	from, seq int
	room      bool
	to        int // user index of a one-to-one message
}

// chat sends for duration at a steady rate: one send every interval/n,
// the users taking their turns in a fixed shuffled order, so each sends
// once per interval. Sends go to a pool of senders; the scheduler never
// waits for a reply, only (recorded as lag) for a free sender.
func (r *soakRun) chat(ctx context.Context, duration, interval time.Duration, roomEvery int) (time.Duration, error) {
	step := interval / time.Duration(r.n)
	order := rand.Perm(r.n)
	seq := make([]int, r.n)
	jobs := make(chan soakJob, 256)
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for j := range jobs {
				r.send(ctx, j)
			}
		})
	}
	defer func() { close(jobs); wg.Wait() }()

	var lag time.Duration
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for k := 0; ; k++ {
		at := r.start.Add(time.Duration(k) * step)
		if at.Sub(r.start) >= duration {
			return lag, nil
		}
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return lag, ctx.Err()
			}
		}
		u := order[k%r.n]
		j := soakJob{from: u, seq: seq[u]}
		seq[u]++
		// Users take turns by index, so room posts spread over the run.
		if r.roomSize > 0 && r.members[u] > 1 && (j.seq+u)%roomEvery == roomEvery-1 {
			j.room = true
		} else {
			j.to = rand.IntN(r.n - 1)
			if j.to >= u {
				j.to++
			}
		}
		select {
		case jobs <- j:
		case <-ctx.Done():
			return lag, ctx.Err()
		}
		lag = max(lag, time.Since(at))
	}
}

// send posts one message and records whether the gateway took it.
func (r *soakRun) send(ctx context.Context, j soakJob) {
	b := r.b
	key := soakKey{int32(j.from), int32(j.seq)}
	m := &soakMsg{expected: 1, room: j.room}
	if j.room {
		m.expected = r.members[j.from] - 1
	}
	r.mu.Lock()
	r.msgs[key] = m // before the post: the event may beat the reply
	r.mu.Unlock()
	t0 := time.Now()
	hc := b.clients.forUser(j.from)
	var err error
	if j.room {
		body := fmt.Sprintf("sr %d %d %d", j.from, j.seq, t0.UnixNano())
		err = b.api.do(ctx, hc, http.MethodPost, "/sparkweb/api/rest/groupchat/room/"+url.PathEscape(r.rooms[j.from]), r.tokens[j.from], "text/plain", body)
	} else {
		body := fmt.Sprintf("sk %d %d %d", j.from, j.seq, t0.UnixNano())
		err = b.api.post(ctx, hc, r.tokens[j.from], r.names[j.to], body)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		m.expected = 0
		if r.b.res.Soak.Traffic.FirstError == "" {
			r.b.res.Soak.Traffic.FirstError = err.Error()
		}
		r.b.res.Soak.Traffic.SendErrors++
		return
	}
	m.accepted = true
}

// missing is how many deliveries of accepted messages have not arrived.
func (r *soakRun) missing() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if m.accepted && m.got < m.expected {
			n += m.expected - m.got
		}
	}
	return n
}

// drain waits until every accepted message has arrived and the streams
// have been quiet for a second, at most limit.
func (r *soakRun) drain(ctx context.Context, limit time.Duration, ctl *soakControl) {
	end := time.Now().Add(limit)
	for (r.missing() > 0 || ctl.lost() > 0) && time.Now().Before(end) && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	quiet(ctx, &r.events, time.Second, max(time.Until(end), time.Second))
}

// count fills in the traffic figures.
func (r *soakRun) count(t *SoakTraffic) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		if !m.accepted {
			continue
		}
		if m.room {
			t.RoomPosts++
		} else {
			t.ChatSent++
		}
		t.Expected += m.expected
		t.Delivered += min(m.got, m.expected)
		t.Lost += max(m.expected-m.got, 0)
	}
	t.Duplicated = int(r.dups.Load())
}

// logOut logs every user out and waits (bounded) for each stream to end
// with its close event.
func (r *soakRun) logOut(ctx context.Context) error {
	b := r.b
	b.log.Info("soak: logging out", "users", r.n)
	r.loggedOut.Store(true)
	if err := forEach(ctx, r.n, b.opt.workers, func(ctx context.Context, i int) error {
		return b.api.do(ctx, b.clients.forUser(i), http.MethodPost, "/sparkweb/api/rest/logout", r.tokens[i], "", "")
	}); err != nil {
		return fmt.Errorf("logouts: %w", err)
	}
	deadline := time.After(30 * time.Second)
	for _, s := range r.streams {
		if s == nil {
			continue
		}
		select {
		case <-s.done:
		case <-deadline:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.closeStreams()
	return nil
}

// closeStreams ends every stream still open and waits for its reader.
func (r *soakRun) closeStreams() {
	var wg sync.WaitGroup
	for i, s := range r.streams {
		if s != nil {
			wg.Go(s.close)
			r.streams[i] = nil
		}
	}
	wg.Wait()
}

// latencies fills in the windows, the overall distributions and the drift.
func (r *soakRun) latencies(res *Soak) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var allChat, allRoom, allDir []time.Duration
	for w := range r.chatLat {
		allChat = append(allChat, r.chatLat[w]...)
		allRoom = append(allRoom, r.roomLat[w]...)
		allDir = append(allDir, r.dirLat[w]...)
		from := time.Duration(w) * r.window
		res.Windows = append(res.Windows, SoakWindow{
			FromS:  from.Seconds(),
			ToS:    min(from+r.window, time.Duration(res.DurationS*float64(time.Second))).Seconds(),
			Chat:   dist(r.chatLat[w], time.Millisecond),
			Room:   dist(r.roomLat[w], time.Millisecond),
			Direct: dist(r.dirLat[w], time.Millisecond),
		})
	}
	res.ChatMs = dist(allChat, time.Millisecond)
	res.RoomMs = dist(allRoom, time.Millisecond)
	res.DirectMs = dist(allDir, time.Millisecond)
	if len(res.Windows) > 0 {
		first, last := res.Windows[0], res.Windows[len(res.Windows)-1]
		res.P99Drift = round(last.Chat.P99-first.Chat.P99, 1)
		res.P99DriftRatio = ratio(last.Chat.P99, first.Chat.P99)
		res.DirectP99Drift = round(last.Direct.P99-first.Direct.P99, 1)
	}
}

// judge decides the verdict from the samples, the traffic and the windows.
func judge(s *Soak) SoakVerdict {
	var v SoakVerdict
	t := s.Traffic
	v.Delivery = SoakCheck{
		OK: t.Lost == 0 && t.Duplicated == 0 && t.SendErrors == 0 && t.EarlyCloses == 0 && t.Expected > 0,
		Detail: fmt.Sprintf("%d expected deliveries, %d delivered, %d lost, %d duplicated, %d send errors, %d streams closed before the logouts",
			t.Expected, t.Delivered, t.Lost, t.Duplicated, t.SendErrors, t.EarlyCloses),
	}
	base, warm, peak, after, ok := s.keySamples()
	peakHeap := 0.0
	var out SoakSample // right after the logouts
	for _, x := range s.Samples {
		peakHeap = max(peakHeap, x.HeapMiB)
		if x.Phase == "logged-out" {
			out = x
		}
	}
	if !ok {
		v.Goroutines = SoakCheck{Detail: "missing samples"}
		v.FDs, v.Memory = v.Goroutines, v.Goroutines
	} else {
		v.Goroutines = SoakCheck{
			OK: after.Goroutines <= base.Goroutines+soakGoroutineSlack && after.Sessions == 0 && after.Streams == 0,
			Detail: fmt.Sprintf("%d at the baseline, %d with %d users, %d after the logouts (allowed: baseline + %d); sessions %d, streams %d after",
				base.Goroutines, peak.Goroutines, s.Users, after.Goroutines, soakGoroutineSlack, after.Sessions, after.Streams),
		}
		v.FDs = SoakCheck{
			OK: after.FDs >= 0 && after.FDs <= base.FDs+soakFDSlack,
			Detail: fmt.Sprintf("%d at the baseline, %d with %d users, %d after the logouts (allowed: baseline + %d)",
				base.FDs, peak.FDs, s.Users, after.FDs, soakFDSlack),
		}
		// A leak keeps heap: after the settle (two forced collections at
		// least when it is over 4 minutes, so sync.Pool's victims are gone
		// too) the heap in use must be back near the baseline. RSS is
		// not held to the baseline, nor to the post-warm-up sample: the
		// users' event logs (kept for replay, -event-buffer and
		// -event-buffer-age) grow all through the run by design, and Go
		// gives freed pages back to the OS lazily (its background
		// scavenger) and reuses them first. RSS must only not grow once
		// the users have gone.
		heapOK := after.HeapMiB <= base.HeapMiB+soakHeapSlackMiB
		rssOK := out.RSSMiB > 0 && after.RSSMiB <= out.RSSMiB*soakRSSGrowth
		v.Memory = SoakCheck{
			OK: rssOK && heapOK,
			Detail: fmt.Sprintf("heap in use %.1f MiB at the baseline, peak %.1f, %.1f at the end (allowed: baseline + %d MiB); RSS %.1f MiB at the baseline, %.1f after warm-up (t=%.0fs), peak %.1f, %.1f right after the logouts, %.1f at the end (allowed: right after the logouts × %.2f)",
				base.HeapMiB, peakHeap, after.HeapMiB, soakHeapSlackMiB, base.RSSMiB, warm.RSSMiB, warm.AtS, peak.RSSMiB, out.RSSMiB, after.RSSMiB, soakRSSGrowth),
		}
	}
	if len(s.Windows) < 2 {
		v.Latency = SoakCheck{Detail: "fewer than two windows"}
	} else {
		// On a shared machine the neighbours' load moves p99 as much as
		// the gateway could: when the gateway's p99 drifted, the drift
		// still passes if the gateway's excess over the direct control
		// (same ejabberd, same moment, no gateway) did not.
		first, last := s.Windows[0], s.Windows[len(s.Windows)-1]
		within := func(a, b float64) bool { return b <= max(a, 0)*soakP99Ratio+soakP99SlackMs }
		own := first.Chat.P99 > 0 && last.Chat.P99 > 0 && within(first.Chat.P99, last.Chat.P99)
		excess0, excess1 := first.Chat.P99-first.Direct.P99, last.Chat.P99-last.Direct.P99
		share := first.Direct.N > 0 && last.Direct.N > 0 && last.Chat.N > 0 && within(excess0, excess1)
		how := "within"
		switch {
		case !own && share:
			how = "beyond, but the gateway's excess over the control is within"
		case !own:
			how = "beyond, and so is the gateway's excess over the control"
		}
		v.Latency = SoakCheck{
			OK: own || share,
			Detail: fmt.Sprintf("one-to-one p99 %.1f ms in the first window, %.1f ms in the last: %s first × %.1f + %.0f ms; the direct control's p99 %.1f then %.1f ms (excess %+.1f then %+.1f ms)",
				first.Chat.P99, last.Chat.P99, how, soakP99Ratio, soakP99SlackMs, first.Direct.P99, last.Direct.P99, excess0, excess1),
		}
	}
	v.Pass = v.Delivery.OK && v.Goroutines.OK && v.FDs.OK && v.Memory.OK && v.Latency.OK
	return v
}

// keySamples returns the baseline, the post-warm-up sample (the first run
// sample a tenth of the way in, or the last before the end), the peak (by
// RSS, users logged in) and the final sample.
func (s *Soak) keySamples() (base, warm, peak, after SoakSample, ok bool) {
	var haveBase, haveWarm, haveAfter bool
	var runStart float64
	for _, x := range s.Samples {
		switch x.Phase {
		case "baseline":
			base, haveBase = x, true
		case "logged-in":
			runStart = x.AtS
			peak = x
		case "run", "drained":
			if x.RSSMiB > peak.RSSMiB {
				peak = x
			}
			if !haveWarm && x.Phase == "run" && x.AtS-runStart >= s.DurationS/10 {
				warm, haveWarm = x, true
			}
		case "after":
			after, haveAfter = x, true
		}
	}
	if !haveWarm {
		for _, x := range s.Samples {
			if x.Phase == "run" || x.Phase == "drained" {
				warm, haveWarm = x, true
				break
			}
		}
	}
	return base, warm, peak, after, haveBase && haveWarm && haveAfter
}

// soakSample reads the gateway's figures: goroutines, heap, sessions and
// streams from /metrics; RSS and open files from /proc when the gateway's
// process is known (this run's child, or -gateway-pid), else RSS from the
// process metrics and open files as -1.
func (b *bench) soakSample(ctx context.Context, phase string, t0 time.Time) (SoakSample, error) {
	st, err := b.stats(ctx)
	if err != nil {
		return SoakSample{}, err
	}
	s := SoakSample{
		Phase:      phase,
		AtS:        round(time.Since(t0).Seconds(), 1),
		Goroutines: int(st.goroutines),
		HeapMiB:    round(st.heap/(1<<20), 1),
		RSSMiB:     round(st.rss/(1<<20), 1),
		FDs:        -1,
		Sessions:   int(st.sessions),
		Streams:    int(st.streams),
		CPUS:       round(st.cpu, 2),
	}
	if f := strings.Fields(loadAvg()); len(f) > 0 {
		s.Load1, _ = strconv.ParseFloat(f[0], 64)
	}
	pid := b.opt.gatewayPID
	if b.gw != nil {
		pid = b.gw.pid()
	}
	if pid > 0 {
		s.RSSMiB = round(procRSS(pid)/(1<<20), 1)
		if ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd"); err == nil {
			s.FDs = len(ents)
		}
	}
	if ej := b.ejabberdRSS(); ej > 0 {
		s.EjabberdMB = round(ej/(1<<20), 1)
	}
	return s, nil
}

// print writes the soak's figures.
func (s *Soak) print(w io.Writer) {
	t := s.Traffic
	fmt.Fprintf(w, "\nsoak: %d users for %.0fs; %s\n", s.Users, s.DurationS, s.Rate)
	fmt.Fprintf(w, "  %.1f posts/s, %.1f deliveries/s; %d one-to-one + %d room posts accepted, %d deliveries expected, %d delivered, %d lost, %d duplicated, %d send errors, max schedule lag %.1f ms\n",
		s.PostsPerS, s.EventsPerS, t.ChatSent, t.RoomPosts, t.Expected, t.Delivered, t.Lost, t.Duplicated, t.SendErrors, t.MaxLagMs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tat s\tgoroutines\tRSS MiB\theap MiB\topen fds\tsessions\tstreams\tejabberd MiB\tgateway CPU\tload\t")
	for k, x := range s.Samples {
		cpu := "-"
		if k > 0 && x.AtS > s.Samples[k-1].AtS {
			cpu = fmt.Sprintf("%.0f%%", 100*(x.CPUS-s.Samples[k-1].CPUS)/(x.AtS-s.Samples[k-1].AtS))
		}
		ej := "-"
		if x.EjabberdMB > 0 {
			ej = fmt.Sprintf("%.1f", x.EjabberdMB)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%d\t%.1f\t%.1f\t%d\t%d\t%d\t%s\t%s\t%.1f\t\n", x.Phase, x.AtS, x.Goroutines, x.RSSMiB, x.HeapMiB, x.FDs, x.Sessions, x.Streams, ej, cpu, x.Load1)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "sent in\t1:1 n\t1:1 p50 ms\t1:1 p99 ms\troom n\troom p50 ms\troom p99 ms\tdirect n\tdirect p50 ms\tdirect p99 ms\t")
	row := func(label string, c, r, d Dist) {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%d\t%.1f\t%.1f\t%d\t%.1f\t%.1f\t\n", label, c.N, c.P50, c.P99, r.N, r.P50, r.P99, d.N, d.P50, d.P99)
	}
	for _, x := range s.Windows {
		row(fmt.Sprintf("%.0f-%.0fs", x.FromS, x.ToS), x.Chat, x.Room, x.Direct)
	}
	row("all", s.ChatMs, s.RoomMs, s.DirectMs)
	tw.Flush()
	fmt.Fprintf(w, "  one-to-one p99 drift, last window - first: %+.1f ms (x%.2f); direct control: %+.1f ms; control lost %d, duplicated %d\n",
		s.P99Drift, s.P99DriftRatio, s.DirectP99Drift, s.DirectLost, s.DirectDuplicated)
	v := s.Verdict
	mark := func(ok bool) string {
		if ok {
			return "ok  "
		}
		return "FAIL"
	}
	fmt.Fprintf(w, "verdict: %s\n", map[bool]string{true: "PASS", false: "FAIL"}[v.Pass])
	for _, c := range []struct {
		name string
		c    SoakCheck
	}{{"delivery", v.Delivery}, {"goroutines", v.Goroutines}, {"open fds", v.FDs}, {"memory", v.Memory}, {"latency", v.Latency}} {
		fmt.Fprintf(w, "  %s %-10s %s\n", mark(c.c.OK), c.name, c.c.Detail)
	}
}

// soakDoc is what -only soak writes: the run's description and the soak.
func (r *Results) soakDoc() any {
	return struct {
		Time       string   `json:"time"`
		Command    string   `json:"command"`
		Machine    Machine  `json:"machine"`
		Gateway    string   `json:"gateway"`
		Soak       *Soak    `json:"soak"`
		Lost       int      `json:"lost"`
		Duplicates int      `json:"duplicates"`
		Errors     []string `json:"errors,omitempty"`
	}{r.Time, r.Command, r.Machine, r.Gateway, r.Soak, r.Lost, r.Duplicates, r.Errors}
}

// soakControl is the direct clients of the control: pairs of xmppconn
// streams, the first of each sending to the second.
type soakControl struct {
	send, recv []*xmppconn.Conn
	to         []string // bare JIDs of the receivers
	readers    sync.WaitGroup
	closeOnce  sync.Once
	sent, got  atomic.Int64
	dups       atomic.Int64
}

// dialControl registers and connects pairs of direct clients whose
// receivers record into r's windows.
func (r *soakRun) dialControl(ctx context.Context, pairs int) (*soakControl, error) {
	b := r.b
	c := &soakControl{send: make([]*xmppconn.Conn, pairs), recv: make([]*xmppconn.Conn, pairs), to: make([]string, pairs)}
	names := func(i int) (string, string) {
		return b.user(fmt.Sprintf("soakd%da", i)), b.user(fmt.Sprintf("soakd%db", i))
	}
	err := forEach(ctx, pairs, 4, func(ctx context.Context, i int) error {
		a, z := names(i)
		c.to[i] = z + "@" + b.domain
		for _, u := range []string{a, z} {
			if err := b.admin.Register(ctx, u, b.password); err != nil {
				return err
			}
		}
		var err error
		if c.send[i], err = dialDirect(ctx, b.c2s, b.domain, a, b.password); err != nil {
			return err
		}
		c.recv[i], err = dialDirect(ctx, b.c2s, b.domain, z, b.password)
		return err
	})
	for _, conn := range c.send {
		if conn != nil {
			c.readers.Go(func() {
				for range conn.In() { // the senders' own traffic, discarded
				}
			})
		}
	}
	for _, conn := range c.recv {
		if conn == nil {
			continue
		}
		c.readers.Go(func() {
			seen := map[soakKey]bool{}
			for st := range conn.In() {
				body, ok := directBody(st)
				if !ok || !strings.HasPrefix(body, "sd ") {
					continue
				}
				key, sentAt, ok := parseSoakBody(body)
				if !ok {
					continue
				}
				if seen[key] {
					c.dups.Add(1)
					continue
				}
				seen[key] = true
				c.got.Add(1)
				d := time.Since(sentAt)
				w := min(max(int(sentAt.Sub(r.start)/r.window), 0), len(r.dirLat)-1)
				r.mu.Lock()
				r.dirLat[w] = append(r.dirLat[w], d)
				r.mu.Unlock()
			}
		})
	}
	if err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// run sends for duration: each pair one message a second, the pairs
// taking turns evenly.
func (c *soakControl) run(ctx context.Context, r *soakRun, duration time.Duration) {
	if len(c.send) == 0 {
		return
	}
	step := time.Second / time.Duration(len(c.send))
	for k := 0; ; k++ {
		at := r.start.Add(time.Duration(k) * step)
		if at.Sub(r.start) >= duration || ctx.Err() != nil {
			return
		}
		waitUntil(ctx, at)
		i := k % len(c.send)
		t0 := time.Now()
		body := fmt.Sprintf("sd %d %d %d", i, k/len(c.send), t0.UnixNano())
		if c.send[i].SendRaw(ctx, chatStanza(c.to[i], "sd"+strconv.Itoa(k), body)) == nil {
			c.sent.Add(1)
		}
	}
}

// lost is how many of the control's messages have not arrived.
func (c *soakControl) lost() int { return int(max(c.sent.Load()-c.got.Load(), 0)) }

// close ends the direct clients and waits for their readers.
func (c *soakControl) close() {
	c.closeOnce.Do(func() {
		var wg sync.WaitGroup
		for _, conn := range append(append([]*xmppconn.Conn{}, c.send...), c.recv...) {
			if conn != nil {
				wg.Go(func() { closeDirect(conn) })
			}
		}
		wg.Wait()
		c.readers.Wait()
	})
}
