package gateway

import "github.com/labstack/echo/v4"

func (s *Server) GetGlobalConfig(c echo.Context) error { return notImplemented() }

func (s *Server) GetUserProperties(c echo.Context) error { return notImplemented() }

func (s *Server) SetUserProperties(c echo.Context) error { return notImplemented() }

func (s *Server) PreviewLink(c echo.Context, _ int, _ string) error { return notImplemented() }

func (s *Server) DeleteUser(c echo.Context) error { return notImplemented() }

func (s *Server) GetUser(c echo.Context) error { return notImplemented() }

func (s *Server) UpdateUser(c echo.Context) error { return notImplemented() }

func (s *Server) RemoveUserFromGroups(c echo.Context) error { return notImplemented() }

func (s *Server) GetUserGroups(c echo.Context) error { return notImplemented() }

func (s *Server) AddUserToGroups(c echo.Context) error { return notImplemented() }

func (s *Server) RemoveUserFromGroup(c echo.Context, _ string) error { return notImplemented() }

func (s *Server) AddUserToGroup(c echo.Context, _ string) error { return notImplemented() }

func (s *Server) ListUsers(c echo.Context, _ ListUsersParams) error { return notImplemented() }
