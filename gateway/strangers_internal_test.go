package gateway

import "testing"

// TestPersonOutsideRoster: only a person's JID off the group chat service
// can be a stranger's; rooms, their occupants, servers and a room's own
// messages ("") are not asked about.
func TestPersonOutsideRoster(t *testing.T) {
	s := &Server{cfg: Config{Domain: "x", MUCService: "conference.x"}}
	for _, tt := range []struct {
		sender string
		want   bool
	}{
		{"", false},
		{"alice@x", true},
		{"alice@x/phone", true},
		{"mallory@elsewhere.example", true},
		{"room@conference.x", false},
		{"room@conference.x/nick", false},
		{"x", false},
		{"elsewhere.example/announce", false},
		{"@x", false},
	} {
		if got := s.personOutsideRoster(tt.sender); got != tt.want {
			t.Errorf("personOutsideRoster(%q) = %v, want %v", tt.sender, got, tt.want)
		}
	}
}
