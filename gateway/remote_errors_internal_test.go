package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/sparkgate/sparkgate/xmppadmin"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// TestRemoteErrorRoundTrip: a verb's error that crossed from the owner
// node gives the same status and code as on the owner, and matches the
// same sentinels and stanza or stream error.
func TestRemoteErrorRoundTrip(t *testing.T) {
	stanza := &xmppconn.StanzaError{Type: "cancel", Condition: "item-not-found", Text: "no such room"}
	cases := []struct {
		err  error
		also []error // errors.Is must hold after the trip
	}{
		{stanza, []error{xmppconn.ErrItemNotFound}},
		{fmt.Errorf("enter: %w", &xmppconn.StanzaError{Type: "cancel", Condition: "conflict"}), []error{xmppconn.ErrConflict}},
		{fmt.Errorf("%w: %w", xmppconn.ErrNicknameInUse, &xmppconn.StanzaError{Condition: "conflict"}), []error{xmppconn.ErrNicknameInUse, xmppconn.ErrConflict}},
		{fmt.Errorf("%w: %w", xmppconn.ErrRoomFull, &xmppconn.StanzaError{Condition: "service-unavailable"}), []error{xmppconn.ErrRoomFull}},
		{fmt.Errorf("iq: %w", context.DeadlineExceeded), []error{context.DeadlineExceeded}},
		{fmt.Errorf("%w: reconnecting", xmppconn.ErrOffline), []error{xmppconn.ErrOffline}},
		{fmt.Errorf("%w: reset", xmppconn.ErrNetwork), []error{xmppconn.ErrNetwork}},
		{fmt.Errorf("%w: the text is empty", xmppconn.ErrInvalidStanza), []error{xmppconn.ErrInvalidStanza}},
		{xmppconn.ErrUnknownArchiveID, nil},
		{fmt.Errorf("configure the new room: %w: muc#maxhistoryfetch", xmppconn.ErrRoomOptionUnsupported), []error{xmppconn.ErrRoomOptionUnsupported}},
		{xmppconn.ErrNoAvatar, nil},
		{&xmppconn.StreamError{Condition: "conflict"}, []error{&xmppconn.StreamError{}}},
		{ofGatewayService(fmt.Errorf("upload: %w", xmppconn.ErrRemoteServerNotFound)), []error{errGatewayService}},
		{fmt.Errorf("%w: admin", xmppadmin.ErrUnavailable), []error{xmppadmin.ErrUnavailable}},
		{errors.New("something else"), nil},
	}
	for i, c := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			b, err := json.Marshal(remoteReply{Err: encodeError(c.err)})
			if err != nil {
				t.Fatal(err)
			}
			got := decodeReply(b, nil)
			if got == nil || got.Error() != c.err.Error() {
				t.Fatalf("after the trip: %v, want the text %q", got, c.err)
			}
			want, have := classify(c.err), classify(got)
			if want.Status != have.Status || want.Code != have.Code || want.Message != have.Message {
				t.Errorf("%v: %d %s %q on the owner, %d %s %q after the trip", c.err, want.Status, want.Code, want.Message, have.Status, have.Code, have.Message)
			}
			for _, s := range c.also {
				if !errors.Is(got, s) {
					t.Errorf("%v: errors.Is(%v) false after the trip", c.err, s)
				}
			}
		})
	}
}

// TestRemoteFailureStatus: what a call to the owner that failed answers.
func TestRemoteFailureStatus(t *testing.T) {
	cases := []struct {
		err        error
		status     int
		retryAfter bool
	}{
		{fmt.Errorf("%w: no responders", ErrNodeUnreachable), 503, true},
		{errNotHere, 503, true},
		{errNotRemote, 503, true},
		{(&wireError{Text: "gone", Is: []string{"not-here"}}).err(), 503, true},
		{(&wireError{Text: "x", Is: []string{"a-name-from-a-newer-node"}}).err(), 500, false},
	}
	for i, c := range cases {
		e := classify(remoteStatus(c.err))
		if e.Status != c.status || (e.RetryAfter > 0) != c.retryAfter {
			t.Errorf("%d: %v: %d (Retry-After %v), want %d", i, c.err, e.Status, e.RetryAfter, c.status)
		}
	}
}

// TestDecodeArgs: arguments and results decode in order, a JSON null
// leaves a raw message nil, and a wrong count or type is an error.
func TestDecodeArgs(t *testing.T) {
	var to string
	var n int
	var data json.RawMessage = json.RawMessage(`{"x":1}`)
	if err := decodeArgs(json.RawMessage(`["b@x",3,null]`), &to, &n, &data); err != nil || to != "b@x" || n != 3 || data != nil {
		t.Fatalf("decode: %v %q %d %q", err, to, n, data)
	}
	for i, bad := range []string{`["b@x"]`, `["b@x",3,null,4]`, `[3,"b@x",null]`, `{}`, ``} {
		if err := decodeArgs(json.RawMessage(bad), &to, &n, &data); err == nil {
			t.Errorf("%d: %s decoded", i, bad)
		}
	}
}

// FuzzRemoteReply: another node's answer never panics its decoding,
// whatever it holds; an error answer always comes back as an error.
func FuzzRemoteReply(f *testing.F) {
	f.Add([]byte(`{"results":["id-1",3]}`))
	f.Add([]byte(`{"err":{"text":"x","is":["deadline","not-here"],"stanza":{"Type":"cancel","Condition":"item-not-found"}}}`))
	f.Add([]byte(`{"err":{"text":"x","stream":{"Condition":"conflict"}}}`))
	f.Add([]byte(`{"results":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var id string
		var n int
		err := decodeReply(b, []any{&id, &n})
		var rep remoteReply
		if json.Unmarshal(b, &rep) == nil && rep.Err != nil && err == nil {
			t.Fatalf("%s: an error answer decoded as results", b)
		}
		if err != nil {
			_ = classify(err) // every error gets a status
		}
	})
}
