package gateway

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestRosterCache: a roster read serves for rosterCacheTTL, a failed read
// as long (no new query each push while the server is slow), forget makes
// the next push read again, and the cache holds maxCachedRosters at most.
func TestRosterCache(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := &rosterCache{now: func() time.Time { return now }}
	reads := 0
	roster := []string{"Bob@X/phone", "carol@x"}
	var fail error
	read := func() ([]string, error) { reads++; return roster, fail }

	for i, tt := range []struct {
		name      string
		advance   time.Duration
		forget    bool
		fail      error
		wantReads int
		wantBob   bool
		wantErr   bool
	}{
		{name: "first read", wantReads: 1, wantBob: true},
		{name: "cached", advance: rosterCacheTTL - time.Millisecond, wantReads: 1, wantBob: true},
		{name: "expired", advance: time.Millisecond, wantReads: 2, wantBob: true},
		{name: "forgotten", forget: true, wantReads: 3, wantBob: true},
		{name: "failure read", forget: true, fail: errors.New("slow"), wantReads: 4, wantErr: true},
		{name: "failure kept", advance: time.Second, wantReads: 4, wantErr: true},
		{name: "read again", advance: rosterCacheTTL, wantReads: 5, wantBob: true},
	} {
		now = now.Add(tt.advance)
		if tt.forget {
			c.forget("alice@x")
		}
		fail = tt.fail
		got, err := c.contacts("alice@x", read)
		if reads != tt.wantReads || got["bob@x"] != tt.wantBob || (err != nil) != tt.wantErr {
			t.Errorf("%d %s: reads %d, bob %v, err %v; want %d, %v, error %v", i, tt.name, reads, got["bob@x"], err, tt.wantReads, tt.wantBob, tt.wantErr)
		}
	}

	// A roster change while a read is on its way: that read serves once
	// and is not kept.
	now = now.Add(rosterCacheTTL)
	before := reads
	c.contacts("alice@x", func() ([]string, error) { c.forget("alice@x"); return read() })
	c.contacts("alice@x", read)
	if reads != before+2 {
		t.Errorf("a read overtaken by a roster change was kept: %d reads, want %d", reads-before, 2)
	}

	for i := range maxCachedRosters + 10 {
		c.contacts(fmt.Sprintf("u%d@x", i), read)
	}
	if n := len(c.m); n != maxCachedRosters {
		t.Errorf("%d rosters kept, want at most %d", n, maxCachedRosters)
	}
}
