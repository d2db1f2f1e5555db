package xmppconn

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestMeaning: a stanza error with the condition a verb gives a meaning
// becomes that meaning's sentinel and still matches its condition; any
// other error is left as it is.
func TestMeaning(t *testing.T) {
	full := &StanzaError{Type: "wait", Condition: "service-unavailable"}
	tests := []struct {
		err       error
		sentinel  bool
		condition error
	}{
		{full, true, ErrServiceUnavailable},
		{fmt.Errorf("join: %w", full), true, ErrServiceUnavailable},
		{&StanzaError{Condition: "forbidden"}, false, ErrForbidden},
		{ErrOffline, false, nil},
		{nil, false, nil},
	}
	for _, tt := range tests {
		got := meaning(tt.err, "service-unavailable", ErrRoomFull)
		if errors.Is(got, ErrRoomFull) != tt.sentinel {
			t.Errorf("meaning(%v) = %v; matches ErrRoomFull %v, want %v", tt.err, got, !tt.sentinel, tt.sentinel)
		}
		if tt.condition != nil && !errors.Is(got, tt.condition) {
			t.Errorf("meaning(%v) = %v lost the condition", tt.err, got)
		}
		if !tt.sentinel && got != tt.err {
			t.Errorf("meaning(%v) = %v, want it unchanged", tt.err, got)
		}
	}
}

// TestIntegrationVerbErrors: the verbs that give a stanza error a meaning
// of their own say so, against ejabberd's real answers. (ErrRoomFull and
// ErrUnknownArchiveID are left to TestMeaning: the private server's rooms
// take 1000 occupants, and ejabberd 23.01 answers a page after an unknown
// archive id with results instead of item-not-found.)
func TestIntegrationVerbErrors(t *testing.T) {
	p := newPair(t, newEvents(), nil)
	ctx, sa, sb := p.ctx, p.sa, p.sb
	srv := ejabberdtest.Shared(t)

	t.Run("nickname in use", func(t *testing.T) {
		room := "nick-" + strings.ToLower(p.a.Name) + "@" + srv.MUCService()
		if _, err := sa.EnterRoom(ctx, room, "same", "", nil); err != nil {
			t.Fatal(err)
		}
		_, err := sb.EnterRoom(ctx, room, "same", "", nil)
		if !errors.Is(err, ErrNicknameInUse) || !errors.Is(err, ErrConflict) {
			t.Fatalf("EnterRoom with a taken nickname: %v, want ErrNicknameInUse and conflict", err)
		}
	})
	t.Run("file not accepted", func(t *testing.T) {
		// The private server takes files of up to 100 MiB.
		_, err := sa.RequestUploadSlot(ctx, srv.UploadService(), "big.bin", 200<<20, "application/octet-stream")
		if !errors.Is(err, ErrFileNotAccepted) {
			t.Fatalf("RequestUploadSlot of 200 MiB: %v, want ErrFileNotAccepted", err)
		}
	})
}
