package xmppconn

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
)

// TestRoomExitOnlyWhenMade: a room's unavailable presence for the user's
// own occupant forgets the room while the session lives (a kick), but not
// when it answers the session's own goodbye as the session ends: that
// room is handed to OnRoomsSaved, for the next session to rejoin. (The
// goodbye's answers used to race the stream's close; when they won, a
// logout or a gateway restart forgot every room the user was in.)
func TestRoomExitOnlyWhenMade(t *testing.T) {
	const room = "r@conference.localhost"
	selfPresence := func(to, typ, codes string) string {
		if typ != "" {
			typ = " type='" + typ + "'"
		}
		return fmt.Sprintf("<presence from='%s/alice' to='%s'%s><x xmlns='http://jabber.org/protocol/muc#user'>"+
			"<item affiliation='none' role='participant'/>%s<status code='110'/></x></presence>", room, to, typ, codes)
	}
	tests := []struct {
		name     string
		kick     bool // the room kicks the user once joined
		wantExit bool
	}{
		{name: "goodbye", kick: false, wantExit: false},
		{name: "kicked", kick: true, wantExit: true},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			joined := make(chan struct{})
			fs := newFakeServer(t, fakeOpts{session: func(sc *serverConn) {
				sc.eachUntilClose(func(el element) {
					switch {
					case el.name.Local == "iq":
						sc.send(fmt.Sprintf("<iq type='result' id='%s' to='%s'/>", el.attrValue("id"), sc.jid))
					case el.name.Local == "presence" && el.attrValue("to") == room+"/alice":
						sc.send(selfPresence(sc.jid, "", ""))
						if test.kick {
							sc.send(selfPresence(sc.jid, "unavailable", "<status code='307'/>"))
						}
						close(joined)
					case el.name.Local == "presence" && el.attrValue("type") == "unavailable" && el.attrValue("to") == "":
						// As ejabberd does: every room answers the
						// goodbye with the user's exit, status 110.
						sc.send(selfPresence(sc.jid, "unavailable", ""))
					}
				})
			}})
			var mu sync.Mutex
			var exits []string
			var saved []SavedRoom
			savedDone := make(chan struct{})
			cfg := fs.config()
			cfg.User, cfg.Password = "", ""
			m, err := NewManager(ManagerConfig{
				Stream:      cfg,
				Issuer:      noIssuer{},
				Deliver:     func(string, chatapi.Payload) {},
				MUCServices: []string{"conference.localhost"},
				Rooms: func(context.Context, string) []SavedRoom {
					return []SavedRoom{{Room: room, Nick: "alice"}}
				},
				OnRoomExit: func(_, r string) {
					mu.Lock()
					exits = append(exits, r)
					mu.Unlock()
				},
				OnRoomsSaved: func(_ string, rs []SavedRoom) {
					mu.Lock()
					saved = rs
					mu.Unlock()
					close(savedDone)
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.Close() })
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			s, err := m.Open(ctx, "alice", Credentials{Password: "secret"})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-joined:
			case <-ctx.Done():
				t.Fatal("the session did not rejoin its room")
			}
			if test.kick {
				for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
					mu.Lock()
					n := len(exits)
					mu.Unlock()
					if n > 0 {
						break
					}
					if time.Now().After(deadline) {
						t.Fatal("a kick did not forget the room")
					}
				}
			}
			m.End(ctx, s.User(), chatapi.CloseLogout)
			select {
			case <-savedDone:
			case <-ctx.Done():
				t.Fatal("OnRoomsSaved not called as the session ended")
			}
			mu.Lock()
			defer mu.Unlock()
			inSaved := slices.ContainsFunc(saved, func(r SavedRoom) bool { return r.Room == room })
			if got := len(exits) > 0; got != test.wantExit {
				t.Errorf("OnRoomExit called: %v (%v), want %v", got, exits, test.wantExit)
			}
			if inSaved == test.wantExit {
				t.Errorf("room handed to OnRoomsSaved: %v (%+v), want %v", inSaved, saved, !test.wantExit)
			}
		})
	}
}

// noIssuer is a TokenIssuer for sessions that log in with a password only.
type noIssuer struct{}

func (noIssuer) IssueToken(context.Context, string, time.Duration) (string, error) {
	return "", fmt.Errorf("no tokens here")
}
