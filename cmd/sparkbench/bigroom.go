package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/sse/ssetest"
)

// BigRoom is the big-room join (issue 20): a room of -big-room direct
// members, then one gateway user with an open stream enters it.
type BigRoom struct {
	Time    string `json:"time"`
	Command string `json:"command"`
	// Members are the direct clients in the room before the join.
	Members int `json:"members"`
	// MembersJoinS is how long the members took to enter, Workers at a time.
	MembersJoinS float64 `json:"members_join_s"`
	Workers      int     `json:"workers"`
	// JoinMS is from before the REST join to the latest of its answer, the
	// occupant snapshot and the user's own presence in the joiner's
	// stream; RestMS is the REST call alone. TargetMS is the bound for JoinMS.
	JoinMS   float64 `json:"join_ms"`
	RestMS   float64 `json:"rest_ms"`
	TargetMS float64 `json:"target_ms"`
	// SnapshotOccupants is how many occupants the one snapshot event
	// listed, SnapshotBytes the size of its data.
	SnapshotOccupants int `json:"snapshot_occupants"`
	SnapshotBytes     int `json:"snapshot_bytes"`
	// JoinEvents counts the joiner's stream's events, by name, from the
	// join until the stream was quiet for a second; Resets counts
	// chatapi.reset and chatapi.close over the whole run.
	JoinEvents map[string]int `json:"join_events"`
	Resets     int            `json:"resets"`
	// Post → last member: Recipients direct members each get every post;
	// the gateway user posts over REST, a direct member posts directly.
	Posts      int     `json:"posts"`
	Recipients int     `json:"recipients"`
	GatewayMS  Dist    `json:"gateway_post_ms"`
	DirectMS   Dist    `json:"direct_post_ms"`
	P50Ratio   float64 `json:"p50_ratio"`
	P99Ratio   float64 `json:"p99_ratio"`
	Note       string  `json:"note,omitempty"`
	// LoadAvg is the machine's load average before and after the run.
	LoadAvg string `json:"loadavg"`
}

// bigRoom measures a join into a room of b.opt.bigRoom members: the
// members are direct clients (member 0 creates the room and posts the
// direct control, the others receive), then a gateway user with its stream
// open enters, then posts go to the room from the gateway user and from
// member 0, one at a time, timed to the last receiving member.
func (b *bench) bigRoom(ctx context.Context) error {
	n, posts := b.opt.bigRoom, b.opt.posts
	r := &BigRoom{Time: time.Now().UTC().Format(time.RFC3339), Command: b.res.Command, Workers: b.opt.workers, TargetMS: 2000, Posts: posts}
	b.res.BigRoom = r
	names := make([]string, n)
	for i := range names {
		names[i] = b.user(fmt.Sprintf("br%d", i))
	}
	joiner := b.user("brjoin")
	room := strings.ToLower(strings.TrimSuffix(b.prefix, "-")) + "bigroom"
	roomJID := room + "@conference." + b.domain
	if err := forEach(ctx, n+1, 8, func(ctx context.Context, i int) error {
		if i == n {
			return b.admin.Register(ctx, joiner, b.password)
		}
		return b.admin.Register(ctx, names[i], b.password)
	}); err != nil {
		return fmt.Errorf("register: %w", err)
	}

	// Posts 0..posts-1 come from the gateway user, posts..2·posts-1 from
	// member 0; members 1..n-1 record both.
	results := make([]fanoutPost, 2*posts)
	var dups, events atomic.Int64
	b.log.Info("big room: connecting members", "members", n)
	ms, err := b.dialMembers(ctx, names, roomJID, &events, recordButPoster(results, n, &dups))
	defer closeMembers(ms)
	if err != nil {
		return err
	}
	if err := ms[0].join(ctx, roomJID, names[0]); err != nil {
		return fmt.Errorf("creator join: %w", err)
	}
	if err := ms[0].instantRoom(ctx, roomJID); err != nil {
		return fmt.Errorf("instant room: %w", err)
	}
	b.log.Info("big room: members joining", "members", n, "workers", b.opt.workers)
	start := time.Now()
	if err := forEach(ctx, n-1, b.opt.workers, func(ctx context.Context, k int) error {
		if err := ms[k+1].join(ctx, roomJID, names[k+1]); err != nil {
			return fmt.Errorf("member %d: %w", k+1, err)
		}
		return nil
	}); err != nil {
		return err
	}
	r.Members = n
	r.MembersJoinS = round(time.Since(start).Seconds(), 1)
	// Let the members' presences (n²/2 of them) drain first.
	quiet(ctx, &events, time.Second, 5*time.Minute)
	b.log.Info("big room: members in", "members", n, "took", time.Since(start).Round(time.Millisecond))

	token, err := b.api.login(ctx, b.clients.forLogin(), joiner, b.password)
	if err != nil {
		return err
	}
	w := &joinWatch{self: roomJID + "/" + joiner, room: roomJID, names: map[string]int{}}
	hc := b.clients.forUser(0)
	s, err := b.api.open(ctx, hc, token, w.on)
	if err != nil {
		return err
	}
	defer s.close()
	quiet(ctx, &w.count, 500*time.Millisecond, 10*time.Second) // the stream's opening events
	w.start()
	t0 := time.Now()
	if err := b.api.do(ctx, hc, http.MethodPut, "/sparkweb/api/rest/groupchat/room/"+url.PathEscape(room)+"?nick="+url.QueryEscape(joiner), token, "", ""); err != nil {
		return fmt.Errorf("gateway join: %w", err)
	}
	restDone := time.Now()
	r.RestMS = round(float64(restDone.Sub(t0))/float64(time.Millisecond), 1)
	if !w.wait(ctx, 30*time.Second) {
		return errors.New("no snapshot and own presence within 30 s of the join")
	}
	quiet(ctx, &w.count, time.Second, 30*time.Second)
	w.stop()
	w.mu.Lock()
	r.JoinMS = round(float64(max(w.snapAt.Sub(t0), w.selfAt.Sub(t0), restDone.Sub(t0)))/float64(time.Millisecond), 1)
	r.SnapshotOccupants, r.SnapshotBytes = w.occupants, w.snapBytes
	r.JoinEvents = maps.Clone(w.names)
	w.mu.Unlock()
	b.log.Info("big room: joined", "join_ms", r.JoinMS, "rest_ms", r.RestMS, "events", r.JoinEvents)

	r.Recipients = n - 1
	times, lost := measurePosts(ctx, results[:posts], r.Recipients, &events, func(p int) error {
		return b.api.do(ctx, hc, http.MethodPost, "/sparkweb/api/rest/groupchat/room/"+url.PathEscape(room), token, "text/plain", "fo "+strconv.Itoa(p))
	})
	r.GatewayMS = dist(times, time.Millisecond)
	times, lostDirect := measurePosts(ctx, results[posts:], r.Recipients, &events, func(p int) error {
		return ms[0].c.SendRaw(ctx, []byte("<message type='groupchat' to='"+roomJID+"'><body>fo "+strconv.Itoa(posts+p)+"</body></message>"))
	})
	r.DirectMS = dist(times, time.Millisecond)
	r.P50Ratio, r.P99Ratio = ratio(r.GatewayMS.P50, r.DirectMS.P50), ratio(r.GatewayMS.P99, r.DirectMS.P99)
	b.res.addLost("bigroom", lost, int(dups.Load()))
	b.res.addLost("bigroom-direct", lostDirect, 0)
	w.mu.Lock()
	r.Resets = w.resets
	w.mu.Unlock()

	var problems []string
	if r.SnapshotOccupants != n+1 { // the members and the joiner
		problems = append(problems, fmt.Sprintf("the snapshot listed %d occupants of %d", r.SnapshotOccupants, n+1))
	}
	if r.Resets > 0 {
		problems = append(problems, fmt.Sprintf("the joiner's stream was reset or closed %d times", r.Resets))
	}
	if total := sum(r.JoinEvents); total > 10 {
		problems = append(problems, fmt.Sprintf("the join put %d events in the joiner's stream", total))
	}
	if r.JoinMS > r.TargetMS {
		problems = append(problems, fmt.Sprintf("the join took %.0f ms, over the %.0f ms target", r.JoinMS, r.TargetMS))
	}
	r.LoadAvg = b.res.Machine.LoadStart + " -> " + loadAvg()
	r.Note = fmt.Sprintf("%d direct members entered %d at a time in %.1f s; the joiner's stream opened before the join; posts from the gateway user (REST) and from direct member 0, one at a time, to the last of the %d other members", n, b.opt.workers, r.MembersJoinS, r.Recipients)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func sum(m map[string]int) int {
	t := 0
	for _, v := range m {
		t += v
	}
	return t
}

// joinWatch reads the joiner's stream: after start, it counts the events
// by name and notes when the room's occupant snapshot and the user's own
// presence in the room arrive.
type joinWatch struct {
	self, room string
	count      atomic.Int64 // every event, before start too

	mu        sync.Mutex
	started   bool
	names     map[string]int
	snapAt    time.Time
	selfAt    time.Time
	occupants int
	snapBytes int
	resets    int
	ready     chan struct{} // closed when both have arrived
}

func (w *joinWatch) start() {
	w.mu.Lock()
	w.started, w.ready = true, make(chan struct{})
	w.mu.Unlock()
}

// stop ends the counting (the posts that follow the join are not counted).
func (w *joinWatch) stop() {
	w.mu.Lock()
	w.started = false
	w.mu.Unlock()
}

// on is the stream's callback (its reader goroutine).
func (w *joinWatch) on(ev ssetest.Event, at time.Time) {
	w.count.Add(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if ev.Name == chatapi.EventReset || ev.Name == chatapi.EventClose {
		w.resets++
	}
	if !w.started {
		return
	}
	done := !w.snapAt.IsZero() && !w.selfAt.IsZero()
	w.names[ev.Name]++
	switch ev.Name {
	case chatapi.EventMUC:
		if w.snapAt.IsZero() && strings.Contains(ev.Data, `"type":"`+chatapi.TypeOccupants+`"`) {
			var o chatapi.Occupants
			if json.Unmarshal([]byte(ev.Data), &o) == nil && o.Room == w.room {
				w.snapAt, w.occupants, w.snapBytes = at, len(o.Occupants), len(ev.Data)
			}
		}
	case chatapi.EventPresence:
		if w.selfAt.IsZero() && strings.Contains(ev.Data, `"from":"`+w.self+`"`) {
			w.selfAt = at
		}
	}
	if !done && !w.snapAt.IsZero() && !w.selfAt.IsZero() {
		close(w.ready)
	}
}

// wait waits until both the snapshot and the own presence arrived.
func (w *joinWatch) wait(ctx context.Context, limit time.Duration) bool {
	w.mu.Lock()
	ready := w.ready
	w.mu.Unlock()
	select {
	case <-ready:
		return true
	case <-time.After(limit):
	case <-ctx.Done():
	}
	return false
}

// mergeInto writes the big-room section into the results file at path,
// keeping the other sections of the run that wrote it, in their order.
func (r *BigRoom) mergeInto(path string) error { return mergeSection(path, "big_room_join", r) }

// mergeSection writes v as the member key of the JSON object in the
// results file at path, keeping its other members in their order.
func mergeSection(path, key string, v any) error {
	section, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		b, err = []byte("{}"), nil
	}
	if err != nil {
		return err
	}
	merged, err := setSection(b, key, section)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, merged, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// setSection returns the JSON object doc with its member key set to
// value (added last when new), the other members kept in their order,
// indented as writeJSONFile does.
func setSection(doc []byte, key string, value json.RawMessage) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var keys []string
	vals := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, dup := vals[k]; !dup {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	if _, ok := vals[key]; !ok {
		keys = append(keys, key)
	}
	vals[key] = value
	var out bytes.Buffer
	out.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			out.WriteString(",")
		}
		kb, _ := json.Marshal(k)
		out.WriteString("\n  ")
		out.Write(kb)
		out.WriteString(": ")
		if err := json.Indent(&out, vals[k], "  ", "  "); err != nil {
			return nil, err
		}
	}
	out.WriteString("\n}\n")
	return out.Bytes(), nil
}
