package sse_test

import (
	"context"
	"errors"
	"log"
	"net/http"
	"time"

	"github.com/sparkgate/sparkgate/sse"
)

// The gateway authenticates the request, then hands the stream to the hub;
// producers publish bytes they serialized once. EndStreams is registered so
// that Shutdown does not wait for streams that never go idle.
func Example() {
	hub, err := sse.New(sse.Config{Heartbeat: 15 * time.Second, MaxAge: time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sparkweb/api/sse", func(w http.ResponseWriter, r *http.Request) {
		user := "alice@example.org" // from the verified token, never from the query
		hello := sse.Event{Name: "onConnect", Data: []byte(`{"email":"","name":"Alice","username":"alice"}`)}
		if err := hub.ServeStream(w, r, user, hello); errors.Is(err, sse.ErrClosed) {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
		}
	})
	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: mux}
	srv.RegisterOnShutdown(hub.EndStreams)

	// Elsewhere, for each event of the user's XMPP session:
	if hub.Publish("alice@example.org", "chatapi.chat", []byte(`{"type":"chat","body":"hi"}`)) == 0 {
		// no open tab: send a Web Push instead
	}

	// At shutdown:
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	_ = hub.Close()
}
