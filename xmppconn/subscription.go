package xmppconn

import (
	"context"
	"fmt"

	"gosrc.io/xmpp/stanza"
)

// SetSubscription moves the user's presence subscriptions with the contact
// jid (a bare JID) from the state have to the state want, each one of RFC
// 6121's "none", "to", "from" or "both" (have is RosterItem.Subscription,
// "" counting as none). It sends only the presence stanzas the change
// needs (RFC 6121 section 3): subscribe or unsubscribe for the user's
// subscription to the contact ("to"), then subscribed or unsubscribed for
// the contact's subscription to the user ("from"). subscribed without a
// request from the contact pre-approves one (section 3.4).
func (s *Session) SetSubscription(ctx context.Context, jid, have, want string) error {
	hTo, hFrom, err := subscriptionWays(have)
	if err != nil {
		return err
	}
	wTo, wFrom, err := subscriptionWays(want)
	if err != nil {
		return err
	}
	for _, t := range subscriptionSteps(hTo, hFrom, wTo, wFrom) {
		if err := s.send(ctx, &stanza.Presence{Attrs: stanza.Attrs{To: jid, Type: t}}); err != nil {
			return err
		}
	}
	return nil
}

// subscriptionWays says which ways a subscription state goes.
func subscriptionWays(state string) (to, from bool, err error) {
	switch state {
	case "", "none":
		return false, false, nil
	case "to":
		return true, false, nil
	case "from":
		return false, true, nil
	case "both":
		return true, true, nil
	}
	return false, false, fmt.Errorf("%w: unknown subscription state %q", ErrInvalidStanza, state)
}

// subscriptionSteps are the presence types that move a subscription from
// (hTo, hFrom) to (wTo, wFrom), in the order they are sent.
func subscriptionSteps(hTo, hFrom, wTo, wFrom bool) []stanza.StanzaType {
	var types []stanza.StanzaType
	switch {
	case wTo && !hTo:
		types = append(types, stanza.PresenceTypeSubscribe)
	case !wTo && hTo:
		types = append(types, stanza.PresenceTypeUnsubscribe)
	}
	switch {
	case wFrom && !hFrom:
		types = append(types, stanza.PresenceTypeSubscribed)
	case !wFrom && hFrom:
		types = append(types, stanza.PresenceTypeUnsubscribed)
	}
	return types
}

// DeclineSubscription refuses the contact jid's pending request to see the
// user's presence: an unsubscribed presence to the contact (RFC 6121
// section 3.2.2), which the server also takes as the end of the pending
// request it keeps for the user (the contact's "Pending In", section
// 3.1.3). Unlike SetSubscription it sends even when the subscription
// state does not move ("none" stays "none": the request was never
// approved). Declining when no request is pending is harmless: the server
// passes the presence on or drops it.
func (s *Session) DeclineSubscription(ctx context.Context, jid string) error {
	return s.send(ctx, &stanza.Presence{Attrs: stanza.Attrs{To: jid, Type: stanza.PresenceTypeUnsubscribed}})
}
