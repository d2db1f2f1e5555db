package gateway_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationSessionBuffersOfflineMessages: messages the server keeps
// for a user while offline are flushed at login and reach the first stream
// the user opens, even when it opens later.
func TestIntegrationSessionBuffersOfflineMessages(t *testing.T) {
	e := newGateway(t, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	for i := range 3 {
		if r := e.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", fmt.Sprintf("offline %d", i)); r.Status != 200 {
			t.Fatalf("send: %d %s", r.Status, r.Body)
		}
	}
	tb := e.Login(t, b.Name, b.Password)
	s, _ := e.Open(t, tb, "")
	s.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	for i := range 3 {
		var c chatapi.Chat
		s.NextNamed(t, chatapi.EventChat, 10*time.Second, &c)
		if c.Body != fmt.Sprintf("offline %d", i) {
			t.Fatalf("message %d: %+v, want the offline message", i, c)
		}
	}
}

// TestIntegrationStalledStreamDoesNotDelayOthers: a tab that never reads
// its stream is cut off as slow; other users' events keep flowing.
func TestIntegrationStalledStreamDoesNotDelayOthers(t *testing.T) {
	e := newGateway(t, nil)
	a, b, c := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb, tc := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password), e.Login(t, c.Name, c.Password)

	// C's tab: a raw connection that sends the request and never reads.
	u, _ := url.Parse(e.Base)
	raw, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	fmt.Fprintf(raw, "GET /sparkweb/api/sse?token=%s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", url.QueryEscape(tc), u.Host)

	sb, _ := e.Open(t, tb, "")
	sb.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)

	big := strings.Repeat("x", 32<<10)
	for i := range 60 {
		if r := e.Do(t, "POST", api+"/chat/message/"+c.Name, ta, "text/plain", fmt.Sprintf("%d %s", i, big)); r.Status != 200 {
			t.Fatalf("flood: %d %s", r.Status, r.Body)
		}
	}
	if r := e.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", "for b"); r.Status != 200 {
		t.Fatalf("send: %d", r.Status)
	}
	var got chatapi.Chat
	sb.NextNamed(t, chatapi.EventChat, 15*time.Second, &got)
	if got.Body != "for b" {
		t.Fatalf("b got %+v", got)
	}
}

// TestIntegrationGoroutinesAfterLogout: the goroutine count returns to
// where it was once every user has logged out and closed their streams.
func TestIntegrationGoroutinesAfterLogout(t *testing.T) {
	e := newGateway(t, nil)
	users := []ejabberdtest.User{ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)}
	e.HTTP.CloseIdleConnections()
	settle()
	before := runtime.NumGoroutine()

	var tokens []string
	for _, u := range users {
		tok := e.Login(t, u.Name, u.Password)
		tokens = append(tokens, tok)
		s, _ := e.Open(t, tok, "")
		s.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
		defer s.Close()
	}
	for i, tok := range tokens {
		to := users[(i+1)%len(users)]
		if r := e.Do(t, "POST", api+"/chat/message/"+to.Name, tok, "text/plain", "hi"); r.Status != 200 {
			t.Fatalf("send: %d", r.Status)
		}
	}
	for _, tok := range tokens {
		if r := e.Do(t, "POST", api+"/logout", tok, "", ""); r.Status != 200 {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
	}
	e.HTTP.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	var now int
	for {
		settle()
		now = runtime.NumGoroutine()
		if now <= before || time.Now().After(deadline) {
			break
		}
		e.HTTP.CloseIdleConnections()
	}
	if now > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d before the logins, %d after every logout\n%s", before, now, buf[:runtime.Stack(buf, true)])
	}
}

// settle gives exiting goroutines a moment to finish.
func settle() {
	for range 20 {
		runtime.Gosched()
	}
	time.Sleep(50 * time.Millisecond)
}

// TestIntegrationEjabberdKilled: the XMPP server dies mid-conversation
// (SIGKILL) and comes back; the sessions reconnect on their own, tell the
// tabs, and messages flow again with none lost or doubled.
func TestIntegrationEjabberdKilled(t *testing.T) {
	srv := ejabberdtest.Shared(t)
	e := newGateway(t, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	sa, _ := e.Open(t, ta, "")
	sa.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	sb, _ := e.Open(t, tb, "")
	sb.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)

	if r := e.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", "before"); r.Status != 200 {
		t.Fatalf("send: %d", r.Status)
	}
	var c chatapi.Chat
	sb.NextNamed(t, chatapi.EventChat, 10*time.Second, &c)

	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	var st chatapi.Session
	sa.NextNamed(t, chatapi.EventSession, 15*time.Second, &st)
	if st.State != chatapi.SessionReconnecting {
		t.Fatalf("session event %+v, want reconnecting", st)
	}
	if r := e.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", "while down"); r.Status != 502 {
		t.Fatalf("send while the server is down: %d %s, want 502", r.Status, r.Body)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	waitConnected := func(s *gatewaytest.Stream) {
		t.Helper()
		for {
			var st chatapi.Session
			s.NextNamed(t, chatapi.EventSession, 60*time.Second, &st)
			if st.State == chatapi.SessionConnected {
				return
			}
		}
	}
	waitConnected(sa)
	waitConnected(sb)
	for i := range 5 {
		if r := e.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", fmt.Sprintf("after %d", i)); r.Status != 200 {
			t.Fatalf("send after restart: %d %s", r.Status, r.Body)
		}
	}
	var got []string
	for len(got) < 5 {
		var c chatapi.Chat
		sb.NextNamed(t, chatapi.EventChat, 15*time.Second, &c)
		got = append(got, c.Body)
	}
	if strings.Join(got, "|") != "after 0|after 1|after 2|after 3|after 4" {
		t.Fatalf("after the restart b got %q", got)
	}
}
