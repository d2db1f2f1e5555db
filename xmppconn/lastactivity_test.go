package xmppconn

import (
	"errors"
	"testing"
	"time"
)

func TestParseLastActivity(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		want   time.Duration
		status string
		bad    bool
	}{
		{name: "offline", raw: `<iq type='result'><query xmlns='jabber:iq:last' seconds='903'>Heading home</query></iq>`, want: 903 * time.Second, status: "Heading home"},
		{name: "online", raw: `<iq type='result'><query xmlns='jabber:iq:last' seconds='0'/></iq>`},
		{name: "spaces", raw: `<iq><query xmlns='jabber:iq:last' seconds=' 12 '>  </query></iq>`, want: 12 * time.Second},
		{name: "a century", raw: `<iq><query xmlns='jabber:iq:last' seconds='3153600000'/></iq>`, want: 3153600000 * time.Second},
		{name: "beyond a century", raw: `<iq><query xmlns='jabber:iq:last' seconds='3153600001'/></iq>`, bad: true},
		{name: "huge", raw: `<iq><query xmlns='jabber:iq:last' seconds='99999999999999999999999'/></iq>`, bad: true},
		{name: "negative", raw: `<iq><query xmlns='jabber:iq:last' seconds='-5'/></iq>`, bad: true},
		{name: "fraction", raw: `<iq><query xmlns='jabber:iq:last' seconds='1.5'/></iq>`, bad: true},
		{name: "no seconds", raw: `<iq><query xmlns='jabber:iq:last'/></iq>`, bad: true},
		{name: "other namespace", raw: `<iq><query xmlns='jabber:iq:version' seconds='5'/></iq>`, bad: true},
		{name: "no query", raw: `<iq type='result'/>`, bad: true},
		{name: "empty", raw: ``, bad: true},
		{name: "not XML", raw: `<iq><query`, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, status, err := ParseLastActivity(&Stanza{Name: "iq", Raw: []byte(tt.raw)})
			if tt.bad {
				if !errors.Is(err, ErrProtocol) {
					t.Fatalf("ParseLastActivity = %v, %q, %v; want ErrProtocol", d, status, err)
				}
				return
			}
			if err != nil || d != tt.want || status != tt.status {
				t.Fatalf("ParseLastActivity = %v, %q, %v; want %v, %q", d, status, err, tt.want, tt.status)
			}
		})
	}
	if _, _, err := ParseLastActivity(nil); !errors.Is(err, ErrProtocol) {
		t.Errorf("nil reply: %v", err)
	}
}

// FuzzParseLastActivity: any reply is a time from zero to a century and
// a status, or ErrProtocol; never a panic.
func FuzzParseLastActivity(f *testing.F) {
	f.Add([]byte(`<iq type='result'><query xmlns='jabber:iq:last' seconds='903'>Heading home</query></iq>`))
	f.Add([]byte(`<iq><query xmlns='jabber:iq:last' seconds='0'/></iq>`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, _, err := ParseLastActivity(&Stanza{Name: "iq", Raw: raw})
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not ErrProtocol", err)
			}
			return
		}
		if d < 0 || d > maxLastSeconds*time.Second {
			t.Fatalf("idle time %v out of bounds", d)
		}
	})
}
