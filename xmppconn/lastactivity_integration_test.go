package xmppconn

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationLastActivity: a contact whose presence the user sees is
// seen now while signed in (0) and, once the contact's session ended, a
// few seconds ago, with no status (the session said goodbye with an
// unavailable presence); a stranger's is refused (subscription-required), as
// their presence is.
func TestIntegrationLastActivity(t *testing.T) {
	a, b, c := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	m := newTestManager(t, newEvents(), nil)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	ss := openSessions(ctx, t, m, a, b, c)
	sa, sb := ss[0], ss[1]
	requestAndApprove(t, ctx, sa, sb) // a sees b's presence

	var d time.Duration
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		d, _, err = sa.LastActivity(ctx, b.JID)
		if err == nil || time.Now().After(deadline) {
			break // forbidden until the approval is stored
		}
	}
	if err != nil || d != 0 {
		t.Fatalf("b, signed in: %v, %v; want 0", d, err)
	}

	m.End(ctx, b.JID, "test")
	start := time.Now()
	var status string
	for {
		d, status, err = sa.LastActivity(ctx, b.JID)
		if err != nil {
			t.Fatalf("b, signed out: %v", err)
		}
		if d > 0 || time.Since(start) > 5*time.Second {
			break // 0 for the second in which b left
		}
		time.Sleep(250 * time.Millisecond)
	}
	if d <= 0 || d > 30*time.Second {
		t.Errorf("b, signed out a moment ago: last seen %v ago", d)
	}
	// The session said goodbye (closeConn): the server kept no reason of
	// its own ("Stream reset by peer") as the status b left with.
	if status != "" {
		t.Errorf("b left with the status %q", status)
	}

	if _, _, err := sa.LastActivity(ctx, c.JID); !errors.Is(err, ErrSubscriptionRequired) {
		t.Errorf("c, a stranger: %v, want ErrSubscriptionRequired", err)
	}
}
