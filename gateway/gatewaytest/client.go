// Package gatewaytest is a small Go client of the gateway's API for
// integration tests: JSON and text calls, login, and an event stream
// reader that yields chatapi events.
package gatewaytest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/sse/ssetest"
)

// Client calls one gateway.
type Client struct {
	Base string // e.g. http://127.0.0.1:1234
	HTTP *http.Client
}

// From returns a client of the same gateway whose connections come from
// the local address ip, say 127.0.0.2: on Linux every 127/8 address is
// the loopback, so a test can be several clients by address, as the
// gateway's per-address limits count them. Its idle connections close
// when the test ends.
func (c *Client) From(t testing.TB, ip string) *Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &Client{Base: c.Base, HTTP: &http.Client{Transport: tr}}
}

// Response is what a call got back.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// ErrorBody is the gateway's JSON error.
type ErrorBody struct {
	Status   int    `json:"status"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Resource string `json:"resource"`
}

// Error decodes the body as the gateway's JSON error body.
func (r Response) Error(t testing.TB) ErrorBody {
	t.Helper()
	var e ErrorBody
	r.JSON(t, &e)
	return e
}

// Do sends a request to path (under Base) with the token (may be empty)
// and a body of the given content type (none when contentType is empty).
func (c *Client) Do(t testing.TB, method, path, token, contentType, body string) Response {
	t.Helper()
	r, err := c.DoContext(t.Context(), method, path, token, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// DoContext is Do for goroutines other than the test's: it returns an error
// instead of failing the test.
func (c *Client) DoContext(ctx context.Context, method, path, token, contentType, body string) (Response, error) {
	var rd io.Reader
	if contentType != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return Response{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: reading the body: %w", method, path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// Login logs user in with password and returns the token, failing the test
// unless the gateway answers 200.
func (c *Client) Login(t testing.TB, user, password string) string {
	t.Helper()
	r := c.Do(t, http.MethodPost, "/sparkweb/api/rest/login/"+url.PathEscape(user), "", "text/plain", password)
	if r.Status != http.StatusOK {
		t.Fatalf("login %s: %d %s", user, r.Status, r.Body)
	}
	var tok struct {
		Token string `json:"token"`
	}
	r.JSON(t, &tok)
	if tok.Token == "" {
		t.Fatalf("login %s: no token in %s", user, r.Body)
	}
	return tok.Token
}

// Stream is an open event stream.
type Stream struct {
	Resp   *http.Response
	events chan streamItem
	cancel context.CancelFunc
}

type streamItem struct {
	ev  ssetest.Event
	err error
}

// Open opens the event stream with the token in the query string (as
// EventSource clients do), resuming after lastEventID when it is set. The
// stream is closed at the end of the test.
func (c *Client) Open(t testing.TB, token, lastEventID string) (*Stream, Response) {
	t.Helper()
	return c.open(t, "token="+url.QueryEscape(token), lastEventID, "")
}

// OpenTicket is Open with a ticket of POST /sse/ticket (?ticket=) instead
// of the token.
func (c *Client) OpenTicket(t testing.TB, ticket, lastEventID string) (*Stream, Response) {
	t.Helper()
	return c.open(t, "ticket="+url.QueryEscape(ticket), lastEventID, "")
}

// OpenRaw is Open for a stream that also carries chatapi.xmpp, the raw XML
// of every stanza (?raw=true).
func (c *Client) OpenRaw(t testing.TB, token, lastEventID string) (*Stream, Response) {
	t.Helper()
	return c.open(t, "token="+url.QueryEscape(token), lastEventID, "&raw=true")
}

// open opens the stream with cred (its query parameter, escaped) and query
// (more of them, each starting with &).
func (c *Client) open(t testing.TB, cred, lastEventID, query string) (*Stream, Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/sparkweb/api/sse?"+cred+query, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("open stream: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		return nil, Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	}
	s := &Stream{Resp: resp, events: make(chan streamItem, 1024), cancel: cancel}
	go func() {
		defer close(s.events)
		rd := ssetest.NewReader(bufio.NewReader(resp.Body))
		for {
			ev, err := rd.Next()
			select {
			case s.events <- streamItem{ev, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(s.Close)
	return s, Response{Status: resp.StatusCode, Header: resp.Header}
}

// OpenConnected opens the event stream like Open and waits for its first
// event, onConnect; it fails the test unless the gateway answers 200.
func (c *Client) OpenConnected(t testing.TB, token, lastEventID string) *Stream {
	t.Helper()
	s, r := c.Open(t, token, lastEventID)
	if r.Status != http.StatusOK {
		t.Fatalf("open stream: %d %s", r.Status, r.Body)
	}
	s.NextNamed(t, chatapi.EventConnect, 10*time.Second, nil)
	return s
}

// Close ends the stream.
func (s *Stream) Close() {
	s.cancel()
	s.Resp.Body.Close()
}

// Next returns the next event, failing the test after d.
func (s *Stream) Next(t testing.TB, d time.Duration) ssetest.Event {
	t.Helper()
	ev, err := s.TryNext(d)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	return ev
}

// TryNext returns the next event, or an error when the stream ended or
// nothing came within d.
func (s *Stream) TryNext(d time.Duration) (ssetest.Event, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case it, ok := <-s.events:
		if !ok {
			return ssetest.Event{}, io.EOF
		}
		return it.ev, it.err
	case <-timer.C:
		return ssetest.Event{}, fmt.Errorf("no event within %s", d)
	}
}

// RoomBodiesUntil reads chatapi.muc events with a body (room messages)
// and returns their bodies in order, up to and including the first whose
// body is last; it fails the test when one takes longer than d.
func (s *Stream) RoomBodiesUntil(t testing.TB, last string, d time.Duration) []string {
	t.Helper()
	var got []string
	for len(got) == 0 || got[len(got)-1] != last {
		var m chatapi.GroupChat
		s.NextNamed(t, chatapi.EventMUC, d, &m)
		if m.Body != "" {
			got = append(got, m.Body)
		}
	}
	return got
}

// NextNamed skips events until one named name arrives and decodes its data
// into v; it fails the test after d.
func (s *Stream) NextNamed(t testing.TB, name string, d time.Duration, v any) ssetest.Event {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("no %s event within %s", name, d)
		}
		ev, err := s.TryNext(left)
		if err != nil {
			t.Fatalf("waiting for %s: %v", name, err)
		}
		if ev.Name == name {
			if v != nil {
				if err := json.Unmarshal([]byte(ev.Data), v); err != nil {
					t.Fatalf("decode %s %q: %v", name, ev.Data, err)
				}
			}
			return ev
		}
	}
}
