package gateway

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// Passkey sign-in without a username (discoverable credentials): the
// browser offers the passkeys it holds for the site, and the one chosen
// names the account by its user handle (auth.Passkeys.BeginLogin with no
// user). Like every passkey login its finish spends only the client
// address's attempts and is never locked out. Its start keeps nothing on
// the gateway (auth/discoverable.go) and so spends nothing: the sign-in
// page's autofill starts one for every visitor and renews it while the
// page is open, and people behind one address must not run out of
// attempts by merely looking at the page.

// WebauthnDiscoverableStart serves POST /webauthn/authenticate/start.
func (s *Server) WebauthnDiscoverableStart(c echo.Context) error {
	p := s.authx.passkeys
	if p == nil {
		return errPasskeysOff()
	}
	id, opts, err := p.BeginLogin(c.Request().Context(), "")
	if err != nil {
		return s.passkeyRefused(c, "", err)
	}
	return c.JSON(http.StatusOK, assertionOptions{Assertion: opts, Ceremony: id})
}

// WebauthnDiscoverableFinish serves POST /webauthn/authenticate/finish:
// the passkey's account signs in. A ceremony begun for a named user may
// finish here too: FinishLogin checks the assertion against that user's
// passkeys, and that user signs in.
func (s *Server) WebauthnDiscoverableFinish(c echo.Context, params WebauthnDiscoverableFinishParams) error {
	p, err := s.anyonesPasskey(c)
	if err != nil {
		return err
	}
	user, err := s.finishPasskeyLogin(c, p, params.Ceremony, "")
	if err != nil {
		return err
	}
	local, domain, _ := cutJID(user)
	if domain != s.cfg.Domain || local == "" {
		// A handle of another domain's account: never this gateway's.
		return s.passkeyRefused(c, user, auth.ErrCeremony)
	}
	return s.logIn(c, local, xmppconn.Credentials{Verified: true}, auth.MethodWebAuthn, isSet(params.Remember))
}

// anyonesPasskey opens the finish of a passkey login that names no user:
// 501 while passkeys are off, then the client address's attempt only.
func (s *Server) anyonesPasskey(c echo.Context) (*auth.Passkeys, error) {
	p := s.authx.passkeys
	if p == nil {
		return nil, errPasskeysOff()
	}
	checksNoSecret(c)
	if err := s.throttle(c, ""); err != nil {
		return nil, err
	}
	return p, nil
}
