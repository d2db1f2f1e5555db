package gateway

import (
	"strconv"
	"testing"
	"time"
)

func TestRemoteTabs(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	r := newRemoteTabs(time.Minute)
	r.saw("a@x", t0)
	tests := []struct {
		user string
		at   time.Duration
		want bool
	}{
		{"a@x", 0, true},
		{"a@x", time.Minute, true},
		{"b@x", 0, false},
		{"a@x", time.Minute + time.Second, false}, // the window passed: forgotten
		{"a@x", 0, false},                         // and stays forgotten
	}
	for i, tt := range tests {
		if got := r.open(tt.user, t0.Add(tt.at)); got != tt.want {
			t.Errorf("%d: open(%s, +%v) = %v, want %v", i, tt.user, tt.at, got, tt.want)
		}
	}
	var none *remoteTabs // no peers
	none.saw("a@x", t0)
	if none.open("a@x", t0) {
		t.Error("a gateway without peers knows of a tab elsewhere")
	}
	// Full: stale users make room, fresh ones do not.
	r = newRemoteTabs(time.Minute)
	for i := range maxRemoteTabs {
		r.seen[strconv.Itoa(i)] = t0
	}
	r.saw("new@x", t0.Add(30*time.Second))
	if r.open("new@x", t0.Add(30*time.Second)) {
		t.Error("a new user was remembered past the bound")
	}
	r.saw("new@x", t0.Add(2*time.Minute))
	if !r.open("new@x", t0.Add(2*time.Minute)) || len(r.seen) != 1 {
		t.Errorf("stale users not forgotten to make room: %d left", len(r.seen))
	}
}

func TestHoldEvery(t *testing.T) {
	for _, tt := range []struct{ idle, away, want time.Duration }{
		{0, 0, time.Minute},
		{0, 5 * time.Minute, time.Minute},
		{2 * time.Minute, 5 * time.Minute, 30 * time.Second},
		{time.Hour, 2 * time.Second, time.Second},
		{time.Hour, -1, time.Minute},
	} {
		if got := holdEvery(tt.idle, tt.away); got != tt.want {
			t.Errorf("holdEvery(%v, %v) = %v, want %v", tt.idle, tt.away, got, tt.want)
		}
	}
}
