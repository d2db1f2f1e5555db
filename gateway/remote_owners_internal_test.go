package gateway

import (
	"fmt"
	"testing"
	"time"
)

// TestKnownOwners: a learned owner is used until it is forgotten by the
// node it names (a newer one stays), replaced, or older than ownerMemory;
// past maxKnownOwners the oldest entries go first.
func TestKnownOwners(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	type step struct {
		op         string // put, forget, advance, get
		user, node string
		d          time.Duration
		want       string // get: the node, "" for none
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"unknown", []step{{op: "get", user: "a@x"}}},
		{"learned", []step{
			{op: "put", user: "a@x", node: "n1"},
			{op: "get", user: "a@x", want: "n1"},
			{op: "get", user: "b@x"},
		}},
		{"replaced by the new owner", []step{
			{op: "put", user: "a@x", node: "n1"},
			{op: "put", user: "a@x", node: "n3"},
			{op: "get", user: "a@x", want: "n3"},
		}},
		{"forgotten by the node it names", []step{
			{op: "put", user: "a@x", node: "n1"},
			{op: "forget", user: "a@x", node: "n1"},
			{op: "get", user: "a@x"},
		}},
		{"a stale forget keeps the newer owner", []step{
			{op: "put", user: "a@x", node: "n1"},
			{op: "put", user: "a@x", node: "n3"},
			{op: "forget", user: "a@x", node: "n1"},
			{op: "get", user: "a@x", want: "n3"},
		}},
		{"forgotten whatever it names", []step{
			{op: "put", user: "a@x", node: "n1"},
			{op: "forget", user: "a@x"},
			{op: "get", user: "a@x"},
		}},
		{"used until its memory ends", []step{
			{op: "put", user: "a@x", node: "n1"},
			{op: "advance", d: ownerMemory - time.Millisecond},
			{op: "get", user: "a@x", want: "n1"},
			{op: "advance", d: time.Millisecond},
			{op: "get", user: "a@x"},
		}},
		{"learned again, remembered afresh", []step{
			{op: "put", user: "a@x", node: "n1"},
			{op: "advance", d: ownerMemory - time.Second},
			{op: "put", user: "a@x", node: "n1"},
			{op: "advance", d: 2 * time.Second},
			{op: "get", user: "a@x", want: "n1"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := now
			k := &knownOwners{now: func() time.Time { return clock }}
			for i, s := range tc.steps {
				switch s.op {
				case "put":
					k.put(s.user, s.node)
				case "forget":
					k.forget(s.user, s.node)
				case "advance":
					clock = clock.Add(s.d)
				case "get":
					got, ok := k.get(s.user)
					if got != s.want || ok != (s.want != "") {
						t.Fatalf("step %d: get(%s) = %q, %v; want %q", i, s.user, got, ok, s.want)
					}
				}
			}
		})
	}
}

// TestKnownOwnersBound: the entries never outgrow maxKnownOwners; the
// expired ones go first, then the older ones, and the one put stays.
func TestKnownOwnersBound(t *testing.T) {
	clock := time.Unix(1_000_000, 0)
	k := &knownOwners{now: func() time.Time { return clock }}
	for i := range maxKnownOwners {
		if i == maxKnownOwners/4 {
			clock = clock.Add(ownerMemory) // the first quarter expires
		}
		if i == maxKnownOwners/2 {
			clock = clock.Add(ownerMemory / 2) // the second is older than half
		}
		k.put(fmt.Sprintf("u%d@x", i), "n1")
	}
	if n := len(k.m); n != maxKnownOwners {
		t.Fatalf("%d entries, want %d", n, maxKnownOwners)
	}
	k.put("new@x", "n2")
	if n := len(k.m); n != maxKnownOwners*3/4+1 {
		t.Fatalf("after one more: %d entries, want %d (the expired quarter gone)", n, maxKnownOwners*3/4+1)
	}
	if got, _ := k.get("new@x"); got != "n2" {
		t.Fatalf("the newest entry: %q", got)
	}
	if _, ok := k.get("u0@x"); ok {
		t.Fatal("an expired entry stayed")
	}
	if got, _ := k.get(fmt.Sprintf("u%d@x", maxKnownOwners-1)); got != "n1" {
		t.Fatal("a young entry went")
	}
	// None expired: those older than half the memory go first, then
	// any, down to half; the entry put stays.
	for i := range maxKnownOwners/4 - 1 {
		k.put(fmt.Sprintf("v%d@x", i), "n1")
	}
	if n := len(k.m); n != maxKnownOwners {
		t.Fatalf("%d entries, want %d", n, maxKnownOwners)
	}
	k.put("last@x", "n3")
	if n := len(k.m); n > maxKnownOwners/2+1 {
		t.Fatalf("after one more: %d entries, want at most %d", n, maxKnownOwners/2+1)
	}
	if got, _ := k.get("last@x"); got != "n3" {
		t.Fatalf("the newest entry: %q", got)
	}
}
