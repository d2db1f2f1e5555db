package webpush_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/webpush"
	"github.com/sparkgate/sparkgate/webpush/webpushtest"
)

// memStore is a webpush.Store in memory.
type memStore struct {
	mu      sync.Mutex
	subs    []webpush.Subscription
	deleted chan string // endpoints removed by DeletePushEndpoint
}

func newMemStore(subs ...webpush.Subscription) *memStore {
	return &memStore{subs: subs, deleted: make(chan string, 16)}
}

func (m *memStore) PutPushSubscription(_ context.Context, sub webpush.Subscription) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subs = slices.DeleteFunc(m.subs, func(s webpush.Subscription) bool { return s.User == sub.User && s.Resource == sub.Resource })
	m.subs = append(m.subs, sub)
	return nil
}

func (m *memStore) PushSubscriptions(_ context.Context, user string) ([]webpush.Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []webpush.Subscription
	for _, s := range m.subs {
		if s.User == user {
			out = append(out, s)
		}
	}
	return out, nil
}

func (m *memStore) DeletePushSubscription(_ context.Context, user, resource string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.subs)
	m.subs = slices.DeleteFunc(m.subs, func(s webpush.Subscription) bool { return s.User == user && s.Resource == resource })
	if n == len(m.subs) {
		return webpush.ErrNotFound
	}
	return nil
}

func (m *memStore) DeletePushEndpoint(_ context.Context, user, endpoint string) error {
	m.mu.Lock()
	m.subs = slices.DeleteFunc(m.subs, func(s webpush.Subscription) bool { return s.User == user && s.Endpoint == endpoint })
	m.mu.Unlock()
	m.deleted <- endpoint
	return nil
}

func (m *memStore) DeleteLoginPushSubscriptions(_ context.Context, user, login string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.subs)
	m.subs = slices.DeleteFunc(m.subs, func(s webpush.Subscription) bool { return s.User == user && login != "" && s.Login == login })
	return n - len(m.subs), nil
}

func (m *memStore) MoveLoginPushSubscriptions(_ context.Context, user, from, to string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.subs {
		if m.subs[i].User == user && from != "" && m.subs[i].Login == from {
			m.subs[i].Login = to
		}
	}
	return nil
}

func (m *memStore) PushSubscribers(context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, s := range m.subs {
		out = append(out, s.User)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (m *memStore) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.subs)
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func newSender(t testing.TB, keys webpush.VAPID, st webpush.Store, mod func(*webpush.SenderConfig)) *webpush.Sender {
	t.Helper()
	cfg := webpush.SenderConfig{Keys: keys, Subject: "admin@example.org", Store: st, Logger: testLogger(t), AllowPrivate: true}
	if mod != nil {
		mod(&cfg)
	}
	s, err := webpush.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func toSub(user, resource string, s webpushtest.Subscription) webpush.Subscription {
	return webpush.Subscription{User: user, Resource: resource, Endpoint: s.Endpoint, P256dh: s.P256dh, Auth: s.Auth}
}

// TestSenderEndToEnd sends over real HTTP to a push service that checks
// the VAPID signature and decrypts the payload.
func TestSenderEndToEnd(t *testing.T) {
	keys, err := webpush.GenerateVAPID()
	if err != nil {
		t.Fatal(err)
	}
	svc := webpushtest.NewService(t, keys.Public)
	phone, laptop := svc.Subscribe(t), svc.Subscribe(t)
	st := newMemStore(toSub("bob@x", "phone", phone), toSub("bob@x", "laptop", laptop))
	s := newSender(t, keys, st, nil)

	payload := []byte(`{"subject":"alice","body":"héllo"}`)
	if err := s.Send("bob@x", webpush.Notification{Payload: payload, TTL: time.Hour, Urgency: webpush.UrgencyHigh, Topic: "chat alice@x"}); err != nil {
		t.Fatal(err)
	}
	got := map[string]webpushtest.Message{}
	for range 2 {
		m := svc.Next(t, 10*time.Second)
		got[m.Endpoint] = m
	}
	for _, ep := range []string{phone.Endpoint, laptop.Endpoint} {
		m, ok := got[ep]
		if !ok {
			t.Fatalf("no push to %s", ep)
		}
		if !bytes.Equal(m.Plaintext, payload) {
			t.Errorf("plaintext %q, want %q", m.Plaintext, payload)
		}
		if m.TTL != "3600" || m.Urgency != "high" || len(m.Topic) != 32 {
			t.Errorf("headers TTL=%q Urgency=%q Topic=%q", m.TTL, m.Urgency, m.Topic)
		}
		if m.Subject != "mailto:admin@example.org" || m.Audience != svc.URL {
			t.Errorf("vapid sub=%q aud=%q", m.Subject, m.Audience)
		}
	}

	t.Run("defaults", func(t *testing.T) {
		st.DeletePushSubscription(t.Context(), "bob@x", "laptop")
		if err := s.Send("bob@x", webpush.Notification{Payload: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		m := svc.Next(t, 10*time.Second)
		if m.TTL != "43200" || m.Urgency != "normal" || m.Topic != "" {
			t.Errorf("headers TTL=%q Urgency=%q Topic=%q, want 43200 normal none", m.TTL, m.Urgency, m.Topic)
		}
	})

	t.Run("gone-removes", func(t *testing.T) {
		svc.Gone(phone)
		if err := s.Send("bob@x", webpush.Notification{Payload: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		if m := svc.Next(t, 10*time.Second); m.Status != http.StatusGone {
			t.Fatalf("status %d", m.Status)
		}
		select {
		case ep := <-st.deleted:
			if ep != phone.Endpoint {
				t.Errorf("deleted %s, want %s", ep, phone.Endpoint)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("subscription not deleted after 410")
		}
		if st.len() != 0 {
			t.Errorf("%d subscriptions left", st.len())
		}
	})

	t.Run("too-large", func(t *testing.T) {
		if err := s.Send("bob@x", webpush.Notification{Payload: make([]byte, webpush.MaxPayload+1)}); !errors.Is(err, webpush.ErrTooLarge) {
			t.Errorf("Send = %v, want ErrTooLarge", err)
		}
	})
}

// TestMaxPayload checks that MaxPayload bytes really fit one record.
func TestMaxPayload(t *testing.T) {
	keys, _ := webpush.GenerateVAPID()
	svc := webpushtest.NewService(t, keys.Public)
	sub := svc.Subscribe(t)
	s := newSender(t, keys, newMemStore(toSub("u@x", "r", sub)), nil)
	payload := bytes.Repeat([]byte("z"), webpush.MaxPayload)
	if err := s.Send("u@x", webpush.Notification{Payload: payload}); err != nil {
		t.Fatal(err)
	}
	if m := svc.Next(t, 10*time.Second); !bytes.Equal(m.Plaintext, payload) {
		t.Errorf("plaintext of %d bytes, want %d", len(m.Plaintext), len(payload))
	}
}

// fakeService answers requests from a script, in memory, so that it can
// run inside a synctest bubble.
type fakeService struct {
	mu       sync.Mutex
	statuses []int         // consumed in order; then 201
	header   http.Header   // added to every answer
	calls    []time.Time   // when each request came
	bodies   [][]byte      // what each request carried
	block    chan struct{} // when not nil, requests wait for it
}

func (f *fakeService) Do(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies = append(f.bodies, body)
	f.calls = append(f.calls, time.Now())
	status := http.StatusCreated
	if len(f.statuses) > 0 {
		status, f.statuses = f.statuses[0], f.statuses[1:]
	}
	h := http.Header{}
	for k, v := range f.header {
		h[k] = v
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

func (f *fakeService) offsets(start time.Time) []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Duration
	for _, c := range f.calls {
		out = append(out, c.Sub(start))
	}
	return out
}

func TestSenderRetries(t *testing.T) {
	p, a := testKeys(t)
	sub := webpush.Subscription{User: "u@x", Resource: "r", Endpoint: "https://push.example/1", P256dh: p, Auth: a}
	keys, _ := webpush.GenerateVAPID()
	tests := []struct {
		name     string
		statuses []int
		header   http.Header
		want     []time.Duration
		removed  bool
		stats    webpush.Stats
	}{
		{"accepted", nil, nil, []time.Duration{0}, false, webpush.Stats{Delivered: 1}},
		{"5xx-then-ok", []int{503, 500}, nil, []time.Duration{0, time.Second, 3 * time.Second}, false, webpush.Stats{Retried: 2, Delivered: 1}},
		{"429-retry-after", []int{429}, http.Header{"Retry-After": {"7"}}, []time.Duration{0, 7 * time.Second}, false, webpush.Stats{Retried: 1, Delivered: 1}},
		{"retry-after-capped", []int{429}, http.Header{"Retry-After": {"3600"}}, []time.Duration{0, 10 * time.Second}, false, webpush.Stats{Retried: 1, Delivered: 1}},
		{"bounded", []int{502, 502, 502, 502, 502, 502}, nil, []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second}, false, webpush.Stats{Retried: 3, Failed: 1}},
		{"404-removes", []int{404}, nil, []time.Duration{0}, true, webpush.Stats{Gone: 1}},
		{"410-after-retry-removes", []int{503, 410}, nil, []time.Duration{0, time.Second}, true, webpush.Stats{Retried: 1, Gone: 1}},
		{"400-no-retry", []int{400}, nil, []time.Duration{0}, false, webpush.Stats{Refused: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				st := newMemStore(sub)
				fs := &fakeService{statuses: tt.statuses, header: tt.header}
				s := newSender(t, keys, st, func(c *webpush.SenderConfig) {
					c.HTTPClient = fs
					c.MaxBackoff = 10 * time.Second
				})
				start := time.Now()
				if err := s.Send("u@x", webpush.Notification{Payload: []byte("hi")}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Minute) // fake time: every retry is due by now
				synctest.Wait()
				if diff := cmp.Diff(tt.want, fs.offsets(start)); diff != "" {
					t.Errorf("request times (-want +got):\n%s", diff)
				}
				if removed := st.len() == 0; removed != tt.removed {
					t.Errorf("removed = %v, want %v", removed, tt.removed)
				}
				if got := s.Stats(); got != tt.stats {
					t.Errorf("Stats() = %+v, want %+v", got, tt.stats)
				}
				s.Close()
			})
		})
	}
}

func TestSenderQueue(t *testing.T) {
	priv, _ := ecdh.P256().GenerateKey(rand.Reader)
	authSecret := make([]byte, 16)
	rand.Read(authSecret)
	p, a := base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()), base64.RawURLEncoding.EncodeToString(authSecret)
	keys, _ := webpush.GenerateVAPID()
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore(webpush.Subscription{User: "u@x", Resource: "r", Endpoint: "https://push.example/1", P256dh: p, Auth: a})
		fs := &fakeService{block: make(chan struct{})}
		s := newSender(t, keys, st, func(c *webpush.SenderConfig) {
			c.HTTPClient = fs
			c.Workers = 1
			c.QueueSize = 2
		})
		// The only worker takes the first notification and blocks in it.
		if err := s.Send("u@x", webpush.Notification{Payload: []byte("first")}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		// A burst on one topic collapses into one queued notification.
		for i := range 5 {
			if err := s.Send("u@x", webpush.Notification{Payload: []byte{'0' + byte(i)}, Topic: "chat a@x"}); err != nil {
				t.Fatalf("burst %d: %v", i, err)
			}
		}
		if err := s.Send("u@x", webpush.Notification{Payload: []byte("other")}); err != nil {
			t.Fatal(err)
		}
		// The queue holds 2: anything more is refused at once.
		if err := s.Send("u@x", webpush.Notification{Payload: []byte("overflow")}); !errors.Is(err, webpush.ErrQueueFull) {
			t.Fatalf("Send = %v, want ErrQueueFull", err)
		}
		close(fs.block)
		synctest.Wait()
		var got []string
		for _, b := range fs.bodies {
			plain, err := webpushtest.Decrypt(b, priv, authSecret)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(plain))
		}
		if diff := cmp.Diff([]string{"first", "4", "other"}, got); diff != "" {
			t.Errorf("payloads pushed (-want +got):\n%s", diff)
		}
		s.Close()
		if err := s.Send("u@x", webpush.Notification{Payload: []byte("late")}); !errors.Is(err, webpush.ErrClosed) {
			t.Errorf("Send after Close = %v, want ErrClosed", err)
		}
	})
}

func TestSenderCollapse(t *testing.T) {
	priv, _ := ecdh.P256().GenerateKey(rand.Reader)
	authSecret := make([]byte, 16)
	rand.Read(authSecret)
	p, a := base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()), base64.RawURLEncoding.EncodeToString(authSecret)
	keys, _ := webpush.GenerateVAPID()
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore(webpush.Subscription{User: "u@x", Resource: "r", Endpoint: "https://push.example/1", P256dh: p, Auth: a})
		fs := &fakeService{}
		s := newSender(t, keys, st, func(c *webpush.SenderConfig) {
			c.HTTPClient = fs
			c.Collapse = 2 * time.Second
		})
		start := time.Now()
		// A burst in one conversation, 100 ms apart, and one message in
		// another conversation and one without a topic.
		for i := range 5 {
			if err := s.Send("u@x", webpush.Notification{Payload: []byte{'a' + byte(i)}, Topic: "chat a@x"}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		s.Send("u@x", webpush.Notification{Payload: []byte("b"), Topic: "chat b@x"})
		s.Send("u@x", webpush.Notification{Payload: []byte("now")})
		time.Sleep(time.Minute)
		synctest.Wait()
		var got []string
		for _, b := range fs.bodies {
			plain, err := webpushtest.Decrypt(b, priv, authSecret)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(plain))
		}
		if diff := cmp.Diff([]string{"now", "e", "b"}, got); diff != "" {
			t.Errorf("payloads (-want +got):\n%s", diff)
		}
		want := []time.Duration{500 * time.Millisecond, 2 * time.Second, 2500 * time.Millisecond}
		if diff := cmp.Diff(want, fs.offsets(start)); diff != "" {
			t.Errorf("request times (-want +got):\n%s", diff)
		}
		s.Close()
	})
}

func TestSenderBuild(t *testing.T) {
	p, a := testKeys(t)
	keys, _ := webpush.GenerateVAPID()
	synctest.Test(t, func(t *testing.T) {
		live := webpush.Subscription{User: "u@x", Resource: "phone", Endpoint: "https://push.example/1", P256dh: p, Auth: a}
		expired := webpush.Subscription{User: "old@x", Resource: "phone", Endpoint: "https://push.example/2", P256dh: p, Auth: a,
			Expires: time.Now().Add(-time.Hour)}
		st := newMemStore(live, expired)
		fs := &fakeService{}
		s := newSender(t, keys, st, func(c *webpush.SenderConfig) {
			c.HTTPClient = fs
			c.Collapse = time.Second
		})
		var mu sync.Mutex
		built := map[string]int{}
		build := func(user, payload string) func() ([]byte, error) {
			return func() ([]byte, error) {
				mu.Lock()
				defer mu.Unlock()
				built[user]++
				if payload == "huge" {
					return make([]byte, webpush.MaxPayload+1), nil
				}
				return []byte(payload), nil
			}
		}
		for range 3 {
			s.Send("u@x", webpush.Notification{Build: build("u@x", "hi"), Topic: "t"})
		}
		s.Send("nobody@x", webpush.Notification{Build: build("nobody@x", "hi")})
		s.Send("old@x", webpush.Notification{Build: build("old@x", "hi")})
		s.Send("u@x", webpush.Notification{Build: build("u@x", "huge")})
		time.Sleep(time.Minute)
		synctest.Wait()
		mu.Lock()
		if diff := cmp.Diff(map[string]int{"u@x": 2}, built); diff != "" {
			t.Errorf("builds (-want +got):\n%s", diff)
		}
		mu.Unlock()
		if n := len(fs.offsets(time.Now())); n != 1 {
			t.Errorf("%d requests, want 1 (the collapsed burst; the huge payload is dropped)", n)
		}
		select {
		case ep := <-st.deleted:
			if ep != expired.Endpoint {
				t.Errorf("removed %s", ep)
			}
		default:
			t.Error("expired subscription not removed")
		}
		// The huge payload is dropped before any delivery: not counted.
		if got, want := s.Stats(), (webpush.Stats{Delivered: 1, Expired: 1}); got != want {
			t.Errorf("Stats() = %+v, want %+v", got, want)
		}
		s.Close()
	})
}

// TestSenderRefusesPrivateAddresses: by default the sender does not
// connect to a non-public address, even for a stored subscription.
func TestSenderRefusesPrivateAddresses(t *testing.T) {
	keys, _ := webpush.GenerateVAPID()
	svc := webpushtest.NewService(t, keys.Public)
	sub := svc.Subscribe(t)
	st := newMemStore(toSub("u@x", "r", sub))
	s := newSender(t, keys, st, func(c *webpush.SenderConfig) {
		c.AllowPrivate = false
		c.MinBackoff = time.Millisecond
	})
	if err := s.Send("u@x", webpush.Notification{Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	svc.None(t, time.Second)
	if st.len() != 1 {
		t.Error("the subscription was removed")
	}
	if got, want := s.Stats(), (webpush.Stats{Refused: 1}); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}
