package unread_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sparkgate/sparkgate/unread"
)

// memStore is an in-memory Store.
type memStore struct {
	mu      sync.Mutex
	m       map[[2]string]unread.Count
	batches []int         // the size of each AddUnreads call
	at      []time.Time   // when each AddUnreads call came
	gate    chan struct{} // when set, the next AddUnreads closes entered, then waits for it
	entered chan struct{}
}

func (s *memStore) AddUnreads(_ context.Context, arrivals []unread.Arrival) ([]unread.Count, error) {
	s.mu.Lock()
	gate := s.gate
	s.gate = nil
	s.mu.Unlock()
	if gate != nil {
		close(s.entered)
		<-gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, len(arrivals))
	s.at = append(s.at, time.Now())
	out := make([]unread.Count, len(arrivals))
	for i, a := range arrivals {
		k := [2]string{a.User, a.Peer}
		c := s.m[k]
		c.Peer, c.Room = a.Peer, a.Room
		c.Unread += a.N
		s.m[k] = c
		out[i] = c
	}
	return out, nil
}

func (s *memStore) MarkRead(_ context.Context, user, peer string, room bool, id string) (unread.Count, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.m[[2]string{user, peer}]
	c := unread.Count{Peer: peer, Room: room, LastRead: id}
	s.m[[2]string{user, peer}] = c
	return c, !ok || old != c, nil
}

func (s *memStore) Unread(_ context.Context, user string) ([]unread.Count, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []unread.Count
	for k, c := range s.m {
		if k[0] == user {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b unread.Count) int {
		if a.Peer < b.Peer {
			return -1
		}
		return 1
	})
	return out, nil
}

func TestTracker(t *testing.T) {
	st := &memStore{m: map[[2]string]unread.Count{}}
	var mu sync.Mutex
	var told []unread.Count
	tr, err := unread.New(unread.Config{Store: st, OnChange: func(user string, c unread.Count) {
		mu.Lock()
		told = append(told, c)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	tr.Arrived("a", "bob", false)
	tr.Arrived("a", "bob", false)
	tr.Arrived("a", "room", true)
	// Read is applied after the changes queued before it, and waits.
	if err := tr.Read(t.Context(), "a", "bob", false, "m2"); err != nil {
		t.Fatal(err)
	}
	got, err := tr.List(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	want := []unread.Count{{Peer: "bob", LastRead: "m2"}, {Peer: "room", Room: true, Unread: 1}}
	if !slices.Equal(got, want) {
		t.Errorf("List = %+v; want %+v", got, want)
	}
	// An unchanged read tells no one.
	if err := tr.Read(t.Context(), "a", "bob", false, "m2"); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	tr.Close() // idempotent
	// The arrivals may be stored in one batch or more (batch.go): OnChange
	// hears bob's count rise to 2 (maybe skipping 1) and room's 1, then
	// the read.
	var bob []int
	var room, read int
	for i, c := range told {
		switch {
		case c.Peer == "bob" && c.LastRead == "":
			bob = append(bob, c.Unread)
		case c.Peer == "room" && c == (unread.Count{Peer: "room", Room: true, Unread: 1}):
			room++
		case c == (unread.Count{Peer: "bob", LastRead: "m2"}) && i == len(told)-1:
			read++
		default:
			t.Errorf("OnChange told %+v (at %d of %+v)", c, i, told)
		}
	}
	if !slices.Equal(bob, []int{1, 2}) && !slices.Equal(bob, []int{2}) || room != 1 || read != 1 {
		t.Errorf("OnChange told %+v; want bob 1 then 2 (or 2 alone), room 1, then bob read up to m2", told)
	}
	tr.Arrived("a", "bob", false) // after Close: ignored, no panic
	if err := tr.Read(t.Context(), "a", "bob", false, "m3"); !errors.Is(err, unread.ErrClosed) {
		t.Errorf("Read after Close = %v; want ErrClosed", err)
	}
}

func TestNewWithoutStore(t *testing.T) {
	if _, err := unread.New(unread.Config{}); err == nil {
		t.Error("New without a Store succeeded")
	}
}

// TestTrackerBatches: the arrivals queued while the store is busy are
// stored together, one entry per conversation with the messages added
// up, and a read queued among them splits the batch, so it applies after
// the arrivals before it and before those after it.
func TestTrackerBatches(t *testing.T) {
	gate := make(chan struct{})
	st := &memStore{m: map[[2]string]unread.Count{}, gate: gate, entered: make(chan struct{})}
	var mu sync.Mutex
	told := map[string]unread.Count{}
	tr, err := unread.New(unread.Config{Store: st, OnChange: func(user string, c unread.Count) {
		mu.Lock()
		told[user+" "+c.Peer] = c
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	tr.Arrived("first", "room", true) // the store holds this one at the gate
	<-st.entered
	for i := range 500 { // a room message to 500 members, and one of them twice
		tr.Arrived(fmt.Sprintf("m%d", i), "room", true)
	}
	tr.Arrived("m7", "room", true)
	read := make(chan error, 1)
	go func() { read <- tr.Read(context.Background(), "m8", "room", true, "r1") }()
	for unread.Queued(tr) < 502 { // the read is queued behind the arrivals
		time.Sleep(time.Millisecond)
	}
	close(gate)
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	tr.Arrived("m8", "room", true)
	tr.Close()
	st.mu.Lock()
	batches := slices.Clone(st.batches)
	st.mu.Unlock()
	if !slices.Equal(batches, []int{1, 500, 1}) {
		t.Errorf("AddUnreads calls of %v arrivals; want [1 500 1]", batches)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]unread.Count{
		"m7 room": {Peer: "room", Room: true, Unread: 2},
		"m8 room": {Peer: "room", Room: true, Unread: 1, LastRead: "r1"},
		"m9 room": {Peer: "room", Room: true, Unread: 1},
	}
	for k, c := range want {
		if told[k] != c {
			t.Errorf("OnChange told %s = %+v; want %+v", k, told[k], c)
		}
	}
	if len(told) != 501 {
		t.Errorf("OnChange told %d conversations; want 501", len(told))
	}
}

// TestTrackerLingers: arrivals that come one after another, as a room
// message's copies reach the members' sessions, share batches.
func TestTrackerLingers(t *testing.T) {
	st := &memStore{m: map[[2]string]unread.Count{}}
	tr, err := unread.New(unread.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		tr.Arrived(fmt.Sprintf("m%d", i), "room", true)
		time.Sleep(100 * time.Microsecond)
	}
	tr.Close()
	st.mu.Lock()
	defer st.mu.Unlock()
	if n := len(st.batches); n > 10 {
		t.Errorf("20 arrivals 0.1 ms apart took %d batches %v; want them to share a few", n, st.batches)
	}
	for i := range 20 {
		if c := st.m[[2]string{fmt.Sprintf("m%d", i), "room"}]; c.Unread != 1 {
			t.Errorf("m%d: %+v", i, c)
		}
	}
}

// TestTrackerBatchEnds: a batch ends when arrivals stop for 10 ms, so a
// room message's copies are stored together once all are in, and at the
// latest 100 ms after its first arrival, so a busy room's members are
// stored once per 100 ms with their counts added up (fake clock).
func TestTrackerBatchEnds(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name    string
		posts   int           // room messages
		every   time.Duration // from one message to the next
		members int           // copies of each, 0.1 ms apart
		batches []int         // AddUnreads calls, their sizes
		stored  []time.Duration
	}{
		// 500 copies over 50 ms: one batch, 10 ms after the last.
		{"one message", 1, 0, 500, []int{500}, []time.Duration{59*ms + 900*time.Microsecond}},
		// Apart by more than the quiet gap: a batch each.
		{"quiet room", 3, 30 * ms, 10, []int{10, 10, 10}, []time.Duration{
			10*ms + 900*time.Microsecond, 40*ms + 900*time.Microsecond, 70*ms + 900*time.Microsecond}},
		// A message every 5 ms for 300 ms: a batch per 100 ms, each member
		// once in it.
		{"busy room", 60, 5 * ms, 20, []int{20, 20, 20}, []time.Duration{100 * ms, 200 * ms, 300 * ms}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				st := &memStore{m: map[[2]string]unread.Count{}}
				tr, err := unread.New(unread.Config{Store: st})
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				for p := range tc.posts {
					if d := start.Add(time.Duration(p) * tc.every).Sub(time.Now()); d > 0 {
						time.Sleep(d)
					}
					for m := range tc.members {
						if m > 0 {
							time.Sleep(100 * time.Microsecond)
						}
						tr.Arrived(fmt.Sprintf("m%d", m), "room", true)
					}
				}
				time.Sleep(time.Second)
				synctest.Wait()
				tr.Close()
				st.mu.Lock()
				defer st.mu.Unlock()
				if !slices.Equal(st.batches, tc.batches) {
					t.Errorf("AddUnreads calls of %v arrivals; want %v", st.batches, tc.batches)
				}
				var stored []time.Duration
				for _, at := range st.at {
					stored = append(stored, at.Sub(start))
				}
				if !slices.Equal(stored, tc.stored) {
					t.Errorf("stored at %v; want %v", stored, tc.stored)
				}
				for m := range tc.members {
					if c := st.m[[2]string{fmt.Sprintf("m%d", m), "room"}]; c.Unread != tc.posts {
						t.Errorf("m%d: %+v; want %d unread", m, c, tc.posts)
					}
				}
			})
		})
	}
}

// TestTrackerSleepsThroughABatch: while a batch waits for more arrivals
// it sleeps, and the arrivals in the meantime queue without waking it (a
// room message's 500 copies cost a handful of wake-ups, not 500); a read
// wakes it at once, since its caller waits (fake clock).
func TestTrackerSleepsThroughABatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &memStore{m: map[[2]string]unread.Count{}}
		tr, err := unread.New(unread.Config{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		for m := range 500 { // 0.1 ms apart: 50 ms, five quiet gaps
			if m > 0 {
				time.Sleep(100 * time.Microsecond)
			}
			tr.Arrived(fmt.Sprintf("m%d", m), "room", true)
		}
		start := time.Now()
		if err := tr.Read(context.Background(), "m3", "room", true, "r1"); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("a read during a batch's sleep took %v; want it at once", d)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		tr.Close()
		if n := unread.Naps(tr); n > 10 {
			t.Errorf("the batch slept %d times for 500 arrivals; want a few", n)
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		if !slices.Equal(st.batches, []int{500}) {
			t.Errorf("AddUnreads calls of %v arrivals; want [500]", st.batches)
		}
		if c := st.m[[2]string{"m3", "room"}]; c.Unread != 0 || c.LastRead != "r1" {
			t.Errorf("m3 after its read: %+v", c)
		}
	})
}

// TestTrackerWakesAtHalfQueue: a sleeping batch leaves arrivals in the
// queue until it is half full, then takes them, so a burst is not lost to
// a full queue while the batch sleeps (fake clock).
func TestTrackerWakesAtHalfQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &memStore{m: map[[2]string]unread.Count{}}
		tr, err := unread.New(unread.Config{Store: st, Queue: 8})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		tr.Arrived("m0", "room", true)
		synctest.Wait() // the batch took it and sleeps
		for m := 1; m <= 3; m++ {
			tr.Arrived(fmt.Sprintf("m%d", m), "room", true)
		}
		synctest.Wait()
		if n := unread.Queued(tr); n != 3 {
			t.Fatalf("%d queued below half the queue; want the 3 left to the batch's wake-up", n)
		}
		tr.Arrived("m4", "room", true)
		synctest.Wait()
		if n := unread.Queued(tr); n != 0 {
			t.Errorf("%d queued at half the queue; want them taken at once", n)
		}
	})
}
