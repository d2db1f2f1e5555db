package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/sparkgate/sparkgate/sse"
)

// The SSE layer alone: the peers scenario measures the gateway end to end
// (a REST post whose sent copy reaches the user's tabs, so each publish
// also goes through JWT checks, the XMPP session and ejabberd) and, to
// compare the layer itself with Mercure and Centrifugo, package sse as a
// hub of its own: sparkbench runs itself with serveHubCommand as a child
// process (so its memory and CPU are its own, as the peers' are) that
// serves one sse.Hub, configured as cmd/sparkgate configures the
// gateway's, over plain net/http with these two routes:
//
//	GET  /sse?user=U      the user's stream (ServeStreamDetached, as the
//	                      gateway serves it; hello onConnect)
//	POST /publish?user=U  the body published as one chatapi.chat event
//
// No authentication: it listens on loopback only, for the bench's run.
const serveHubCommand = "serve-sse-hub"

// hubHandler serves hub's streams and publishes.
func hubHandler(hub *sse.Hub) http.Handler {
	mux := http.NewServeMux()
	hello := sse.Event{Name: "onConnect", Data: []byte(`{"hub":"sparkbench"}`)}
	mux.HandleFunc("GET /sse", func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		if user == "" {
			http.Error(w, "user missing", http.StatusBadRequest)
			return
		}
		ctx := context.WithoutCancel(r.Context())
		if err := hub.ServeStreamDetached(ctx, w, r, user, hello, func(error) {}); errors.Is(err, sse.ErrClosed) {
			http.Error(w, "closed", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("POST /publish", func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		data, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if user == "" || err != nil || len(data) == 0 {
			http.Error(w, "user and body needed", http.StatusBadRequest)
			return
		}
		hub.Publish(user, "chatapi.chat", data)
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// serveHub runs the hub on addr until ctx ends, then ends its streams and
// returns once they have.
func serveHub(ctx context.Context, args []string) error {
	if len(args) != 1 || !isLoopback(args[0]) {
		return fmt.Errorf("%s takes one loopback address", serveHubCommand)
	}
	hub, err := sse.New(sse.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: hubHandler(hub), ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(hub.EndStreams)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	_ = hub.Close()
	<-served
	return err
}
