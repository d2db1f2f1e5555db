package auth

import (
	"regexp"
	"testing"
)

// TestMeetingName: a scope always gives the same name under one key
// directory (a second start, another node with the same files), different
// scopes and different keys give different names, and a name is 26 lower
// case base32 characters.
func TestMeetingName(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	other, err := LoadOrCreateKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	shape := regexp.MustCompile(`^[a-z2-7]{26}$`)
	tests := []struct {
		name   string
		a, b   string
		keysB  *Keys
		sameAs bool
	}{
		{"same scope, second start", "pair\x00alice@x\x00bob@x", "pair\x00alice@x\x00bob@x", k2, true},
		{"another pair", "pair\x00alice@x\x00bob@x", "pair\x00alice@x\x00eve@x", k1, false},
		{"a room is not a pair", "room\x00team@conference.x", "pair\x00team@conference.x", k1, false},
		{"another key directory", "pair\x00alice@x\x00bob@x", "pair\x00alice@x\x00bob@x", other, false},
	}
	for _, tt := range tests {
		a, b := k1.MeetingName(tt.a), tt.keysB.MeetingName(tt.b)
		if !shape.MatchString(a) || !shape.MatchString(b) {
			t.Errorf("%s: names %q, %q are not 26 base32 characters", tt.name, a, b)
		}
		if (a == b) != tt.sameAs {
			t.Errorf("%s: %q and %q, same = %v, want %v", tt.name, a, b, a == b, tt.sameAs)
		}
	}
}
