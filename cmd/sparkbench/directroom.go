package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sparkgate/sparkgate/xmppconn"
)

// directMember is a direct client (an xmppconn stream) that enters a room
// with raw stanzas, as any plain XMPP client does. Its reader goroutine
// drains the stream until the stream ends; close waits for it.
type directMember struct {
	c      *xmppconn.Conn
	joined chan error
	done   chan struct{}
}

// dialMembers connects a direct client for each of names (workers at a
// time) whose readers count every stanza in events and hand the live
// groupchat bodies of room (not history: no delay) to onBody with the
// member's index and the arrival time. onBody may be nil. The members are
// returned even on error, so that the caller closes those that were
// connected (closeMembers).
func (b *bench) dialMembers(ctx context.Context, names []string, room string, events *atomic.Int64, onBody func(i int, body string, at time.Time)) ([]*directMember, error) {
	ms := make([]*directMember, len(names))
	err := forEach(ctx, len(names), b.opt.workers, func(ctx context.Context, i int) error {
		c, err := dialDirect(ctx, b.c2s, b.domain, names[i], b.password)
		if err != nil {
			return err
		}
		m := &directMember{c: c, joined: make(chan error, 1), done: make(chan struct{})}
		ms[i] = m
		self := room + "/" + names[i]
		go func() {
			defer close(m.done)
			for st := range c.In() {
				events.Add(1)
				switch {
				case st.Name == "presence" && st.From == self:
					var err error
					if st.Type == "error" {
						err = fmt.Errorf("join refused: %.200s", st.Raw)
					}
					select {
					case m.joined <- err:
					default:
					}
				case onBody != nil && st.Name == "message" && st.Type == "groupchat" && st.Message != nil && st.Delay == nil:
					onBody(i, st.Message.Body, time.Now())
				}
			}
		}()
		return nil
	})
	return ms, err
}

// join enters room as nick, asking for no history, and waits for the
// room's presence of the member's own occupant.
func (m *directMember) join(ctx context.Context, room, nick string) error {
	if err := m.c.SendRaw(ctx, []byte("<presence to='"+room+"/"+nick+"'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>")); err != nil {
		return err
	}
	select {
	case err := <-m.joined:
		return err
	case <-time.After(30 * time.Second):
		return errors.New("no join presence within 30s")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// instantRoom accepts the default configuration of a room the member has
// just created, which unlocks it (XEP-0045 section 10.1.2, instant room).
func (m *directMember) instantRoom(ctx context.Context, room string) error {
	_, err := m.c.RawIQ(ctx, "set", room, []byte("<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query>"))
	return err
}

// closeMembers closes the connected members and waits for their readers.
func closeMembers(ms []*directMember) {
	var wg sync.WaitGroup
	for _, m := range ms {
		if m != nil {
			wg.Go(func() { closeDirect(m.c); <-m.done })
		}
	}
	wg.Wait()
}

// recordButPoster returns a dialMembers callback that records the posts
// every member of n but member 0 (the direct poster) receives.
func recordButPoster(results []fanoutPost, n int, dups *atomic.Int64) func(i int, body string, at time.Time) {
	seen := make([]map[int]bool, n) // seen[i] belongs to member i's reader
	return func(i int, body string, at time.Time) {
		if i == 0 {
			return
		}
		if seen[i] == nil {
			seen[i] = map[int]bool{}
		}
		record(results, seen[i], dups, body, at)
	}
}
