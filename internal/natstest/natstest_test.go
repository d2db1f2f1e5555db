package natstest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sparkgate/sparkgate/internal/natstest"
)

func TestMain(m *testing.M) { natstest.Main(m) }

func connect(t *testing.T, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// TestIntegrationShared: the shared server is one per binary, answers
// JetStream on loopback, and is not the machine's own NATS.
func TestIntegrationShared(t *testing.T) {
	s := natstest.Shared(t)
	if s != natstest.Shared(t) {
		t.Fatal("Shared returned two servers")
	}
	if s.URL == "nats://127.0.0.1:4222" {
		t.Fatalf("URL %s is the default port", s.URL)
	}
	_, js := connect(t, s.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil {
		t.Fatalf("AccountInfo: %v", err)
	}
}

// TestIntegrationRestart: Stop makes the server unreachable; Restart brings
// it back on the same URL with what JetStream stored.
func TestIntegrationRestart(t *testing.T) {
	s := natstest.Start(t)
	url := s.URL
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	_, js := connect(t, s.URL)
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "t.a", []byte("kept")); err != nil {
		t.Fatal(err)
	}

	s.Stop()
	if nc, err := nats.Connect(url, nats.Timeout(time.Second), nats.NoReconnect()); err == nil {
		nc.Close()
		t.Fatal("connected to a stopped server")
	}
	s.Stop() // idempotent

	s.Restart(t)
	if s.URL != url {
		t.Fatalf("URL after restart %s, want %s", s.URL, url)
	}
	_, js = connect(t, s.URL)
	st, err := js.Stream(ctx, "T")
	if err != nil {
		t.Fatalf("stream after restart: %v", err)
	}
	msg, err := st.GetLastMsgForSubject(ctx, "t.a")
	if err != nil {
		t.Fatal(err)
	}
	if string(msg.Data) != "kept" {
		t.Fatalf("message after restart %q, want %q", msg.Data, "kept")
	}

	s.Restart(t) // a running server restarts too
	_, js = connect(t, s.URL)
	if _, err := js.Stream(ctx, "T"); err != nil {
		t.Fatalf("stream after second restart: %v", err)
	}
	if _, err := js.Stream(ctx, "missing"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("missing stream: %v, want ErrStreamNotFound", err)
	}
}
