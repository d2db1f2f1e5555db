package gateway

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/xmppconn"
)

func TestRoomFields(t *testing.T) {
	tests := []struct {
		name string
		in   *RoomOptions
		want map[string][]string
	}{
		{name: "nil", in: nil, want: map[string][]string{}},
		{name: "password-switches-protection-on", in: &RoomOptions{Password: ptr("s3")},
			want: map[string][]string{fieldSecret: {"s3"}, fieldPasswordOn: {"1"}}},
		{name: "empty-password-switches-it-off", in: &RoomOptions{Password: ptr("")},
			want: map[string][]string{fieldSecret: {""}, fieldPasswordOn: {"0"}}},
		{name: "typed", in: &RoomOptions{NaturalName: ptr("N"), Persistent: ptr(true), Moderated: ptr(false), MaxUsers: ptr(50), Whois: ptr(RoomOptionsWhois("anyone"))},
			want: map[string][]string{fieldRoomName: {"N"}, fieldPersistent: {"1"}, fieldModerated: {"0"}, fieldMaxUsers: {"50"}, fieldWhois: {"anyone"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, roomFields(tt.in)); diff != "" {
				t.Errorf("roomFields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreateOptionsPersistentByDefault(t *testing.T) {
	if got := createOptions(JoinRoomParams{}); cmp.Diff(map[string][]string{fieldPersistent: {"1"}}, got) != "" {
		t.Errorf("createOptions() = %v, want persistent only", got)
	}
	if got := createOptions(JoinRoomParams{Persistent: ptr(false)}); got[fieldPersistent][0] != "0" {
		t.Errorf("persistent=false gave %v", got)
	}
}

func TestRoomOptionsNeverThePassword(t *testing.T) {
	f := xmppconn.Form{Fields: map[string][]string{fieldSecret: {"s3"}, fieldPasswordOn: {"1"}, fieldRoomName: {}}}
	o := roomOptions(f)
	if o.Password != nil || o.PasswordProtected == nil || !*o.PasswordProtected || o.NaturalName == nil || *o.NaturalName != "" {
		t.Errorf("roomOptions = %+v", o)
	}
}
