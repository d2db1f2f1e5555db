package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/jid"
	"github.com/sparkgate/sparkgate/xmppadmin"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// maxInviteReason bounds an invitation's reason and a room's subject, in
// characters (the spec says the same).
const maxInviteReason = 1024

// readRoomText reads a body of at most maxInviteReason characters (an
// invitation's reason, a subject); what names it in the 400.
func readRoomText(r *http.Request, what string) (string, error) {
	text, err := readText(r, maxInviteReason*4) // UTF-8: at most 4 bytes a character
	if err != nil {
		return "", err
	}
	if len([]rune(text)) > maxInviteReason {
		return "", errorf(http.StatusBadRequest, "the "+what+" is longer than "+strconv.Itoa(maxInviteReason)+" characters")
	}
	return text, nil
}

// roomInfoParallel bounds the disco#info queries one room list runs at once.
const roomInfoParallel = 8

// mucService resolves ?serviceName=: empty is the configured service, a
// label alone is label.<domain>, a dotted name is a full domain.
func (s *Server) mucService(name *string) (string, error) {
	if name == nil || *name == "" {
		return s.cfg.MUCService, nil
	}
	n, err := jid.Domainpart(*name)
	if err != nil {
		return "", errorf(http.StatusBadRequest, "invalid service name: "+err.Error())
	}
	if !strings.Contains(n, ".") {
		n += "." + s.cfg.Domain
	}
	return n, nil
}

// roomJID builds room@service (with the dot the reference dropped).
func (s *Server) roomJID(name string, service *string) (string, error) {
	svc, err := s.mucService(service)
	if err != nil {
		return "", err
	}
	local, err := username(name)
	if err != nil {
		return "", errorf(http.StatusBadRequest, "invalid room name: "+err.Error())
	}
	return local + "@" + svc, nil
}

// roomAccess reads the room's disco#info and checks that the user may see
// its contents: a public room, or one the user is in.
func roomAccess(ctx context.Context, sess Session, room string) (*xmppconn.DiscoInfo, bool, error) {
	info, err := sess.DiscoInfo(ctx, room, "")
	if err != nil {
		return nil, false, err
	}
	if !isRoom(info) {
		return nil, false, errorf(http.StatusNotFound, "not a room")
	}
	_, joined := sess.Rooms()[room]
	if !joined && !info.Has("muc_public") {
		return info, false, errorf(http.StatusForbidden, "the room is not public and the user is not in it")
	}
	return info, joined, nil
}

// isMUCService reports whether info is a MUC service's (XEP-0045 section
// 6.1: a conference identity and the muc feature).
func isMUCService(info *xmppconn.DiscoInfo) bool {
	return isRoom(info) && info.Has("http://jabber.org/protocol/muc")
}

func isRoom(info *xmppconn.DiscoInfo) bool {
	for _, id := range info.Identities {
		if id.Category == "conference" {
			return true
		}
	}
	return false
}

// ListRooms serves GET /groupchat/rooms.
func (s *Server) ListRooms(c echo.Context, params ListRoomsParams) error {
	svc, err := s.mucService(params.ServiceName)
	if err != nil {
		return err
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	svcInfo, err := sess.DiscoInfo(ctx, svc, "")
	if err != nil {
		return err
	}
	if !isMUCService(svcInfo) {
		return errorf(http.StatusNotFound, "not a group chat service")
	}
	items, err := sess.DiscoItems(ctx, svc, "")
	if err != nil {
		return err
	}
	all := params.Type != nil && *params.Type == "all"
	jids := make([]string, 0, len(items))
	seen := make(map[string]bool)
	for _, it := range items {
		j := strings.ToLower(it.JID)
		if !strings.HasSuffix(j, "@"+svc) || seen[j] {
			continue
		}
		seen[j] = true
		jids = append(jids, j)
	}
	if all {
		// Rooms that do not list themselves but the user is in.
		for j := range sess.Rooms() {
			if strings.HasSuffix(j, "@"+svc) && !seen[j] {
				seen[j] = true
				jids = append(jids, j)
			}
		}
	}
	slices.Sort(jids)
	search := ""
	if params.Search != nil {
		search = strings.ToLower(*params.Search)
	}

	rooms := make([]*MUCRoomEntity, len(jids))
	var wg sync.WaitGroup
	sem := make(chan struct{}, roomInfoParallel)
	for i, j := range jids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			info, err := sess.DiscoInfo(ctx, j, "")
			if err != nil || !isRoom(info) {
				return // gone meanwhile, or not a room
			}
			if !all && !info.Has("muc_public") {
				return
			}
			rooms[i] = roomEntity(j, info, xmppconn.Form{})
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	out := MUCRoomEntities{ChatRooms: []MUCRoomEntity{}}
	for _, r := range rooms {
		if r == nil {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(deref(r.RoomName)), search) &&
			!strings.Contains(strings.ToLower(deref(r.NaturalName)), search) {
			continue
		}
		out.ChatRooms = append(out.ChatRooms, *r)
	}
	return c.JSON(http.StatusOK, out)
}

// GetRoom serves GET /groupchat/room/{roomName}: disco#info, plus the
// room configuration when the user owns the room. The password never
// appears.
func (s *Server) GetRoom(c echo.Context, roomName RoomName, params GetRoomParams) error {
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	info, joined, err := roomAccess(ctx, sess, room)
	if err != nil {
		return err
	}
	var cfg xmppconn.Form
	if joined {
		// Only owners may read the configuration; others just get the
		// public information.
		if f, err := sess.RoomConfig(ctx, room); err == nil {
			cfg = f
		} else if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	e := roomEntity(room, info, cfg)
	if subj, ok := sess.RoomSubject(room); ok && e.Subject == nil && subj != "" {
		// ejabberd 23.01 leaves the subject out of muc#roominfo; the
		// session heard it from the room.
		e.Subject = ptr(subj)
	}
	return c.JSON(http.StatusOK, e)
}

// roomEntity builds a MUCRoomEntity from disco#info features (XEP-0045
// section 6.4), the muc#roominfo form and, when known, the muc#roomconfig
// form. The room secret is never copied.
func roomEntity(room string, info *xmppconn.DiscoInfo, cfg xmppconn.Form) *MUCRoomEntity {
	local := localPart(room)
	e := &MUCRoomEntity{RoomName: ptr(local)}
	for _, id := range info.Identities {
		if id.Category == "conference" && id.Name != "" {
			e.NaturalName = ptr(id.Name)
		}
	}
	e.Persistent = ptr(info.Has("muc_persistent"))
	e.PublicRoom = ptr(info.Has("muc_public"))
	e.MembersOnly = ptr(info.Has("muc_membersonly"))
	e.Moderated = ptr(info.Has("muc_moderated"))
	e.CanAnyoneDiscoverJID = ptr(info.Has("muc_nonanonymous"))
	e.LogEnabled = ptr(info.Has("urn:xmpp:mam:2"))
	ri := info.Form("http://jabber.org/protocol/muc#roominfo")
	if v := ri.Value("muc#roominfo_description"); v != "" {
		e.Description = ptr(v)
	}
	if v := ri.Value("muc#roominfo_subject"); v != "" {
		e.Subject = ptr(v)
	}
	if v := ri.Value("muc#roomconfig_changesubject"); v != "" {
		e.CanOccupantsChangeSubject = ptr(formTrue(v))
	}
	if v := ri.Value("muc#roomconfig_allowinvites"); v != "" {
		e.CanOccupantsInvite = ptr(formTrue(v))
	}
	if v := ri.Value("muc#roominfo_occupants"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			e.Occupants = ptr(n)
		}
	}
	if v := ri.Value("muc#roominfo_maxusers"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 32); err == nil {
			e.MaxUsers = ptr(int32(n))
		}
	}
	if cfg.Fields == nil {
		return e
	}
	if v := cfg.Value("muc#roomconfig_roomname"); v != "" {
		e.NaturalName = ptr(v)
	}
	if v := cfg.Value("muc#roomconfig_roomdesc"); v != "" {
		e.Description = ptr(v)
	}
	if v := cfg.Value("muc#roomconfig_maxusers"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 32); err == nil {
			e.MaxUsers = ptr(int32(n))
		}
	}
	for field, dst := range map[string]**bool{
		"muc#roomconfig_changesubject":         &e.CanOccupantsChangeSubject,
		"muc#roomconfig_allowinvites":          &e.CanOccupantsInvite,
		"muc#roomconfig_enablelogging":         &e.LogEnabled,
		"muc#roomconfig_membersonly":           &e.MembersOnly,
		"muc#roomconfig_moderatedroom":         &e.Moderated,
		"muc#roomconfig_persistentroom":        &e.Persistent,
		"muc#roomconfig_publicroom":            &e.PublicRoom,
		"muc#roomconfig_changenick":            &e.CanChangeNickname,
		"x-muc#roomconfig_canchangenick":       &e.CanChangeNickname,
		"muc#roomconfig_registration":          &e.RegistrationEnabled,
		"x-muc#roomconfig_registration":        &e.RegistrationEnabled,
		"muc#roomconfig_reservednick":          &e.LoginRestrictedToNickname,
		"x-muc#roomconfig_reservednick":        &e.LoginRestrictedToNickname,
		"muc#roomconfig_enablearchiving":       &e.LogEnabled,
		"muc#roomconfig_mam":                   &e.LogEnabled,
		"muc#roomconfig_passwordprotectedroom": nil,
	} {
		if dst == nil {
			continue
		}
		if v := cfg.Value(field); v != "" {
			*dst = ptr(formTrue(v))
		}
	}
	if v := cfg.Value("muc#roomconfig_whois"); v != "" {
		e.CanAnyoneDiscoverJID = ptr(v == "anyone")
	}
	if v := cfg.Value("muc#roomconfig_allowpm"); v != "" {
		e.AllowPM = ptr(v)
	}
	if vs := cfg.Fields["muc#roomconfig_presencebroadcast"]; vs != nil {
		e.BroadcastPresenceRoles = ptr(slices.Clone(vs))
	}
	if vs := cfg.Fields["muc#roomconfig_roomowners"]; vs != nil {
		e.Owners = ptr(slices.Clone(vs))
	}
	if vs := cfg.Fields["muc#roomconfig_roomadmins"]; vs != nil {
		e.Admins = ptr(slices.Clone(vs))
	}
	return e
}

func formTrue(v string) bool { return v == "1" || v == "true" }

// JoinRoom serves PUT /groupchat/room/{roomName}: enters the room (and
// creates it when the service allows) and waits for the room's answer.
func (s *Server) JoinRoom(c echo.Context, roomName RoomName, params JoinRoomParams) error {
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	sess, err := s.session(c)
	if err != nil {
		return err
	}
	nick := localPart(sess.User())
	if params.Nick != nil && *params.Nick != "" {
		nick = *params.Nick
	}
	// A nickname is the resourcepart of the occupant's JID: prepared as
	// the service will prepare it, so the gateway knows its own occupant.
	if nick, err = jid.Resourcepart(nick); err != nil {
		return errorf(http.StatusBadRequest, "invalid nickname: "+err.Error())
	}
	password := ""
	if params.Password != nil {
		password = *params.Password
	}
	ctx, cancel := s.xmppCtx(c)
	defer cancel()
	if _, err := sess.EnterRoom(ctx, room, nick, password, createOptions(params)); err != nil {
		return err
	}
	s.roomJoined(ctx, sess, room, nick)
	s.roomStored(ctx, sess.User(), room, nick, password) // joinedrooms.go
	return c.NoContent(http.StatusOK)
}

// LeaveRoom serves DELETE /groupchat/room/{roomName}.
func (s *Server) LeaveRoom(c echo.Context, roomName RoomName, params LeaveRoomParams) error {
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	err = sess.ExitRoom(ctx, room)
	// A room the user is subscribed to while away is left too when the
	// session is no longer in it (signed out since the join).
	subscribed := s.roomSubscribed(ctx, sess.User(), room)
	switch {
	case errors.Is(err, xmppconn.ErrItemNotFound) && !subscribed:
		return wrap(http.StatusNotFound, "the user is not in the room", err)
	case err != nil && !errors.Is(err, xmppconn.ErrItemNotFound):
		return err
	}
	s.roomLeft(ctx, sess, room)
	s.roomForgotten(ctx, sess.User(), room)
	return c.NoContent(http.StatusOK)
}

// inRoom checks that the user is in room; if not, the answer is 404 for a
// room that does not exist and 403 otherwise.
func requireInRoom(ctx context.Context, sess Session, room string) error {
	if _, ok := sess.Rooms()[room]; ok {
		return nil
	}
	if _, err := sess.DiscoInfo(ctx, room, ""); err != nil {
		return err
	}
	return errorf(http.StatusForbidden, "the user is not in the room (join it first)")
}

// PostToRoom serves POST /groupchat/room/{roomName}: a groupchat message.
// The user's tabs get it back from the room as chatapi.muc.
func (s *Server) PostToRoom(c echo.Context, roomName RoomName, params PostToRoomParams) error {
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	if params.ReplyToNick != nil && params.ReplyTo == nil {
		return errorf(http.StatusBadRequest, "replyToNick goes with replyTo")
	}
	body, err := readMessageText(c)
	if err != nil {
		return err
	}
	return s.inRoom(c, room, func(ctx context.Context, sess Session) (string, error) {
		if params.ReplyTo != nil {
			return sess.SendRoomReply(ctx, room, *params.ReplyTo, deref(params.ReplyToNick), body)
		}
		return sess.SendGroupChat(ctx, room, body)
	})
}

// InviteToRoom serves POST /groupchat/room/{roomName}/{invitedJid}: a
// mediated invitation with the body as the reason.
func (s *Server) InviteToRoom(c echo.Context, roomName RoomName, invitedJid JIDString, params InviteToRoomParams) error {
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	invitees, err := s.invitees(c.Request().Context(), string(invitedJid), params.ExpandGroups != nil && *params.ExpandGroups)
	if err != nil {
		return err
	}
	reason, err := readRoomText(c.Request(), "reason")
	if err != nil {
		return err
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	if err := requireInRoom(ctx, sess, room); err != nil {
		return err
	}
	for _, invitee := range invitees {
		if invitee == sess.User() {
			continue // the inviter, a member of the group
		}
		if err := sess.Invite(ctx, room, invitee, reason); err != nil {
			return err
		}
	}
	return c.NoContent(http.StatusOK)
}

// maxGroupInvitees bounds the invitations one expanded group sends.
const maxGroupInvitees = 5000

// invitees resolves an invitation's target: with expand, a shared roster
// group's members (the directory's groups; a name that is no group, or a
// directory without groups, is a user), else the one user.
func (s *Server) invitees(ctx context.Context, target string, expand bool) ([]string, error) {
	if expand && !strings.Contains(target, "@") {
		if gd, ok := s.dir.(xmppadmin.GroupDirectory); ok {
			groups, err := gd.Groups(ctx)
			if err != nil {
				return nil, err
			}
			if slices.Contains(groups, target) {
				members, err := gd.GroupMembers(ctx, target)
				if err != nil {
					return nil, err
				}
				if len(members) > maxGroupInvitees {
					return nil, errorf(http.StatusBadRequest, "the group has too many members to invite")
				}
				return members, nil
			}
		}
	}
	invitee, err := toJID(target, s.cfg.Domain)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, err.Error())
	}
	return []string{invitee}, nil
}

// occupants lists the room's occupants: from the room presences the
// session has seen when the user is in the room, else from the room's
// disco#items (which lists nicks only).
func roomOccupants(ctx context.Context, sess Session, room string, joined bool) ([]OccupantEntity, error) {
	var out []OccupantEntity
	if joined {
		for _, p := range sess.Presences(room) {
			if !strings.Contains(p.From, "/") {
				continue // the room's own presence, not an occupant's
			}
			o := OccupantEntity{Jid: ptr(p.From)}
			if p.Role != "" {
				o.Role = ptr(p.Role)
			}
			if p.Affiliation != "" {
				o.Affiliation = ptr(p.Affiliation)
			}
			if p.JID != "" {
				o.UserAddress = ptr(p.JID)
			}
			out = append(out, o)
		}
	} else {
		items, err := sess.DiscoItems(ctx, room, "")
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			out = append(out, OccupantEntity{Jid: ptr(it.JID)})
		}
	}
	slices.SortFunc(out, func(a, b OccupantEntity) int { return strings.Compare(*a.Jid, *b.Jid) })
	return out, nil
}

// visibleOccupants lists a room's occupants for the user, when the user
// may see them (a public room, or one the user is in).
func (s *Server) visibleOccupants(c echo.Context, roomName RoomName, service *ServiceName) ([]OccupantEntity, error) {
	room, err := s.roomJID(string(roomName), service)
	if err != nil {
		return nil, err
	}
	sess, err := s.session(c)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.xmppCtx(c)
	defer cancel()
	_, joined, err := roomAccess(ctx, sess, room)
	if err != nil {
		return nil, err
	}
	return roomOccupants(ctx, sess, room, joined)
}

// GetRoomOccupants serves GET /groupchat/room/{roomName}/occupants.
func (s *Server) GetRoomOccupants(c echo.Context, roomName RoomName, params GetRoomOccupantsParams) error {
	occ, err := s.visibleOccupants(c, roomName, params.ServiceName)
	if err != nil {
		return err
	}
	if occ == nil {
		occ = []OccupantEntity{}
	}
	return c.JSON(http.StatusOK, OccupantEntities{Occupants: occ})
}

// GetRoomParticipants serves GET /groupchat/room/{roomName}/participants:
// the occupants with voice (role participant or moderator; XEP-0045
// section 5.1: both may speak in a moderated room).
func (s *Server) GetRoomParticipants(c echo.Context, roomName RoomName, params GetRoomParticipantsParams) error {
	occ, err := s.visibleOccupants(c, roomName, params.ServiceName)
	if err != nil {
		return err
	}
	out := ParticipantEntities{Participants: []ParticipantEntity{}}
	for _, o := range occ {
		// Without the room's presences (not joined) roles are unknown;
		// every listed occupant is taken as one with voice.
		if o.Role != nil && *o.Role != "participant" && *o.Role != "moderator" {
			continue
		}
		out.Participants = append(out.Participants, ParticipantEntity{Jid: o.Jid, Role: o.Role, Affiliation: o.Affiliation})
	}
	return c.JSON(http.StatusOK, out)
}
