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
// messagingState.scanPages of them.
const scanPage = 250

// queryArchivePage runs one page of q on an archive and maps a refused query
// to the right status. Keywords are matched by the gateway: ejabberd 23.01
// on SQLite answers a withtext search with MySQL syntax that fails, and an
// empty result. The search scans pages of the archive until it has the
// page's worth of matches; first and last are then the ids of the first
// and last match, so before/after continue from them.
func (s *Server) queryArchivePage(ctx context.Context, sess Session, archive string, q archiveQuery) ([]*xmppconn.MAMResult, xmppconn.Fin, error) {
	if q.filter.FullText == "" {
		return sess.QueryArchive(ctx, archive, q.filter, q.page)
	}
	want := q.page.Max
	if want <= 0 {
		want = xmppconn.DefaultArchivePage
	}
	kw := q.filter.FullText
	scan := archiveQuery{filter: q.filter, page: q.page}
	scan.filter.FullText = ""
	scan.page.Max = scanPage
	backward := q.page.Last || q.page.Before != ""
	var matched []*xmppconn.MAMResult
	fin := xmppconn.Fin{}
	for range s.msg.scanPages {
		res, f, err := sess.QueryArchive(ctx, archive, scan.filter, scan.page)
		if err != nil {
			return nil, fin, err
		}
		var m []*xmppconn.MAMResult
		for _, r := range res {
			if fm := r.Forwarded.Message; fm != nil && fm.Message != nil && fm.Message.Body != "" && keywordMatch(fm.Message.Body, kw) {
				m = append(m, r)
			}
		}
		if backward {
			matched = append(m, matched...)
			fin.First = f.First
		} else {
			matched = append(matched, m...)
			fin.Last = f.Last
		}
		fin.Complete = f.Complete
		if len(matched) >= want {
			if len(matched) > want {
				fin.Complete = false
			}
			if backward {
				matched = matched[len(matched)-want:]
			} else {
				matched = matched[:want]
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
	if len(matched) > 0 {
		fin.First, fin.Last = matched[0].ID, matched[len(matched)-1].ID
	}
	return matched, fin, nil
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

// resultTime is when an archived message was sent: the result's delay
// stamp (XEP-0313 section 5.1.2), else the message's own.
func resultTime(r *xmppconn.MAMResult) (time.Time, bool) {
	if d := r.Forwarded.Delay; d != nil && !d.Stamp.IsZero() {
		return d.Stamp.UTC(), true
	}
	if m := r.Forwarded.Message; m != nil && m.Delay != nil && !m.Delay.Stamp.IsZero() {
		return m.Delay.Stamp.UTC(), true
	}
	return time.Time{}, false
}

// conversations groups archived messages by peer (a room for room
// archives), keeping the archive's order within each and ordering the
// conversations by their first message.
func groupConversations(self string, results []*xmppconn.MAMResult, room bool, keywords string) []Conversation {
	var order []string
	byPeer := make(map[string]*Conversation)
	for _, r := range results {
		m := r.Forwarded.Message
		if m == nil || m.Message == nil || m.Message.Body == "" || !keywordMatch(m.Message.Body, keywords) {
			continue
		}
		from, to := m.From, m.To
		peer := strings.ToLower(bareJID(from))
		if !room && peer == self {
			peer = strings.ToLower(bareJID(to))
		}
		if from == "" {
			from = self
		}
		cv := byPeer[peer]
		id := conversationID(self, peer)
		if cv == nil {
			cv = &Conversation{ConversationID: ptr(id), External: ptr(false), Messages: &[]ArchivedMessage{}}
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
		}
		am := ArchivedMessage{
			ConversationID: ptr(id),
			From:           ptr(from),
			FromJID:        jidParts(from),
			Body:           ptr(m.Message.Body),
			Stanza:         ptr(string(m.Raw)),
			RoomEvent:      ptr(room),
			StanzaId:       ptr(r.ID),
		}
		if m.ID != "" {
			am.Id = ptr(m.ID)
		}
		if m.OriginID != "" {
			am.OriginId = ptr(m.OriginID)
		}
		if to != "" {
			am.To, am.ToJID = ptr(to), jidParts(to)
		}
		if t, ok := resultTime(r); ok {
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
		peer, err := s.bareContact(*params.To)
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
	res, fin, err := s.queryArchivePage(ctx, sess, "", q)
	if err != nil {
		return err
	}
	out := Conversations{Conversations: groupConversations(sess.User(), res, false, q.filter.FullText), Complete: ptr(fin.Complete)}
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
		res, fin, err := s.queryArchivePage(ctx, sess, room, q)
		if err != nil {
			return err
		}
		out.Conversations = append(out.Conversations, groupConversations(sess.User(), res, true, q.filter.FullText)...)
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
	res, fin, err := s.queryArchivePage(ctx, sess, room, q)
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
	for _, r := range res {
		m := r.Forwarded.Message
		if m == nil || m.Message == nil || m.Message.Body == "" {
			continue
		}
		typ := m.Type
		if typ == "" {
			typ = "groupchat"
		}
		e := MUCRoomMessageEntity{From: ptr(m.From), Type: ptr(typ), Body: ptr(m.Message.Body), StanzaId: ptr(r.ID)}
		if m.To != "" {
			e.To = ptr(m.To)
		}
		if t, ok := resultTime(r); ok {
			e.DelayStamp = ptr(t.Format(time.RFC3339Nano))
		}
		if d := r.Forwarded.Delay; d != nil && d.From != "" {
			e.DelayFrom = ptr(d.From)
		}
		out.Messages = append(out.Messages, e)
	}
	return c.JSON(http.StatusOK, out)
}
