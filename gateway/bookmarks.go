package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/bookmark"
	"github.com/sparkgate/sparkgate/jid"
	"github.com/sparkgate/sparkgate/xmppadmin"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// Limits of a bookmark's fields (the spec says the same).
const (
	maxBookmarkName      = 1024
	maxBookmarkValue     = 4096
	maxBookmarkUsers     = 10000
	maxBookmarkGroups    = 1000
	maxBookmarkPropName  = 255
	maxBookmarkPropValue = 4096
	maxBookmarkBody      = 256 << 10
)

// ListBookmarks serves GET /bookmarks: the bookmarks that are global, name
// the user, name one of the user's groups, or that the user created.
// Group chat bookmarks of admins that the user sees are offered to their
// other clients through XEP-0402 as well (see offerBookmarks).
func (s *Server) ListBookmarks(c echo.Context) error {
	st, err := s.bookmarkStore()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	jid := claimsOf(c).Subject
	groups, err := s.collab.access.UserGroups(ctx, jid)
	if err != nil {
		return err
	}
	bs, err := st.VisibleBookmarks(ctx, localPart(jid), jid, groups)
	if err != nil {
		return err
	}
	s.offerBookmarks(c, jid, bs)
	out := Bookmarks{Bookmarks: make([]Bookmark, 0, len(bs))}
	for _, b := range bs {
		out.Bookmarks = append(out.Bookmarks, bookmarkOut(b))
	}
	return c.JSON(http.StatusOK, out)
}

// GetBookmark serves GET /bookmark/{id}: one bookmark the user may see (or
// any, for an admin); any other is 404.
func (s *Server) GetBookmark(c echo.Context, id BookmarkID) error {
	b, _, err := s.loadBookmark(c, id, false)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, bookmarkOut(b))
}

// CreateBookmark serves POST /bookmark: a bookmark owned by the user. Only
// admins create global ones.
func (s *Server) CreateBookmark(c echo.Context) error {
	st, err := s.bookmarkStore()
	if err != nil {
		return err
	}
	in, err := readBookmark(c)
	if err != nil {
		return err
	}
	jid := claimsOf(c).Subject
	b := bookmark.Bookmark{Creator: jid}
	if err := s.applyBookmark(&b, in, s.isBookmarkAdmin(jid)); err != nil {
		return err
	}
	if b.Type == "" || b.Name == "" || b.Value == "" {
		return errorf(http.StatusBadRequest, "a bookmark needs a type, a name and a value")
	}
	b, err = st.CreateBookmark(c.Request().Context(), b)
	if err != nil {
		return err
	}
	s.syncNativeBookmark(c, nil, &b)
	return c.JSON(http.StatusOK, bookmarkOut(b))
}

// UpdateBookmark serves PUT /bookmark/{id}: the fields given replace the
// bookmark's (absent ones are kept). Creator or admin only.
func (s *Server) UpdateBookmark(c echo.Context, id BookmarkID) error {
	in, err := readBookmark(c)
	if err != nil {
		return err
	}
	old, admin, err := s.loadBookmark(c, id, true)
	if err != nil {
		return err
	}
	if in.BookmarkID != nil && *in.BookmarkID != int64(id) {
		return errorf(http.StatusBadRequest, "bookmarkID in the body does not match the path")
	}
	b := old
	b.Users = append([]string(nil), old.Users...)
	b.Groups = append([]string(nil), old.Groups...)
	b.Properties = append([]bookmark.Property(nil), old.Properties...)
	if err := s.applyBookmark(&b, in, admin); err != nil {
		return err
	}
	if b.Name == "" || b.Value == "" {
		return errorf(http.StatusBadRequest, "a bookmark needs a name and a value")
	}
	st, _ := s.bookmarkStore()
	b, err = st.UpdateBookmark(c.Request().Context(), b)
	if err != nil {
		return err
	}
	s.syncNativeBookmark(c, &old, &b)
	return c.JSON(http.StatusOK, bookmarkOut(b))
}

// DeleteBookmark serves DELETE /bookmark/{id}. Creator or admin only.
func (s *Server) DeleteBookmark(c echo.Context, id BookmarkID) error {
	old, _, err := s.loadBookmark(c, id, true)
	if err != nil {
		return err
	}
	st, _ := s.bookmarkStore()
	if err := st.DeleteBookmark(c.Request().Context(), old.ID); err != nil {
		return err
	}
	s.syncNativeBookmark(c, &old, nil)
	return c.NoContent(http.StatusOK)
}

// SetBookmarkProperty serves POST /bookmark/{id}/{name}: the body (text) is
// the property's value. Creator or admin only.
func (s *Server) SetBookmarkProperty(c echo.Context, id BookmarkID, name string) error {
	if err := validPropertyName(name); err != nil {
		return err
	}
	value, err := readText(c.Request(), maxBookmarkPropValue*4)
	if err != nil {
		return err
	}
	if utf8.RuneCountInString(value) > maxBookmarkPropValue {
		return errorf(http.StatusBadRequest, fmt.Sprintf("a property value has at most %d characters", maxBookmarkPropValue))
	}
	old, _, err := s.loadBookmark(c, id, true)
	if err != nil {
		return err
	}
	st, _ := s.bookmarkStore()
	b, err := st.SetBookmarkProperty(c.Request().Context(), old.ID, name, value)
	if err != nil {
		return err
	}
	s.syncNativeBookmark(c, &old, &b)
	return c.JSON(http.StatusOK, bookmarkOut(b))
}

// DeleteBookmarkProperty serves DELETE /bookmark/{id}/{name}. Creator or
// admin only.
func (s *Server) DeleteBookmarkProperty(c echo.Context, id BookmarkID, name string) error {
	if err := validPropertyName(name); err != nil {
		return err
	}
	old, _, err := s.loadBookmark(c, id, true)
	if err != nil {
		return err
	}
	st, _ := s.bookmarkStore()
	b, err := st.DeleteBookmarkProperty(c.Request().Context(), old.ID, name)
	if err != nil {
		return err
	}
	s.syncNativeBookmark(c, &old, &b)
	return c.JSON(http.StatusOK, bookmarkOut(b))
}

func (s *Server) bookmarkStore() (bookmark.Store, error) {
	if s.collab.store == nil {
		return nil, errorf(http.StatusNotImplemented, "bookmarks are not configured on this gateway")
	}
	return s.collab.store, nil
}

// loadBookmark returns the bookmark id and whether the user is an admin.
// A bookmark the user may not see is 404; with change, one the user may
// see but neither created nor administers is 403.
func (s *Server) loadBookmark(c echo.Context, id BookmarkID, change bool) (bookmark.Bookmark, bool, error) {
	st, err := s.bookmarkStore()
	if err != nil {
		return bookmark.Bookmark{}, false, err
	}
	ctx := c.Request().Context()
	b, err := st.Bookmark(ctx, int64(id))
	if errors.Is(err, bookmark.ErrNotFound) {
		return b, false, wrap(http.StatusNotFound, "no such bookmark", err)
	}
	if err != nil {
		return b, false, err
	}
	jid := claimsOf(c).Subject
	admin := s.isBookmarkAdmin(jid)
	if admin || b.Creator == jid {
		return b, admin, nil
	}
	visible, err := s.collab.access.CanSee(ctx, jid, b)
	if err != nil {
		return b, false, err
	}
	switch {
	case !visible:
		return b, false, errorf(http.StatusNotFound, "no such bookmark")
	case change:
		return b, false, errorf(http.StatusForbidden, "only the bookmark's creator or an admin may change it")
	}
	return b, false, nil
}

// bookmarkMembers is bookmark.Access's view of the server's shared roster
// groups: a group the server cannot list is one without members, but an
// unreachable server is an error (502).
func (s *Server) bookmarkMembers(ctx context.Context, g string) ([]string, error) {
	list, err := s.collab.groups.GroupMembers(ctx, g)
	if err != nil {
		if errors.Is(err, xmppadmin.ErrUnavailable) || ctx.Err() != nil {
			return nil, err
		}
		s.log.Debug("bookmark group members", "group", g, "err", err)
		return nil, nil
	}
	return list, nil
}

// readBookmark decodes the JSON body (the validator has checked it against
// the schema).
func readBookmark(c echo.Context) (Bookmark, error) {
	var in Bookmark
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, maxBookmarkBody+1))
	if err != nil {
		return in, errorf(http.StatusBadRequest, "the request body could not be read")
	}
	if len(raw) > maxBookmarkBody {
		return in, errorf(http.StatusRequestEntityTooLarge, "the bookmark is too large")
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return in, errorf(http.StatusBadRequest, "the body must be a bookmark as JSON")
	}
	return in, nil
}

// applyBookmark copies the fields set in in onto b, checking each. Only an
// admin may make a bookmark global.
func (s *Server) applyBookmark(b *bookmark.Bookmark, in Bookmark, admin bool) error {
	if in.Type != nil {
		switch t := string(*in.Type); t {
		case bookmark.TypeURL, bookmark.TypeGroupChat:
			b.Type = t
		default:
			return errorf(http.StatusBadRequest, "the type must be url or group_chat")
		}
	}
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		if n == "" || utf8.RuneCountInString(n) > maxBookmarkName || strings.ContainsFunc(n, unicode.IsControl) {
			return errorf(http.StatusBadRequest, "the name must be 1 to 1024 characters without control characters")
		}
		b.Name = n
	}
	if in.Value != nil {
		b.Value = strings.TrimSpace(*in.Value)
	}
	if in.Value != nil || in.Type != nil {
		v, err := s.bookmarkValue(b.Type, b.Value)
		if err != nil {
			return err
		}
		b.Value = v
	}
	if in.Users != nil {
		if len(*in.Users) > maxBookmarkUsers {
			return errorf(http.StatusBadRequest, "too many users")
		}
		b.Users = b.Users[:0]
		seen := map[string]bool{}
		for _, u := range *in.Users {
			local, err := s.bookmarkUser(u)
			if err != nil {
				return err
			}
			if !seen[local] {
				seen[local] = true
				b.Users = append(b.Users, local)
			}
		}
	}
	if in.Groups != nil {
		if len(*in.Groups) > maxBookmarkGroups {
			return errorf(http.StatusBadRequest, "too many groups")
		}
		b.Groups = b.Groups[:0]
		seen := map[string]bool{}
		for _, g := range *in.Groups {
			g = strings.TrimSpace(g)
			if g == "" || len(g) > jid.MaxPartBytes || !utf8.ValidString(g) || strings.ContainsFunc(g, unicode.IsControl) {
				return errorf(http.StatusBadRequest, "a group name must be 1 to 1023 bytes without control characters")
			}
			if !seen[g] {
				seen[g] = true
				b.Groups = append(b.Groups, g)
			}
		}
	}
	if in.GlobalBookmark != nil && *in.GlobalBookmark != b.Global {
		if !admin {
			return errorf(http.StatusForbidden, "only admins may make a bookmark global or local")
		}
		b.Global = *in.GlobalBookmark
	}
	if in.Properties != nil {
		b.Properties = b.Properties[:0]
		seen := map[string]int{}
		for _, p := range *in.Properties {
			if err := validPropertyName(p.Key); err != nil {
				return err
			}
			v := ""
			if p.Value != nil {
				v = *p.Value
			}
			if utf8.RuneCountInString(v) > maxBookmarkPropValue || !utf8.ValidString(v) {
				return errorf(http.StatusBadRequest, fmt.Sprintf("a property value has at most %d characters", maxBookmarkPropValue))
			}
			if i, ok := seen[p.Key]; ok {
				b.Properties[i].Value = v
				continue
			}
			seen[p.Key] = len(b.Properties)
			b.Properties = append(b.Properties, bookmark.Property{Name: p.Key, Value: v})
		}
	}
	return nil
}

// bookmarkValue checks a bookmark's value for its type: a room's bare JID
// for group_chat (a bare name means a room of the MUC service), an
// absolute http(s) URL for url.
func (s *Server) bookmarkValue(typ, v string) (string, error) {
	if v == "" || utf8.RuneCountInString(v) > maxBookmarkValue {
		return "", errorf(http.StatusBadRequest, "the value must be 1 to 4096 characters")
	}
	switch typ {
	case bookmark.TypeGroupChat:
		if !strings.Contains(v, "@") {
			v += "@" + s.cfg.MUCService
		}
		jid, err := toJID(v, s.cfg.Domain)
		if err != nil || strings.Contains(jid, "/") {
			return "", errorf(http.StatusBadRequest, "a group_chat bookmark's value must be a room's bare JID")
		}
		return jid, nil
	case bookmark.TypeURL:
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsFunc(v, unicode.IsControl) {
			return "", errorf(http.StatusBadRequest, "a url bookmark's value must be an absolute http or https URL")
		}
		return v, nil
	}
	return "", errorf(http.StatusBadRequest, "the type must be url or group_chat")
}

// bookmarkUser turns a username, or a JID of the gateway's domain, into
// the username stored.
func (s *Server) bookmarkUser(u string) (string, error) {
	jid, err := toJID(strings.TrimSpace(u), s.cfg.Domain)
	if err != nil {
		return "", errorf(http.StatusBadRequest, "invalid user "+strconv.Quote(u)+": "+err.Error())
	}
	local, dom, ok := strings.Cut(bareJID(jid), "@")
	if !ok || dom != strings.ToLower(s.cfg.Domain) || strings.Contains(jid, "/") {
		return "", errorf(http.StatusBadRequest, "bookmark users must be users of "+s.cfg.Domain)
	}
	return local, nil
}

func validPropertyName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > maxBookmarkPropName || !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		return errorf(http.StatusBadRequest, "a property name must be 1 to 255 characters without control characters")
	}
	return nil
}

// bookmarkOut is the API form of b.
func bookmarkOut(b bookmark.Bookmark) Bookmark {
	users := append([]string{}, b.Users...)
	groups := append([]string{}, b.Groups...)
	props := make([]UserProperty, 0, len(b.Properties))
	names := make([]string, 0, len(b.Properties))
	for _, p := range b.Properties {
		props = append(props, UserProperty{Key: p.Name, Value: ptr(p.Value)})
		names = append(names, p.Name)
	}
	typ := BookmarkType(b.Type)
	return Bookmark{
		BookmarkID: ptr(b.ID), Type: &typ, Name: ptr(b.Name), Value: ptr(b.Value),
		Users: &users, Groups: &groups, GlobalBookmark: ptr(b.Global),
		Properties: &props, PropertyNames: &names,
	}
}

// nativeBookmark is the XEP-0402 form of a group chat bookmark: its
// properties nick and password, and autojoin only when the property
// autojoin says so. Only the user's own bookmarks and admins' reach a
// user's node, so the property was set by the user or by an admin.
func nativeBookmark(b *bookmark.Bookmark) xmppconn.Conference {
	c := xmppconn.Conference{Room: b.Value, Name: b.Name}
	if v, ok := b.Property("autojoin"); ok {
		c.Autojoin, _ = strconv.ParseBool(strings.TrimSpace(v))
	}
	c.Nick, _ = b.Property("nick")
	c.Password, _ = b.Property("password")
	return c
}

// syncNativeBookmark mirrors a change of a group chat bookmark (old before,
// b after; nil for none) into the acting user's XEP-0402 node, so that
// their other clients see (and autojoin) it. It is best effort: the
// bookmark is kept in the gateway's store whatever the XMPP server says.
// Only the creator's node is changed: the gateway has no session for
// anyone else.
func (s *Server) syncNativeBookmark(c echo.Context, old, b *bookmark.Bookmark) {
	jid := claimsOf(c).Subject
	var retract, publish *bookmark.Bookmark
	if old != nil && old.Type == bookmark.TypeGroupChat && old.Creator == jid &&
		(b == nil || b.Type != bookmark.TypeGroupChat || b.Value != old.Value) {
		retract = old
	}
	if b != nil && b.Type == bookmark.TypeGroupChat && b.Creator == jid {
		publish = b
	}
	if retract == nil && publish == nil {
		return
	}
	sess, err := s.session(c)
	if err != nil {
		s.log.Warn("native bookmark: no session", "user", jid, "err", err)
		return
	}
	ctx := c.Request().Context()
	if retract != nil {
		if err := sess.RemoveBookmark(ctx, retract.Value); err != nil {
			s.log.Warn("native bookmark: retract", "user", jid, "room", retract.Value, "err", err)
		}
	}
	if publish != nil {
		if err := sess.SetBookmark(ctx, nativeBookmark(publish)); err != nil {
			s.log.Warn("native bookmark: publish", "user", jid, "room", publish.Value, "err", err)
		}
	}
	s.noteOffered(jid, b)
}

// offerBookmarks publishes the group chat bookmarks that admins made
// visible to the user into the user's XEP-0402 node, once per version of
// each while the gateway runs. A bookmark of another user never goes
// there: the node is what the user's clients join on their own, with the
// nick and password it holds. Nor does an offer replace anything: a room
// the node has already (the user's own entry, or an earlier offer) is left
// as it is. An offer carries the bookmark's id (xmppconn.Conference's
// Offer), and one whose bookmark the user no longer sees (deleted, moved to
// another room, no longer aimed at the user) is taken back: before, it
// stayed in the node, and the user's clients kept joining a room an admin
// had withdrawn. The node is read when there is something to offer, when
// an offered bookmark is no longer seen, and at the user's first listing
// since the gateway started (an offer withdrawn while it was down).
func (s *Server) offerBookmarks(c echo.Context, jid string, bs []bookmark.Bookmark) {
	visible := make(map[int64]*bookmark.Bookmark)
	var todo []*bookmark.Bookmark
	s.collab.offeredMu.Lock()
	seen, known := s.collab.offered[jid]
	for i := range bs {
		b := &bs[i]
		if b.Type == bookmark.TypeGroupChat && b.Creator != jid && s.isBookmarkAdmin(b.Creator) {
			visible[b.ID] = b
			if seen[b.ID] != b.Updated.UnixMilli() {
				todo = append(todo, b)
			}
		}
	}
	gone := !known
	for id := range seen {
		if visible[id] == nil {
			gone = true
		}
	}
	s.collab.offeredMu.Unlock()
	if len(todo) == 0 && !gone {
		return
	}
	sess, err := s.session(c)
	if err != nil {
		return
	}
	ctx := c.Request().Context()
	native, err := sess.Bookmarks(ctx)
	if err != nil {
		s.log.Warn("native bookmark: list", "user", jid, "err", err)
		return
	}
	have := make(map[string]bool, len(native))
	for _, n := range native {
		if n.Offer != "" {
			id, _ := strconv.ParseInt(n.Offer, 10, 64)
			if b := visible[id]; b == nil || !strings.EqualFold(b.Value, n.Room) {
				if err := sess.RemoveBookmark(ctx, n.Room); err != nil {
					s.log.Warn("native bookmark: take back", "user", jid, "room", n.Room, "err", err)
					have[strings.ToLower(n.Room)] = true
				}
				continue
			}
		}
		have[strings.ToLower(n.Room)] = true
	}
	s.forgetOffers(jid, visible)
	for _, b := range todo {
		if !have[strings.ToLower(b.Value)] {
			offer := nativeBookmark(b)
			offer.Offer = strconv.FormatInt(b.ID, 10)
			if err := sess.SetBookmark(ctx, offer); err != nil {
				s.log.Warn("native bookmark: offer", "user", jid, "room", b.Value, "err", err)
				continue
			}
		}
		s.noteOffered(jid, b)
	}
}

// forgetOffers keeps, of what was offered to the user, the bookmarks still
// visible, and marks the user's node as read since the gateway started.
func (s *Server) forgetOffers(jid string, visible map[int64]*bookmark.Bookmark) {
	s.collab.offeredMu.Lock()
	defer s.collab.offeredMu.Unlock()
	m := s.offeredToLocked(jid)
	for id := range m {
		if visible[id] == nil {
			delete(m, id)
		}
	}
}

// maxOfferedUsers bounds the memory of offered bookmarks; past it the
// memory starts again (and bookmarks are offered once more).
const maxOfferedUsers = 10000

// noteOffered remembers that b's current version is in the user's node.
func (s *Server) noteOffered(jid string, b *bookmark.Bookmark) {
	if b == nil {
		return
	}
	s.collab.offeredMu.Lock()
	defer s.collab.offeredMu.Unlock()
	s.offeredToLocked(jid)[b.ID] = b.Updated.UnixMilli()
}

// offeredToLocked returns what was offered to the user (bookmark id →
// version), made when new; past maxOfferedUsers the memory starts again.
// s.collab.offeredMu must be held.
func (s *Server) offeredToLocked(jid string) map[int64]int64 {
	st := &s.collab
	if st.offered == nil || len(st.offered) >= maxOfferedUsers {
		st.offered = make(map[string]map[int64]int64)
	}
	m := st.offered[jid]
	if m == nil {
		m = make(map[int64]int64)
		st.offered[jid] = m
	}
	return m
}

// forgetBookmarksOf removes what the gateway keeps about a user's
// bookmarks when the account (jid, a bare JID) is removed: the bookmarks
// they created, and their name on the others. For DELETE /user.
func (s *Server) forgetBookmarksOf(ctx context.Context, jid string) error {
	s.collab.offeredMu.Lock()
	delete(s.collab.offered, jid)
	s.collab.offeredMu.Unlock()
	if s.collab.store == nil {
		return nil
	}
	return s.collab.store.DeleteUserBookmarks(ctx, localPart(jid), jid)
}
