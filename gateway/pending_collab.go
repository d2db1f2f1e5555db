package gateway

import "github.com/labstack/echo/v4"

func (s *Server) CreateBookmark(c echo.Context) error { return notImplemented() }

func (s *Server) DeleteBookmark(c echo.Context, _ BookmarkID) error { return notImplemented() }

func (s *Server) GetBookmark(c echo.Context, _ BookmarkID) error { return notImplemented() }

func (s *Server) UpdateBookmark(c echo.Context, _ BookmarkID) error { return notImplemented() }

func (s *Server) DeleteBookmarkProperty(c echo.Context, _ BookmarkID, _ string) error {
	return notImplemented()
}

func (s *Server) SetBookmarkProperty(c echo.Context, _ BookmarkID, _ string) error {
	return notImplemented()
}

func (s *Server) ListBookmarks(c echo.Context) error { return notImplemented() }

func (s *Server) GetGlobalConfig(c echo.Context) error { return notImplemented() }

func (s *Server) GetUserProperties(c echo.Context) error { return notImplemented() }

func (s *Server) SetUserProperties(c echo.Context) error { return notImplemented() }

func (s *Server) GetMeetingURL(c echo.Context, _ GetMeetingURLParamsService, _ string) error {
	return notImplemented()
}

func (s *Server) ListPepNodes(c echo.Context) error { return notImplemented() }

func (s *Server) PublishPepItem(c echo.Context, _ Node) error { return notImplemented() }

func (s *Server) PreviewLink(c echo.Context, _ int, _ string) error { return notImplemented() }

func (s *Server) CreatePubSubNode(c echo.Context, _ Node) error { return notImplemented() }

func (s *Server) ListPubSubNodes(c echo.Context) error { return notImplemented() }

func (s *Server) PublishPubSubItem(c echo.Context, _ Node) error { return notImplemented() }

func (s *Server) SubscribePubSubNode(c echo.Context, _ Node) error { return notImplemented() }

func (s *Server) ListPubSubSubscribers(c echo.Context, _ Node) error { return notImplemented() }

func (s *Server) RequestUploadSlot(c echo.Context, _ string, _ int64, _ RequestUploadSlotParams) error {
	return notImplemented()
}

func (s *Server) DeleteUser(c echo.Context) error { return notImplemented() }

func (s *Server) GetUser(c echo.Context) error { return notImplemented() }

func (s *Server) UpdateUser(c echo.Context) error { return notImplemented() }

func (s *Server) RemoveUserFromGroups(c echo.Context) error { return notImplemented() }

func (s *Server) GetUserGroups(c echo.Context) error { return notImplemented() }

func (s *Server) AddUserToGroups(c echo.Context) error { return notImplemented() }

func (s *Server) RemoveUserFromGroup(c echo.Context, _ string) error { return notImplemented() }

func (s *Server) AddUserToGroup(c echo.Context, _ string) error { return notImplemented() }

func (s *Server) ListUsers(c echo.Context, _ ListUsersParams) error { return notImplemented() }
