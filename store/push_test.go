package store_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/webpush"
)

var _ webpush.Store = (*store.SQLite)(nil)

func TestPushSubscriptions(t *testing.T) { eachBackend(t, testPushSubscriptions) }

func testPushSubscriptions(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	exp := time.UnixMilli(1767225600000).UTC()
	phone := webpush.Subscription{User: "bob@x", Resource: "phone", Endpoint: "https://push.example/1", P256dh: "p1", Auth: "a1", Expires: exp, Login: "fam1"}
	laptop := webpush.Subscription{User: "bob@x", Resource: "laptop", Endpoint: "https://push.example/2", P256dh: "p2", Auth: "a2", Login: "fam2"}
	alice := webpush.Subscription{User: "alice@x", Resource: "phone", Endpoint: "https://push.example/3", P256dh: "p3", Auth: "a3"}
	for _, sub := range []webpush.Subscription{phone, laptop, alice} {
		if err := s.PutPushSubscription(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	ignoreUpdated := cmpopts.IgnoreFields(webpush.Subscription{}, "Updated")
	sortByResource := cmpopts.SortSlices(func(a, b webpush.Subscription) bool { return a.Resource < b.Resource })
	got, err := s.PushSubscriptions(ctx, "bob@x")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]webpush.Subscription{laptop, phone}, got, ignoreUpdated, sortByResource); diff != "" {
		t.Errorf("subscriptions (-want +got):\n%s", diff)
	}
	for _, sub := range got {
		if sub.Updated.IsZero() {
			t.Error("Updated not set")
		}
	}

	// Upsert: the same resource is replaced.
	phone2 := phone
	phone2.Endpoint, phone2.Expires, phone2.Login = "https://push.example/4", time.Time{}, "fam3" // signed in again
	if err := s.PutPushSubscription(ctx, phone2); err != nil {
		t.Fatal(err)
	}
	got, _ = s.PushSubscriptions(ctx, "bob@x")
	if diff := cmp.Diff([]webpush.Subscription{laptop, phone2}, got, ignoreUpdated, sortByResource); diff != "" {
		t.Errorf("after upsert (-want +got):\n%s", diff)
	}

	users, err := s.PushSubscribers(ctx)
	if err != nil || !cmp.Equal(users, []string{"alice@x", "bob@x"}) {
		t.Errorf("PushSubscribers = %v, %v", users, err)
	}

	if err := s.DeletePushSubscription(ctx, "bob@x", "laptop"); err != nil {
		t.Fatal(err)
	}
	err = s.DeletePushSubscription(ctx, "bob@x", "laptop")
	if !errors.Is(err, webpush.ErrNotFound) || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete = %v, want webpush.ErrNotFound and store.ErrNotFound", err)
	}
	// Deleting by endpoint only touches that user's rows.
	if err := s.DeletePushEndpoint(ctx, "alice@x", phone2.Endpoint); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.PushSubscriptions(ctx, "bob@x"); len(got) != 1 {
		t.Errorf("bob has %d subscriptions, want 1", len(got))
	}
	if err := s.DeletePushEndpoint(ctx, "bob@x", phone2.Endpoint); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePushEndpoint(ctx, "bob@x", phone2.Endpoint); err != nil {
		t.Errorf("deleting a missing endpoint: %v", err)
	}
	users, _ = s.PushSubscribers(ctx)
	if !cmp.Equal(users, []string{"alice@x"}) {
		t.Errorf("PushSubscribers = %v, want [alice@x]", users)
	}
}

// TestLoginPushSubscriptions: a login's subscriptions go with it, only
// that user's and only that login's; the empty login removes nothing.
func TestLoginPushSubscriptions(t *testing.T) { eachBackend(t, testLoginPushSubscriptions) }

func testLoginPushSubscriptions(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	for _, sub := range []webpush.Subscription{
		{User: "bob@x", Resource: "phone", Login: "lost", Endpoint: "https://push.example/1", P256dh: "p", Auth: "a"},
		{User: "bob@x", Resource: "phone-app", Login: "lost", Endpoint: "https://push.example/2", P256dh: "p", Auth: "a"},
		{User: "bob@x", Resource: "laptop", Login: "kept", Endpoint: "https://push.example/3", P256dh: "p", Auth: "a"},
		{User: "bob@x", Resource: "old", Endpoint: "https://push.example/4", P256dh: "p", Auth: "a"},
		{User: "alice@x", Resource: "phone", Login: "lost", Endpoint: "https://push.example/5", P256dh: "p", Auth: "a"},
	} {
		if err := s.PutPushSubscription(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	// A password change gives the laptop's a new login.
	if err := s.MoveLoginPushSubscriptions(ctx, "bob@x", "kept", "kept2"); err != nil {
		t.Fatal(err)
	}
	if err := s.MoveLoginPushSubscriptions(ctx, "bob@x", "", "x"); err != nil { // not the old ones
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user, login string
		want        int
	}{{"bob@x", "", 0}, {"bob@x", "nope", 0}, {"bob@x", "lost", 2}, {"bob@x", "lost", 0}} {
		if n, err := s.DeleteLoginPushSubscriptions(ctx, tt.user, tt.login); err != nil || n != tt.want {
			t.Errorf("DeleteLoginPushSubscriptions(%s, %q) = %d, %v; want %d", tt.user, tt.login, n, err, tt.want)
		}
	}
	left := func(user string) (rs []string) {
		subs, err := s.PushSubscriptions(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		for _, sub := range subs {
			rs = append(rs, sub.Resource+"/"+sub.Login)
		}
		slices.Sort(rs)
		return rs
	}
	if got := left("bob@x"); !slices.Equal(got, []string{"laptop/kept2", "old/"}) {
		t.Errorf("bob's subscriptions left: %v", got)
	}
	if got := left("alice@x"); !slices.Equal(got, []string{"phone/lost"}) {
		t.Errorf("alice's subscriptions left: %v", got)
	}
}

func TestPushNodes(t *testing.T) { eachBackend(t, testPushNodes) }

func testPushNodes(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	if _, err := s.PushNode(ctx, "a@x"); !errors.Is(err, webpush.ErrNotFound) {
		t.Fatalf("PushNode of a user without one: %v, want ErrNotFound", err)
	}
	first, err := s.AddPushNode(ctx, webpush.PushNode{User: "a@x", Node: "n1", Secret: "s1"})
	if err != nil || first != (webpush.PushNode{User: "a@x", Node: "n1", Secret: "s1"}) {
		t.Fatalf("AddPushNode = %+v, %v", first, err)
	}
	// A second first subscription at the same time gets the same node.
	again, err := s.AddPushNode(ctx, webpush.PushNode{User: "a@x", Node: "n2", Secret: "s2"})
	if err != nil || again != first {
		t.Fatalf("AddPushNode again = %+v, %v; want %+v", again, err, first)
	}
	if n, err := s.PushNodeByNode(ctx, "n1"); err != nil || n != first {
		t.Fatalf("PushNodeByNode = %+v, %v", n, err)
	}
	if _, err := s.AddPushNode(ctx, webpush.PushNode{User: "0@x", Node: "n0", Secret: "s0"}); err != nil {
		t.Fatal(err)
	}
	if all, err := s.PushNodes(ctx); err != nil || len(all) != 2 || all[0].User != "0@x" || all[1] != first {
		t.Fatalf("PushNodes = %+v, %v", all, err)
	}
	if _, err := s.PushNodeByNode(ctx, "n2"); !errors.Is(err, webpush.ErrNotFound) {
		t.Fatalf("PushNodeByNode of a node never kept: %v", err)
	}
	// Nodes are unique across users.
	if _, err := s.AddPushNode(ctx, webpush.PushNode{User: "b@x", Node: "n0", Secret: "s"}); err == nil {
		t.Fatal("two users share a node")
	}
	if err := s.DeletePushNode(ctx, "a@x"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePushNode(ctx, "a@x"); err != nil {
		t.Fatalf("DeletePushNode of none: %v", err)
	}
	if _, err := s.PushNodeByNode(ctx, "n1"); !errors.Is(err, webpush.ErrNotFound) {
		t.Fatalf("after DeletePushNode: %v", err)
	}
}

func TestRoomPush(t *testing.T) { eachBackend(t, testRoomPush) }

func testRoomPush(t *testing.T, newStore opener) {
	s, _ := newStore(t)
	ctx := t.Context()
	if _, err := s.RoomPush(ctx, "a@x", "r@muc.x"); !errors.Is(err, webpush.ErrNotFound) {
		t.Fatalf("RoomPush of none: %v, want ErrNotFound", err)
	}
	rp := webpush.RoomPush{User: "a@x", Room: "r@muc.x", Nick: "alice", Policy: webpush.RoomPushMentions}
	if err := s.PutRoomPush(ctx, rp); err != nil {
		t.Fatal(err)
	}
	rp.Policy, rp.Nick = webpush.RoomPushAll, "al"
	if err := s.PutRoomPush(ctx, rp); err != nil {
		t.Fatal(err)
	}
	if got, err := s.RoomPush(ctx, "a@x", "r@muc.x"); err != nil || got != rp {
		t.Fatalf("RoomPush = %+v, %v; want %+v", got, err, rp)
	}
	if _, err := s.RoomPush(ctx, "b@x", "r@muc.x"); !errors.Is(err, webpush.ErrNotFound) {
		t.Fatalf("another user's entry: %v", err)
	}
	if err := s.DeleteRoomPush(ctx, "a@x", "r@muc.x"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RoomPush(ctx, "a@x", "r@muc.x"); !errors.Is(err, webpush.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := s.DeleteRoomPush(ctx, "a@x", "r@muc.x"); err != nil {
		t.Fatalf("delete of none: %v", err)
	}
}
