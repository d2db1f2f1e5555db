package gateway

import "github.com/labstack/echo/v4"

func (s *Server) ListPepNodes(c echo.Context) error { return notImplemented() }

func (s *Server) PublishPepItem(c echo.Context, _ Node) error { return notImplemented() }

func (s *Server) CreatePubSubNode(c echo.Context, _ Node) error { return notImplemented() }

func (s *Server) ListPubSubNodes(c echo.Context) error { return notImplemented() }

func (s *Server) PublishPubSubItem(c echo.Context, _ Node) error { return notImplemented() }

func (s *Server) SubscribePubSubNode(c echo.Context, _ Node) error { return notImplemented() }

func (s *Server) ListPubSubSubscribers(c echo.Context, _ Node) error { return notImplemented() }

func (s *Server) RequestUploadSlot(c echo.Context, _ string, _ int64, _ RequestUploadSlotParams) error {
	return notImplemented()
}
