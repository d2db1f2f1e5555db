package gateway

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
)

// fakeRequests is a ContactRequestStore in memory, for one user.
type fakeRequests struct{ jids []string }

func (f *fakeRequests) AddContactRequest(_ context.Context, _, j string, _ time.Time) error {
	if !slices.Contains(f.jids, j) {
		f.jids = append(f.jids, j)
	}
	return nil
}

func (f *fakeRequests) RemoveContactRequest(_ context.Context, _, j string) error {
	f.jids = slices.DeleteFunc(f.jids, func(x string) bool { return x == j })
	return nil
}

func (f *fakeRequests) ContactRequests(context.Context, string) ([]string, error) {
	return slices.Clone(f.jids), nil
}

// TestTrackRequests: which events add a contact request and which take
// one away, starting each time from bob's request alone.
func TestTrackRequests(t *testing.T) {
	const user, bob, carol = "alice@example.org", "bob@example.org", "carol@example.org"
	for _, tt := range []struct {
		name string
		ev   chatapi.Payload
		want []string
	}{
		{"carol asks", chatapi.Presence{From: carol + "/phone", PresenceType: chatapi.PresenceSubscribe}, []string{bob, carol}},
		{"bob asks again", chatapi.Presence{From: bob, PresenceType: chatapi.PresenceSubscribe}, []string{bob}},
		{"bob withdraws", chatapi.Presence{From: bob, PresenceType: chatapi.PresenceUnsubscribe}, []string{}},
		{"bob comes online", chatapi.Presence{From: bob + "/x", PresenceType: chatapi.PresenceAvailable}, []string{bob}},
		{"the user's own request echoed", chatapi.Presence{From: user, PresenceType: chatapi.PresenceSubscribe}, []string{bob}},
		{"a room occupant", chatapi.Presence{From: "r@conference.example.org/carol", Nick: "carol", PresenceType: chatapi.PresenceSubscribe}, []string{bob}},
		{"from the room service", chatapi.Presence{From: "r@conference.example.org", PresenceType: chatapi.PresenceSubscribe}, []string{bob}},
		{"approved both ways", chatapi.Roster{JID: bob, Subscription: "both"}, []string{}},
		{"approved their way", chatapi.Roster{JID: bob, Subscription: "from"}, []string{}},
		{"bob only asked of", chatapi.Roster{JID: bob, Subscription: "none", Ask: "subscribe"}, []string{bob}},
		{"removed from the roster", chatapi.Roster{JID: bob, Subscription: "remove", Removed: true}, []string{}},
		{"declined", chatapi.Request{JID: bob, Answer: chatapi.RequestDeclined}, []string{}},
		{"blocked", chatapi.Blocklist{Action: "block", JIDs: []string{carol, bob}}, []string{}},
		{"unblocked", chatapi.Blocklist{Action: "unblock", JIDs: []string{bob}}, []string{bob}},
		{"a message", chatapi.Chat{From: bob, Body: "hi"}, []string{bob}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeRequests{jids: []string{bob}}
			s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			s.cfg.MUCService = "conference.example.org"
			s.cfg.Messaging.Requests = st
			s.trackRequests(user, tt.ev)
			if !slices.Equal(st.jids, tt.want) {
				t.Errorf("requests = %q, want %q", st.jids, tt.want)
			}
		})
	}
}
