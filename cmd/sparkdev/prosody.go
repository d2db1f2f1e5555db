package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/sparkgate/sparkgate/internal/prosody"
)

// runProsody is run with a private Prosody under dir/prosody instead of
// ejabberd (`make dev SERVER=prosody`): the second server the gateway's
// messaging is tested on. The gateway manages its accounts with prosodyctl
// on the generated configuration (admin-backend prosody), and logs users
// in with tokens it mints, which the project's mod_sparkgate_token checks
// (-prosody-token-secret-file), so TOTP and passkeys work as on ejabberd.
// The gateway is Prosody's push app server (mod_cloud_notify, from
// Debian's prosody-modules) on its component listener, so signed-out
// users get Web Push too.
func runProsody(ctx context.Context, dir string, stdout, stderr io.Writer) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	pdir := filepath.Join(dir, "prosody")
	if err := os.MkdirAll(pdir, 0o700); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	log.Info("starting prosody", "dir", pdir)
	startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	srv, err := prosody.Start(startCtx, prosody.Config{Dir: pdir})
	cancel()
	if err != nil {
		return fmt.Errorf("prosody: %w", err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			log.Warn("stopping prosody", "err", err)
		}
		log.Info("prosody stopped")
	}()

	password, err := demoPassword(dir)
	if err != nil {
		return err
	}
	if err := ensureUser(ctx, srv.Admin(), demoUser, password); err != nil {
		return fmt.Errorf("demo user: %w", err)
	}
	secretFile := filepath.Join(pdir, "push-component.secret")
	if err := os.WriteFile(secretFile, []byte(srv.ComponentSecret()+"\n"), 0o600); err != nil {
		return err
	}
	env := []string{
		"SPARKGATE_XMPP_ADDR=" + srv.C2SAddr(),
		"SPARKGATE_XMPP_DOMAIN=" + srv.Domain(),
		"SPARKGATE_XMPP_TLS=optional",
		"SPARKGATE_MUC_SERVICE=" + srv.MUCService(),
		// The web client PUTs uploads to Prosody's HTTP port.
		"SPARKGATE_CONNECT_ORIGINS=" + srv.UploadOrigin(),
		"SPARKGATE_ADMIN_BACKEND=prosody",
		"SPARKGATE_PROSODY_CONFIG=" + srv.ConfigFile(),
		"SPARKGATE_PROSODY_DATA_DIR=" + srv.DataDir(),
		"SPARKGATE_PROSODY_TOKEN_SECRET_FILE=" + srv.TokenSecretFile(),
		"SPARKGATE_PUSH_COMPONENT=" + srv.ComponentAddr(),
		"SPARKGATE_PUSH_SERVICE=" + srv.PushService(),
		"SPARKGATE_PUSH_COMPONENT_SECRET_FILE=" + secretFile,
	}
	login := fmt.Sprintf("    demo login:   %s / %s\n    XMPP server:  Prosody %s (domain %s; password, TOTP and passkey logins)\n", demoUser, password, srv.C2SAddr(), srv.Domain())
	return serve(ctx, gatewaySpec{dir: dir, nodes: 1, env: env, login: login, server: "Prosody"}, log, stdout, stderr)
}
