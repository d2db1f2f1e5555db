package gateway_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationRoomTyping: a chat state sent to a room the user is in
// goes as groupchat (XEP-0085 section 5.5), and ejabberd passes it to the
// other occupants: b's stream gets a's composing from the room, as
// room/nick. Sent as chat (before), the room answered an error and no
// occupant heard it.
func TestIntegrationRoomTyping(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	ta, tb, roomJID := annAndBenInRoom(t, e, "typing")
	stream := e.OpenConnected(t, tb, "")
	if r := e.Do(t, "POST", api+"/chat/chatstate/composing/"+url.PathEscape(roomJID), ta, "", ""); r.Status != 200 {
		t.Fatalf("chat state to the room: %d %s", r.Status, r.Body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var cs chatapi.ChatState
		stream.NextNamed(t, chatapi.EventChat, time.Until(deadline), &cs)
		if cs.Type == chatapi.TypeChatState && cs.From == roomJID+"/ann" && cs.State == chatapi.StateComposing {
			break
		}
	}
}

// annAndBenInRoom signs two new users in and has them join a new room
// named prefix+…, as ann and ben; it answers their tokens and the room's JID.
func annAndBenInRoom(t *testing.T, e *env, prefix string) (ta, tb, roomJID string) {
	t.Helper()
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb = e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	room := prefix + strings.ToLower(a.Name[1:9])
	for _, j := range []struct{ tok, nick string }{{ta, "ann"}, {tb, "ben"}} {
		if r := e.Do(t, "PUT", api+"/groupchat/room/"+room+"?nick="+j.nick, j.tok, "", ""); r.Status != 200 {
			t.Fatalf("join: %d %s", r.Status, r.Body)
		}
	}
	return ta, tb, room + "@" + ejabberdtest.Shared(t).MUCService()
}
