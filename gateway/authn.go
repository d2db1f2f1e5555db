package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	oapimw "github.com/oapi-codegen/echo-middleware"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/xmppadmin"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// tokenIssuer hands sessions the server's login tokens, and tells them when
// the server will never issue one (the account is gone, or the server
// cannot issue tokens): those errors also match xmppconn.ErrNotAuthorized,
// so a reconnecting session ends instead of retrying forever.
//
// A user an operator locked out gets no token either (locked: a session
// kicked by the XMPP server must not log in again).
type tokenIssuer struct {
	dir    xmppadmin.Directory
	locked func(ctx context.Context, local string) error
}

func (ti tokenIssuer) IssueToken(ctx context.Context, user string, ttl time.Duration) (string, error) {
	if err := ti.locked(ctx, user); err != nil {
		if errors.Is(err, errLockedOut) {
			return "", fmt.Errorf("%w: %w", xmppconn.ErrNotAuthorized, err)
		}
		return "", err
	}
	tok, err := ti.dir.IssueToken(ctx, user, ttl)
	if errors.Is(err, xmppadmin.ErrUserNotFound) || errors.Is(err, xmppadmin.ErrUnsupported) {
		return "", fmt.Errorf("%w: %w", xmppconn.ErrNotAuthorized, err)
	}
	return tok, err
}

// maxPassword bounds a password body (the spec says the same).
const maxPassword = 1024

// authenticate is the validator's check of a security scheme: it verifies
// the token from the Authorization header (scheme jwt) or the token query
// parameter (scheme jwtQuery) and leaves the claims on the echo context.
// Every failure is 401 with the same message. Scheme operator is the
// operator API's (operator.go).
func (s *Server) authenticate(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	c := oapimw.GetEchoContext(ctx)
	if c == nil {
		return errors.New("gateway: no echo context in the validator")
	}
	var raw string
	switch in.SecuritySchemeName {
	case "jwt":
		tok, ok := auth.ParseAuthorization(c.Request().Header.Get("Authorization"))
		if !ok {
			return unauthorized()
		}
		raw = tok
	case "jwtQuery":
		if s.cfg.Auth.RefuseQueryToken {
			return unauthorized()
		}
		raw = c.QueryParam("token")
	case "streamTicket":
		return s.redeemStreamTicket(c) // streamticket.go
	case "operator":
		return s.authenticateOperator(c) // operator.go
	default:
		return unauthorized()
	}
	return s.verifyToken(c, raw)
}

// verifyToken verifies raw, a JWT of the API, and leaves its claims on
// the echo context; every refusal is 401.
func (s *Server) verifyToken(c echo.Context, raw string) error {
	if raw == "" {
		return unauthorized()
	}
	cl, err := s.tokens.Verify(c.Request().Context(), raw)
	return s.acceptClaims(c, cl, err, "token")
}

// acceptClaims ends an authentication whose check (of a token, or of a
// ticket standing for one) answered cl and err: it leaves cl on the echo
// context, or answers 401 for a refused credential and 503 when the check
// itself failed (what names the credential in that answer).
func (s *Server) acceptClaims(c echo.Context, cl auth.Claims, err error, what string) error {
	switch {
	case errors.Is(err, auth.ErrInvalidToken), errors.Is(err, auth.ErrExpired), errors.Is(err, auth.ErrRevoked):
		return unauthorized()
	case err != nil:
		// The credential could not be checked (the store failed): not
		// the client's fault, and it may well be good.
		s.log.Error(what+" check failed", "err", err)
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the "+what+" could not be checked; try again")
	}
	// Tokens issued before usernames were made canonical may name another
	// spelling of a user; none of today's mechanisms knows that key.
	if local, _, ok := cutJID(cl.Subject); !ok || !sameUser(local, local) {
		return unauthorized()
	}
	c.Set(claimsKey, cl)
	return nil
}

func unauthorized() error {
	return echo.NewHTTPError(http.StatusUnauthorized, "missing, invalid, expired or revoked token")
}

// sessionFor returns the XMPP session of the token's user, opening it
// with a server-issued token when there is none (after a gateway restart
// or an idle timeout), so a valid token always finds its session. It is
// the one seam handlers get a Session from: when another node owns the
// user, the session is a remote one (remote.go).
func (s *Server) sessionFor(ctx context.Context, cl auth.Claims) (Session, error) {
	if sess, ok := s.sessions.Get(cl.Subject); ok && s.ownsUser(cl.Subject) {
		sess.AddToken(sessionKey(cl), cl.ExpiresAt)
		return sess, nil
	}
	local, domain, ok := cutJID(cl.Subject)
	if !ok || domain != s.cfg.Domain {
		return nil, errorf(http.StatusUnauthorized, "the token is not for this server")
	}
	if r := s.knownRemote(ctx, cl); r != nil { // the owner it learned lately
		return r, nil
	}
	sess, err := s.openSession(ctx, local, xmppconn.Credentials{Verified: true})
	if err != nil {
		return s.remoteFor(ctx, cl, err) // another node's session, with Peers
	}
	s.knownOwners.forget(cl.Subject, "")
	sess.AddToken(sessionKey(cl), cl.ExpiresAt)
	return sess, nil
}

// session is sessionFor for the request's own token.
func (s *Server) session(c echo.Context) (Session, error) {
	return s.sessionFor(c.Request().Context(), claimsOf(c))
}

// Login serves POST /login/{username}: the XMPP server checks the
// password by opening the user's session.
func (s *Server) Login(c echo.Context, username Username, params LoginParams) error {
	local, jid, err := s.guardLogin(c, username)
	if err != nil {
		return err
	}
	password, err := readText(c.Request(), maxPassword)
	if err != nil {
		return err
	}
	if password == "" {
		return errorf(http.StatusBadRequest, "the password is empty")
	}
	if t := s.authx.totp; t != nil {
		on, err := t.Enabled(c.Request().Context(), jid)
		if err != nil {
			return err
		}
		if on {
			return s.mfaChallenge(c, local, password)
		}
	}
	return s.logIn(c, local, xmppconn.Credentials{Password: password}, auth.MethodPassword, isSet(params.Remember))
}

// logIn opens (or joins) the user's session and answers with a new token,
// and with the first refresh token of a new family when the gateway issues
// them (remember: "stay signed in").
func (s *Server) logIn(c echo.Context, local string, cred xmppconn.Credentials, method string, remember bool) error {
	ctx := c.Request().Context()
	var sess Session
	opened, err := s.openSession(ctx, local, cred)
	switch {
	case errors.Is(err, xmppconn.ErrNotAuthorized):
		s.loginFailed(c, s.bareJID(local), method)
		return errorf(http.StatusUnauthorized, msgWrongCredentials)
	case err != nil:
		// The credentials were checked (notOwned): with Peers, the login
		// joins the session on the owner node, which learns the token
		// with its first request.
		if sess, err = s.remoteFor(ctx, auth.Claims{Subject: s.bareJID(local)}, err); err != nil {
			return err
		}
	default:
		sess = opened
	}
	s.loginSucceeded(c, s.bareJID(local))
	if s.refresh != nil {
		g, err := s.refresh.Start(ctx, sess.User(), method, remember, c.Request().UserAgent())
		switch {
		case err == nil:
			sess.AddToken(sessionKey(g.AccessClaims), g.AccessClaims.ExpiresAt)
			s.log.Info("logged in", "user", sess.User(), "method", method, "remember", remember)
			te := grantEntity(g)
			te.Jid = ptr(sess.User())
			return c.JSON(http.StatusOK, te)
		case !isStorageFull(err):
			return err
		}
		// A full store keeps no refresh token: the login still works,
		// with an access token alone (the client signs in again when it
		// expires), as it did before refresh tokens.
		s.log.Warn("login without a refresh token: the store is full", "user", sess.User())
	}
	tok, cl, err := s.tokens.Issue(ctx, sess.User(), method)
	if err != nil {
		return err
	}
	sess.AddToken(cl.ID, cl.ExpiresAt)
	s.log.Info("logged in", "user", sess.User(), "method", method)
	return c.JSON(http.StatusOK, TokenEntity{Token: tok, ExpiresAt: &cl.ExpiresAt, Jid: ptr(sess.User())})
}

// Logout serves POST /logout: the token and its refresh token family are
// revoked, their streams end, and the XMPP session closes when it was the
// user's last login.
func (s *Server) Logout(c echo.Context) error {
	cl := claimsOf(c)
	ctx := c.Request().Context()
	if err := s.tokens.Revoke(ctx, cl); err != nil {
		return err
	}
	if cl.Family != "" && s.refresh != nil {
		if err := s.refresh.RevokeFamily(ctx, cl.Subject, cl.Family); err != nil {
			return err
		}
	}
	s.streams.end(cl.ID, chatapi.CloseLogout)
	s.endElsewhere(ctx, streamsEnd{User: cl.Subject, Keys: []string{cl.ID}, Reason: chatapi.CloseLogout}) // endeverywhere.go
	s.endLogin(ctx, cl.Subject, cl.Family, sessionKey(cl), chatapi.CloseLogout)
	s.log.Info("logged out", "user", cl.Subject)
	return c.NoContent(http.StatusOK)
}

// LogoutAll serves POST /logout/all: every token and refresh token family
// of the user is revoked (as after a password change: revokeAll), every
// event stream of the user ends with reason logout, the XMPP session
// closes, and the user's push subscriptions are removed. It runs to the
// end even if the client leaves.
func (s *Server) LogoutAll(c echo.Context) error {
	cl := claimsOf(c)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), purgeTimeout)
	defer cancel()
	if _, err := s.revokeAll(ctx, cl.Subject); err != nil {
		return err
	}
	s.hub.EndUser(cl.Subject, chatapi.CloseLogout)
	s.endElsewhere(ctx, streamsEnd{User: cl.Subject, All: true, EndSession: true, Reason: chatapi.CloseLogout})
	s.sessions.End(ctx, cl.Subject, chatapi.CloseLogout)
	// A device signed out must not go on getting the user's messages as
	// pushes: each browser subscribes again when it signs in.
	if err := s.forgetPushSubscriptions(ctx, cl.Subject); err != nil {
		s.log.Error("forget push subscriptions", "user", cl.Subject, "err", err)
	}
	s.log.Info("logged out everywhere", "user", cl.Subject)
	return c.NoContent(http.StatusOK)
}

// endLogin ends the streams of a revoked family (none: empty) and closes
// the user's XMPP session when key (sessionKey) was its last login.
func (s *Server) endLogin(ctx context.Context, user, family, key, reason string) {
	if family != "" {
		s.streams.end(familyKey(family), reason)
		s.endElsewhere(ctx, streamsEnd{User: user, Keys: []string{familyKey(family)}, Reason: reason})
	}
	if !s.endLocalLogin(ctx, user, key, reason) {
		s.endRemoteLogin(ctx, user, key, reason) // remote.go
	}
}

// endLocalLogin is endLogin's work on this node's session of user; false
// when there is none.
func (s *Server) endLocalLogin(ctx context.Context, user, key, reason string) bool {
	sess, ok := s.sessions.Get(user)
	if !ok {
		return false
	}
	if sess.RemoveToken(key) == 0 {
		s.sessions.End(context.WithoutCancel(ctx), user, reason)
	}
	return true
}

// Register serves POST /register/{username}: it creates the account on
// the XMPP server and logs the new user in.
func (s *Server) Register(c echo.Context, username Username, params RegisterParams) error {
	if !s.cfg.Registration {
		return errorf(http.StatusForbidden, "registration is switched off on this server")
	}
	local, _, err := s.guardLogin(c, username)
	if err != nil {
		return err
	}
	password, err := readText(c.Request(), maxPassword)
	if err != nil {
		return err
	}
	if n := len([]rune(password)); n < s.cfg.MinPasswordLength {
		return errorf(http.StatusBadRequest, fmt.Sprintf("the password must have at least %d characters", s.cfg.MinPasswordLength))
	}
	ctx := c.Request().Context()
	// Whatever the gateway still keeps for a free name belongs to an
	// account removed behind its back: forgotten before the name is given
	// to someone new, so that no old token, passkey or push subscription
	// reaches the new account.
	taken, err := s.dir.Exists(ctx, local)
	if err != nil {
		return err
	}
	if taken {
		return errorf(http.StatusConflict, "the username is taken")
	}
	cutoff, err := s.forgetUser(ctx, s.bareJID(local), "the name is registered anew")
	if err != nil {
		return err
	}
	if err := s.dir.Register(ctx, local, password); err != nil {
		if errors.Is(err, xmppadmin.ErrUserExists) {
			return errorf(http.StatusConflict, "the username is taken")
		}
		return err
	}
	s.log.Info("registered", "user", local)
	time.Sleep(time.Until(cutoff)) // the new token must be issued after the cutoff
	return s.logIn(c, local, xmppconn.Credentials{Password: password}, auth.MethodPassword, isSet(params.Remember))
}

// username checks a username path parameter and returns its canonical
// form, the one every per-user mechanism is keyed on.
func (s *Server) username(name string) (string, error) {
	local, err := username(name)
	if err != nil {
		return "", errorf(http.StatusBadRequest, err.Error())
	}
	return local, nil
}
