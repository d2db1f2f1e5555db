package xmppconn

import (
	"errors"
	"testing"
)

func TestCheckBound(t *testing.T) {
	tests := []struct {
		bound, user, domain string
		ok                  bool
	}{
		{"alice@example.org/r1", "alice", "example.org", true},
		{"alice@example.org/r1", "ALICE", "Example.org", true},
		{"alice@example.org/r1", "\uff41lice", "example.org", true},
		{"effie@example.org/r", "e\ufb00ie", "example.org", true},
		{"alice@example.org", "alice", "example.org", true},
		{"bob@example.org/r1", "alice", "example.org", false},
		{"alice@other.example/r1", "alice", "example.org", false},
		{"example.org/r1", "alice", "example.org", false},
		{"", "alice", "example.org", false},
		{"alice@example.org/r1", "a b", "example.org", false},
	}
	for _, tt := range tests {
		err := checkBound(tt.bound, tt.user, tt.domain)
		if (err == nil) != tt.ok {
			t.Errorf("checkBound(%q, %q, %q) = %v, want ok=%v", tt.bound, tt.user, tt.domain, err, tt.ok)
		}
		if err != nil && (!errors.Is(err, ErrIdentity) || !errors.Is(err, ErrNotAuthorized)) {
			t.Errorf("checkBound(%q, ...) = %v; want it to match ErrIdentity and ErrNotAuthorized", tt.bound, err)
		}
	}
}
