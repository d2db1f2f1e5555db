package gateway_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationAwayWithoutTabs: a's session outlives her tabs, and her
// contact b (a plain client) must not see her available all that time.
// Once her last stream has been closed for AwayAfter (2 s here), b gets
// her presence as "xa" with the status she set; her next stream brings
// her back as she was (available, same status); with "do not disturb"
// set, closing her tabs changes nothing b sees.
func TestIntegrationAwayWithoutTabs(t *testing.T) {
	t.Parallel()
	e := newGateway(t, func(c *gateway.Config) { c.Sessions.AwayAfter = 2 * time.Second })
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	stream := e.OpenConnected(t, ta, "")
	bc := availableClient(t, srv, b)
	befriend(t, e, ta, stream, a, b, bc)

	// presenceOfA waits for b to get a's next presence and returns its show
	// and status.
	presenceOfA := func(what string) (show, status string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		defer cancel()
		for {
			st, err := bc.Next(ctx)
			if err != nil {
				t.Fatalf("%s: b got no presence of a: %v", what, err)
			}
			if st.Name == "presence" && st.Type == "" && strings.HasPrefix(st.From, a.JID+"/") && st.Presence != nil {
				return string(st.Presence.Show), st.Presence.Status
			}
		}
	}
	setPresence := func(query string) {
		t.Helper()
		if r := e.Do(t, "POST", api+"/presence?"+query, ta, "", ""); r.Status != 200 {
			t.Fatalf("POST /presence?%s: %d %s", query, r.Status, r.Body)
		}
	}

	setPresence("status=at+my+desk")
	if show, status := presenceOfA("status set"); show != "" || status != "at my desk" {
		t.Fatalf("a's presence %q %q, want available, at my desk", show, status)
	}
	closed := time.Now()
	stream.Close()
	if show, status := presenceOfA("tabs closed"); show != "xa" || status != "at my desk" {
		t.Fatalf("a's presence with no tab %q %q, want xa, at my desk", show, status)
	} else if d := time.Since(closed); d < 2*time.Second {
		t.Errorf("a shown away %s after her last tab closed, before AwayAfter", d)
	}

	stream = e.OpenConnected(t, ta, "")
	if show, status := presenceOfA("a tab again"); show != "" || status != "at my desk" {
		t.Fatalf("a's presence back %q %q, want available, at my desk", show, status)
	}

	// Do not disturb stays do not disturb.
	setPresence("show=dnd&status=busy")
	if show, _ := presenceOfA("dnd set"); show != "dnd" {
		t.Fatalf("a's presence %q, want dnd", show)
	}
	stream.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for {
		st, err := bc.Next(ctx)
		if err != nil {
			break // nothing more within 5 s: as wanted
		}
		if st.Name == "presence" && strings.HasPrefix(st.From, a.JID+"/") {
			t.Fatalf("a's presence changed with dnd set and no tab: %+v", st.Presence)
		}
	}
}
