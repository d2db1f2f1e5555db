package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/internal/natsserver"
	"github.com/sparkgate/sparkgate/internal/pgserver"
	"github.com/sparkgate/sparkgate/sse/ssetest"
	"github.com/sparkgate/sparkgate/webpush"
)

// The cluster scenario (issue 18): -cluster-nodes gateway nodes as their
// own processes on one private NATS with JetStream and one private
// PostgreSQL, beside the run's ejabberd, all on this machine.
//
//   - throughput with 1, 2, ... nodes: the throughput scenario's pairs,
//     their users spread over the first k nodes (a pair's sender on node
//     i mod k, its receiver on the next), each user logging in, streaming
//     and posting on its own node (the owner); delivered messages per
//     second, as a ratio to one node;
//   - cross-node delivery: A (owned by node 1) posts to B (owned by node
//     2), who has one stream on node 2 and one on node 3 (node 1 with two
//     nodes); the event the owner appends reaches the first stream on its
//     own node and the second through NATS: the difference per message is
//     what a cross-node delivery adds;
//   - a REST call on a node that does not own the user: A's chat state
//     posted on node 1 (its owner) and on node 2 in turn; the difference is
//     what the remote session costs (owner lookup and NATS request).
type Cluster struct {
	Nodes    int          `json:"nodes"`
	Pairs    int          `json:"pairs"`
	InFlight int          `json:"in_flight_per_pair"`
	Seconds  float64      `json:"seconds"`
	Runs     []ClusterRun `json:"throughput"`

	Messages    int  `json:"messages"`
	Lost        int  `json:"lost"` // of the messages (not there within 5 s)
	SameNodeUS  Dist `json:"same_node_us"`
	CrossNodeUS Dist `json:"cross_node_us"`
	// CrossAddedUS is the distribution of cross minus same, per message.
	CrossAddedUS Dist `json:"cross_added_us"`

	Calls         int  `json:"calls"`
	OwnerCallUS   Dist `json:"owner_call_us"`
	RemoteCallUS  Dist `json:"non_owner_call_us"`
	RemoteAddedUS Dist `json:"non_owner_added_us"`

	Note string `json:"note,omitempty"`
	// OwnershipsLost counts the nodes' "session ownership lost" log lines
	// (a lease not renewed in time, under load).
	OwnershipsLost int `json:"ownerships_lost"`
	// LeaseRenewals are the nodes' "lease renewals" log lines (renewals,
	// retried, lost, latest, least_left) where a node warned: a renewal
	// retried or lost, or one with under a third of the TTL to spare.
	LeaseRenewals []string `json:"lease_renewals,omitempty"`
	// LoadAvg is the machine's load average before and after the run.
	LoadAvg string `json:"loadavg"`
}

// ClusterRun is the throughput with Nodes nodes.
type ClusterRun struct {
	Nodes     int     `json:"nodes"`
	MsgPerSec float64 `json:"msg_per_s"`
	Delivered int     `json:"delivered"`
	Ratio     float64 `json:"ratio_to_one_node"`
	LatencyMs Dist    `json:"latency_ms"`
	// Lost were accepted but had not arrived 10 s after the sending
	// stopped; Duplicates arrived twice.
	Lost       int `json:"lost"`
	Duplicates int `json:"duplicates"`
	// StreamsClosed are receivers' streams the gateway ended (their
	// messages after it count lost here; a client would resume).
	StreamsClosed int64 `json:"streams_closed"`
}

// clusterWarmup messages or calls go first and are not measured.
const clusterWarmup = 50

func (b *bench) cluster(ctx context.Context) error {
	k := b.opt.clusterNodes
	if k < 2 {
		return fmt.Errorf("-cluster-nodes %d: at least 2", k)
	}
	c := &Cluster{Nodes: k, Pairs: b.opt.pairs, InFlight: b.opt.inFlight, Seconds: b.opt.duration.Seconds()}
	b.res.Cluster = c
	nodes, logs, stop, err := b.startCluster(ctx, k)
	if err != nil {
		return err
	}
	defer func() {
		stop() // the nodes log their lease renewals as they stop
		for _, l := range logs {
			if data, err := os.ReadFile(l); err == nil {
				c.OwnershipsLost += strings.Count(string(data), "session ownership lost")
				for line := range strings.Lines(string(data)) {
					if _, figures, ok := strings.Cut(line, `msg="lease renewals" `); ok {
						c.LeaseRenewals = append(c.LeaseRenewals, strings.TrimSpace(figures))
					}
				}
			}
		}
	}()

	// A first run on all nodes, not measured, warms ejabberd, NATS,
	// PostgreSQL and the nodes, so that the one-node run is not the cold one.
	for n := 0; n <= k; n++ {
		var names []string
		for i := range b.opt.pairs {
			names = append(names, b.user(fmt.Sprintf("cl%d-s%d", n, i)), b.user(fmt.Sprintf("cl%d-r%d", n, i)))
		}
		if err := forEach(ctx, len(names), 8, func(ctx context.Context, i int) error {
			return b.admin.Register(ctx, names[i], b.password)
		}); err != nil {
			return fmt.Errorf("register: %w", err)
		}
		spread := n
		if n == 0 {
			spread = k
		}
		at := func(u int) *api {
			pairIdx := u / 2
			return nodes[(pairIdx+u%2)%spread]
		}
		b.log.Info("cluster throughput", "nodes", spread, "warm-up", n == 0)
		b.streamsClosed.Store(0)
		rate, got, lat, lost, dups, err := b.throughputGateway(ctx, names, at)
		b.res.addLost(fmt.Sprintf("cluster-throughput-%d", n), lost, dups)
		if err != nil {
			return err
		}
		b.clients.closeIdle()
		if n == 0 {
			continue
		}
		run := ClusterRun{Nodes: n, MsgPerSec: round(rate, 0), Delivered: got, LatencyMs: dist(lat, time.Millisecond), Lost: lost, Duplicates: dups, StreamsClosed: b.streamsClosed.Load()}
		if len(c.Runs) > 0 {
			run.Ratio = ratio(rate, c.Runs[0].MsgPerSec)
		} else {
			run.Ratio = 1
		}
		c.Runs = append(c.Runs, run)
	}
	if err := b.crossNode(ctx, c, nodes); err != nil {
		return err
	}
	c.LoadAvg = b.res.Machine.LoadStart + " -> " + loadAvg()
	c.Note = fmt.Sprintf("nodes as separate processes on this machine with ejabberd, nats-server and PostgreSQL; throughput (after one unmeasured run on all nodes): each user logs in, streams and posts on its own node; cross-node: one message at a time after %d unmeasured, from before the REST POST on the sender's node to the parsed SSE event on the receiver's owner node (same) and on another node (cross); REST: a chat state POST on the user's owner node and on another node in turn", clusterWarmup)
	return nil
}

// crossNode measures cross-node delivery and non-owner REST calls.
func (b *bench) crossNode(ctx context.Context, c *Cluster, nodes []*api) error {
	a, bb := b.user("cl-a"), b.user("cl-b")
	for _, u := range []string{a, bb} {
		if err := b.admin.Register(ctx, u, b.password); err != nil {
			return fmt.Errorf("register: %w", err)
		}
	}
	n1, n2, n3 := nodes[0], nodes[1], nodes[0]
	if len(nodes) > 2 {
		n3 = nodes[2]
	}
	hc := b.clients.forLogin()
	ta, err := n1.login(ctx, hc, a, b.password) // node 1 owns A
	if err != nil {
		return err
	}
	tb, err := n2.login(ctx, hc, bb, b.password) // node 2 owns B
	if err != nil {
		return err
	}
	same, cross := make(chan arrival, 64), make(chan arrival, 64)
	onto := func(ch chan arrival) func(ev ssetest.Event, at time.Time) {
		return func(ev ssetest.Event, at time.Time) {
			if body, ok := chatBody(ev); ok {
				select {
				case ch <- arrival{key: body, at: at}:
				default: // the run is waiting for no one: drop
				}
			}
		}
	}
	s1, err := n2.open(ctx, hc, tb, onto(same))
	if err != nil {
		return err
	}
	defer s1.close()
	s2, err := n3.open(ctx, hc, tb, onto(cross))
	if err != nil {
		return err
	}
	defer s2.close()

	n := b.opt.messages
	c.Messages = n
	var sameLat, crossLat, added []time.Duration
	lost := 0
	wait := func(ch chan arrival, key string) (time.Time, bool) {
		timeout := time.NewTimer(5 * time.Second)
		defer timeout.Stop()
		for {
			select {
			case ar := <-ch:
				if ar.key == key {
					return ar.at, true
				}
				// An earlier message's, late: counted lost already.
			case <-timeout.C:
				return time.Time{}, false
			case <-ctx.Done():
				return time.Time{}, false
			}
		}
	}
	for i := range clusterWarmup + n {
		key := "cx " + strconv.Itoa(i) + " " + b.prefix
		t0 := time.Now()
		if err := n1.post(ctx, hc, ta, bb, key); err != nil {
			return err
		}
		ts, ok1 := wait(same, key)
		tc, ok2 := wait(cross, key)
		if !ok1 || !ok2 {
			lost++
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		if i >= clusterWarmup {
			sameLat = append(sameLat, ts.Sub(t0))
			crossLat = append(crossLat, tc.Sub(t0))
			added = append(added, tc.Sub(ts))
		}
	}
	b.res.addLost("cluster-cross-node", lost, 0)
	c.Lost = lost
	c.SameNodeUS, c.CrossNodeUS, c.CrossAddedUS = dist(sameLat, time.Microsecond), dist(crossLat, time.Microsecond), dist(added, time.Microsecond)

	// REST on the owner and on another node, in turn.
	var own, remote, extra []time.Duration
	path := "/sparkweb/api/rest/chat/chatstate/active/" + url.PathEscape(bb)
	c.Calls = n
	for i := range clusterWarmup + n {
		var d [2]time.Duration // on the owner, on another node
		for _, j := range [][]int{{0, 1}, {1, 0}}[i%2] {
			t0 := time.Now()
			if err := []*api{n1, n2}[j].do(ctx, hc, http.MethodPost, path, ta, "", ""); err != nil {
				return err
			}
			d[j] = time.Since(t0)
		}
		if i >= clusterWarmup {
			own, remote, extra = append(own, d[0]), append(remote, d[1]), append(extra, d[1]-d[0])
		}
	}
	c.OwnerCallUS, c.RemoteCallUS, c.RemoteAddedUS = dist(own, time.Microsecond), dist(remote, time.Microsecond), dist(extra, time.Microsecond)
	return nil
}

// startCluster starts a private NATS and PostgreSQL and k gateway nodes
// sharing them and one set of keys; logs are the nodes' log files; stop
// ends them all.
func (b *bench) startCluster(ctx context.Context, k int) (nodes []*api, logs []string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "sparkbench-cluster-")
	if err != nil {
		return nil, nil, nil, err
	}
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		os.RemoveAll(dir)
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	natsBin, err := natsserver.Find()
	if err != nil {
		return nil, nil, nil, err
	}
	natsDir := filepath.Join(dir, "nats")
	if err := os.MkdirAll(natsDir, 0o700); err != nil {
		return nil, nil, nil, err
	}
	b.log.Info("starting nats-server")
	ns, err := natsserver.Start(natsBin, natsDir, 0)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("nats-server: %w", err)
	}
	stops = append(stops, ns.Stop)

	pgDir := filepath.Join(dir, "pg")
	if err := os.MkdirAll(pgDir, 0o700); err != nil {
		return nil, nil, nil, err
	}
	if os.Geteuid() == 0 {
		// PostgreSQL runs as the postgres OS user, who must pass through dir.
		if err := os.Chmod(dir, 0o711); err != nil {
			return nil, nil, nil, err
		}
	}
	b.log.Info("starting PostgreSQL")
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	pg, err := pgserver.Start(sctx, pgDir)
	if err == nil {
		stops = append(stops, func() { pg.Close() })
		err = pg.Admin(sctx, "CREATE DATABASE sparkbench")
	}
	cancel()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("PostgreSQL: %w", err)
	}

	bin := filepath.Join(dir, "sparkgate")
	if b.gw != nil {
		bin = b.gw.bin
	} else if err := buildGateway(ctx, bin); err != nil {
		return nil, nil, nil, err
	}
	first := filepath.Join(dir, "node1")
	if err := os.MkdirAll(first, 0o700); err != nil {
		return nil, nil, nil, err
	}
	// One set of keys for all: a token of one node is good on every node.
	if _, err := auth.LoadOrCreateKeys(filepath.Join(first, "keys")); err != nil {
		return nil, nil, nil, err
	}
	if _, err := webpush.LoadOrCreateVAPID(first); err != nil {
		return nil, nil, nil, err
	}
	var publicURL string
	for i := 1; i <= k; i++ {
		data := filepath.Join(dir, "node"+strconv.Itoa(i))
		if i > 1 {
			if err := copyFiles(filepath.Join(first, "keys"), filepath.Join(data, "keys")); err != nil {
				return nil, nil, nil, err
			}
			if err := copyFiles(first, data, "vapid.json"); err != nil {
				return nil, nil, nil, err
			}
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, nil, err
		}
		addr := ln.Addr().String()
		ln.Close()
		if i == 1 {
			publicURL = "http://localhost:" + addr[strings.LastIndexByte(addr, ':')+1:]
		}
		g := &gatewayProc{bin: bin, dataDir: data, addr: addr, log: b.log, env: []string{
			"SPARKGATE_LISTEN=" + addr,
			// One public URL (the tokens' issuer) for all, as behind a proxy.
			"SPARKGATE_PUBLIC_URL=" + publicURL,
			"SPARKGATE_XMPP_ADDR=" + b.c2s,
			"SPARKGATE_XMPP_DOMAIN=" + b.domain,
			"SPARKGATE_XMPP_TLS=optional",
			"SPARKGATE_ADMIN_URL=" + b.admin.BaseURL,
			"SPARKGATE_DATA_DIR=" + data,
			"SPARKGATE_STORE=" + pg.URL("sparkbench"),
			"SPARKGATE_NATS_URL=" + ns.URL,
			"SPARKGATE_WEB_CLIENT=false",
			"SPARKGATE_API_USER_BURST=0", // as the single gateway's (main.go)
			"SPARKGATE_LOG_LEVEL=warn",
		}}
		b.log.Info("starting gateway node", "node", i, "listen", addr, "log", filepath.Join(data, "gateway.log"))
		if err := g.start(ctx); err != nil {
			return nil, nil, nil, fmt.Errorf("node %d: %w", i, err)
		}
		stops = append(stops, func() {
			if err := g.stop(); err != nil {
				b.log.Warn("gateway node exit", "node", i, "err", err)
			}
		})
		nodes = append(nodes, &api{base: "http://" + addr})
		logs = append(logs, filepath.Join(data, "gateway.log"))
	}
	return nodes, logs, stop, nil
}

// copyFiles copies the regular files of src (only those named, when
// names are given) into dst, made if missing.
func copyFiles(src, dst string, names ...string) error {
	if len(names) == 0 {
		entries, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				names = append(names, e.Name())
			}
		}
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, n), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
