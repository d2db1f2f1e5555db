// Command sparkdev is what `make dev` runs: it starts a private ejabberd
// with the project's configuration under ./.dev/, creates a demo user,
// builds and starts the gateway against it, and prints the web client's URL
// and the demo login. Ctrl-C stops both.
//
// The gateway listens on 127.0.0.1:8080 unless SPARKGATE_LISTEN says
// otherwise; every other SPARKGATE_* variable is passed through to it.
//
// With -server prosody (`make dev SERVER=prosody`) the XMPP server is a
// private Prosody 0.12 instead (internal/prosody): the gateway manages its
// accounts with prosodyctl (admin-backend prosody), logs users in with
// tokens the project's mod_sparkgate_token checks, and is its push app
// server (mod_cloud_notify). One node only; prosody.go.
//
// With -nodes N (N > 1; `make cluster`, `make dev NODES=N`) it starts a
// cluster instead: a private nats-server with JetStream and a private
// PostgreSQL beside ejabberd, N gateway nodes on loopback ports of their
// own sharing them (and one set of keys), and a round-robin proxy on the
// listen address that knows nothing about users; cluster.go.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberd"
	"github.com/sparkgate/sparkgate/xmppadmin"
)

const demoUser = "demo"

func main() {
	nodes := flag.Int("nodes", 1, "gateway nodes; more than one starts a cluster (NATS, PostgreSQL, a round-robin proxy) as make cluster does")
	server := flag.String("server", "ejabberd", "the XMPP server to start: ejabberd or prosody")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch *server {
	case "ejabberd":
		err = run(ctx, ".dev", *nodes, os.Stdout, os.Stderr)
	case "prosody":
		if *nodes != 1 {
			err = errors.New("-server prosody runs one node (the cluster is wired for ejabberd only)")
		} else {
			err = runProsody(ctx, ".dev", os.Stdout, os.Stderr)
		}
	default:
		err = fmt.Errorf("-server: %q is neither ejabberd nor prosody", *server)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sparkdev:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir string, nodes int, stdout, stderr io.Writer) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	log.Info("starting ejabberd", "dir", filepath.Join(dir, "ejabberd"))
	startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	ej, err := ejabberd.Start(startCtx, ejabberd.Config{Dir: filepath.Join(dir, "ejabberd"), Logger: log})
	cancel()
	if err != nil {
		return fmt.Errorf("ejabberd: %w", err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
		defer cancel()
		if err := ej.Stop(stopCtx); err != nil {
			log.Warn("stopping ejabberd", "err", err)
		}
		log.Info("ejabberd stopped")
	}()

	password, err := demoPassword(dir)
	if err != nil {
		return err
	}
	admin := &xmppadmin.Ejabberd{BaseURL: ej.AdminURL(), Domain: ej.Domain()}
	if err := ensureUser(ctx, admin, demoUser, password); err != nil {
		return fmt.Errorf("demo user: %w", err)
	}

	// The gateway serves as ejabberd's push app server (XEP-0357) on its
	// component listener, with the secret this ejabberd run was given.
	secretFile := filepath.Join(dir, "ejabberd", "push-component.secret")
	if err := os.WriteFile(secretFile, []byte(ej.ComponentSecret()+"\n"), 0o600); err != nil {
		return err
	}

	env := []string{
		"SPARKGATE_XMPP_ADDR=" + ej.C2SAddr(),
		"SPARKGATE_XMPP_DOMAIN=" + ej.Domain(),
		"SPARKGATE_XMPP_TLS=optional",
		"SPARKGATE_MUC_SERVICE=" + ej.MUCService(),
		"SPARKGATE_ADMIN_URL=" + ej.AdminURL(),
		// The web client PUTs uploads to ejabberd's upload listener.
		"SPARKGATE_CONNECT_ORIGINS=" + ej.UploadOrigin(),
		"SPARKGATE_PUSH_COMPONENT=" + ej.ComponentAddr(),
		"SPARKGATE_PUSH_SERVICE=" + ej.PushService(),
		"SPARKGATE_PUSH_COMPONENT_SECRET_FILE=" + secretFile,
	}
	login := fmt.Sprintf("    demo login:   %s / %s\n    XMPP server:  ejabberd %s (domain %s)\n", demoUser, password, ej.C2SAddr(), ej.Domain())
	return serve(ctx, gatewaySpec{dir: dir, nodes: nodes, env: env, login: login, server: "ejabberd"}, log, stdout, stderr)
}

// gatewaySpec is what serve needs to know of the XMPP server it started.
type gatewaySpec struct {
	dir    string
	nodes  int
	env    []string // SPARKGATE_* settings naming the XMPP server and its services
	login  string   // the demo login lines to print
	server string   // its name, for the Ctrl-C line
}

// serve builds the gateway, starts one node (or a cluster) against the XMPP
// server g.env names, prints where it is, and runs until ctx ends or the
// gateway exits.
func serve(ctx context.Context, g gatewaySpec, log *slog.Logger, stdout, stderr io.Writer) error {
	bin := filepath.Join(g.dir, "bin", "sparkgate")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/sparkgate")
	build.Stdout, build.Stderr = stdout, stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building the gateway: %w", err)
	}

	listen := os.Getenv("SPARKGATE_LISTEN")
	if listen == "" {
		listen = "127.0.0.1:8080"
	}
	publicURL := os.Getenv("SPARKGATE_PUBLIC_URL")
	if publicURL == "" {
		publicURL = "http://localhost:" + listen[strings.LastIndex(listen, ":")+1:]
	}
	env := append(append(os.Environ(), "SPARKGATE_PUBLIC_URL="+publicURL), g.env...)
	if g.nodes > 1 {
		return runCluster(ctx, clusterSpec{dir: g.dir, bin: bin, listen: listen, publicURL: publicURL, env: env, nodes: g.nodes, login: g.login}, log, stdout, stderr)
	}

	gw, err := startNode(ctx, bin, listen, append(env, "SPARKGATE_LISTEN="+listen, "SPARKGATE_DATA_DIR="+filepath.Join(g.dir, "data")), stdout, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n  sparkgate is ready\n\n    web client:   %s/\n    API reference: %s/sparkweb/api/docs/\n%s\n  Ctrl-C stops the gateway and %s.\n\n",
		publicURL, publicURL, g.login, g.server)

	select {
	case <-gw.done:
		return fmt.Errorf("gateway exited: %v", gw.err)
	case <-ctx.Done():
	}
	log.Info("stopping the gateway")
	gw.stop()
	return nil
}

// demoPassword returns the demo user's password, made once and kept in dir
// so it stays the same from one `make dev` to the next.
func demoPassword(dir string) (string, error) {
	file := filepath.Join(dir, "demo-password")
	if b, err := os.ReadFile(file); err == nil && len(strings.TrimSpace(string(b))) >= 8 {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, 9)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	pw := base64.RawURLEncoding.EncodeToString(buf)
	return pw, os.WriteFile(file, []byte(pw+"\n"), 0o600)
}

func ensureUser(ctx context.Context, admin xmppadmin.Directory, user, password string) error {
	err := admin.Register(ctx, user, password)
	if errors.Is(err, xmppadmin.ErrUserExists) {
		return admin.ChangePassword(ctx, user, password)
	}
	return err
}
