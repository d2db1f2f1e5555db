package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// childEnv, set to 1, makes the test binary the gateway: it runs run with
// the SPARKGATE_* environment (as main does) and prints the address it
// listens on, instead of running tests. The fault test starts it as a
// process of its own, so that it can die by SIGKILL.
const childEnv = "SPARKGATE_TEST_GATEWAY_CHILD"

func init() {
	if os.Getenv(childEnv) != "1" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ready := make(chan string, 1)
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		select {
		case addr := <-ready:
			fmt.Println("listening", addr)
		case <-ctx.Done():
		}
	}()
	err := run(ctx, nil, os.Getenv, os.Stderr, ready)
	stop()
	<-printed
	if err != nil {
		fmt.Fprintln(os.Stderr, "sparkgate:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// gatewayProcess is the gateway running as a child process.
type gatewayProcess struct {
	cmd  *exec.Cmd
	addr string
	logs *syncBuffer
	done chan struct{} // closed once Wait returned
}

// startGatewayProcess starts the gateway as a child process on the data
// directory data, listening on listen (host:port, port 0 for any), against
// the shared ejabberd, with the environment variables env added, and waits
// until it listens.
func startGatewayProcess(t *testing.T, data, listen string, env ...string) *gatewayProcess {
	t.Helper()
	srv := ejabberdtest.Shared(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(),
		childEnv+"=1",
		"SPARKGATE_LISTEN="+listen,
		"SPARKGATE_XMPP_ADDR="+srv.C2SAddr(),
		"SPARKGATE_XMPP_DOMAIN="+srv.Domain(),
		"SPARKGATE_XMPP_TLS=off",
		"SPARKGATE_ADMIN_URL="+srv.AdminURL(),
		"SPARKGATE_DATA_DIR="+data,
		"SPARKGATE_LOG_LEVEL=warn",
		"SPARKGATE_WEB_CLIENT=false",
	)
	cmd.Env = append(cmd.Env, env...)
	p := &gatewayProcess{cmd: cmd, logs: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				lines <- addr
			}
		}
		// Wait only after stdout is read to its end (os/exec's rule).
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("gateway process (pid %d) log:\n%s", cmd.Process.Pid, p.logs.String())
		}
	})
	select {
	case p.addr = <-lines:
		return p
	case <-p.done:
		t.Fatalf("the gateway process ended early: %v\n%s", cmd.ProcessState, p.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("the gateway process is not listening after 60 s\n%s", p.logs.String())
	}
	return nil
}

// kill ends the process with SIGKILL and waits for it.
func (p *gatewayProcess) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *gatewayProcess) client() *gatewaytest.Client {
	return &gatewaytest.Client{Base: "http://" + p.addr, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// delivery is one chat event carrying a message to one receiver.
type delivery struct {
	stanzaID   string
	afterReset bool // a chatapi.reset came earlier on the same stream
}

// killTally counts the messages of the kill test per receiver and body.
type killTally struct {
	sent map[string][]string              // receiver → bodies sent to it
	got  map[string]map[string][]delivery // receiver → body → deliveries
}

// read reads s into the tally for receiver until every message sent to it
// has arrived and quiet passed without another chat event, until d, or
// until the stream ends. It returns the id of the last event read.
func (k *killTally) read(t *testing.T, s *gatewaytest.Stream, receiver string, quiet, d time.Duration) (lastID string) {
	t.Helper()
	deadline := time.Now().Add(d)
	reset := false
	for time.Now().Before(deadline) {
		wait := time.Until(deadline)
		if k.complete(receiver) {
			wait = min(wait, quiet)
		}
		ev, err := s.TryNext(wait)
		if err != nil {
			if strings.Contains(err.Error(), "no event within") {
				if k.complete(receiver) {
					return lastID
				}
				continue
			}
			return lastID
		}
		if ev.ID != "" {
			lastID = ev.ID
		}
		switch ev.Name {
		case chatapi.EventReset:
			reset = true
		case chatapi.EventChat:
			var c chatapi.Chat
			if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
				t.Fatalf("chat event %q: %v", ev.Data, err)
			}
			if c.Body == "" || c.Sent || c.Type == chatapi.TypeChatState {
				continue
			}
			k.got[receiver][c.Body] = append(k.got[receiver][c.Body], delivery{stanzaID: c.StanzaID, afterReset: reset})
		}
	}
	return lastID
}

func (k *killTally) complete(receiver string) bool {
	for _, b := range k.sent[receiver] {
		if len(k.got[receiver][b]) == 0 {
			return false
		}
	}
	return true
}

// report logs the figures and fails the test on a loss or a duplicate. A
// second delivery is a replay, not a duplicate, when it follows a
// chatapi.reset (which tells the client that what follows may overlap
// what it has) and carries the archive id of a delivery on a stream before
// the reset, by which the client recognizes it. A message delivered twice
// after the reset is a duplicate.
func (k *killTally) report(t *testing.T, what string) {
	t.Helper()
	var sent, delivered, dup, replayed int
	var lost, doubled, unknown []string
	for r, bodies := range k.sent {
		for _, b := range bodies {
			sent++
			ds := k.got[r][b]
			if len(ds) == 0 {
				lost = append(lost, b)
				continue
			}
			delivered++
			for i, d := range ds[1:] {
				if d.afterReset && d.stanzaID != "" && slices.ContainsFunc(ds[:i+1], func(e delivery) bool { return !e.afterReset && e.stanzaID == d.stanzaID }) {
					replayed++
					continue
				}
				dup++
				doubled = append(doubled, fmt.Sprintf("%s %+v", b, ds))
			}
		}
		for b := range k.got[r] {
			if !slices.Contains(bodies, b) {
				unknown = append(unknown, b)
			}
		}
	}
	t.Logf("%s: sent %d, delivered %d, duplicated %d, lost %d (delivered before the kill and again after the reset with the same archive id %d)",
		what, sent, delivered, dup, len(lost), replayed)
	if len(lost) > 0 || dup > 0 || len(unknown) > 0 {
		t.Errorf("%s: lost %v, duplicated %v, unexpected %v", what, lost, doubled, unknown)
	}
}

// TestIntegrationFaultGatewayProcessKilled: the gateway runs as a process
// of its own; three users hold event streams on it. It dies by SIGKILL —
// no shutdown, its XMPP connections, SQLite store and key files left as a
// crash leaves them — while another gateway keeps sending them messages.
// A new process on the same data directory takes over; the users come
// back with the same tokens, two with the stream (Last-Event-ID), one with
// an API request first. Every message, those sent while no gateway was up
// included (from the archive), arrives once.
func TestIntegrationFaultGatewayProcessKilled(t *testing.T) {
	data := t.TempDir()
	first := startGatewayProcess(t, data, "127.0.0.1:0")
	senderAddr, _, stopSender := startRun(t, t.TempDir(), nil)
	defer stopSender()
	sender := &gatewaytest.Client{Base: "http://" + senderAddr, HTTP: &http.Client{Timeout: 30 * time.Second}}
	a := ejabberdtest.NewUser(t)
	ta := sender.Login(t, a.Name, a.Password)

	const receivers = 3
	type receiver struct {
		ejabberdtest.User
		token, last string
		stream      *gatewaytest.Stream
	}
	rs := make([]receiver, receivers)
	tl := &killTally{sent: make(map[string][]string), got: make(map[string]map[string][]delivery)}
	c1 := first.client()
	for i := range rs {
		rs[i].User = ejabberdtest.NewUser(t)
		rs[i].token = c1.Login(t, rs[i].Name, rs[i].Password)
		rs[i].stream = c1.OpenConnected(t, rs[i].token, "")
		tl.got[rs[i].Name] = make(map[string][]delivery)
	}
	send := func(phase string, n int) {
		t.Helper()
		for i := range n {
			for _, r := range rs {
				body := fmt.Sprintf("%s-%d-%s", phase, i, r.Name[:6])
				tl.sent[r.Name] = append(tl.sent[r.Name], body)
				if res := sender.Do(t, "POST", "/sparkweb/api/rest/chat/message/"+r.Name, ta, "text/plain", body); res.Status != 200 {
					t.Fatalf("send %s: %d %s", body, res.Status, res.Body)
				}
			}
		}
	}
	const perPhase = 4
	send("before", perPhase)
	for i := range rs {
		rs[i].last = tl.read(t, rs[i].stream, rs[i].Name, 300*time.Millisecond, 10*time.Second)
	}

	began := time.Now()
	first.kill()
	for i := range rs {
		for {
			ev, err := rs[i].stream.TryNext(5 * time.Second)
			if err == nil {
				t.Logf("stream %d: %s after the kill", i, ev.Name)
				continue
			}
			if strings.Contains(err.Error(), "no event within") {
				t.Fatalf("stream %d still open after SIGKILL", i)
			}
			break
		}
	}
	t.Logf("gateway process %d killed: %v", first.cmd.Process.Pid, first.cmd.ProcessState)
	send("down", perPhase)

	second := startGatewayProcess(t, data, first.addr) // same data, same address
	t.Logf("a new process listens %v after the kill", time.Since(began).Round(time.Millisecond))
	c2 := second.client()
	for i := range rs {
		if i == 1 {
			// This user's first request to the new process is an API call
			// with the old token, which restores the session.
			if r := c2.Do(t, "GET", "/sparkweb/api/rest/roster", rs[i].token, "", ""); r.Status != 200 {
				t.Fatalf("roster on the new process: %d %s", r.Status, r.Body)
			}
		}
	}
	for i := range rs {
		rs[i].stream = c2.OpenConnected(t, rs[i].token, rs[i].last)
	}
	send("after", perPhase)
	for i := range rs {
		tl.read(t, rs[i].stream, rs[i].Name, time.Second, 20*time.Second)
	}
	tl.report(t, fmt.Sprintf("gateway process SIGKILLed, %d users streaming", receivers))
}
