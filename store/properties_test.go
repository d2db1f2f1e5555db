package store_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUserProperties(t *testing.T) { eachBackend(t, testUserProperties) }

func testUserProperties(t *testing.T, newStore opener) {
	ctx := t.Context()
	s, _ := newStore(t)
	const alice, bob = "alice@example.com", "bob@example.com"

	got, err := s.UserProperties(ctx, alice)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("UserProperties(new user) = %v, %v; want an empty map", got, err)
	}
	if ok, err := s.SetUserProperties(ctx, alice, map[string]string{"color": "blue", "lang": "en"}, nil, 3); err != nil || !ok {
		t.Fatalf("SetUserProperties = %v, %v", ok, err)
	}
	if ok, err := s.SetUserProperties(ctx, bob, map[string]string{"color": "red"}, nil, 0); err != nil || !ok {
		t.Fatalf("SetUserProperties(bob) = %v, %v", ok, err)
	}
	// Replace one, remove one, add one: still within the limit of 3.
	if ok, err := s.SetUserProperties(ctx, alice, map[string]string{"color": "green", "tz": "UTC"}, []string{"lang"}, 3); err != nil || !ok {
		t.Fatalf("SetUserProperties(update) = %v, %v", ok, err)
	}
	want := map[string]string{"color": "green", "tz": "UTC"}
	if got, err := s.UserProperties(ctx, alice); err != nil || !cmp.Equal(got, want) {
		t.Fatalf("UserProperties = %v, %v; diff %s", got, err, cmp.Diff(want, got))
	}
	// Over the limit: nothing changes.
	if ok, err := s.SetUserProperties(ctx, alice, map[string]string{"a": "1", "b": "2"}, nil, 3); err != nil || ok {
		t.Fatalf("SetUserProperties(over limit) = %v, %v; want false, nil", ok, err)
	}
	if got, _ := s.UserProperties(ctx, alice); !cmp.Equal(got, want) {
		t.Fatalf("after a refused update: %v", cmp.Diff(want, got))
	}

	for _, tt := range []struct {
		name, value string
		match       bool
		limit       int
		want        []string
	}{
		{"color", "", false, 0, []string{alice, bob}},
		{"color", "red", true, 0, []string{bob}},
		{"color", "", true, 0, nil},
		{"color", "", false, 1, []string{alice}},
		{"missing", "", false, 0, nil},
	} {
		got, err := s.UsersWithProperty(ctx, tt.name, tt.value, tt.match, tt.limit)
		if err != nil || !cmp.Equal(got, tt.want) {
			t.Errorf("UsersWithProperty(%q, %q, %v, %d) = %v, %v; want %v", tt.name, tt.value, tt.match, tt.limit, got, err, tt.want)
		}
	}

	if err := s.DeleteUserProperties(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.UserProperties(ctx, alice); len(got) != 0 {
		t.Fatalf("after DeleteUserProperties: %v", got)
	}
	if err := s.DeleteUserProperties(ctx, alice); err != nil {
		t.Fatalf("DeleteUserProperties twice: %v", err)
	}
	if got, _ := s.UserProperties(ctx, bob); !cmp.Equal(got, map[string]string{"color": "red"}) {
		t.Fatalf("bob's properties changed: %v", got)
	}
}
