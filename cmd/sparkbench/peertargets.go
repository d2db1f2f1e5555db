package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sparkgate/sparkgate/sse/ssetest"
)

// The four servers of the peers scenario, each built as the harness's
// sseTarget: Mercure and Centrifugo with the configurations of
// shared/research/sse-peers.md, the gateway end to end, and the SSE hub
// alone (ssehub.go). Each stream i and publisher p use the bench's client
// of source address i (or p), as every other scenario does.

// Names of the targets, as results.json and the report use them.
const (
	targetMercure    = "mercure"
	targetCentrifugo = "centrifugo"
	targetGateway    = "gateway"
	targetHub        = "sse"
)

// peerSecret signs the peers' tokens; the run is on loopback only.
const peerSecret = "sparkbench-peers-secret-key-of-32-bytes-or-more"

// httpDo sends req and fails unless it answers 2xx.
func httpDo(hc *http.Client, req *http.Request) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	return nil
}

// startMercure runs Mercure's Caddy build with the in-memory (local)
// transport, one topic, HS256 tokens for subscribers and publishers.
func (b *bench) startMercure(ctx context.Context, bin, dir string) (*sseTarget, *childProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	caddyfile := "{\n\tadmin off\n\tauto_https off\n\tpersist_config off\n\tlog {\n\t\tlevel ERROR\n\t}\n}\n\n" +
		"http://" + addr + " {\n\tmercure {\n\t\ttransport local\n" +
		"\t\tpublisher_jwt " + peerSecret + " HS256\n\t\tsubscriber_jwt " + peerSecret + " HS256\n\t}\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "Caddyfile"), []byte(caddyfile), 0o600); err != nil {
		return nil, nil, err
	}
	env := []string{"XDG_DATA_HOME=" + filepath.Join(dir, "data"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}
	proc, err := startChild(ctx, targetMercure, dir, bin, []string{"run", "--config", "Caddyfile", "--adapter", "caddyfile"}, env, "http://"+addr+"/.well-known/mercure")
	if err != nil {
		return nil, nil, err
	}
	tok, err := hs256([]byte(peerSecret), map[string]any{"mercure": map[string]any{"publish": []string{"*"}, "subscribe": []string{"*"}}})
	if err != nil {
		proc.stop()
		return nil, nil, err
	}
	hub := "http://" + addr + "/.well-known/mercure"
	t := &sseTarget{name: targetMercure, pid: proc.pid()}
	t.open = func(ctx context.Context, i int, on func(int, time.Time)) (*stream, error) {
		req, err := http.NewRequest(http.MethodGet, hub+"?topic=news", nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "text/event-stream")
		// Mercure answers once the subscriber is registered and sends no
		// event of its own.
		return openMarked(ctx, t, b.clients.forUser(i), req, nil, on)
	}
	t.publish = func(ctx context.Context, p, n int) error {
		form := url.Values{"topic": {"news"}, "data": {peerPayload(n)}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return httpDo(b.clients.forUser(p), req)
	}
	return t, proc, nil
}

// startCentrifugo runs Centrifugo with its in-memory engine and
// unidirectional SSE: each stream's token subscribes it to one channel on
// the server side; publishes go through the HTTP API.
func (b *bench) startCentrifugo(ctx context.Context, bin, dir string) (*sseTarget, *childProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	port, _ := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
	const apiKey = "sparkbench-api-key"
	cfg := fmt.Sprintf(`{"http_server":{"address":"127.0.0.1","port":%d},"client":{"token":{"hmac_secret_key":%q},"allowed_origins":["*"]},"http_api":{"key":%q},"uni_sse":{"enabled":true},"health":{"enabled":true},"log":{"level":"error"}}`,
		port, peerSecret, apiKey)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		return nil, nil, err
	}
	proc, err := startChild(ctx, targetCentrifugo, dir, bin, []string{"--config", "config.json"}, nil, "http://"+addr+"/health")
	if err != nil {
		return nil, nil, err
	}
	tok, err := hs256([]byte(peerSecret), map[string]any{"sub": "pk-user", "channels": []string{"news"}})
	if err != nil {
		proc.stop()
		return nil, nil, err
	}
	connect := url.QueryEscape(`{"token":"` + tok + `"}`)
	t := &sseTarget{name: targetCentrifugo, pid: proc.pid()}
	t.open = func(ctx context.Context, i int, on func(int, time.Time)) (*stream, error) {
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/connection/uni_sse?cf_connect="+connect, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "text/event-stream")
		// The first event is the connect reply, with the subscription.
		return openMarked(ctx, t, b.clients.forUser(i), req, firstEvent(""), on)
	}
	t.publish = func(ctx context.Context, p, n int) error {
		body := `{"channel":"news","data":` + peerPayload(n) + `}`
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api/publish", strings.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("X-API-Key", apiKey)
		req.Header.Set("Content-Type", "application/json")
		return httpDo(b.clients.forUser(p), req)
	}
	return t, proc, nil
}

// startHub runs the SSE hub alone (ssehub.go) as a child: this very
// program with serveHubCommand.
func (b *bench) startHub(ctx context.Context, dir string) (*sseTarget, *childProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	proc, err := startChild(ctx, targetHub, dir, self, []string{serveHubCommand, addr}, nil, "http://"+addr+"/")
	if err != nil {
		return nil, nil, err
	}
	return b.hubTarget("http://"+addr, proc.pid()), proc, nil
}

// hubTarget is the hub alone served at base by process pid.
func (b *bench) hubTarget(base string, pid int) *sseTarget {
	t := &sseTarget{name: targetHub, pid: pid}
	t.open = func(ctx context.Context, i int, on func(int, time.Time)) (*stream, error) {
		req, err := http.NewRequest(http.MethodGet, base+"/sse?user=pk-user", nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "text/event-stream")
		return openMarked(ctx, t, b.clients.forUser(i), req, firstEvent("onConnect"), on)
	}
	t.publish = func(ctx context.Context, p, n int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/publish?user=pk-user", strings.NewReader(peerPayload(n)))
		if err != nil {
			return err
		}
		return httpDo(b.clients.forUser(p), req)
	}
	return t
}

// gatewayTarget is the gateway end to end: the streams are tabs of one
// user, and a publish is that user's REST post to another user, whose
// sent copy the gateway publishes to every tab (the post also goes to
// ejabberd, which archives it). The other user is online, on a direct
// client that reads and drops what arrives: a message to someone signed
// out would measure ejabberd's offline store instead, and past its limit
// every post bounced back as a second event to every tab. stop ends the
// recipient's client.
func (b *bench) gatewayTarget(ctx context.Context) (t *sseTarget, stop func(), err error) {
	user, other := b.user("pk-user"), b.user("pk-other")
	for _, u := range []string{user, other} {
		if err := b.admin.Register(ctx, u, b.password); err != nil {
			return nil, nil, err
		}
	}
	tok, err := b.api.login(ctx, b.clients.forLogin(), user, b.password)
	if err != nil {
		return nil, nil, err
	}
	recipient, err := dialDirect(ctx, b.c2s, b.domain, other, b.password)
	if err != nil {
		return nil, nil, fmt.Errorf("the recipient's direct client: %w", err)
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for range recipient.In() {
		}
	}()
	stop = func() { closeDirect(recipient); <-drained }
	to := other + "@" + b.domain
	t = &sseTarget{name: targetGateway}
	if b.gw != nil {
		t.pid = b.gw.pid()
	} else {
		t.pid = b.opt.gatewayPID
	}
	t.open = func(ctx context.Context, i int, on func(int, time.Time)) (*stream, error) {
		req, err := http.NewRequest(http.MethodGet, b.api.base+"/sparkweb/api/sse?token="+url.QueryEscape(tok), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "text/event-stream")
		return openEvents(ctx, b.clients.forUser(i), req, firstEvent("onConnect"), &t.ended, func(ev ssetest.Event, at time.Time) {
			// A bounce is no sent copy: were the recipient's client to
			// go, past ejabberd's limit of offline messages each post
			// would come back as an error message with its body, a
			// second chatapi.chat the count would take for a duplicate.
			if typ, _ := jsonField(ev.Data, "type"); typ == "error" {
				return
			}
			if body, ok := tabBody(ev); ok {
				if n, ok := markerSeq(`"` + body + `"`); ok {
					on(n, at)
				}
			}
		})
	}
	t.publish = func(ctx context.Context, p, n int) error {
		return b.api.post(ctx, b.clients.forUser(p), tok, to, "pk "+strconv.Itoa(n))
	}
	return t, stop, nil
}
