package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/pgtest"
)

func TestMain(m *testing.M) { ejabberdtest.Main(pgtest.Wrap(m)) }

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
	u := ejabberdtest.NewUser(t)
	data := t.TempDir()
	addr, logs, stop := startRun(t, data, nil)
	defer stop()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz = %d", resp.StatusCode)
	}
	// A login answers a token pair, and the refresh token rotates.
	var pairs []gateway.TokenEntity
	for i, post := range []func() (*http.Response, error){
		func() (*http.Response, error) {
			return http.Post("http://"+addr+"/sparkweb/api/rest/login/"+u.Name, "text/plain", strings.NewReader(u.Password))
		},
		func() (*http.Response, error) {
			body, _ := json.Marshal(gateway.RefreshRequest{RefreshToken: *pairs[0].RefreshToken})
			return http.Post("http://"+addr+"/sparkweb/api/rest/token/refresh", "application/json", bytes.NewReader(body))
		},
	} {
		resp, err := post()
		if err != nil {
			t.Fatal(err)
		}
		var te gateway.TokenEntity
		err = json.NewDecoder(resp.Body).Decode(&te)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil || te.Token == "" || te.RefreshToken == nil {
			t.Fatalf("step %d = %d, %v, %+v", i, resp.StatusCode, err, te)
		}
		pairs = append(pairs, te)
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	secrets := []string{u.Password}
	for _, p := range pairs {
		secrets = append(secrets, p.Token, *p.RefreshToken)
	}
	for _, secret := range secrets {
		if strings.Contains(logs.String(), secret) {
			t.Fatal("a password or token reached the log")
		}
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
