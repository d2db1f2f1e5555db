package gateway

import "github.com/labstack/echo/v4"

func (s *Server) TotpAuthenticate(c echo.Context, _ Username, _ string) error {
	return notImplemented()
}

func (s *Server) TotpRegister(c echo.Context, _ Username) error { return notImplemented() }

func (s *Server) TotpRemove(c echo.Context, _ string) error { return notImplemented() }

func (s *Server) WebauthnAuthenticateFinish(c echo.Context, _ Username, _ WebauthnAuthenticateFinishParams) error {
	return notImplemented()
}

func (s *Server) WebauthnAuthenticateStart(c echo.Context, _ Username) error { return notImplemented() }

func (s *Server) ListWebAuthnCredentials(c echo.Context) error { return notImplemented() }

func (s *Server) DeleteWebAuthnCredential(c echo.Context, _ string) error { return notImplemented() }

func (s *Server) WebauthnRegisterFinish(c echo.Context, _ Username, _ WebauthnRegisterFinishParams) error {
	return notImplemented()
}

func (s *Server) WebauthnRegisterStart(c echo.Context, _ Username) error { return notImplemented() }
