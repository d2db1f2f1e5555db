package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sparkgate/sparkgate/census"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/lease"
	"github.com/sparkgate/sparkgate/natslog"
	"github.com/sparkgate/sparkgate/noderpc"
)

// wireEvents puts the users' event logs in NATS JetStream when -nats-url
// is set, with a readiness check, and makes each user's session live on
// the node holding the user's lease (package lease), which the other nodes
// reach by NATS request/reply (package noderpc), with the session and
// stream limits counted over every node (package census); otherwise it changes
// nothing and the hub keeps them in memory. The returned func closes the connection, after
// the gateway.
func wireEvents(ctx context.Context, cfg *config, gc *gateway.Config) (closeFn func(), err error) {
	if cfg.NATSURL == "" {
		return func() {}, nil
	}
	nc, err := nats.Connect(cfg.NATSURL,
		nats.Name("sparkgate"),
		nats.Timeout(5*time.Second),
		nats.MaxReconnects(-1),    // NATS coming back is the normal end of an outage
		nats.ReconnectBufSize(-1), // an append during an outage fails instead of arriving late (natslog.Open)
	)
	if err != nil {
		return nil, fmt.Errorf("nats: connect %s: %w", cfg.NATSURL, err)
	}
	openCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	l, err := natslog.Open(openCtx, nc, natslog.Config{MaxEvents: cfg.EventBuffer, MaxAge: cfg.EventBufferAge, Fenced: gateway.ErrOwnedElsewhere})
	if err != nil {
		nc.Close()
		return nil, err
	}
	gc.Events.Remote = l
	gc.EventLog = l
	// One owner node per user: a session opens here only while this node
	// holds the user's lease.
	leases, err := lease.Open(openCtx, nc, lease.Config{TTL: cfg.LeaseTTL})
	if err != nil {
		nc.Close()
		return nil, err
	}
	gc.Ownership = lease.Owner{Leases: leases, Log: l, Elsewhere: gateway.ErrOwnedElsewhere}
	// -max-sessions and -max-streams count every node's.
	cen, err := census.Open(openCtx, nc, census.Config{Node: leases.Node()})
	if err != nil {
		nc.Close()
		return nil, err
	}
	gc.Census = cen
	// A request for a user owned by another node reaches the session
	// there (a remote session, over NATS request/reply).
	gc.Peers = noderpc.New(nc, noderpc.Config{Node: leases.Node(), Unreachable: gateway.ErrNodeUnreachable, Lost: gateway.ErrNodeLost})
	gc.Ready = append(gc.Ready, gateway.ReadyCheck{Name: "nats", Check: func(ctx context.Context) error {
		return nc.FlushWithContext(ctx)
	}})
	return func() {
		logRenewals(gc.Logger, leases.Stats(), leases.TTL())
		cen.Close()
		nc.Close()
	}, nil
}

// logRenewals logs, as the node stops, how its lease renewals went: how
// late the latest came and how near its deadline, a figure for sizing
// -lease-ttl. It is a warning when a lease was lost, a renewal retried, or
// one came with less than a third of the TTL to spare: -lease-ttl is then
// too short for this node's load.
func logRenewals(log *slog.Logger, st lease.Stats, ttl time.Duration) {
	if log == nil {
		log = slog.Default()
	}
	level := slog.LevelInfo
	if st.Lost > 0 || st.Retries > 0 || (st.Renewals > 0 && st.MinLeft < ttl/3) {
		level = slog.LevelWarn
	}
	log.Log(context.Background(), level, "lease renewals", "renewals", st.Renewals, "retried", st.Retries, "lost", st.Lost,
		"latest", st.MaxLate.Round(time.Millisecond), "least_left", st.MinLeft.Round(time.Millisecond))
}
