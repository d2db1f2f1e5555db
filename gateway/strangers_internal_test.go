package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/webpush"
)

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

// strangersMuted is a MuteStore in which only strangers are muted.
type strangersMuted struct{}

func (strangersMuted) PutMute(context.Context, string, string, time.Time) error { return nil }
func (strangersMuted) DeleteMute(context.Context, string, string, time.Time) (bool, error) {
	return false, nil
}
func (strangersMuted) Mutes(context.Context, string, time.Time) ([]webpush.Mute, error) {
	return []webpush.Mute{{Peer: webpush.MuteStrangers}}, nil
}
func (strangersMuted) Muted(_ context.Context, _, peer string, _ time.Time) (bool, error) {
	return peer == webpush.MuteStrangers, nil
}

// TestSilenced: while strangers are muted, what no roster needs to
// decide: a room's message and an occupant's private message push, an
// invitation whose inviter the room does not name (room/nick, none) does
// not. (A person's message asks the roster:
// TestIntegrationMuteStrangers.)
func TestSilenced(t *testing.T) {
	s := &Server{cfg: Config{Domain: "x", MUCService: "conference.x", Messaging: MessagingConfig{Mutes: strangersMuted{}}}}
	for _, tt := range []struct {
		name string
		d    pushData
		want error
	}{
		{"room mention", pushData{Type: pushGroupChat, From: "room@conference.x"}, nil},
		{"occupant's private message", pushData{Type: pushChat, From: "room@conference.x/nick", Sender: "room@conference.x/nick"}, nil},
		{"invitation by nick", pushData{Type: pushInvitation, From: "room@conference.x", Sender: "room@conference.x/nick"}, errStranger},
		{"invitation by nobody", pushData{Type: pushInvitation, From: "room@conference.x"}, errStranger},
		{"server notice", pushData{Type: pushChat, From: "x", Sender: "x"}, nil},
	} {
		if got := s.silenced("alice@x", tt.d); got != tt.want {
			t.Errorf("%s: silenced = %v, want %v", tt.name, got, tt.want)
		}
	}
}
