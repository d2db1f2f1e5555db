package gateway

import (
	"strings"

	"github.com/sparkgate/sparkgate/chatapi"
)

// Invitations while signed out. A server's push notification (XEP-0357)
// carries a message's sender and body, not its elements, so the
// <invite/> of a room's mediated invitation is not in it: what tells one
// apart is the body the server writes for it, in English for the
// gateway's sessions; ejabberd 23.01's (mod_muc_room):
//
//	alice@example.org/phone invites you to the room team@conference.example.org, the password is 'pw' (join us)
//
// the password part only for a room with one, the reason only when given;
// Prosody's says "invited" (invitationWords). roomInvitation reads those,
// and only those: any other body from a room (a decline, a notice) is no
// invitation, and a server that words it otherwise pushes no invitation
// while the user is signed out. The password is never taken: a push
// shows on a lock screen.

// The wordings read: ejabberd's, and Prosody 0.12's (mod_muc: "%s invited
// you to the room %s (%s)", no password part; a room that hides its
// occupants' JIDs names the inviter room/nick).
var invitationWords = []string{" invites you to the room ", " invited you to the room "}

// roomInvitation reads a room's push body as its invitation to the
// user; room is the room's bare JID, the notification's sender.
func roomInvitation(room, body string) (chatapi.Invitation, bool) {
	var inviter, rest string
	var ok bool
	for _, words := range invitationWords {
		if inviter, rest, ok = strings.Cut(strings.TrimSpace(body), words); ok {
			break
		}
	}
	if !ok || inviter == "" || strings.ContainsAny(inviter, " \t\r\n") || !strings.Contains(inviter, "@") {
		return chatapi.Invitation{}, false
	}
	named, rest, _ := strings.Cut(rest, " ")
	named = strings.TrimSuffix(named, ",")
	if !strings.EqualFold(named, room) {
		return chatapi.Invitation{}, false
	}
	var reason string
	switch rest = strings.TrimSpace(rest); {
	case !strings.HasSuffix(rest, ")"):
	case strings.HasPrefix(rest, "("): // no password part
		reason = rest[1 : len(rest)-1]
	default: // after the password part, whose quotes may hold anything
		if i := strings.LastIndex(rest, "' ("); i >= 0 {
			reason = rest[i+3 : len(rest)-1]
		}
	}
	return chatapi.Invitation{Type: chatapi.TypeInvitationReceived, Room: strings.ToLower(room), Inviter: inviter, From: room, Reason: reason}, true
}
