// Package noderpc carries requests between gateway nodes over NATS
// request/reply: a node asks another node by its id, and each node answers
// on one subject of its own.
//
// # Subjects
//
// A node serves on sg.node.<node>.rpc, one subscription per node whatever
// the number of users (never one per user: subscriptions cost the server
// memory and interest-graph work per subject). The request names what it
// is about inside its payload, which this package does not read.
//
// # Deadlines
//
// Call sends the time left before its context's deadline in the Sg-Timeout
// header (a duration, not a clock time: the nodes' clocks may differ), and
// the serving node runs the handler under a context with that timeout. A
// context without a deadline gets DefaultTimeout.
//
// # A node that dies holding a request
//
// A request that reached a node that then dies gets no answer: without
// more, its caller would wait for the whole deadline. So a call still
// waiting after Config.Probe asks the node, every Probe, whether it still
// serves (a probe: a request the serving node answers at once, busy or
// not, without a handler). When NATS answers a probe with no responders,
// the node's subscription is gone — its process died, or it lost NATS —
// and the call ends at once with ErrLost. A node that lives but is slow
// answers its probes, and its calls wait for their deadline as before.
//
// # Errors
//
// Call returns an error wrapping ErrUnreachable (and Config.Unreachable)
// when no node answers on the subject (the node is gone: NATS says no
// responders at once) or the serving node is busy: the request was not
// served. It returns one wrapping ErrLost (and Config.Lost) when the node
// went away while it held the request: it may or may not have served it.
// It returns one wrapping context.DeadlineExceeded when the answer did
// not come in time. What the handler answers, errors of its own included,
// is the reply's payload.
//
// # Goroutines
//
// Serve's subscription delivers requests on the NATS client's goroutine;
// each request is then handled in a goroutine of its own, at most
// Config.MaxConcurrent at once (more are answered busy at once). The stop
// function Serve returns unsubscribes, cancels the running handlers'
// contexts and waits for them.
package noderpc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// DefaultTimeout bounds a Call whose context has no deadline.
const DefaultTimeout = 30 * time.Second

// Header names of the requests and replies.
const (
	hdrTimeout = "Sg-Timeout" // the request's time left, a Go duration
	hdrBusy    = "Sg-Busy"    // set on a reply the node refused to serve
	hdrProbe   = "Sg-Probe"   // set on a probe: is the node still there?
)

// DefaultProbe is how long a call waits before it starts probing the
// node, and how often it probes then.
const DefaultProbe = time.Second

// Errors of the calls.
var (
	// ErrUnreachable wraps a call that no node served: nobody listens on
	// the node's subject, the node is busy, or NATS cannot be reached.
	ErrUnreachable = errors.New("noderpc: the node cannot be reached")
	// ErrLost wraps a call whose node went away while it held the
	// request (a probe met no responders): the request may have been
	// served or not.
	ErrLost = errors.New("noderpc: the node went away while it handled the request")
	// ErrBadNode is returned for a node id that cannot be a subject token.
	ErrBadNode = errors.New("noderpc: node id not usable in a subject")
)

// Config configures Peers. The zero value of a field selects its default.
type Config struct {
	// Node is this node's id (lease.Leases.Node()). Required to Serve.
	Node string
	// Unreachable, when set, is wrapped beside ErrUnreachable in Call's
	// errors (gateway.ErrNodeUnreachable: the gateway matches its own).
	Unreachable error
	// Lost, when set, is wrapped beside ErrLost in Call's errors.
	Lost error
	// Probe is how long a call waits for its answer before it checks
	// that the node is still there, and how often it checks then; zero
	// means DefaultProbe, a negative value never.
	Probe time.Duration
	// MaxConcurrent is how many requests Serve handles at once; zero
	// means 256.
	MaxConcurrent int
}

// Peers calls other nodes and serves this one. Its methods are safe for
// concurrent use.
type Peers struct {
	nc  *nats.Conn
	cfg Config
}

// New returns the Peers of the node cfg.Node on nc, which stays the
// caller's.
func New(nc *nats.Conn, cfg Config) *Peers {
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 256
	}
	if cfg.Probe == 0 {
		cfg.Probe = DefaultProbe
	}
	return &Peers{nc: nc, cfg: cfg}
}

// Node returns this node's id.
func (p *Peers) Node() string { return p.cfg.Node }

// Subject returns the subject node serves on.
func Subject(node string) string { return "sg.node." + node + ".rpc" }

// validNode reports whether node can stand in a subject: not empty, and
// no white space or wildcard. A dot is allowed (host names have them): it
// makes more tokens, each still literal.
func validNode(node string) bool {
	if node == "" || strings.ContainsAny(node, " \t\r\n*>") {
		return false
	}
	for _, tok := range strings.Split(node, ".") {
		if tok == "" {
			return false
		}
	}
	return true
}

// Call sends req to node and returns the node's answer.
func (p *Peers) Call(ctx context.Context, node string, req []byte) ([]byte, error) {
	if !validNode(node) {
		return nil, fmt.Errorf("%w: %q", ErrBadNode, node)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	dl, _ := ctx.Deadline()
	left := time.Until(dl)
	if left <= 0 {
		return nil, fmt.Errorf("noderpc: call %s: %w", node, context.DeadlineExceeded)
	}
	m := nats.NewMsg(Subject(node))
	m.Data = req
	m.Header.Set(hdrTimeout, left.String())
	ctx, lost := context.WithCancelCause(ctx)
	defer lost(nil)
	defer p.probe(ctx, node, lost)()
	reply, err := p.nc.RequestMsgWithContext(ctx, m)
	switch {
	case err != nil && errors.Is(context.Cause(ctx), ErrLost):
		return nil, p.lost(node)
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return nil, fmt.Errorf("noderpc: call %s: %w", node, context.DeadlineExceeded)
	case errors.Is(err, context.Canceled):
		return nil, fmt.Errorf("noderpc: call %s: %w", node, context.Canceled)
	default: // no responders, connection closed or cut
		return nil, p.unreachable(node, err)
	}
	if reply.Header.Get(hdrBusy) != "" {
		return nil, p.unreachable(node, errors.New("busy"))
	}
	return reply.Data, nil
}

// probe checks, while a call to node waits for its answer, that the node
// still serves (see the package doc), and ends the call's context with
// ErrLost once it does not. The returned stop waits for it.
func (p *Peers) probe(ctx context.Context, node string, lost context.CancelCauseFunc) (stop func()) {
	every := p.cfg.Probe
	if every < 0 {
		return func() {}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			m := nats.NewMsg(Subject(node))
			m.Header.Set(hdrProbe, "1")
			pctx, cancel := context.WithTimeout(ctx, every)
			_, err := p.nc.RequestMsgWithContext(pctx, m)
			cancel()
			if errors.Is(err, nats.ErrNoResponders) {
				lost(ErrLost)
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

func (p *Peers) lost(node string) error {
	if p.cfg.Lost != nil {
		return fmt.Errorf("%w: %w: %s", p.cfg.Lost, ErrLost, node)
	}
	return fmt.Errorf("%w: %s", ErrLost, node)
}

func (p *Peers) unreachable(node string, err error) error {
	if p.cfg.Unreachable != nil {
		return fmt.Errorf("%w: %w: %s: %w", p.cfg.Unreachable, ErrUnreachable, node, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnreachable, node, err)
}

// Serve answers the requests to this node with h until stop is called.
// h's ctx ends at the caller's deadline or when Serve stops; what it
// returns is the answer, except after the caller's deadline: then the
// caller reports its deadline and no answer is sent.
func (p *Peers) Serve(h func(ctx context.Context, req []byte) []byte) (stop func(), err error) {
	if !validNode(p.cfg.Node) {
		return nil, fmt.Errorf("%w: %q", ErrBadNode, p.cfg.Node)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu     sync.Mutex
		closed bool // no handler starts once set
		wg     sync.WaitGroup
	)
	sem := make(chan struct{}, p.cfg.MaxConcurrent)
	sub, err := p.nc.Subscribe(Subject(p.cfg.Node), func(m *nats.Msg) {
		if m.Reply == "" {
			return // nobody waits for an answer
		}
		if m.Header.Get(hdrProbe) != "" { // the node is here, busy or not
			_ = m.Respond(nil)
			return
		}
		select {
		case sem <- struct{}{}:
		default:
			busy := nats.NewMsg(m.Reply)
			busy.Header.Set(hdrBusy, "1")
			_ = m.RespondMsg(busy)
			return
		}
		mu.Lock()
		if closed {
			mu.Unlock()
			<-sem
			return
		}
		wg.Add(1)
		mu.Unlock()
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			rctx, rcancel := requestContext(ctx, m.Header.Get(hdrTimeout))
			defer rcancel()
			answer := h(rctx, m.Data)
			if errors.Is(rctx.Err(), context.DeadlineExceeded) {
				// The caller's deadline has passed: it reports the
				// deadline, and an answer now would race with that
				// (a late nil answer read as success).
				return
			}
			_ = m.Respond(answer) // the caller may have left
		}()
	})
	if err == nil {
		// The subscription is the server's when Serve returns: a call
		// made then finds it.
		err = p.nc.FlushTimeout(5 * time.Second)
	}
	if err != nil {
		if sub != nil {
			_ = sub.Unsubscribe()
		}
		cancel()
		return nil, fmt.Errorf("%w: serve: %w", ErrUnreachable, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			closed = true
			mu.Unlock()
			_ = sub.Unsubscribe()
			// The server drops the subscription when it reads the
			// UNSUB; until then it still routes requests here, where
			// nobody answers them, and the caller waits for its deadline.
			// The flush's round trip makes the server's "no responders"
			// the answer for any call after stop returns.
			_ = p.nc.FlushTimeout(2 * time.Second)
			cancel()
			wg.Wait()
		})
	}, nil
}

// requestContext is parent bounded by the request's timeout header; a
// missing or bad header means DefaultTimeout.
func requestContext(parent context.Context, timeout string) (context.Context, context.CancelFunc) {
	d, err := time.ParseDuration(timeout)
	if err != nil || d <= 0 || d > DefaultTimeout {
		d = DefaultTimeout
	}
	return context.WithTimeout(parent, d)
}
