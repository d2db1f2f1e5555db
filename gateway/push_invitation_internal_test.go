package gateway

import (
	"strings"
	"testing"
)

func TestRoomInvitation(t *testing.T) {
	const room = "team@conference.x"
	for _, tt := range []struct {
		name, body      string
		ok              bool
		inviter, reason string
	}{
		{"plain", "alice@x/phone invites you to the room team@conference.x ", true, "alice@x/phone", ""},
		{"reason", "alice@x/phone invites you to the room team@conference.x (join us) ", true, "alice@x/phone", "join us"},
		{"reason with brackets", "alice@x invites you to the room team@conference.x (see (the doc)) ", true, "alice@x", "see (the doc)"},
		{"password", "alice@x invites you to the room team@conference.x, the password is 'pw' ", true, "alice@x", ""},
		{"password and reason", "alice@x invites you to the room team@conference.x, the password is 'p (w)' (join us) ", true, "alice@x", "join us"},
		{"room case", "alice@x invites you to the room Team@Conference.x ", true, "alice@x", ""},
		{"prosody", "alice@x/web invited you to the room team@conference.x (join us)", true, "alice@x/web", "join us"},
		{"prosody by nick", "team@conference.x/alice invited you to the room team@conference.x", true, "team@conference.x/alice", ""},
		{"another room", "alice@x invites you to the room other@conference.x (x) ", false, "", ""},
		{"decline", "alice@x declined your invitation to the room team@conference.x", false, "", ""},
		{"no inviter", " invites you to the room team@conference.x", false, "", ""},
		{"not a jid", "someone invites you to the room team@conference.x", false, "", ""},
		{"two words", "a b@x invites you to the room team@conference.x", false, "", ""},
		{"empty", "", false, "", ""},
	} {
		inv, ok := roomInvitation(room, tt.body)
		if ok != tt.ok || ok && (inv.Inviter != tt.inviter || inv.Reason != tt.reason || inv.Room != room || inv.Type != "invitationReceived" || inv.Password != "") {
			t.Errorf("%s: %+v, %v", tt.name, inv, ok)
		}
	}
}

// FuzzRoomInvitation: any body is read or refused, never a panic; one
// that is read names an inviter (one word with an @) and the room.
func FuzzRoomInvitation(f *testing.F) {
	f.Add("team@conference.x", "alice@x/phone invites you to the room team@conference.x, the password is 'p (w)' (join us) ")
	f.Add("team@conference.x", "a@x invites you to the room team@conference.x ()")
	f.Add("r@c", "x@y invites you to the room r@c, the password is ''' (')")
	f.Fuzz(func(t *testing.T, room, body string) {
		inv, ok := roomInvitation(room, body)
		if !ok {
			return
		}
		if inv.Inviter == "" || strings.ContainsAny(inv.Inviter, " \t\r\n") || !strings.Contains(inv.Inviter, "@") {
			t.Fatalf("inviter %q from %q", inv.Inviter, body)
		}
		if inv.Room != strings.ToLower(room) || inv.Password != "" {
			t.Fatalf("invitation %+v from %q", inv, body)
		}
	})
}
