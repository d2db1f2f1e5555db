package gateway

import "github.com/labstack/echo/v4"

func (s *Server) GetChatMessages(c echo.Context, _ GetChatMessagesParams) error {
	return notImplemented()
}

func (s *Server) GetGroupChatMessages(c echo.Context, _ GetGroupChatMessagesParams) error {
	return notImplemented()
}

func (s *Server) LeaveRoom(c echo.Context, _ RoomName, _ LeaveRoomParams) error {
	return notImplemented()
}

func (s *Server) GetRoom(c echo.Context, _ RoomName, _ GetRoomParams) error { return notImplemented() }

func (s *Server) PostToRoom(c echo.Context, _ RoomName, _ PostToRoomParams) error {
	return notImplemented()
}

func (s *Server) JoinRoom(c echo.Context, _ RoomName, _ JoinRoomParams) error {
	return notImplemented()
}

func (s *Server) GetRoomHistory(c echo.Context, _ RoomName, _ GetRoomHistoryParams) error {
	return notImplemented()
}

func (s *Server) GetRoomOccupants(c echo.Context, _ RoomName, _ GetRoomOccupantsParams) error {
	return notImplemented()
}

func (s *Server) GetRoomParticipants(c echo.Context, _ RoomName, _ GetRoomParticipantsParams) error {
	return notImplemented()
}

func (s *Server) InviteToRoom(c echo.Context, _ RoomName, _ JIDString, _ InviteToRoomParams) error {
	return notImplemented()
}

func (s *Server) ListRooms(c echo.Context, _ ListRoomsParams) error { return notImplemented() }

func (s *Server) GetRosterPresence(c echo.Context) error { return notImplemented() }

func (s *Server) ProbePresence(c echo.Context, _ JIDString) error { return notImplemented() }

func (s *Server) GetRoster(c echo.Context) error { return notImplemented() }

func (s *Server) AddRosterItem(c echo.Context) error { return notImplemented() }

func (s *Server) DeleteRosterItem(c echo.Context, _ JIDString) error { return notImplemented() }

func (s *Server) UpdateRosterItem(c echo.Context, _ JIDString) error { return notImplemented() }

func (s *Server) SendStanza(c echo.Context) error { return notImplemented() }
