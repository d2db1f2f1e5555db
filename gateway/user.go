package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// Limits of the user management operations (the spec says the same).
const (
	maxUserBody      = 512 << 10 // a PUT /user body, vCard included
	maxVCardBytes    = 200 << 10 // a decoded vCard: below the server's stanza limit
	maxProfileField  = 1023      // name, email
	maxPropertyName  = 255
	maxPropertyValue = 4096
	maxUserResults   = 200 // users one GET /users answers
	maxNameLookups   = 256 // vCards one GET /users fetches to match names
	nameLookupProcs  = 8   // concurrent vCard fetches of one GET /users
)

// reservedProperty reports whether a property name belongs to the gateway
// (or to the reference's secrets) and may not be set by a user.
func reservedProperty(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "domain", "username", "password":
		return true
	}
	for _, p := range []string{"totp.", "webauthn", "vapid.", "webpush.", "ip_address"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// checkProperty validates one property a user sets.
func checkProperty(name, value string) error {
	switch {
	case name == "" || len(name) > maxPropertyName:
		return errorf(http.StatusBadRequest, "a property name must have 1 to 255 bytes")
	case strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return errorf(http.StatusBadRequest, "a property name may not contain control characters")
	case reservedProperty(name):
		return errorf(http.StatusBadRequest, fmt.Sprintf("the property %q cannot be set", name))
	case len(value) > maxPropertyValue:
		return errorf(http.StatusBadRequest, fmt.Sprintf("the value of %q is longer than %d bytes", name, maxPropertyValue))
	}
	return nil
}

// profileChange is a change of the user's vCard: a whole new vCard, then
// a name and an email applied to it. Nil fields do not change.
type profileChange struct {
	vcard       *xmppconn.VCard
	name, email *string
}

func (p profileChange) empty() bool { return p.vcard == nil && p.name == nil && p.email == nil }

// parseVCardField decodes a vcard field (base64 of the XML).
func parseVCardField(b64 string) (*xmppconn.VCard, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "the vcard is not valid base64")
	}
	if len(raw) > maxVCardBytes {
		return nil, errorf(http.StatusBadRequest, fmt.Sprintf("the vcard is larger than %d bytes", maxVCardBytes))
	}
	v, err := xmppconn.ParseVCard(raw)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "the vcard is not a vcard-temp vCard")
	}
	return v, nil
}

func checkProfileField(what string, v *string) error {
	if v == nil {
		return nil
	}
	if len(*v) > maxProfileField || strings.ContainsFunc(*v, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return errorf(http.StatusBadRequest, fmt.Sprintf("the %s is too long or contains control characters", what))
	}
	return nil
}

// applyProfile stores the change in the user's vCard (XEP-0054 section
// 3.2: the user publishes the whole vCard with an IQ set).
func applyProfile(ctx context.Context, sess Session, ch profileChange) error {
	if ch.empty() {
		return nil
	}
	v := ch.vcard
	if v == nil {
		var err error
		if v, err = sess.VCard(ctx, ""); err != nil {
			return err
		}
	}
	if ch.name != nil {
		v.FN = *ch.name
	}
	if ch.email != nil {
		v.SetEmail(*ch.email)
	}
	return sess.SetVCard(ctx, v)
}

// userProperties returns the user's stored properties (none without a
// store).
func (s *Server) userProperties(ctx context.Context, user string) (map[string]string, error) {
	if s.cfg.Users.Properties == nil {
		return map[string]string{}, nil
	}
	return s.cfg.Users.Properties.UserProperties(ctx, user)
}

// setProperties stores the changes of one request; an empty value removes
// the property.
func (s *Server) setProperties(ctx context.Context, user string, props map[string]string) error {
	if len(props) == 0 {
		return nil
	}
	ps := s.cfg.Users.Properties
	if ps == nil {
		return errorf(http.StatusNotImplemented, "this gateway keeps no user properties")
	}
	set := make(map[string]string, len(props))
	var remove []string
	for n, v := range props {
		if v == "" {
			remove = append(remove, n)
		} else {
			set[n] = v
		}
	}
	ok, err := ps.SetUserProperties(ctx, user, set, remove, s.cfg.Users.MaxProperties)
	if err != nil {
		return err
	}
	if !ok {
		return errorf(http.StatusBadRequest, fmt.Sprintf("a user may keep at most %d properties", s.cfg.Users.MaxProperties))
	}
	return nil
}

// decodeUsersJSON reads a JSON request body of at most limit bytes into v.
func decodeUsersJSON(c echo.Context, limit int64, v any) error {
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, limit+1))
	if err != nil {
		return errorf(http.StatusBadRequest, "the request body could not be read")
	}
	if int64(len(raw)) > limit {
		return errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", limit))
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return errorf(http.StatusBadRequest, "the request body is not the JSON the operation takes")
	}
	return nil
}

// GetUser serves GET /user: the caller's public profile from the vCard
// and the stored properties. No password, no secret.
func (s *Server) GetUser(c echo.Context) error {
	cl := claimsOf(c)
	ctx := c.Request().Context()
	local, _, _ := cutJID(cl.Subject)
	sess, err := s.session(c)
	if err != nil {
		return err
	}
	v, err := sess.VCard(ctx, "")
	if err != nil {
		return err
	}
	props, err := s.userProperties(ctx, cl.Subject)
	if err != nil {
		return err
	}
	ue := UserEntity{Username: &local}
	if v.FN != "" {
		ue.Name = &v.FN
	}
	if e := v.Email(); e != "" {
		ue.Email = &e
	}
	if raw, err := v.Marshal(); err == nil {
		b64 := base64.StdEncoding.EncodeToString(raw)
		ue.Vcard = &b64
	}
	list := make([]UserProperty, 0, len(props))
	for _, k := range sortedKeys(props) {
		v := props[k]
		list = append(list, UserProperty{Key: k, Value: &v})
	}
	ue.Properties = &list
	return c.JSON(http.StatusOK, ue)
}

// UpdateUser serves PUT /user: name, email and vCard go to the user's
// vCard, properties to the store, a password to the XMPP server. A
// password change needs the current password (checked like a login:
// rate limited, a wrong one counts towards the lockout) and revokes every
// token of the user; the caller gets a new one. Everything is checked
// before anything changes.
func (s *Server) UpdateUser(c echo.Context) error {
	cl := claimsOf(c)
	ctx := c.Request().Context()
	local, _, _ := cutJID(cl.Subject)
	var ue UserEntity
	if err := decodeUsersJSON(c, maxUserBody, &ue); err != nil {
		return err
	}
	if ue.Username != nil && *ue.Username != "" && !sameUser(*ue.Username, local) {
		return errorf(http.StatusBadRequest, "the username cannot be changed")
	}
	ch := profileChange{name: ue.Name, email: ue.Email}
	if err := checkProfileField("name", ue.Name); err != nil {
		return err
	}
	if err := checkProfileField("email", ue.Email); err != nil {
		return err
	}
	if ue.Vcard != nil && *ue.Vcard != "" {
		v, err := parseVCardField(*ue.Vcard)
		if err != nil {
			return err
		}
		ch.vcard = v
	}
	props := map[string]string{}
	if ue.Properties != nil {
		for _, p := range *ue.Properties {
			val := ""
			if p.Value != nil {
				val = *p.Value
			}
			if err := checkProperty(p.Key, val); err != nil {
				return err
			}
			props[p.Key] = val
		}
	}
	password := ""
	if ue.Password != nil {
		password = *ue.Password
	}
	if password != "" {
		if err := s.checkCurrentPassword(c, local, password, ue.CurrentPassword); err != nil {
			return err
		}
	}

	sess, err := s.session(c)
	if err != nil {
		return err
	}
	if err := applyProfile(ctx, sess, ch); err != nil {
		return err
	}
	if err := s.setProperties(ctx, cl.Subject, props); err != nil {
		return err
	}
	if password == "" {
		return c.JSON(http.StatusOK, UserUpdateEntity{})
	}
	if err := s.dir.ChangePassword(ctx, local, password); err != nil {
		return err
	}
	s.log.Info("password changed", "user", cl.Subject)
	fresh, err := s.reissue(ctx, sess, cl)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, fresh)
}

// checkCurrentPassword checks a password change before anything changes:
// the new password's length, then the current password, with the XMPP
// server on a connection of its own (the live session is not touched).
// It is spent and counted like a login, so that a stolen token cannot
// guess the password. A wrong one is 403, not 401: the token is good,
// and a client must not sign out.
func (s *Server) checkCurrentPassword(c echo.Context, local, password string, current *string) error {
	if len(password) < s.cfg.MinPasswordLength {
		return errorf(http.StatusBadRequest, fmt.Sprintf("the password must have at least %d characters", s.cfg.MinPasswordLength))
	}
	if current == nil || *current == "" {
		return errorf(http.StatusBadRequest, "changing the password needs the current one in currentPassword")
	}
	jid := s.bareJID(local)
	if err := s.throttle(c, jid); err != nil {
		return err
	}
	err := s.sessions.Verify(c.Request().Context(), local, *current)
	if errors.Is(err, xmppconn.ErrNotAuthorized) {
		s.loginFailed(c, jid, auth.MethodPassword)
		return errorf(http.StatusForbidden, "the current password is wrong")
	}
	return err
}

// reissue revokes every token of the user after a password change, ends
// the user's event streams (opened with those tokens) and returns a new
// token for the caller, whose claims are cl: with a refresh token of a new
// family when cl had one (refresh.go).
func (s *Server) reissue(ctx context.Context, sess Session, cl auth.Claims) (UserUpdateEntity, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), purgeTimeout)
	defer cancel()
	cutoff, err := s.revokeAll(ctx, cl.Subject)
	if err != nil {
		return UserUpdateEntity{}, err
	}
	s.hub.EndUser(cl.Subject, chatapi.CloseExpired)
	// On every node (endeverywhere.go).
	s.endElsewhere(ctx, streamsEnd{User: cl.Subject, All: true, Reason: chatapi.CloseExpired})
	time.Sleep(time.Until(cutoff)) // the new token must be issued after the cutoff
	if cl.Family != "" && s.refresh != nil {
		return s.restartFamily(ctx, sess, cl)
	}
	tok, ncl, err := s.tokens.Issue(ctx, cl.Subject, cl.Method)
	if err != nil {
		return UserUpdateEntity{}, err
	}
	sess.AddToken(ncl.ID, ncl.ExpiresAt)
	return UserUpdateEntity{Token: &tok}, nil
}

// DeleteUser serves DELETE /user: the XMPP session ends, the account is
// removed from the XMPP server, every token of the user is revoked, and
// what the gateway keeps for the user is deleted. It runs to the end even
// if the client leaves.
func (s *Server) DeleteUser(c echo.Context) error {
	cl := claimsOf(c)
	local, _, ok := cutJID(cl.Subject)
	if !ok {
		return errorf(http.StatusBadRequest, "the token's user is not a bare JID")
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), purgeTimeout)
	defer cancel()
	s.sessions.End(ctx, cl.Subject, chatapi.CloseEnded)
	if err := s.dir.Unregister(ctx, local); err != nil {
		return err
	}
	if _, err := s.forgetUser(ctx, cl.Subject, "DELETE /user"); err != nil {
		return err
	}
	s.log.Info("user deleted", "user", cl.Subject)
	return c.NoContent(http.StatusOK)
}

// searchScope returns the bare JIDs GET /users may show the caller:
// every registered user for admins or with SearchAll, else the caller
// and the caller's roster contacts on this domain (ejabberd's shared
// roster groups put their members in that roster).
func (s *Server) searchScope(ctx context.Context, sess Session, user string) ([]string, error) {
	if s.cfg.Users.SearchAll || s.isUsersAdmin(user) {
		locals, err := s.dir.Users(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]string, 0, len(locals))
		for _, l := range locals {
			if l, err = username(l); err == nil {
				out = append(out, l+"@"+s.cfg.Domain)
			}
		}
		return out, nil
	}
	items, err := sess.Roster(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{user}
	for _, it := range items {
		jid, err := toJID(it.JID, s.cfg.Domain)
		if err != nil || strings.Contains(jid, "/") {
			continue
		}
		if _, dom, ok := cutJID(jid); ok && dom == s.cfg.Domain {
			out = append(out, jid)
		}
	}
	return out, nil
}

// ListUsers serves GET /users. Only public fields are returned: the
// username and the vCard's name. Names are looked up for the first 256
// candidates (sorted by JID); later ones match by username only. At most
// 200 users are answered.
func (s *Server) ListUsers(c echo.Context, params ListUsersParams) error {
	cl := claimsOf(c)
	ctx := c.Request().Context()
	if params.PropertyValue != nil && params.PropertyKey == nil {
		return errorf(http.StatusBadRequest, "propertyValue needs propertyKey")
	}
	sess, err := s.session(c)
	if err != nil {
		return err
	}
	scope, err := s.searchScope(ctx, sess, cl.Subject)
	if err != nil {
		return err
	}
	if params.PropertyKey != nil {
		ps := s.cfg.Users.Properties
		if ps == nil {
			return c.JSON(http.StatusOK, UserEntities{Users: []UserEntity{}})
		}
		value := ""
		if params.PropertyValue != nil {
			value = *params.PropertyValue
		}
		having, err := ps.UsersWithProperty(ctx, *params.PropertyKey, value, params.PropertyValue != nil, 0)
		if err != nil {
			return err
		}
		scope = slices.DeleteFunc(scope, func(j string) bool { _, found := slices.BinarySearch(having, j); return !found })
	}
	slices.Sort(scope)
	scope = slices.Compact(scope)

	names := lookupNames(ctx, sess, scope[:min(len(scope), maxNameLookups)])
	search := ""
	if params.Search != nil {
		search = strings.ToLower(*params.Search)
	}
	users := []UserEntity{}
	for _, jid := range scope {
		if len(users) == maxUserResults {
			break
		}
		local, _, _ := cutJID(jid)
		name := names[jid]
		if search != "" && !strings.Contains(local, search) && !strings.Contains(strings.ToLower(name), search) {
			continue
		}
		ue := UserEntity{Username: &local}
		if name != "" {
			ue.Name = &name
		}
		users = append(users, ue)
	}
	return c.JSON(http.StatusOK, UserEntities{Users: users})
}

// lookupNames fetches the vCard names of jids, a few at a time. A vCard
// that cannot be read leaves the name empty.
func lookupNames(ctx context.Context, sess Session, jids []string) map[string]string {
	names := make(map[string]string, len(jids))
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan string)
	for range min(nameLookupProcs, len(jids)) {
		wg.Go(func() {
			for jid := range next {
				ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
				v, err := sess.VCard(ictx, jid)
				cancel()
				if err != nil {
					continue
				}
				name := v.FN
				if name == "" {
					name = v.Nickname
				}
				mu.Lock()
				names[jid] = name
				mu.Unlock()
			}
		})
	}
	for _, j := range jids {
		if ctx.Err() != nil {
			break
		}
		next <- j
	}
	close(next)
	wg.Wait()
	return names
}
