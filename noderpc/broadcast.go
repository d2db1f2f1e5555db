package noderpc

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// # Broadcasts
//
// Beside requests to one node, a node may tell every node at once
// (Broadcast on BroadcastSubject, core NATS: at most once, no answer).
// Listen hears the other nodes' broadcasts, not this node's own (the
// sender's id travels in the Sg-From header). A node cut off from NATS
// when a broadcast is sent misses it.

// BroadcastSubject is the subject every node listens on for broadcasts.
const BroadcastSubject = "sg.nodes.all"

// hdrFrom names a broadcast's sender.
const hdrFrom = "Sg-From"

// Broadcast sends msg to every other node that listens, and waits until
// the NATS server has it (a flush bounded by ctx).
func (p *Peers) Broadcast(ctx context.Context, msg []byte) error {
	m := nats.NewMsg(BroadcastSubject)
	m.Data = msg
	m.Header.Set(hdrFrom, p.cfg.Node)
	if err := p.nc.PublishMsg(m); err != nil {
		return p.unreachable("all", err)
	}
	if err := p.nc.FlushWithContext(ctx); err != nil {
		return p.unreachable("all", err)
	}
	return nil
}

// Listen calls h with each broadcast of the other nodes until stop is
// called; h runs on one goroutine, one broadcast at a time, in the order
// they came. stop unsubscribes and waits for a running h.
func (p *Peers) Listen(h func(msg []byte)) (stop func(), err error) {
	var mu sync.Mutex // held while h runs; stop takes it to wait
	closed := false
	sub, err := p.nc.Subscribe(BroadcastSubject, func(m *nats.Msg) {
		if m.Header.Get(hdrFrom) == p.cfg.Node {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !closed {
			h(m.Data)
		}
	})
	if err == nil {
		err = p.nc.FlushTimeout(5 * time.Second)
	}
	if err != nil {
		if sub != nil {
			_ = sub.Unsubscribe()
		}
		return nil, fmt.Errorf("%w: listen: %w", ErrUnreachable, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = sub.Unsubscribe()
			mu.Lock()
			closed = true
			mu.Unlock()
		})
	}, nil
}
