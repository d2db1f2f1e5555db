package gateway

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/unread"
)

// noUnread is an unread.Store that keeps nothing.
type noUnread struct{}

func (noUnread) AddUnreads(context.Context, []unread.Arrival) ([]unread.Count, error) {
	return nil, nil
}
func (noUnread) MarkRead(context.Context, string, string, bool, string) (unread.Count, bool, error) {
	return unread.Count{}, false, nil
}
func (noUnread) Unread(context.Context, string) ([]unread.Count, error) { return nil, nil }

// TestUnreadPushesBound: the checks waiting are bounded; past the bound a
// message is not pushed later, a flood says so once, a burst in one
// conversation is one check, and close stops them all (none runs after).
func TestUnreadPushesBound(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil))}
	tr, err := unread.New(unread.Config{Store: noUnread{}, Logger: s.log})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	s.msg.unread = tr
	u := &unreadPushes{after: time.Hour, pending: make(map[unreadKey]*laterPush)}
	s.push.later = u
	msg := func(from, body string) chatapi.Chat {
		return chatapi.Chat{Type: chatapi.TypeChat, From: from, To: "me@x", Body: body}
	}
	s.pushIfUnread("me@x", msg("a@x/phone", "one"))
	s.pushIfUnread("me@x", msg("a@x/phone", "two")) // the same conversation: the newest kept
	if len(u.pending) != 1 || *u.pending[unreadKey{user: "me@x", peer: "a@x"}].n.Body != "two" {
		t.Fatalf("a burst in one conversation: %d checks", len(u.pending))
	}
	s.pushIfUnread("me@x", chatapi.Chat{Type: chatapi.TypeChat, From: "a@x", Body: "mine", Sent: true})
	s.pushIfUnread("me@x", chatapi.Invitation{Type: "invitation", Room: "r@conf.x", From: "r@conf.x"})
	if len(u.pending) != 1 {
		t.Fatalf("a sent message or an invitation started a check: %d", len(u.pending))
	}
	for i := len(u.pending); i < maxUnreadPushes; i++ {
		s.pushIfUnread("me@x", msg(fmt.Sprintf("p%d@x", i), "hi"))
	}
	s.pushIfUnread("me@x", msg("late@x", "hi"))
	s.pushIfUnread("me@x", msg("later@x", "hi"))
	if len(u.pending) != maxUnreadPushes {
		t.Fatalf("%d checks waiting, want the bound %d", len(u.pending), maxUnreadPushes)
	}
	if n := strings.Count(logs.String(), "too many conversations"); n != 1 {
		t.Errorf("the bound was said %d times, want once:\n%s", n, logs.String())
	}
	u.close()
	if len(u.pending) != 0 {
		t.Errorf("%d checks left after close", len(u.pending))
	}
	s.pushIfUnread("me@x", msg("after@x", "hi"))
	if len(u.pending) != 0 {
		t.Error("a check started after close")
	}
}
