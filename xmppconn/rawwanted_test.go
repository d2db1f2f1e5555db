package xmppconn

import "testing"

// TestWantRaw: raw events are made until the first stream opens, then
// only if some stream asked for them; one that asked keeps them on for the
// session's life; a gateway with raw events off never makes them.
func TestWantRaw(t *testing.T) {
	tests := []struct {
		name    string
		on      bool   // ManagerConfig.RawEvents
		streams []bool // each stream's ?raw, in the order they open
		want    bool
	}{
		{"no-stream-yet", true, nil, true},
		{"default-stream", true, []bool{false}, false},
		{"raw-stream", true, []bool{true}, true},
		{"raw-then-default", true, []bool{true, false}, true},
		{"default-then-raw", true, []bool{false, true}, true},
		{"default-then-raw-then-default", true, []bool{false, true, false}, true},
		{"two-defaults", true, []bool{false, false}, false},
		{"off-no-stream", false, nil, false},
		{"off-raw-stream", false, []bool{true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Session{m: &Manager{cfg: ManagerConfig{RawEvents: tt.on}}}
			for _, raw := range tt.streams {
				s.WantRaw(raw)
			}
			if got := s.makesRaw(); got != tt.want {
				t.Errorf("makesRaw() = %v, want %v", got, tt.want)
			}
		})
	}
}
