package gateway_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
)

// TestIntegrationRoomPrivateMessage: a private message between two
// occupants of a room (XEP-0045 section 7.5) is a conversation with
// room/nick, from end to end. ben writes to room/ann; ann's stream gets it
// from room/ben and counts it unread under room/ben (not under the room,
// where no read could clear it, and not dropped, as it was); ben's typing
// there is a private chat state (room false), the room's typing is not;
// ann's read sends ben a displayed marker and clears the count; ann's
// answer reaches ben from room/ann; and ann's archive gives the two as one
// conversation with room/ben.
func TestIntegrationRoomPrivateMessage(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	ta, tb, roomJID := annAndBenInRoom(t, e, "pm")
	ann, ben := roomJID+"/ann", roomJID+"/ben"
	sa, sb := e.OpenConnected(t, ta, ""), e.OpenConnected(t, tb, "")
	post := func(tok, path, body string) gateway.SentMessage {
		t.Helper()
		r := e.Do(t, "POST", api+path, tok, "text/plain", body)
		if r.Status != 200 {
			t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
		}
		var m gateway.SentMessage
		if body != "" {
			r.JSON(t, &m)
		}
		return m
	}

	psst := post(tb, "/chat/message/"+url.PathEscape(ann), "psst")
	deadline := time.Now().Add(10 * time.Second)
	var got chatapi.Chat
	for got.Body != "psst" {
		sa.NextNamed(t, chatapi.EventChat, time.Until(deadline), &got)
	}
	if got.From != ben || got.Type != chatapi.TypeChat {
		t.Fatalf("ann got %+v, want a chat from %s", got, ben)
	}
	for {
		var u chatapi.Unread
		sa.NextNamed(t, chatapi.EventUnread, time.Until(deadline), &u)
		if u.JID == roomJID && !u.Room {
			t.Fatalf("the private message was counted under the room: %+v", u)
		}
		if u.JID == ben {
			if u.Room || u.Count != 1 {
				t.Fatalf("unread %+v, want 1 for %s, not a room", u, ben)
			}
			break
		}
	}
	var counts []gateway.UnreadCount
	e.Do(t, "GET", api+"/chat/unread", ta, "", "").JSON(t, &counts)
	if len(counts) != 1 || counts[0].Jid != ben || counts[0].Count != 1 {
		t.Fatalf("GET /chat/unread: %+v, want one count of 1 for %s", counts, ben)
	}

	// ben types to ann privately, then in the room: only the second is
	// the room's.
	post(tb, "/chat/chatstate/composing/"+url.PathEscape(ann), "")
	post(tb, "/chat/chatstate/paused/"+url.PathEscape(roomJID), "")
	var private, inRoom bool
	for !(private && inRoom) {
		var cs chatapi.ChatState
		ev := sa.NextNamed(t, chatapi.EventChat, time.Until(deadline), &cs)
		if cs.Type != chatapi.TypeChatState || cs.From != ben {
			continue
		}
		switch cs.State {
		case chatapi.StateComposing:
			if cs.Room {
				t.Fatalf("a private chat state came as the room's: %s", ev.Data)
			}
			private = true
		case chatapi.StatePaused:
			if !cs.Room {
				t.Fatalf("the room's chat state came as private: %s", ev.Data)
			}
			inRoom = true
		}
	}

	// ann reads it: ben gets the marker from room/ann, ann's count clears.
	post(ta, "/chat/displayed/"+url.PathEscape(ben)+"?id="+psst.Id, "")
	for {
		var rc chatapi.Receipt
		sb.NextNamed(t, chatapi.EventReceipt, time.Until(deadline), &rc)
		if rc.Type == chatapi.TypeDisplayed && rc.ID == psst.Id {
			if rc.From != ann {
				t.Fatalf("marker from %q, want %s", rc.From, ann)
			}
			break
		}
	}
	for {
		var u chatapi.Unread
		sa.NextNamed(t, chatapi.EventUnread, time.Until(deadline), &u)
		if u.JID == ben && u.Count == 0 && u.LastRead == psst.Id {
			break
		}
	}

	post(ta, "/chat/message/"+url.PathEscape(ben), "hi back")
	for got = (chatapi.Chat{}); got.Body != "hi back"; {
		sb.NextNamed(t, chatapi.EventChat, time.Until(deadline), &got)
	}
	if got.From != ann {
		t.Fatalf("ben got the answer from %q, want %s", got.From, ann)
	}

	// The archive: one conversation with room/ben, both messages in it.
	for {
		var page gateway.Conversations
		e.Do(t, "GET", api+"/chat/messages?to="+url.QueryEscape(ben), ta, "", "").JSON(t, &page)
		var bodies []string
		var peers []string
		for _, cv := range page.Conversations {
			peers = append(peers, strings.Join(*cv.ConversationParticipants, " "))
			for _, m := range *cv.Messages {
				bodies = append(bodies, *m.Body)
			}
		}
		if strings.Join(bodies, "|") == "psst|hi back" {
			if len(peers) != 1 || !strings.HasSuffix(peers[0], " "+ben) {
				t.Fatalf("archive conversations %q, want one with %s", peers, ben)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("archive with %s: %q", ben, bodies)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
