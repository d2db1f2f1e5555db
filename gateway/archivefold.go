package gateway

import (
	"time"

	"github.com/sparkgate/sparkgate/xmppconn"
)

// What the archive's schemas say of a folded message (xmppconn.FoldArchive):
// its text now, and the sparkgate additions edited, retracted, reactions
// and replyTo, shared by ArchivedMessage and MUCRoomMessageEntity.

// annotations are the fields of a folded message both schemas carry.
type annotations struct {
	body, editID, replyTo     *string
	edited, retracted         *bool
	editedDate, retractedDate *time.Time
	reactions                 *[]ArchivedReactions
}

// annotate reads m's annotations: a nil field is omitted.
func annotate(m xmppconn.ArchivedMessage) annotations {
	var a annotations
	if m.Body != "" {
		a.body = ptr(m.Body)
	}
	if m.ReplyTo != "" {
		a.replyTo = ptr(m.ReplyTo)
	}
	if e := m.Edit; e != nil {
		a.edited = ptr(true)
		if e.Forwarded.Message.ID != "" {
			a.editID = ptr(e.Forwarded.Message.ID)
		}
		if t, ok := e.Stamp(); ok {
			a.editedDate = ptr(t)
		}
	}
	if r := m.Retraction; r != nil {
		a.retracted = ptr(true)
		if t, ok := r.Stamp(); ok {
			a.retractedDate = ptr(t)
		}
	}
	if len(m.Reactions) > 0 {
		rs := make([]ArchivedReactions, 0, len(m.Reactions))
		for _, r := range m.Reactions {
			rs = append(rs, ArchivedReactions{From: r.From, Reactions: r.Reactions})
		}
		a.reactions = &rs
	}
	return a
}

// archiveUpdate is the ArchiveUpdate of a modification whose message is
// not on its page.
func archiveUpdate(u xmppconn.Modification) ArchiveUpdate {
	st := u.Forwarded.Message
	out := ArchiveUpdate{Kind: ArchiveUpdateKind(u.Kind), Target: u.Target, From: st.From, StanzaId: ptr(u.ID)}
	if st.ID != "" {
		out.Id = ptr(st.ID)
	}
	if t, ok := u.Stamp(); ok {
		out.SentDate = ptr(t)
	}
	switch u.Kind {
	case xmppconn.ModCorrection:
		out.Body = ptr(u.Body)
	case xmppconn.ModReactions:
		out.Reactions = ptr(u.Reactions)
	}
	return out
}
