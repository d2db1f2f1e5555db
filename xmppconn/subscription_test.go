package xmppconn

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"
)

// TestSubscriptionSteps: every change between two of RFC 6121's states
// sends the stanzas for the ways that change, "to" first, and nothing for
// the ways that stay.
func TestSubscriptionSteps(t *testing.T) {
	const (
		sub    = stanza.PresenceTypeSubscribe
		unsub  = stanza.PresenceTypeUnsubscribe
		subd   = stanza.PresenceTypeSubscribed
		unsubd = stanza.PresenceTypeUnsubscribed
	)
	tests := []struct {
		have, want string
		steps      []stanza.StanzaType
	}{
		{"none", "none", nil},
		{"none", "to", []stanza.StanzaType{sub}},
		{"none", "from", []stanza.StanzaType{subd}},
		{"none", "both", []stanza.StanzaType{sub, subd}},
		{"", "both", []stanza.StanzaType{sub, subd}},
		{"to", "none", []stanza.StanzaType{unsub}},
		{"to", "to", nil},
		{"to", "from", []stanza.StanzaType{unsub, subd}},
		{"to", "both", []stanza.StanzaType{subd}},
		{"from", "none", []stanza.StanzaType{unsubd}},
		{"from", "to", []stanza.StanzaType{sub, unsubd}},
		{"from", "both", []stanza.StanzaType{sub}},
		{"both", "none", []stanza.StanzaType{unsub, unsubd}},
		{"both", "to", []stanza.StanzaType{unsubd}},
		{"both", "from", []stanza.StanzaType{unsub}},
		{"both", "both", nil},
	}
	for _, tt := range tests {
		hTo, hFrom, err := subscriptionWays(tt.have)
		if err != nil {
			t.Fatal(err)
		}
		wTo, wFrom, err := subscriptionWays(tt.want)
		if err != nil {
			t.Fatal(err)
		}
		if got := subscriptionSteps(hTo, hFrom, wTo, wFrom); !slices.Equal(got, tt.steps) {
			t.Errorf("%s → %s: steps %v, want %v", tt.have, tt.want, got, tt.steps)
		}
	}
	if _, _, err := subscriptionWays("remove"); !errors.Is(err, ErrInvalidStanza) {
		t.Errorf("subscriptionWays(remove) = %v, want ErrInvalidStanza", err)
	}
}

// requestAndApprove has sa ask for sb's presence and sb approve once the
// request has reached sb's session, as a person would (an approval sent
// before it may be lost: see the messaging suite).
func requestAndApprove(t *testing.T, ctx context.Context, sa, sb *Session) {
	t.Helper()
	w := sb.addWaiter(func(st *Stanza) bool {
		return st.Name == "presence" && st.Type == "subscribe" && bareJID(st.From) == sa.User()
	})
	defer sb.removeWaiter(w)
	if err := sa.SetSubscription(ctx, sb.User(), "none", "to"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.ch:
	case <-ctx.Done():
		t.Fatalf("%s never saw %s's request", sb.User(), sa.User())
	}
	if err := sb.SetSubscription(ctx, sa.User(), "none", "from"); err != nil {
		t.Fatal(err)
	}
}

// TestIntegrationSetSubscription: a request and its approval, each one
// SetSubscription call, give the server's roster the subscription both
// users asked for, and taking it back leaves none.
func TestIntegrationSetSubscription(t *testing.T) {
	// Raw events bring each roster push, on which the waits below look
	// at the roster again.
	ev := newEvents()
	p := newPair(t, ev, func(c *ManagerConfig) { c.RawEvents = true })
	ctx, a, b, sa, sb := p.ctx, p.a, p.b, p.sa, p.sb

	subOf := func(s *Session, contact string) string {
		t.Helper()
		items, err := s.Roster(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.JID == contact {
				return it.Subscription
			}
		}
		return ""
	}
	waitSub := func(s *Session, contact, want string) {
		t.Helper()
		ev.waitFor(t, 10*time.Second, s.User()+"'s subscription "+want+" with "+contact, func() bool {
			return subOf(s, contact) == want
		})
	}

	requestAndApprove(t, ctx, sa, sb)
	waitSub(sa, b.JID, "to")
	waitSub(sb, a.JID, "from")

	if err := sa.SetSubscription(ctx, b.JID, "to", "none"); err != nil {
		t.Fatal(err)
	}
	waitSub(sa, b.JID, "none")
	waitSub(sb, a.JID, "none")

	if err := sa.SetSubscription(ctx, b.JID, "none", "sideways"); !errors.Is(err, ErrInvalidStanza) {
		t.Fatalf("an unknown state: %v, want ErrInvalidStanza", err)
	}
}
