package xmppconn

import (
	"slices"
	"strings"
	"time"
)

// Folding an archive page: the archive (XEP-0313) keeps every message as
// it was sent, so a correction (XEP-0308), a retraction (XEP-0424) and a
// reaction (XEP-0444) are messages of their own that name an earlier one.
// FoldArchive applies them, so that a page reads as a live client showed
// the conversation. It is a pure function of the results: no session, no
// clock.

// Kinds of Modification.
const (
	ModCorrection = "correction"
	ModRetraction = "retraction"
	ModReactions  = "reactions"
)

// ArchivedMessage is one message of a folded archive page as it reads now.
type ArchivedMessage struct {
	*MAMResult // the message as it was first archived

	// Body is the text now: the latest correction's, empty when retracted.
	Body string
	// Edit is the latest correction applied (nil: never corrected);
	// Retraction the retraction (nil: not retracted). A retracted message
	// has no Edit and no Reactions.
	Edit, Retraction *Modification
	// Reactions are each sender's latest set, in the order the senders
	// first reacted; a sender who withdrew every reaction is not listed.
	Reactions []Reaction
	// ReplyTo is the id of the message this one answers (XEP-0461).
	ReplyTo string
}

// Reaction is one sender's reactions to a message: the set their latest
// reactions message gave (XEP-0444 section 4: each such message replaces
// the sender's earlier set). From is a bare JID, or a room occupant's JID.
type Reaction struct {
	From      string
	Reactions []string
}

// Modification is an archived message that changes an earlier one.
type Modification struct {
	*MAMResult // the modifying message

	Kind      string   // ModCorrection, ModRetraction or ModReactions
	Target    string   // the id it names: the earlier message's id, origin-id or archive id
	Body      string   // a correction's new text
	Reactions []string // a reactions message's whole set (empty: withdrawn)
}

// FoldedPage is an archive page with its modifications applied.
type FoldedPage struct {
	// Messages are the page's messages with a body, in archive order,
	// each as it reads now. Modifications are never among them.
	Messages []ArchivedMessage
	// Updates are the modifications on the page whose message is not on
	// it (an older page has it), in archive order.
	Updates []Modification
}

// Modifies reports whether m corrects, retracts or reacts to an earlier
// message: what FoldArchive applies instead of listing.
func Modifies(m *Stanza) bool {
	return modificationOf(m, nil) != nil
}

// FoldArchive applies the modifications of page and of ahead (the results
// that follow page in the same archive, read only for this) to the
// messages of page. self is the user's bare JID, which a message without
// a from attribute is taken to come from.
//
// A modification names its message by id, origin-id or archive id (the
// XEPs differ between one-to-one and rooms, and clients differ between
// them); a name that a correction took over (its own ids) names the
// corrected message too, so a correction of a correction applies to the
// original. A correction or retraction counts only when it comes from the
// message's sender (the bare JID, in a room the occupant), and every
// modification only within the message's conversation; the latest
// correction wins; a retraction removes the body, the correction and the
// reactions, and nothing applies after it. Modifications of ahead whose
// message is not on page are dropped: the page that holds them reports
// them.
func FoldArchive(self string, page, ahead []*MAMResult) FoldedPage {
	f := folder{self: self, byName: make(map[string][]int)}
	for _, r := range page {
		f.add(r, true)
	}
	for _, r := range ahead {
		f.add(r, false)
	}
	return FoldedPage{Messages: f.msgs, Updates: f.updates}
}

// folder is FoldArchive's state.
type folder struct {
	self    string
	msgs    []ArchivedMessage
	keys    []msgKey         // per message: who sent it, in which conversation
	byName  map[string][]int // id, origin-id or archive id → indexes in msgs
	updates []Modification
}

// msgKey is a message's sender and conversation, as modifications are
// checked against them.
type msgKey struct{ sender, conv string }

func (f *folder) key(st *Stanza) msgKey {
	from := st.From
	if from == "" {
		from = f.self
	}
	if st.Type == "groupchat" {
		return msgKey{sender: from, conv: strings.ToLower(bareJID(from))}
	}
	sender := strings.ToLower(bareJID(from))
	conv := sender
	if sender == strings.ToLower(f.self) {
		conv = strings.ToLower(bareJID(st.To))
	}
	return msgKey{sender: sender, conv: conv}
}

// names are the ids by which modifications may refer to a message.
func names(r *MAMResult) []string {
	st := r.Forwarded.Message
	out := make([]string, 0, 3+len(st.StanzaIDs))
	for _, n := range []string{st.ID, st.OriginID, r.ID} {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, sid := range st.StanzaIDs {
		if sid.ID != "" && !slices.Contains(out, sid.ID) {
			out = append(out, sid.ID)
		}
	}
	return out
}

func (f *folder) add(r *MAMResult, onPage bool) {
	if r == nil || r.Forwarded.Message == nil || r.Forwarded.Message.Message == nil {
		return
	}
	st := r.Forwarded.Message
	mod := modificationOf(st, r)
	if mod == nil {
		if onPage && st.Message.Body != "" {
			i := len(f.msgs)
			am := ArchivedMessage{MAMResult: r, Body: st.Message.Body}
			if m := modernOf(st.Message); m != nil {
				am.ReplyTo = m.replyTo
			}
			f.msgs = append(f.msgs, am)
			f.keys = append(f.keys, f.key(st))
			f.name(r, i)
		}
		return
	}
	k := f.key(st)
	i, ok := f.target(mod.Target, k, mod.Kind != ModReactions)
	if !ok {
		if onPage {
			f.updates = append(f.updates, *mod)
		}
		return
	}
	m := &f.msgs[i]
	if m.Retraction != nil {
		return
	}
	switch mod.Kind {
	case ModCorrection:
		m.Body, m.Edit = mod.Body, mod
		f.name(r, i)
	case ModRetraction:
		m.Body, m.Edit, m.Reactions, m.Retraction = "", nil, nil, mod
	case ModReactions:
		m.Reactions = setReactions(m.Reactions, k.sender, mod.Reactions)
	}
}

// name makes r's ids name message i.
func (f *folder) name(r *MAMResult, i int) {
	for _, n := range names(r) {
		if !slices.Contains(f.byName[n], i) {
			f.byName[n] = append(f.byName[n], i)
		}
	}
}

// target finds the latest message named name in k's conversation (and,
// with sameSender, from k's sender).
func (f *folder) target(name string, k msgKey, sameSender bool) (int, bool) {
	idx := f.byName[name]
	for j := len(idx) - 1; j >= 0; j-- {
		mk := f.keys[idx[j]]
		if mk.conv == k.conv && (!sameSender || mk.sender == k.sender) {
			return idx[j], true
		}
	}
	return 0, false
}

// setReactions replaces sender's set in rs by set (removes it when empty).
func setReactions(rs []Reaction, sender string, set []string) []Reaction {
	i := slices.IndexFunc(rs, func(r Reaction) bool { return r.From == sender })
	switch {
	case len(set) == 0 && i >= 0:
		return slices.Delete(rs, i, i+1)
	case len(set) == 0:
		return rs
	case i >= 0:
		rs[i].Reactions = set
		return rs
	}
	return append(rs, Reaction{From: sender, Reactions: set})
}

// modificationOf reads what st changes of an earlier message, nil when it
// is a message of its own. A correction without a body is none (there is
// nothing to replace the text with), nor is a reactions element without
// an id. The reactions are bounded as live ones are (maxReactions of at
// most maxReactionBytes each), repeats dropped.
func modificationOf(st *Stanza, r *MAMResult) *Modification {
	if st == nil || st.Message == nil {
		return nil
	}
	m := modernOf(st.Message)
	if m == nil {
		return nil
	}
	switch {
	case m.hasReactions && m.reactTo != "":
		set := []string{}
		for _, e := range m.reactions {
			if e != "" && len(e) <= maxReactionBytes && len(set) < maxReactions && !slices.Contains(set, e) {
				set = append(set, e)
			}
		}
		return &Modification{MAMResult: r, Kind: ModReactions, Target: m.reactTo, Reactions: set}
	case m.retract != "":
		return &Modification{MAMResult: r, Kind: ModRetraction, Target: m.retract}
	case m.replace != "" && st.Message.Body != "":
		return &Modification{MAMResult: r, Kind: ModCorrection, Target: m.replace, Body: st.Message.Body}
	}
	return nil
}

// Stamp is when an archived message was sent: the result's delay stamp
// (XEP-0313 section 5.1.2), else the message's own; false when neither.
func (r *MAMResult) Stamp() (time.Time, bool) {
	if d := r.Forwarded.Delay; d != nil && !d.Stamp.IsZero() {
		return d.Stamp.UTC(), true
	}
	if m := r.Forwarded.Message; m != nil && m.Delay != nil && !m.Delay.Stamp.IsZero() {
		return m.Delay.Stamp.UTC(), true
	}
	return time.Time{}, false
}
