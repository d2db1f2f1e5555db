package store_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/unread"
)

// BenchmarkRevokeTokenParallel measures concurrent single-row writes.
func BenchmarkRevokeTokenParallel(b *testing.B) {
	s, _ := newStore(b)
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.RevokeToken(b.Context(), fmt.Sprint(n.Add(1)), t0.Add(time.Hour)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkTokenRevoked measures the read on every authenticated request.
func BenchmarkTokenRevoked(b *testing.B) {
	s, _ := newStore(b)
	for i := range 1000 {
		s.RevokeToken(b.Context(), fmt.Sprint(i), t0.Add(time.Hour))
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.TokenRevoked(b.Context(), "500"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkAddUnread is one arrival's write of the unread counts: a room
// message brings one per member, from the tracker's one goroutine.
func BenchmarkAddUnread(b *testing.B) {
	s, _ := newStore(b)
	i := 0
	for b.Loop() {
		i++
		if _, err := s.AddUnread(b.Context(), fmt.Sprintf("u%d@localhost", i%500), "room@conference.localhost", true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddUnreads is a room message's arrivals for 500 members,
// stored as the tracker stores them: one batch.
func BenchmarkAddUnreads(b *testing.B) {
	s, _ := newStore(b)
	batch := make([]unread.Arrival, 500)
	for i := range batch {
		batch[i] = unread.Arrival{User: fmt.Sprintf("u%d@localhost", i), Peer: "room@conference.localhost", Room: true, N: 1}
	}
	for b.Loop() {
		if _, err := s.AddUnreads(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
}
