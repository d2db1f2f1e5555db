package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sparkgate/sparkgate/sse/ssetest"
)

// errRoomsMissing says the gateway does not implement the rooms API yet.
var errRoomsMissing = errors.New("rooms API not landed")

// roomBody returns the body of a chatapi.muc groupchat event.
func roomBody(ev ssetest.Event) (string, bool) {
	if ev.Name != "chatapi.muc" {
		return "", false
	}
	var m struct {
		Type  string `json:"type"`
		Body  string `json:"body"`
		Stamp string `json:"stamp"`
	}
	if json.Unmarshal([]byte(ev.Data), &m) != nil || m.Type != "groupchat" || m.Stamp != "" {
		return "", false
	}
	return m.Body, true
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
	tok, err := b.api.login(ctx, b.clients.forUser(0), names[0], b.password)
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
		tok, err := b.api.login(ctx, b.clients.forUser(k+1), names[k+1], b.password)
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
		s, err := b.api.open(ctx, b.clients.forUser(k+1), tokens[k+1], func(ev ssetest.Event, at time.Time) {
			events.Add(1)
			body, ok := roomBody(ev)
			if !ok {
				return
			}
			rest, ok := strings.CutPrefix(body, "fo ")
			if !ok {
				return
			}
			p, err := strconv.Atoi(rest)
			if err != nil || p < 0 || p >= posts {
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
					break
				}
			}
		})
		streams[k] = s
		return err
	}); err != nil {
		return fmt.Errorf("streams: %w", err)
	}

	b.log.Info("fan-out: joining", "members", m, "room", room)
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
		b.res.Errors = append(b.res.Errors, fmt.Sprintf("fan-out: %d of %d members joined; first refusal: %v", joined.Load(), m, joinErr.Load()))
	}
	members := int(joined.Load())
	f.Members = members
	if members == 0 {
		return errors.New("no member joined")
	}
	// Let the join presences (members squared of them) drain.
	quiet(ctx, &events, time.Second, 2*time.Minute)

	var times []time.Duration
	lost := 0
	hc := b.clients.forUser(0)
	for p := range posts {
		t0 := time.Now()
		if err := b.api.do(ctx, hc, http.MethodPost, "/sparkweb/api/rest/groupchat/room/"+url.PathEscape(room), tokens[0], "text/plain", "fo "+strconv.Itoa(p)); err != nil {
			return fmt.Errorf("post %d: %w", p, err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for results[p].got.Load() < int64(members) && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(200 * time.Microsecond)
		}
		if got := int(results[p].got.Load()); got < members {
			lost += members - got
			continue
		}
		times = append(times, time.Unix(0, results[p].last.Load()).Sub(t0))
	}
	quiet(ctx, &events, 500*time.Millisecond, 10*time.Second)
	// Late arrivals of posts given up on are not lost after all.
	lost = 0
	for p := range posts {
		lost += members - int(results[p].got.Load())
	}
	b.res.addLost("fanout", lost, int(dups.Load()))
	d := dist(times, time.Millisecond)
	f.P50, f.P99, f.Max = d.P50, d.P99, d.Max
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
