package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sparkgate/sparkgate/internal/freeport"
	"github.com/sparkgate/sparkgate/internal/natsserver"
	"github.com/sparkgate/sparkgate/internal/pgserver"
	"github.com/sparkgate/sparkgate/internal/rrproxy"
)

// clusterSpec is what runCluster starts.
type clusterSpec struct {
	dir       string   // .dev: nats/, pg/, node<i>/ under it
	bin       string   // the gateway binary
	listen    string   // the proxy's address
	publicURL string   // the proxy's URL as browsers see it
	env       []string // every node's environment but its own address, data dir and engines
	nodes     int
	login     string // the demo login lines to print
}

// database is the PostgreSQL database the nodes share.
const database = "sparkgate"

// runCluster starts NATS and PostgreSQL (their state kept under dir from
// one run to the next, as ejabberd's is), the nodes on free loopback ports,
// each with a data directory of its own holding one shared set of keys (the
// first node makes them), and the proxy; it serves until ctx ends or a
// node exits, then stops everything, proxy and nodes first.
func runCluster(ctx context.Context, spec clusterSpec, log *slog.Logger, stdout, stderr io.Writer) error {
	natsBin, err := natsserver.Find()
	if err != nil {
		return err
	}
	natsDir := filepath.Join(spec.dir, "nats")
	if err := os.MkdirAll(natsDir, 0o700); err != nil {
		return err
	}
	log.Info("starting nats-server", "dir", natsDir)
	ns, err := natsserver.Start(natsBin, natsDir, 0)
	if err != nil {
		return fmt.Errorf("nats-server: %w", err)
	}
	defer func() {
		ns.Stop()
		log.Info("nats-server stopped")
	}()

	pgDir := filepath.Join(spec.dir, "pg")
	if err := os.MkdirAll(pgDir, 0o700); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		// PostgreSQL runs as the postgres OS user (pgserver), who must be
		// able to pass through dir to reach pg/; dir stays unlistable.
		if err := os.Chmod(spec.dir, 0o711); err != nil {
			return err
		}
	}
	log.Info("starting PostgreSQL", "dir", pgDir)
	startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	pg, err := pgserver.Start(startCtx, pgDir)
	if err == nil {
		err = pg.Admin(startCtx, "CREATE DATABASE "+database)
		if err != nil && strings.Contains(err.Error(), "already exists") {
			err = nil
		}
	}
	cancel()
	if err != nil {
		if pg != nil {
			pg.Close()
		}
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	defer func() {
		if err := pg.Close(); err != nil {
			log.Warn("stopping PostgreSQL", "err", err)
		}
		log.Info("PostgreSQL stopped")
	}()

	var nodes []*node
	defer func() {
		for _, n := range nodes {
			n.stop()
		}
		log.Info("gateway nodes stopped", "nodes", len(nodes))
	}()
	var lines []string
	for i := 1; i <= spec.nodes; i++ {
		data := filepath.Join(spec.dir, "node"+strconv.Itoa(i))
		if err := os.MkdirAll(data, 0o700); err != nil {
			return err
		}
		if i > 1 { // one set of keys: tokens and push subscriptions of one node are good on all
			if err := shareKeys(filepath.Join(spec.dir, "node1"), data); err != nil {
				return fmt.Errorf("keys for node %d: %w", i, err)
			}
		}
		listen, err := freeport.Addr()
		if err != nil {
			return err
		}
		logPath := filepath.Join(data, "gateway.log")
		out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		defer out.Close()
		env := append(spec.env[:len(spec.env):len(spec.env)],
			"SPARKGATE_LISTEN="+listen,
			"SPARKGATE_DATA_DIR="+data,
			"SPARKGATE_STORE="+pg.URL(database),
			"SPARKGATE_NATS_URL="+ns.URL,
		)
		log.Info("starting gateway node", "node", i, "listen", listen, "log", logPath)
		n, err := startNode(ctx, spec.bin, listen, env, out, out)
		if err != nil {
			return fmt.Errorf("node %d (log %s): %w", i, logPath, err)
		}
		nodes = append(nodes, n)
		lines = append(lines, fmt.Sprintf("    node %d:       %s  pid %d  log %s", i, n.url, n.cmd.Process.Pid, logPath))
	}

	var urls []*url.URL
	for _, n := range nodes {
		u, _ := url.Parse(n.url)
		urls = append(urls, u)
	}
	ln, err := net.Listen("tcp", spec.listen)
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	srv := &http.Server{Handler: rrproxy.New(urls), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }() // ends at Shutdown below
	defer func() {
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutCtx)
		<-served
	}()

	fmt.Fprintf(stdout, "\n  sparkgate cluster is ready: %d nodes behind a round-robin proxy\n\n    web client:   %s/  (the proxy)\n%s\n    NATS:         %s\n    PostgreSQL:   %s\n%s\n  Ctrl-C stops the proxy, the nodes, PostgreSQL, NATS and ejabberd.\n\n",
		len(nodes), spec.publicURL, strings.Join(lines, "\n"), ns.URL, pg.URL(database), spec.login)

	down := make(chan int, len(nodes))
	for i, n := range nodes {
		go func() { // ends when the node does (at the latest when stopped)
			<-n.done
			down <- i + 1
		}()
	}
	select {
	case i := <-down:
		return fmt.Errorf("node %d exited: %v", i, nodes[i-1].err)
	case err := <-served:
		served <- err // for the deferred shutdown
		return fmt.Errorf("proxy: %w", err)
	case <-ctx.Done():
		log.Info("stopping the cluster")
		return nil
	}
}

// shareKeys gives the node with data directory dst the keys of the node
// with src: the keys directory (JWT signing, sealing) and the VAPID key
// pair of Web Push.
func shareKeys(src, dst string) error {
	if err := copyDir(filepath.Join(src, "keys"), filepath.Join(dst, "keys")); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(src, "vapid.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil // push off
	}
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dst, "vapid.json"), b, 0o600)
}

// copyDir copies the regular files of src into dst (made if missing),
// replacing what dst has under the same names.
func copyDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return errors.New(src + " is empty")
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
