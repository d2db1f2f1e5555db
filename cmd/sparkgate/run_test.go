package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

func TestMain(m *testing.M) { ejabberdtest.Main(m) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestIntegrationRun starts the binary's run against the shared ejabberd,
// checks it becomes ready, logs a user in, and shuts it down cleanly; the
// keys it generated are kept in the data directory with 0600 permissions.
func TestIntegrationRun(t *testing.T) {
	srv := ejabberdtest.Shared(t)
	u := ejabberdtest.NewUser(t)
	data := t.TempDir()
	env := map[string]string{
		"SPARKGATE_LISTEN":      "127.0.0.1:0",
		"SPARKGATE_XMPP_ADDR":   srv.C2SAddr(),
		"SPARKGATE_XMPP_DOMAIN": srv.Domain(),
		"SPARKGATE_XMPP_TLS":    "off",
		"SPARKGATE_ADMIN_URL":   srv.AdminURL(),
		"SPARKGATE_DATA_DIR":    data,
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs syncBuffer
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, envOf(env), &logs, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run ended early: %v\n%s", err, logs.String())
	case <-time.After(60 * time.Second):
		t.Fatal("not listening after 60 s")
	}
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz = %d", resp.StatusCode)
	}
	resp, err = http.Post("http://"+addr+"/sparkweb/api/rest/login/"+u.Name, "text/plain", strings.NewReader(u.Password))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login = %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	if strings.Contains(logs.String(), u.Password) {
		t.Fatal("the password reached the log")
	}
	err = filepath.WalkDir(filepath.Join(data, "keys"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil && info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, info.Mode().Perm())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
