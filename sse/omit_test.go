package sse

import "testing"

func TestFrameName(t *testing.T) {
	tests := []struct {
		frame, want string
	}{
		{"id: g-1\nevent: chatapi.xmpp\ndata: x\n\n", "chatapi.xmpp"},
		{"event: chatapi.close\ndata: {}\n\n", "chatapi.close"},
		{"id: g-2\ndata: no name\n\n", ""},
		{"data: no id, no name\n\n", ""},
		{"id: g-3", ""},                          // cut short: no line end
		{"id: g-4\nevent: chatapi.chat", ""},     // name without its line end
		{"event: \ndata: x\n\n", ""},             // an empty name
		{"id: g-5\nevent: a\nevent: b\n\n", "a"}, // the first event line
	}
	for _, tt := range tests {
		if got := string(frameName([]byte(tt.frame))); got != tt.want {
			t.Errorf("frameName(%q) = %q, want %q", tt.frame, got, tt.want)
		}
	}
	// A frame as the hub encodes it.
	f := appendFrame(nil, []byte("g-9"), "chatapi.muc", []byte("{}\nline"))
	if got := string(frameName(f)); got != "chatapi.muc" {
		t.Errorf("frameName(appendFrame(…)) = %q", got)
	}
}

func FuzzFrameName(f *testing.F) {
	f.Add([]byte("id: g-1\nevent: chatapi.xmpp\ndata: x\n\n"))
	f.Add([]byte("event: \n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		name := frameName(b)
		for _, c := range name {
			if c == '\n' {
				t.Fatalf("frameName(%q) = %q holds a line end", b, name)
			}
		}
	})
}
