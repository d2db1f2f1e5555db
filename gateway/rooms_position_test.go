package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
)

// TestIntegrationRoomsPositionSurvivesCrash: the read position in a
// joined room is stored while the session lives, not only when it ends:
// after a gateway dies without ending its sessions (its store closed
// first, so nothing is written on the way down), the session that opens
// again catches up after what the user had, and repeats none of it.
func TestIntegrationRoomsPositionSurvivesCrash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, a, s1, plain, roomJID := roomWithPlain(t, dir, "pos")
	var last string // read2's archive id
	for _, body := range []string{"read1", "read2"} {
		plainSay(t, plain, roomJID, body)
		var m chatapi.GroupChat
		for m.Body != body {
			s1.NextNamed(t, chatapi.EventMUC, 10*time.Second, &m)
		}
		last = m.StanzaID
	}
	if last == "" {
		t.Fatal("read2 came without the room's archive id")
	}
	// The position of read2 reaches the store within a second or so
	// (read1's may come first: positions are written at most once a
	// second, roompositions.go).
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, err := first.Store.Joined(t.Context(), a.JID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 && list[0].LastID == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no read position stored while the session lives: %+v", list)
		}
		time.Sleep(100 * time.Millisecond)
	}
	first.Crash()
	plainSay(t, plain, roomJID, "away")

	second := startEnv(t, gatewayenv.Options{Plain: true, Dir: dir})
	ta2 := second.Login(t, a.Name, a.Password)
	s2, _ := second.Open(t, ta2, "")
	s2.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	plainUntil(t, plain, "from='"+roomJID+"/alice'") // alice is back in the room
	plainSay(t, plain, roomJID, "after")
	got := s2.RoomBodiesUntil(t, "after", 15*time.Second)
	if strings.Join(got, ",") != "away,after" {
		t.Fatalf("room messages after the crash %v, want away,after (read1 and read2 were read before it)", got)
	}
}
