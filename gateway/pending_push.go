package gateway

import "github.com/labstack/echo/v4"

func (s *Server) HandleNotificationAction(c echo.Context) error { return notImplemented() }

func (s *Server) SendPushMessage(c echo.Context, _ Target) error { return notImplemented() }

func (s *Server) SendPushNotification(c echo.Context, _ Target) error { return notImplemented() }

func (s *Server) DeletePushSubscription(c echo.Context, _ string) error { return notImplemented() }

func (s *Server) PutPushSubscription(c echo.Context, _ string) error { return notImplemented() }

func (s *Server) ListPushSubscribers(c echo.Context) error { return notImplemented() }

func (s *Server) GetVapidKey(c echo.Context) error { return notImplemented() }
