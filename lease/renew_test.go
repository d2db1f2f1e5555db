package lease_test

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sparkgate/sparkgate/internal/natstest"
	"github.com/sparkgate/sparkgate/lease"
)

// lostAnswers writes each of the first n updates but loses its answer:
// the caller waits until its context ends, as when a starved process or
// a busy JetStream answers too late.
type lostAnswers struct {
	jetstream.KeyValue
	n atomic.Int64
}

func (k *lostAnswers) Update(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	next, err := k.KeyValue.Update(ctx, key, value, rev)
	if err == nil && k.n.Add(-1) >= 0 {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return next, err
}

// TestIntegrationLeaseRenewLostAnswer: renewals written whose answers are
// lost cost an attempt each, not the lease. (Before, an attempt waited
// for its answer until the lease's deadline, so one lost answer lost the
// lease.)
func TestIntegrationLeaseRenewLostAnswer(t *testing.T) {
	s := natstest.Shared(t)
	const ttl = 2 * time.Second
	a := open(t, connect(t, s.URL), ttl, "a")
	faults := &lostAnswers{}
	faults.n.Store(1)
	a.WrapKV(func(kv jetstream.KeyValue) jetstream.KeyValue { faults.KeyValue = kv; return faults })
	l, err := a.Acquire(ctxT(t), "lost-answer@example.com", func(err error) { t.Errorf("lost: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * ttl)
	if err := l.Release(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	st := a.Stats()
	t.Logf("%+v", st)
	if st.Lost != 0 || st.Retries < 1 || st.Renewals < 3 {
		t.Errorf("stats %+v, want no lease lost, the lost answer retried, renewals going on", st)
	}
	if faults.n.Load() > 0 {
		t.Error("the renewals never met the fault")
	}
}

// TestIntegrationLeaseRenewStarved: many leases renewed while every core
// is busy with other goroutines: none is lost, and Stats says how late
// the renewals came and how near their deadline (the figure for the
// README's sizing).
func TestIntegrationLeaseRenewStarved(t *testing.T) {
	s := natstest.Shared(t)
	const (
		ttl    = 6 * time.Second // the cluster tests' 3 s doubled: the machine's other work stalls NATS for a second or two at times
		leases = 200
	)
	a := open(t, connect(t, s.URL), ttl, "a")
	var held []*lease.Lease
	for i := range leases {
		l, err := a.Acquire(ctxT(t), "starved"+strconv.Itoa(i)+"@example.com", func(err error) { t.Errorf("lost: %v", err) })
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, l)
	}
	// Busy goroutines, twice as many as the cores, for 2 TTLs.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				for i := range 100_000 {
					x += i
				}
			}
		}()
	}
	time.Sleep(2 * ttl)
	close(stop)
	wg.Wait()
	for _, l := range held {
		l.Release(ctxT(t))
	}
	st := a.Stats()
	t.Logf("%d leases, TTL %v, %d busy goroutines on %d cores for %v: %d renewals, %d retried attempts, %d lost; latest renewal %v after it was due, least time left before a deadline %v",
		leases, ttl, 2*runtime.GOMAXPROCS(0), runtime.GOMAXPROCS(0), 2*ttl, st.Renewals, st.Retries, st.Lost, st.MaxLate.Round(time.Millisecond), st.MinLeft.Round(time.Millisecond))
	if st.Lost != 0 {
		t.Errorf("%d leases lost", st.Lost)
	}
	if st.Renewals < 4*leases {
		t.Errorf("%d renewals of %d leases in 2 TTLs", st.Renewals, leases)
	}
}
