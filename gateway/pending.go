package gateway

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// The operations below belong to issues that have not landed yet. Each
// answers 501 with the JSON error body; none may remain once its issue
// lands (TestNoUnimplementedOperations lists what is left).

func notImplemented() error {
	return errorf(http.StatusNotImplemented, "this operation is not implemented yet")
}

func (s *Server) CreateBookmark(c echo.Context) error               { return notImplemented() }
func (s *Server) DeleteBookmark(c echo.Context, _ BookmarkID) error { return notImplemented() }
func (s *Server) GetBookmark(c echo.Context, _ BookmarkID) error    { return notImplemented() }
func (s *Server) UpdateBookmark(c echo.Context, _ BookmarkID) error { return notImplemented() }
func (s *Server) ListBookmarks(c echo.Context) error                { return notImplemented() }
func (s *Server) GetGlobalConfig(c echo.Context) error              { return notImplemented() }
func (s *Server) GetUserProperties(c echo.Context) error            { return notImplemented() }
func (s *Server) SetUserProperties(c echo.Context) error            { return notImplemented() }
func (s *Server) GetChatMessages(c echo.Context, _ GetChatMessagesParams) error {
	return notImplemented()
}
func (s *Server) DeleteBookmarkProperty(c echo.Context, _ BookmarkID, _ string) error {
	return notImplemented()
}
func (s *Server) SetBookmarkProperty(c echo.Context, _ BookmarkID, _ string) error {
	return notImplemented()
}
func (s *Server) GetGroupChatMessages(c echo.Context, _ GetGroupChatMessagesParams) error {
	return notImplemented()
}
func (s *Server) LeaveRoom(c echo.Context, _ RoomName, _ LeaveRoomParams) error {
	return notImplemented()
}
func (s *Server) GetRoom(c echo.Context, _ RoomName, _ GetRoomParams) error {
	return notImplemented()
}
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
func (s *Server) GetMeetingURL(c echo.Context, _ GetMeetingURLParamsService, _ string) error {
	return notImplemented()
}
func (s *Server) ListPepNodes(c echo.Context) error                  { return notImplemented() }
func (s *Server) PublishPepItem(c echo.Context, _ Node) error        { return notImplemented() }
func (s *Server) GetRosterPresence(c echo.Context) error             { return notImplemented() }
func (s *Server) ProbePresence(c echo.Context, _ JIDString) error    { return notImplemented() }
func (s *Server) PreviewLink(c echo.Context, _ int, _ string) error  { return notImplemented() }
func (s *Server) CreatePubSubNode(c echo.Context, _ Node) error      { return notImplemented() }
func (s *Server) ListPubSubNodes(c echo.Context) error               { return notImplemented() }
func (s *Server) PublishPubSubItem(c echo.Context, _ Node) error     { return notImplemented() }
func (s *Server) SubscribePubSubNode(c echo.Context, _ Node) error   { return notImplemented() }
func (s *Server) ListPubSubSubscribers(c echo.Context, _ Node) error { return notImplemented() }
func (s *Server) GetRoster(c echo.Context) error                     { return notImplemented() }
func (s *Server) AddRosterItem(c echo.Context) error                 { return notImplemented() }
func (s *Server) DeleteRosterItem(c echo.Context, _ JIDString) error { return notImplemented() }
func (s *Server) UpdateRosterItem(c echo.Context, _ JIDString) error { return notImplemented() }
func (s *Server) TotpAuthenticate(c echo.Context, _ Username, _ string) error {
	return notImplemented()
}
func (s *Server) TotpRegister(c echo.Context, _ Username) error { return notImplemented() }
func (s *Server) TotpRemove(c echo.Context, _ string) error     { return notImplemented() }
func (s *Server) RequestUploadSlot(c echo.Context, _ string, _ int64, _ RequestUploadSlotParams) error {
	return notImplemented()
}
func (s *Server) DeleteUser(c echo.Context) error                    { return notImplemented() }
func (s *Server) GetUser(c echo.Context) error                       { return notImplemented() }
func (s *Server) UpdateUser(c echo.Context) error                    { return notImplemented() }
func (s *Server) RemoveUserFromGroups(c echo.Context) error          { return notImplemented() }
func (s *Server) GetUserGroups(c echo.Context) error                 { return notImplemented() }
func (s *Server) AddUserToGroups(c echo.Context) error               { return notImplemented() }
func (s *Server) RemoveUserFromGroup(c echo.Context, _ string) error { return notImplemented() }
func (s *Server) AddUserToGroup(c echo.Context, _ string) error      { return notImplemented() }
func (s *Server) ListUsers(c echo.Context, _ ListUsersParams) error  { return notImplemented() }
func (s *Server) WebauthnAuthenticateStart(c echo.Context, _ Username) error {
	return notImplemented()
}
func (s *Server) WebauthnAuthenticateFinish(c echo.Context, _ Username, _ WebauthnAuthenticateFinishParams) error {
	return notImplemented()
}
func (s *Server) ListWebAuthnCredentials(c echo.Context) error            { return notImplemented() }
func (s *Server) DeleteWebAuthnCredential(c echo.Context, _ string) error { return notImplemented() }
func (s *Server) WebauthnRegisterFinish(c echo.Context, _ Username, _ WebauthnRegisterFinishParams) error {
	return notImplemented()
}
func (s *Server) WebauthnRegisterStart(c echo.Context, _ Username) error { return notImplemented() }
func (s *Server) HandleNotificationAction(c echo.Context) error          { return notImplemented() }
func (s *Server) SendPushMessage(c echo.Context, _ Target) error         { return notImplemented() }
func (s *Server) SendPushNotification(c echo.Context, _ Target) error    { return notImplemented() }
func (s *Server) DeletePushSubscription(c echo.Context, _ string) error  { return notImplemented() }
func (s *Server) PutPushSubscription(c echo.Context, _ string) error     { return notImplemented() }
func (s *Server) ListPushSubscribers(c echo.Context) error               { return notImplemented() }
func (s *Server) GetVapidKey(c echo.Context) error                       { return notImplemented() }
func (s *Server) SendStanza(c echo.Context) error                        { return notImplemented() }
