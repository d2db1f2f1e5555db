package gateway_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// nextSubject reads s until a chatapi.muc event sets the room subject
// to want ("" clears it) and returns the event.
func nextSubject(t *testing.T, s *gatewaytest.Stream, want string) chatapi.GroupChat {
	t.Helper()
	for {
		var m chatapi.GroupChat // fresh each time: a field absent keeps its value
		s.NextNamed(t, chatapi.EventMUC, 10*time.Second, &m)
		if m.Subject != nil && *m.Subject == want {
			return m
		}
	}
}

// TestIntegrationRoomsSubjectCleared: a plain XMPP client that clears the
// subject (an empty <subject/>, XEP-0045 section 8.1) is seen live: the
// gateway user's stream gets a chatapi.muc with "subject": "", and the
// room's information no longer shows the old subject.
func TestIntegrationRoomsSubjectCleared(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	room := "subj" + strings.ToLower(a.Name[1:9])
	roomJID := room + "@" + srv.MUCService()
	rp := api + "/groupchat/room/" + room
	sa, _ := e.Open(t, ta, "")
	if r := e.Do(t, "PUT", rp+"?nick=alice", ta, "", ""); r.Status != 200 {
		t.Fatalf("join: %d %s", r.Status, r.Body)
	}
	plain := dialAs(t, b)
	plainJoin(t, plain, roomJID, "bob")
	setSubject := func(xml string) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := plain.SendRaw(ctx, []byte("<message type='groupchat' to='"+roomJID+"'>"+xml+"</message>")); err != nil {
			t.Fatal(err)
		}
	}
	setSubject("<subject>weekly sync</subject>")
	if m := nextSubject(t, sa, "weekly sync"); m.From != roomJID+"/bob" || m.Body != "" {
		t.Fatalf("subject event %+v", m)
	}
	setSubject("<subject/>")
	if m := nextSubject(t, sa, ""); m.From != roomJID+"/bob" || m.Body != "" {
		t.Fatalf("clearing event %+v", m)
	}
	if r := e.Do(t, "GET", rp, ta, "", ""); r.Status != 200 || strings.Contains(string(r.Body), "weekly sync") {
		t.Fatalf("room after clearing: %d %s", r.Status, r.Body)
	}
}
