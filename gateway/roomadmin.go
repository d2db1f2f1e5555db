package gateway

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/xmppconn"
)

// Rooms that last (issue 20): creation options, the owner's configuration
// form, the subject, roles, affiliations and destruction. Every check of
// rights is the room's: a refusal comes back as a stanza error, which the
// one error mapping turns into 403 (forbidden, not-allowed), 404
// (item-not-found) or 502 (the service cannot be reached).

// maxRoomConfigBody bounds a PUT …/config body.
const maxRoomConfigBody = 256 << 10

// Fields of muc#roomconfig (XEP-0045 section 10.2) behind RoomOptions.
const (
	fieldRoomName     = "muc#roomconfig_roomname"
	fieldRoomDesc     = "muc#roomconfig_roomdesc"
	fieldPersistent   = "muc#roomconfig_persistentroom"
	fieldPublic       = "muc#roomconfig_publicroom"
	fieldMembersOnly  = "muc#roomconfig_membersonly"
	fieldModerated    = "muc#roomconfig_moderatedroom"
	fieldPasswordOn   = "muc#roomconfig_passwordprotectedroom"
	fieldSecret       = "muc#roomconfig_roomsecret"
	fieldHistory      = "muc#maxhistoryfetch"
	fieldMaxUsers     = "muc#roomconfig_maxusers"
	fieldChangeSubj   = "muc#roomconfig_changesubject"
	fieldAllowInvites = "muc#roomconfig_allowinvites"
	fieldWhois        = "muc#roomconfig_whois"
)

func formBool(b bool) []string {
	if b {
		return []string{"1"}
	}
	return []string{"0"}
}

// roomFields turns the typed options into form fields; nil options give
// none.
func roomFields(o *RoomOptions) map[string][]string {
	f := make(map[string][]string)
	if o == nil {
		return f
	}
	str := func(field string, v *string) {
		if v != nil {
			f[field] = []string{*v}
		}
	}
	boolean := func(field string, v *bool) {
		if v != nil {
			f[field] = formBool(*v)
		}
	}
	str(fieldRoomName, o.NaturalName)
	str(fieldRoomDesc, o.Description)
	boolean(fieldPersistent, o.Persistent)
	boolean(fieldPublic, o.PublicRoom)
	boolean(fieldMembersOnly, o.MembersOnly)
	boolean(fieldModerated, o.Moderated)
	boolean(fieldChangeSubj, o.ChangeSubject)
	boolean(fieldAllowInvites, o.AllowInvites)
	boolean(fieldPasswordOn, o.PasswordProtected)
	if o.Password != nil {
		f[fieldSecret] = []string{*o.Password}
		if _, set := f[fieldPasswordOn]; !set {
			f[fieldPasswordOn] = formBool(*o.Password != "")
		}
	}
	if o.HistoryLength != nil {
		f[fieldHistory] = []string{strconv.Itoa(*o.HistoryLength)}
	}
	if o.MaxUsers != nil {
		f[fieldMaxUsers] = []string{strconv.Itoa(*o.MaxUsers)}
	}
	if o.Whois != nil {
		f[fieldWhois] = []string{string(*o.Whois)}
	}
	return f
}

// roomOptions reads the typed options out of a configuration form; the
// password's value is never copied.
func roomOptions(f xmppconn.Form) RoomOptions {
	var o RoomOptions
	str := func(field string) *string {
		if vs, ok := f.Fields[field]; ok {
			v := ""
			if len(vs) > 0 {
				v = vs[0]
			}
			return &v
		}
		return nil
	}
	boolean := func(field string) *bool {
		if v := str(field); v != nil {
			return ptr(formTrue(*v))
		}
		return nil
	}
	integer := func(field string) *int {
		if v := str(field); v != nil {
			if n, err := strconv.Atoi(*v); err == nil {
				return &n
			}
		}
		return nil
	}
	o.NaturalName, o.Description = str(fieldRoomName), str(fieldRoomDesc)
	o.Persistent, o.PublicRoom = boolean(fieldPersistent), boolean(fieldPublic)
	o.MembersOnly, o.Moderated = boolean(fieldMembersOnly), boolean(fieldModerated)
	o.PasswordProtected = boolean(fieldPasswordOn)
	o.ChangeSubject, o.AllowInvites = boolean(fieldChangeSubj), boolean(fieldAllowInvites)
	o.HistoryLength, o.MaxUsers = integer(fieldHistory), integer(fieldMaxUsers)
	if v := str(fieldWhois); v != nil && (*v == "moderators" || *v == "anyone") {
		o.Whois = ptr(RoomOptionsWhois(*v))
	}
	return o
}

// createOptions are the fields a join that creates the room submits: the
// room outlives its last occupant unless persistent=false.
func createOptions(p JoinRoomParams) map[string][]string {
	o := &RoomOptions{
		Persistent: p.Persistent, NaturalName: p.NaturalName, Description: p.Description,
		MembersOnly: p.MembersOnly, Moderated: p.Moderated, PublicRoom: p.PublicRoom,
		Password: p.RoomPassword, HistoryLength: p.HistoryLength,
	}
	if o.Persistent == nil {
		o.Persistent = ptr(true)
	}
	return roomFields(o)
}

// requireRoom answers 404 for a room that does not exist: ejabberd
// answers an owner's or admin's query to a missing room as if it were
// new.
func requireRoom(ctx context.Context, sess Session, room string) error {
	info, err := sess.DiscoInfo(ctx, room, "")
	if err != nil {
		return err
	}
	if !isRoom(info) {
		return errorf(http.StatusNotFound, "not a room")
	}
	return nil
}

// roomSession is xmppSession for a call on an existing room (requireRoom);
// cancel is nil when err is not.
func (s *Server) roomSession(c echo.Context, room string) (Session, context.Context, context.CancelFunc, error) {
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := requireRoom(ctx, sess, room); err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return sess, ctx, cancel, nil
}

// GetRoomConfig serves GET /groupchat/room/{roomName}/config.
func (s *Server) GetRoomConfig(c echo.Context, roomName RoomName, params GetRoomConfigParams) error {
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	sess, ctx, cancel, err := s.roomSession(c, room)
	if err != nil {
		return err
	}
	defer cancel()
	f, err := sess.RoomConfig(ctx, room)
	if err != nil {
		return err
	}
	out := RoomConfig{Options: ptr(roomOptions(f)), Fields: ptr([]RoomConfigField{})}
	vars := make([]string, 0, len(f.Fields))
	for v := range f.Fields {
		vars = append(vars, v)
	}
	slices.Sort(vars)
	for _, v := range vars {
		vals := f.Fields[v]
		if v == fieldSecret {
			vals = nil // never the password
		}
		if vals == nil {
			vals = []string{}
		}
		*out.Fields = append(*out.Fields, RoomConfigField{Var: v, Values: vals})
	}
	return c.JSON(http.StatusOK, out)
}

// SetRoomConfig serves PUT /groupchat/room/{roomName}/config.
func (s *Server) SetRoomConfig(c echo.Context, roomName RoomName, params SetRoomConfigParams) error {
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	var body RoomConfig
	if err := decodeUsersJSON(c, maxRoomConfigBody, &body); err != nil {
		return err
	}
	fields := roomFields(body.Options)
	if body.Fields != nil {
		for _, f := range *body.Fields {
			if f.Var == "" || f.Var == "FORM_TYPE" {
				return errorf(http.StatusBadRequest, "a field needs a var other than FORM_TYPE")
			}
			fields[f.Var] = f.Values
		}
	}
	if len(fields) == 0 {
		return errorf(http.StatusBadRequest, "no option or field to change")
	}
	sess, ctx, cancel, err := s.roomSession(c, room)
	if err != nil {
		return err
	}
	defer cancel()
	if err := sess.ConfigureRoom(ctx, room, fields); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

// SetRoomSubject serves PUT /groupchat/room/{roomName}/subject.
func (s *Server) SetRoomSubject(c echo.Context, roomName RoomName, params SetRoomSubjectParams) error {
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	subject, err := readRoomText(c.Request(), "subject")
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
	if err := sess.SetSubject(ctx, room, subject); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

// SetRoomRole serves PUT /groupchat/room/{roomName}/roles/{nick}.
func (s *Server) SetRoomRole(c echo.Context, roomName RoomName, nick string, params SetRoomRoleParams) error {
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	if err := sess.SetRole(ctx, room, nick, string(params.Role), deref(params.Reason)); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

// ListRoomAffiliations serves GET /groupchat/room/{roomName}/affiliations/{affiliation}.
func (s *Server) ListRoomAffiliations(c echo.Context, roomName RoomName, affiliation Affiliation, params ListRoomAffiliationsParams) error {
	if affiliation == "none" {
		return errorf(http.StatusBadRequest, "list owner, admin, member or outcast")
	}
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	sess, ctx, cancel, err := s.roomSession(c, room)
	if err != nil {
		return err
	}
	defer cancel()
	list, err := sess.Affiliations(ctx, room, string(affiliation))
	if err != nil {
		return err
	}
	out := RoomAffiliations{Affiliations: make([]RoomAffiliation, 0, len(list))}
	for _, a := range list {
		ra := RoomAffiliation{Jid: a.JID, Affiliation: a.Affiliation}
		if a.Nick != "" {
			ra.Nick = ptr(a.Nick)
		}
		if a.Reason != "" {
			ra.Reason = ptr(a.Reason)
		}
		out.Affiliations = append(out.Affiliations, ra)
	}
	slices.SortFunc(out.Affiliations, func(a, b RoomAffiliation) int {
		switch {
		case a.Jid < b.Jid:
			return -1
		case a.Jid > b.Jid:
			return 1
		}
		return 0
	})
	return c.JSON(http.StatusOK, out)
}

// SetRoomAffiliation serves PUT /groupchat/room/{roomName}/affiliations/{affiliation}/{jid}.
func (s *Server) SetRoomAffiliation(c echo.Context, roomName RoomName, affiliation Affiliation, jidParam JIDString, params SetRoomAffiliationParams) error {
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	user, err := toJID(string(jidParam), s.cfg.Domain)
	if err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	sess, ctx, cancel, err := s.roomSession(c, room)
	if err != nil {
		return err
	}
	defer cancel()
	if err := sess.SetAffiliation(ctx, room, user, string(affiliation), deref(params.Reason)); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

// DestroyRoom serves DELETE /groupchat/room/{roomName}/config.
func (s *Server) DestroyRoom(c echo.Context, roomName RoomName, params DestroyRoomParams) error {
	room, err := s.roomJID(string(roomName), params.ServiceName)
	if err != nil {
		return err
	}
	alternate := ""
	if params.Alternate != nil {
		if alternate, err = s.roomJID(string(*params.Alternate), params.ServiceName); err != nil {
			return err
		}
	}
	sess, ctx, cancel, err := s.roomSession(c, room)
	if err != nil {
		return err
	}
	defer cancel()
	if err := sess.DestroyRoom(ctx, room, deref(params.Reason), alternate); err != nil {
		return err
	}
	s.roomLeft(ctx, sess, room)
	s.roomForgotten(ctx, sess.User(), room)
	return c.NoContent(http.StatusOK)
}
