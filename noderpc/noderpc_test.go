package noderpc_test

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sparkgate/sparkgate/internal/natstest"
	"github.com/sparkgate/sparkgate/noderpc"
)

func TestMain(m *testing.M) { natstest.Main(m) }

var errMine = errors.New("mine")

// node connects a node to the shared NATS, closed at the test's end.
func node(t *testing.T, id string, max int) *noderpc.Peers {
	t.Helper()
	nc, err := nats.Connect(natstest.Shared(t).URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return noderpc.New(nc, noderpc.Config{Node: id, Unreachable: errMine, MaxConcurrent: max})
}

// TestIntegrationCall: a request reaches the node it names and its
// answer comes back; the handler runs under the caller's time left.
func TestIntegrationCall(t *testing.T) {
	a, b := node(t, t.Name()+".a", 0), node(t, t.Name()+".b", 0)
	var left atomic.Int64
	stop, err := b.Serve(func(ctx context.Context, req []byte) []byte {
		dl, _ := ctx.Deadline()
		left.Store(int64(time.Until(dl)))
		return append([]byte("b:"), req...)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	got, err := a.Call(ctx, t.Name()+".b", []byte("hello"))
	if err != nil || string(got) != "b:hello" {
		t.Fatalf("Call: %q, %v", got, err)
	}
	if d := time.Duration(left.Load()); d <= 2*time.Second || d > 3*time.Second {
		t.Fatalf("handler's time left %v, want the caller's (about 3s)", d)
	}
}

// TestIntegrationCallErrors: what a caller learns when the node is not
// there, too slow, or busy.
func TestIntegrationCallErrors(t *testing.T) {
	a := node(t, t.Name()+".a", 0)
	slow := node(t, t.Name()+".slow", 1)
	release := make(chan struct{})
	holding := make(chan struct{}, 1)
	stop, err := slow.Serve(func(ctx context.Context, req []byte) []byte {
		if string(req) == "hold" {
			holding <- struct{}{}
		}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			// The request's time is up here too; this answer leaves
			// after the caller's deadline, but a caller descheduled
			// past it may still find it waiting (see below).
			return []byte("late")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	defer close(release)

	cases := []struct {
		name, node string
		timeout    time.Duration
		want       []error
		within     time.Duration
	}{
		{"no such node", t.Name() + ".gone", 5 * time.Second, []error{noderpc.ErrUnreachable, errMine}, time.Second},
		{"slow node", t.Name() + ".slow", 300 * time.Millisecond, []error{context.DeadlineExceeded}, 2 * time.Second},
		{"bad node id", "a b", time.Second, []error{noderpc.ErrBadNode}, 100 * time.Millisecond},
		{"wildcard node id", ">", time.Second, []error{noderpc.ErrBadNode}, 100 * time.Millisecond},
		{"empty token", "a..b", time.Second, []error{noderpc.ErrBadNode}, 100 * time.Millisecond},
	}
	for i, c := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
			defer cancel()
			start := time.Now()
			reply, err := a.Call(ctx, c.node, []byte("x"))
			if err == nil && string(reply) == "late" {
				// The slow node's answer sent at the deadline, read by a
				// caller that woke after it (a loaded machine): on time
				// from the caller's side, checked below.
				err = context.DeadlineExceeded
			}
			for _, w := range c.want {
				if !errors.Is(err, w) {
					t.Errorf("%s: %v, want %v", c.name, err, w)
				}
			}
			if d := time.Since(start); d > c.within {
				t.Errorf("%s: answered after %v, want within %v", c.name, d, c.within)
			}
		})
	}

	// One slow request holds the node's only slot: the next is refused
	// at once as busy.
	hold, cancelHold := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelHold()
	done := make(chan error, 1)
	go func() {
		for {
			_, err := a.Call(hold, t.Name()+".slow", []byte("hold"))
			if errors.Is(err, noderpc.ErrUnreachable) && hold.Err() == nil {
				// Busy: the slow case's handler, past its deadline,
				// may not have given its slot back yet.
				time.Sleep(20 * time.Millisecond)
				continue
			}
			done <- err
			return
		}
	}()
	select { // the slot is taken once the handler runs (not after a fixed sleep: a loaded machine may take longer)
	case <-holding:
	case <-time.After(5 * time.Second):
		t.Fatal("the held request never reached the handler")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := a.Call(ctx, t.Name()+".slow", []byte("x")); !errors.Is(err, noderpc.ErrUnreachable) || time.Since(start) > time.Second {
		t.Fatalf("call to a busy node: %v after %v, want ErrUnreachable at once", err, time.Since(start))
	}
	cancelHold()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("held call after its cancel: %v", err)
	}
}

// TestIntegrationServeStop: stop cancels the running handlers and waits
// for them; nothing is served afterwards and no goroutine stays.
func TestIntegrationServeStop(t *testing.T) {
	a, b := node(t, t.Name()+".a", 0), node(t, t.Name()+".b", 0)
	started := make(chan struct{}, 1)
	var ended atomic.Bool
	stop, err := b.Serve(func(ctx context.Context, req []byte) []byte {
		if string(req) == "ping" {
			return req
		}
		started <- struct{}{}
		<-ctx.Done()
		ended.Store(true)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The first call sets up the caller's reply subscription, which
	// stays with its connection.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := a.Call(ctx, t.Name()+".b", []byte("ping")); err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = a.Call(ctx, t.Name()+".b", nil)
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the request never reached the handler")
	}
	stop()
	if !ended.Load() {
		t.Fatal("stop returned before the handler did")
	}
	stop() // twice is harmless
	if _, err := a.Call(ctx, t.Name()+".b", nil); !errors.Is(err, noderpc.ErrUnreachable) {
		t.Fatalf("call after stop: %v, want ErrUnreachable", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after stop, %d before", runtime.NumGoroutine(), base)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var errLostMine = errors.New("lost, mine")

// TestIntegrationCallNodeDies: a node that dies while it holds a request
// (its NATS connection closes, as a killed process's does) does not cost
// the caller its deadline: the next probe meets no responders and the
// call ends with ErrLost. A node that lives but does not answer in time
// answers the probes, and its call ends at its deadline.
func TestIntegrationCallNodeDies(t *testing.T) {
	url := natstest.Shared(t).URL
	connect := func() *nats.Conn {
		nc, err := nats.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	probe := 200 * time.Millisecond
	a := noderpc.New(connect(), noderpc.Config{Node: t.Name() + ".a", Lost: errLostMine, Probe: probe})
	dying := connect()
	b := noderpc.New(dying, noderpc.Config{Node: t.Name() + ".b"})
	held := make(chan struct{}, 2)
	stop, err := b.Serve(func(ctx context.Context, req []byte) []byte {
		held <- struct{}{}
		<-ctx.Done()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	// Alive but slow: the deadline, not ErrLost.
	ctx, cancel := context.WithTimeout(context.Background(), 5*probe)
	defer cancel()
	if _, err := a.Call(ctx, t.Name()+".b", nil); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, noderpc.ErrLost) {
		t.Fatalf("call to a slow node: %v, want its deadline", err)
	}
	<-held

	// Dies holding the request.
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() {
		<-held
		dying.Close()
	}()
	start := time.Now()
	_, err = a.Call(ctx, t.Name()+".b", nil)
	if !errors.Is(err, noderpc.ErrLost) || !errors.Is(err, errLostMine) {
		t.Fatalf("call to a node that died holding it: %v, want ErrLost", err)
	}
	if d := time.Since(start); d > 10*probe {
		t.Fatalf("call to a node that died holding it ended after %v, want within a few probes (%v)", d, probe)
	}
	t.Logf("the call ended %v after it started, the node closed at once (probe every %v)", time.Since(start).Round(time.Millisecond), probe)
}
