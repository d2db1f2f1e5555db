package xmppconn

import "strings"

// xmlNames are the names, namespaces and attribute values that most
// stanzas carry. The tokenizer (xmltok.go) hands out these strings instead
// of allocating a copy of each; the table is fixed, shared by every
// connection and never written after start.
var xmlNames = func() *nameTable {
	words := strings.Fields(`
		stream message presence iq body subject thread error show status priority
		delay stanza-id origin-id archived active composing paused inactive gone
		request received displayed markable acknowledged result forwarded sent
		x item items query event features id to from type by stamp xmlns lang xml
		version jid affiliation role nick code queryid node name var category c
		hash ver ext bind session starttls mechanisms mechanism required success
		failure challenge response auth text html pubsub publish retract
		no-store store no-copy no-permanent-store hint fin set first last count
		index max feature identity conference reason invite password photo vCard
		data value field option instructions title reported json metadata info
		slot put get header fallback replace reactions reaction reply apply-to
		retracted moderated notification block unblock blocklist subscription
		ask group destroy actor continue decline subscribe subscribed
		unsubscribe unsubscribed unavailable probe chat groupchat headline
		normal cancel wait modify true false none both member participant
		moderator owner admin outcast visitor away xa dnd en 1.0 1 0 sha-1
		service-unavailable item-not-found feature-not-implemented
		not-authorized forbidden bad-request conflict not-allowed
		remote-server-not-found recipient-unavailable internal-server-error
		jabber:client jabber:server jabber:component:accept
		http://etherx.jabber.org/streams http://www.w3.org/XML/1998/namespace
		urn:ietf:params:xml:ns:xmpp-stanzas urn:ietf:params:xml:ns:xmpp-streams
		urn:ietf:params:xml:ns:xmpp-tls urn:ietf:params:xml:ns:xmpp-sasl
		urn:ietf:params:xml:ns:xmpp-bind urn:ietf:params:xml:ns:xmpp-session
		urn:xmpp:sid:0 urn:xmpp:delay urn:xmpp:mam:2 urn:xmpp:mam:tmp
		urn:xmpp:carbons:2 urn:xmpp:forward:0 urn:xmpp:ping urn:xmpp:receipts
		urn:xmpp:chat-markers:0 urn:xmpp:hints urn:xmpp:fallback:0
		urn:xmpp:fasten:0 urn:xmpp:message-correct:0 urn:xmpp:message-retract:0
		urn:xmpp:message-retract:1 urn:xmpp:reactions:0 urn:xmpp:reply:0
		urn:xmpp:http:upload:0 urn:xmpp:json:0 urn:xmpp:mucsub:0
		urn:xmpp:push:0 urn:xmpp:push:summary urn:xmpp:blocking
		urn:xmpp:bookmarks:1 urn:xmpp:avatar:data urn:xmpp:avatar:metadata
		urn:xmpp:sm:3 urn:xmpp:time urn:xmpp:features:rosterver
		http://jabber.org/protocol/chatstates http://jabber.org/protocol/caps
		http://jabber.org/protocol/disco#info http://jabber.org/protocol/disco#items
		http://jabber.org/protocol/muc http://jabber.org/protocol/muc#user
		http://jabber.org/protocol/muc#admin http://jabber.org/protocol/muc#owner
		http://jabber.org/protocol/nick http://jabber.org/protocol/pubsub
		http://jabber.org/protocol/pubsub#event http://jabber.org/protocol/pubsub#owner
		http://jabber.org/protocol/rsm http://jabber.org/protocol/xhtml-im
		http://www.w3.org/1999/xhtml jabber:iq:roster jabber:iq:register
		jabber:iq:private jabber:iq:version jabber:x:conference jabber:x:data
		jabber:x:oob storage:bookmarks vcard-temp vcard-temp:x:update
	`)
	var t nameTable
	for _, w := range words {
		i := nameHash([]byte(w))
		for t[i] != "" && t[i] != w {
			i = (i + 1) % nameSlots
		}
		t[i] = w
	}
	return &t
}()

// nameSlots is the size of the table, a power of two about four times the
// number of words, so that probe sequences stay short.
const nameSlots = 1024

// nameTable is an open-addressing hash table of strings: cheaper than a
// map for this lookup, which runs for every name of every stanza.
type nameTable [nameSlots]string

// nameHash mixes the length and three bytes of b: enough to spread XMPP's
// names and namespaces, which share long prefixes, and cheap.
func nameHash(b []byte) uint {
	n := len(b)
	if n == 0 {
		return 0
	}
	h := uint(n) | uint(b[0])<<8 | uint(b[n-1])<<16 | uint(b[n/2])<<24 | uint(b[n*2/3])<<32
	return (h * 0x9E3779B97F4A7C15 >> 40) % nameSlots
}

// maxNameLen is the length of the table's longest word (TestNameTable).
const maxNameLen = 40

// lookupName returns the table's copy of b, if it has one.
func lookupName(b []byte) (string, bool) {
	for i := nameHash(b); ; i = (i + 1) % nameSlots {
		s := xmlNames[i]
		if s == "" {
			return "", false
		}
		if s == string(b) {
			return s, true
		}
	}
}

// intern returns the table's copy of b or, for a name not in it, a string
// cut from the current element's chunk (xmlstrings.go).
func (t *tokenizer) intern(b []byte) string {
	if s, ok := lookupName(b); ok {
		return s
	}
	return t.str(b)
}
