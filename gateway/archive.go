package gateway

import (
	"context"
	"errors"
	"hash/fnv"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/xmppconn"
)

// errDate is returned by parseDate for a date it cannot read.
var errDate = errors.New("gateway: a date must be MM/dd/yy or RFC 3339")

// parseDate reads a date filter: MM/dd/yy (the SparkWeb API's form), an
// RFC 3339 date, or an RFC 3339 date-time (seconds, fraction and zone
// optional, UTC when no zone is given). A bare date means the start of
// that day in UTC, or with end set the last second of it, so that an end
// date includes the whole day (MAM's end is inclusive).
func parseDateFilter(v string, end bool) (time.Time, error) {
	if len(v) > 40 {
		return time.Time{}, errDate
	}
	day := func(t time.Time) time.Time {
		if end {
			return t.AddDate(0, 0, 1).Add(-time.Second)
		}
		return t
	}
	if t, err := time.ParseInLocation("01/02/06", v, time.UTC); err == nil {
		return day(t), nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, time.UTC); err == nil {
		return day(t), nil
	}
	norm := v
	if len(norm) > 10 && (norm[10] == 't' || norm[10] == ' ') {
		norm = norm[:10] + "T" + norm[11:]
	}
	if n := len(norm); n > 0 && norm[n-1] == 'z' {
		norm = norm[:n-1] + "Z"
	}
	for _, layout := range []string{
		time.RFC3339Nano,
		"2006-01-02T15:04Z07:00",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02T15:04",
	} {
		if t, err := time.ParseInLocation(layout, norm, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errDate
}

// archiveQuery is what the archive operations share: filter and page.
type archiveQuery struct {
	filter xmppconn.ArchiveFilter
	page   xmppconn.Page
}

func newArchiveQuery(start, end, keywords *string, max *int, before, after *string) (archiveQuery, error) {
	var q archiveQuery
	if start != nil && *start != "" {
		t, err := parseDateFilter(*start, false)
		if err != nil {
			return q, errorf(http.StatusBadRequest, "start: "+err.Error())
		}
		q.filter.Start = t
	}
	if end != nil && *end != "" {
		t, err := parseDateFilter(*end, true)
		if err != nil {
			return q, errorf(http.StatusBadRequest, "end: "+err.Error())
		}
		q.filter.End = t
	}
	if !q.filter.Start.IsZero() && !q.filter.End.IsZero() && q.filter.End.Before(q.filter.Start) {
		return q, errorf(http.StatusBadRequest, "end is before start")
	}
	if keywords != nil {
		q.filter.FullText = strings.TrimSpace(*keywords)
	}
	if max != nil {
		if *max < 1 || *max > xmppconn.MaxArchivePage {
			return q, errorf(http.StatusBadRequest, "max must be 1 to 1000")
		}
		q.page.Max = *max
	}
	switch {
	case after != nil && *after != "" && before != nil:
		return q, errorf(http.StatusBadRequest, "before and after cannot be used together")
	case after != nil && *after != "":
		q.page.After = *after
	case before != nil:
		q.page.Before, q.page.Last = *before, true
	}
	return q, nil
}

// keywordMatch reports whether body has every keyword (case-insensitive).
// The gateway applies it on top of the server's full-text search, which
// not every archive implements.
func keywordMatch(body, keywords string) bool {
	if keywords == "" {
		return true
	}
	b := strings.ToLower(body)
	for _, k := range strings.Fields(strings.ToLower(keywords)) {
		if !strings.Contains(b, k) {
			return false
		}
	}
	return true
}

// scanPage is the page size of a keyword search's scan of the archive
// (ejabberd answers at most 250 results per page); a request reads at most
// messagingState.scanPages of them. It is also how far a page looks ahead
// (see queryArchivePage).
const scanPage = 250

// queryArchivePage runs one page of q on an archive, maps a refused query
// to the right status, and folds the page (xmppconn.FoldArchive): each
// message with its corrections, retraction and reactions applied. What
// changes the page's messages may follow it: unless the page is the
// archive's newest, the scanPage results after it are read too (a
// keyword search's scan may have read them already) and applied, so that
// a client scrolling back sees the corrections it already saw on newer
// pages. The page's own modifications of older messages are its Updates.
func (s *Server) queryArchivePage(ctx context.Context, sess Session, archive string, q archiveQuery) (xmppconn.FoldedPage, xmppconn.Fin, error) {
	var (
		res, ahead []*xmppconn.MAMResult
		fin        xmppconn.Fin
		err        error
	)
	if q.filter.FullText == "" {
		res, fin, err = sess.QueryArchive(ctx, archive, q.filter, q.page)
	} else {
		res, ahead, fin, err = s.searchArchive(ctx, sess, archive, q)
	}
	if err != nil {
		return xmppconn.FoldedPage{}, fin, err
	}
	newest := q.filter.End.IsZero() && ((q.page.Last && q.page.Before == "") || (!q.page.Last && fin.Complete))
	if len(res) > 0 && fin.Last != "" && !newest {
		f := xmppconn.ArchiveFilter{With: q.filter.With}
		if ahead, _, err = sess.QueryArchive(ctx, archive, f, xmppconn.Page{Max: scanPage, After: fin.Last}); err != nil {
			return xmppconn.FoldedPage{}, fin, err
		}
	}
	page := xmppconn.FoldArchive(sess.User(), res, ahead)
	if kw := q.filter.FullText; kw != "" {
		page.Messages = slices.DeleteFunc(page.Messages, func(m xmppconn.ArchivedMessage) bool { return !keywordMatch(m.Body, kw) })
	}
	return page, fin, nil
}

// searchArchive reads one page of q's keyword search. Keywords are
// matched by the gateway: ejabberd 23.01 on SQLite answers a withtext
// search with MySQL syntax that fails, and an empty result. The search
// scans pages of the archive until it has the page's worth of messages
// whose text, as it is now (folded), matches; first and last are then the
// ids of the first and last match, so before/after continue from them.
// The results returned are those between the two, modifications
// included, and then those the scan read after the last match.
func (s *Server) searchArchive(ctx context.Context, sess Session, archive string, q archiveQuery) (page, after []*xmppconn.MAMResult, fin xmppconn.Fin, err error) {
	want := q.page.Max
	if want <= 0 {
		want = xmppconn.DefaultArchivePage
	}
	kw := q.filter.FullText
	scan := archiveQuery{filter: q.filter, page: q.page}
	scan.filter.FullText = ""
	scan.page.Max = scanPage
	backward := q.page.Last || q.page.Before != ""
	var all []*xmppconn.MAMResult
	var matches []string // archive ids of the matching messages, in order
	for range s.msg.scanPages {
		res, f, err := sess.QueryArchive(ctx, archive, scan.filter, scan.page)
		if err != nil {
			return nil, nil, fin, err
		}
		if backward {
			all = append(res, all...)
			fin.First = f.First
		} else {
			all = append(all, res...)
			fin.Last = f.Last
		}
		fin.Complete = f.Complete
		matches = matches[:0]
		for _, m := range xmppconn.FoldArchive(sess.User(), all, nil).Messages {
			if keywordMatch(m.Body, kw) {
				matches = append(matches, m.ID)
			}
		}
		if len(matches) >= want {
			if len(matches) > want {
				fin.Complete = false
			}
			if backward {
				matches = matches[len(matches)-want:]
			} else {
				matches = matches[:want]
			}
			break
		}
		if f.Complete || f.Last == "" {
			break
		}
		if backward {
			scan.page.Before, scan.page.After = f.First, ""
		} else {
			scan.page.After, scan.page.Before, scan.page.Last = f.Last, "", false
		}
	}
	if len(matches) == 0 {
		return nil, nil, fin, nil
	}
	fin.First, fin.Last = matches[0], matches[len(matches)-1]
	from := slices.IndexFunc(all, func(r *xmppconn.MAMResult) bool { return r.ID == fin.First })
	to := slices.IndexFunc(all, func(r *xmppconn.MAMResult) bool { return r.ID == fin.Last })
	return all[from : to+1], all[to+1:], fin, nil
}

// conversationID is a stable id for the conversation between the user and
// peer (or a room): the same pair always gets the same number.
func conversationID(self, peer string) int64 {
	h := fnv.New64a()
	h.Write([]byte(self))
	h.Write([]byte{0})
	h.Write([]byte(peer))
	return int64(h.Sum64() >> 1)
}

// conversations groups a folded archive page by peer (a room for room
// archives), keeping the archive's order within each and ordering the
// conversations by their first message or update. In the user's own
// archive, private messages with a room's occupant (a peer on
// mucService) are a conversation with room/nick, one per nick.
func groupConversations(self string, page xmppconn.FoldedPage, room bool, mucService string) []Conversation {
	var order []string
	byPeer := make(map[string]*Conversation)
	conv := func(st *xmppconn.Stanza) (*Conversation, int64) {
		addr := st.From
		peer := strings.ToLower(bareJID(addr))
		if !room && (peer == self || st.From == "") {
			addr = st.To
			peer = strings.ToLower(bareJID(addr))
		}
		if _, domain, _ := strings.Cut(peer, "@"); !room && mucService != "" && domain == mucService {
			if _, nick, ok := strings.Cut(addr, "/"); ok && nick != "" {
				peer += "/" + nick
			}
		}
		id := conversationID(self, peer)
		if cv := byPeer[peer]; cv != nil {
			return cv, id
		}
		cv := &Conversation{ConversationID: ptr(id), External: ptr(false), Messages: &[]ArchivedMessage{}, MessageCount: ptr(int32(0))}
		if room {
			cv.ChatRoom = ptr(peer)
			cv.Room = jidParts(peer)
			cv.ParticipantList = &[]string{self}
			cv.ConversationParticipants = &[]string{self}
			cv.Participants = &[]JID{*jidParts(self)}
		} else {
			cv.ParticipantList = &[]string{self, peer}
			cv.ConversationParticipants = &[]string{self, peer}
			cv.Participants = &[]JID{*jidParts(self), *jidParts(peer)}
		}
		byPeer[peer] = cv
		order = append(order, peer)
		return cv, id
	}
	for _, m := range page.Messages {
		st := m.Forwarded.Message
		cv, id := conv(st)
		from, to := st.From, st.To
		if from == "" {
			from = self
		}
		am := ArchivedMessage{
			ConversationID: ptr(id),
			From:           ptr(from),
			FromJID:        jidParts(from),
			RoomEvent:      ptr(room),
			StanzaId:       ptr(m.ID),
		}
		a := annotate(m)
		am.Body, am.Edited, am.EditedDate, am.EditId = a.body, a.edited, a.editedDate, a.editID
		am.Retracted, am.RetractedDate, am.Reactions, am.ReplyTo = a.retracted, a.retractedDate, a.reactions, a.replyTo
		if m.Retraction == nil {
			am.Stanza = ptr(string(st.Raw))
		}
		if st.ID != "" {
			am.Id = ptr(st.ID)
		}
		if st.OriginID != "" {
			am.OriginId = ptr(st.OriginID)
		}
		if to != "" {
			am.To, am.ToJID = ptr(to), jidParts(to)
		}
		if t, ok := m.Stamp(); ok {
			am.SentDate = ptr(t)
			if cv.StartDate == nil || t.Before(*cv.StartDate) {
				cv.StartDate = ptr(t)
			}
			if cv.LastActivity == nil || t.After(*cv.LastActivity) {
				cv.LastActivity = ptr(t)
			}
		}
		*cv.Messages = append(*cv.Messages, am)
		cv.MessageCount = ptr(int32(len(*cv.Messages)))
	}
	for _, u := range page.Updates {
		cv, _ := conv(u.Forwarded.Message)
		if cv.Updates == nil {
			cv.Updates = &[]ArchiveUpdate{}
		}
		*cv.Updates = append(*cv.Updates, archiveUpdate(u))
	}
	out := make([]Conversation, 0, len(order))
	for _, p := range order {
		out = append(out, *byPeer[p])
	}
	return out
}

// GetChatMessages serves GET /chat/messages: one page of the user's own
// archive (XEP-0313), grouped by peer.
func (s *Server) GetChatMessages(c echo.Context, params GetChatMessagesParams) error {
	q, err := newArchiveQuery(params.Start, params.End, params.Keywords, params.Max, params.Before, params.After)
	if err != nil {
		return err
	}
	if params.To != nil && *params.To != "" {
		peer, err := s.chatContact(*params.To)
		if err != nil {
			return err
		}
		q.filter.With = peer
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	page, fin, err := s.queryArchivePage(ctx, sess, "", q)
	if err != nil {
		return err
	}
	out := Conversations{Conversations: groupConversations(sess.User(), page, false, s.cfg.MUCService), Complete: ptr(fin.Complete)}
	if fin.First != "" {
		out.First = ptr(fin.First)
	}
	if fin.Last != "" {
		out.Last = ptr(fin.Last)
	}
	return c.JSON(http.StatusOK, out)
}

// GetGroupChatMessages serves GET /groupchat/messages: the archives of
// the room asked for, or of every room the user is in on the service. With
// several rooms each gets a page of its own; first and last are given only
// for a single room, since archive ids belong to one archive.
func (s *Server) GetGroupChatMessages(c echo.Context, params GetGroupChatMessagesParams) error {
	q, err := newArchiveQuery(params.Start, params.End, params.Keywords, params.Max, params.Before, params.After)
	if err != nil {
		return err
	}
	svc, err := s.mucService(params.Service)
	if err != nil {
		return err
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	var rooms []string
	if params.Room != nil && *params.Room != "" {
		room := *params.Room
		if !strings.Contains(room, "@") {
			if room, err = username(room); err != nil {
				return errorf(http.StatusBadRequest, "invalid room: "+err.Error())
			}
			room += "@" + svc
		} else if room, err = s.bareContact(room); err != nil {
			return err
		}
		if _, _, err := roomAccess(ctx, sess, room); err != nil {
			return err
		}
		rooms = []string{room}
	} else {
		for j := range sess.Rooms() {
			if strings.HasSuffix(j, "@"+svc) {
				rooms = append(rooms, j)
			}
		}
		slices.Sort(rooms)
		if q.page.After != "" || q.page.Before != "" {
			if len(rooms) != 1 {
				return errorf(http.StatusBadRequest, "before and after need a single room (give room)")
			}
		}
	}
	out := Conversations{Conversations: []Conversation{}, Complete: ptr(true)}
	for _, room := range rooms {
		page, fin, err := s.queryArchivePage(ctx, sess, room, q)
		if err != nil {
			return err
		}
		out.Conversations = append(out.Conversations, groupConversations(sess.User(), page, true, "")...)
		if !fin.Complete {
			out.Complete = ptr(false)
		}
		if len(rooms) == 1 {
			if fin.First != "" {
				out.First = ptr(fin.First)
			}
			if fin.Last != "" {
				out.Last = ptr(fin.Last)
			}
		}
	}
	return c.JSON(http.StatusOK, out)
}

// GetRoomHistory serves GET /groupchat/room/{roomName}/chathistory: one
// page of the room's archive.
func (s *Server) GetRoomHistory(c echo.Context, roomName RoomName, params GetRoomHistoryParams) error {
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	q, err := newArchiveQuery(nil, nil, nil, params.Max, params.Before, params.After)
	if err != nil {
		return err
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	if _, _, err := roomAccess(ctx, sess, room); err != nil {
		return err
	}
	page, fin, err := s.queryArchivePage(ctx, sess, room, q)
	if err != nil {
		return err
	}
	out := MUCRoomMessageEntities{Messages: []MUCRoomMessageEntity{}, Complete: ptr(fin.Complete)}
	if fin.First != "" {
		out.First = ptr(fin.First)
	}
	if fin.Last != "" {
		out.Last = ptr(fin.Last)
	}
	for _, m := range page.Messages {
		st := m.Forwarded.Message
		typ := st.Type
		if typ == "" {
			typ = "groupchat"
		}
		e := MUCRoomMessageEntity{From: ptr(st.From), Type: ptr(typ), StanzaId: ptr(m.ID)}
		a := annotate(m)
		e.Body, e.Edited, e.EditedDate, e.EditId = a.body, a.edited, a.editedDate, a.editID
		e.Retracted, e.RetractedDate, e.Reactions, e.ReplyTo = a.retracted, a.retractedDate, a.reactions, a.replyTo
		if st.ID != "" {
			e.Id = ptr(st.ID)
		}
		if st.To != "" {
			e.To = ptr(st.To)
		}
		if t, ok := m.Stamp(); ok {
			e.DelayStamp = ptr(t.Format(time.RFC3339Nano))
		}
		if d := m.Forwarded.Delay; d != nil && d.From != "" {
			e.DelayFrom = ptr(d.From)
		}
		out.Messages = append(out.Messages, e)
	}
	for _, u := range page.Updates {
		if out.Updates == nil {
			out.Updates = &[]ArchiveUpdate{}
		}
		*out.Updates = append(*out.Updates, archiveUpdate(u))
	}
	return c.JSON(http.StatusOK, out)
}
