package xmppconn

import (
	"encoding/xml"
	"testing"
)

// TestIsBlockPush: only a XEP-0191 block or unblock set from the server
// goes to the session (which acknowledges it and tells the tabs).
func TestIsBlockPush(t *testing.T) {
	tests := []struct {
		typ, space, local string
		want              bool
	}{
		{"set", nsBlocking, "block", true},
		{"set", nsBlocking, "unblock", true},
		{"get", nsBlocking, "block", false},
		{"set", nsBlocking, "blocklist", false},
		{"get", nsBlocking, "blocklist", false},
		{"set", "urn:xmpp:other", "block", false},
		{"set", nsRoster, "query", false},
		{"result", nsBlocking, "unblock", false},
	}
	for _, tt := range tests {
		if got := isBlockPush(tt.typ, xml.Name{Space: tt.space, Local: tt.local}); got != tt.want {
			t.Errorf("isBlockPush(%q, {%s}%s) = %v, want %v", tt.typ, tt.space, tt.local, got, tt.want)
		}
	}
}
