package xmppconn

import "testing"

// TestAwayShow: which show a session sends for the user's own while it
// shows them away, and that nothing changes while they are there.
func TestAwayShow(t *testing.T) {
	tests := []struct {
		show string
		away bool
		want string
	}{
		{"", false, ""},
		{"dnd", false, "dnd"},
		{"", true, "xa"},
		{"available", true, "xa"},
		{"chat", true, "xa"},
		{"away", true, "xa"},
		{"xa", true, "xa"},
		{"dnd", true, "dnd"},
	}
	for _, tt := range tests {
		if got := awayShow(tt.show, tt.away); got != tt.want {
			t.Errorf("awayShow(%q, %v) = %q, want %q", tt.show, tt.away, got, tt.want)
		}
	}
}
