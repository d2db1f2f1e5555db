package store_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
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
