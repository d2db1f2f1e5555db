package gateway

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestJIDHelpers(t *testing.T) {
	tests := []struct {
		in, bare, local     string
		domain              string
		cutLocal, cutDomain string
		cutOK               bool
	}{
		{in: "alice@example.org", bare: "alice@example.org", local: "alice", domain: "example.org", cutLocal: "alice", cutDomain: "example.org", cutOK: true},
		{in: "alice@example.org/web", bare: "alice@example.org", local: "alice", domain: "example.org", cutLocal: "alice", cutDomain: "example.org/web", cutOK: true},
		{in: "room@conference.example.org/nick@x", bare: "room@conference.example.org", local: "room", domain: "conference.example.org", cutLocal: "room@conference.example.org/nick", cutDomain: "x", cutOK: true},
		{in: "example.org", bare: "example.org", local: "example.org", domain: "example.org"},
		{in: "example.org/res", bare: "example.org", local: "example.org", domain: "example.org"},
		{in: "@example.org", bare: "@example.org", local: "", domain: "example.org", cutLocal: "", cutDomain: "example.org"},
		{in: "alice@", bare: "alice@", local: "alice", domain: "", cutLocal: "alice", cutDomain: ""},
		{in: "", bare: "", local: ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := bareJID(tt.in); got != tt.bare {
				t.Errorf("bareJID(%q) = %q, want %q", tt.in, got, tt.bare)
			}
			if got := localPart(tt.in); got != tt.local {
				t.Errorf("localPart(%q) = %q, want %q", tt.in, got, tt.local)
			}
			if got := domainOf(tt.in); got != tt.domain {
				t.Errorf("domainOf(%q) = %q, want %q", tt.in, got, tt.domain)
			}
			l, d, ok := cutJID(tt.in)
			if l != tt.cutLocal || d != tt.cutDomain || ok != tt.cutOK {
				t.Errorf("cutJID(%q) = %q, %q, %v; want %q, %q, %v", tt.in, l, d, ok, tt.cutLocal, tt.cutDomain, tt.cutOK)
			}
		})
	}
}

func TestJIDParts(t *testing.T) {
	tests := []struct {
		in   string
		want JID
	}{
		{"alice@example.org/web", JID{Node: ptr("alice"), Domain: ptr("example.org"), Resource: ptr("web")}},
		{"alice@example.org", JID{Node: ptr("alice"), Domain: ptr("example.org")}},
		{"example.org", JID{Domain: ptr("example.org")}},
		{"example.org/", JID{Domain: ptr("example.org"), Resource: ptr("")}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, *jidParts(tt.in)); diff != "" {
			t.Errorf("jidParts(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestPtrDeref(t *testing.T) {
	if got := deref(ptr("x")); got != "x" {
		t.Errorf("deref(ptr(%q)) = %q", "x", got)
	}
	if got := deref[int](nil); got != 0 {
		t.Errorf("deref[int](nil) = %d, want 0", got)
	}
}
