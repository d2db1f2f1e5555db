// Command sparkdev is what `make dev` runs: it starts a private ejabberd
// with the project's configuration under ./.dev/, creates a demo user,
// builds and starts the gateway against it, and prints the web client's URL
// and the demo login. Ctrl-C stops both.
//
// The gateway listens on 127.0.0.1:8080 unless SPARKGATE_LISTEN says
// otherwise; every other SPARKGATE_* variable is passed through to it.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, ".dev", os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sparkdev:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir string, stdout, stderr io.Writer) error {
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

	bin := filepath.Join(dir, "bin", "sparkgate")
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
	gw := exec.Command(bin)
	gw.Env = append(os.Environ(),
		"SPARKGATE_LISTEN="+listen,
		"SPARKGATE_PUBLIC_URL="+publicURL,
		"SPARKGATE_XMPP_ADDR="+ej.C2SAddr(),
		"SPARKGATE_XMPP_DOMAIN="+ej.Domain(),
		"SPARKGATE_XMPP_TLS=optional",
		"SPARKGATE_MUC_SERVICE="+ej.MUCService(),
		"SPARKGATE_ADMIN_URL="+ej.AdminURL(),
		// The web client PUTs uploads to ejabberd's upload listener.
		"SPARKGATE_CONNECT_ORIGINS="+ej.UploadOrigin(),
		"SPARKGATE_DATA_DIR="+filepath.Join(dir, "data"),
		"SPARKGATE_PUSH_COMPONENT="+ej.ComponentAddr(),
		"SPARKGATE_PUSH_SERVICE="+ej.PushService(),
		"SPARKGATE_PUSH_COMPONENT_SECRET_FILE="+secretFile,
	)
	gw.Stdout, gw.Stderr = stdout, stderr
	// Own process group: the terminal's Ctrl-C reaches us, and we stop the
	// gateway ourselves in order (it first, then ejabberd).
	gw.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := gw.Start(); err != nil {
		return fmt.Errorf("starting the gateway: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- gw.Wait() }()

	if gone, err := waitReady(ctx, "http://"+listen+"/readyz", exited); err != nil {
		if !gone {
			_ = gw.Process.Signal(syscall.SIGTERM)
			<-exited
		}
		return err
	}
	fmt.Fprintf(stdout, "\n  sparkgate is ready\n\n    web client:   %s/\n    API reference: %s/sparkweb/api/docs/\n    demo login:   %s / %s\n    XMPP server:  %s (domain %s)\n\n  Ctrl-C stops the gateway and ejabberd.\n\n",
		publicURL, publicURL, demoUser, password, ej.C2SAddr(), ej.Domain())

	select {
	case err := <-exited:
		return fmt.Errorf("gateway exited: %v", err)
	case <-ctx.Done():
	}
	log.Info("stopping the gateway")
	_ = gw.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(35 * time.Second):
		_ = gw.Process.Kill()
		<-exited
	}
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

func ensureUser(ctx context.Context, admin *xmppadmin.Ejabberd, user, password string) error {
	err := admin.Register(ctx, user, password)
	if errors.Is(err, xmppadmin.ErrUserExists) {
		return admin.ChangePassword(ctx, user, password)
	}
	return err
}

// waitReady polls url until it answers 200. gone reports that the gateway
// process has already exited (its exit status was taken from exited).
func waitReady(ctx context.Context, url string, exited <-chan error) (gone bool, err error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return false, nil
			}
		}
		select {
		case err := <-exited:
			return true, fmt.Errorf("gateway exited before it was ready: %v", err)
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return false, errors.New("gateway not ready after 60 s")
}
