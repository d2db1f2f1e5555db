package gateway

import "testing"

func TestPreviewed(t *testing.T) {
	full := NotificationEntity{Subject: ptr("bob in room"), Body: ptr("hey alice, the code is 1234"), Actions: replyActions()}
	for _, tt := range []struct {
		level, typ    string
		subject, body string
		noBody        bool
	}{
		{PreviewFull, pushChat, "bob in room", "hey alice, the code is 1234", false},
		{"", pushGroupChat, "bob in room", "hey alice, the code is 1234", false},
		{PreviewSender, pushGroupChat, "bob in room", "New message", false},
		{PreviewSender, pushInvitation, "bob in room", "New invitation", false},
		{PreviewSender, pushMessage, "bob in room", "New message", false},
		{PreviewNone, pushChat, "New message", "", true},
		{PreviewNone, pushInvitation, "New invitation", "", true},
	} {
		n := previewed(full, pushData{Type: tt.typ, From: "room@conference.x"}, tt.level)
		if deref(n.Subject) != tt.subject || deref(n.Body) != tt.body || (n.Body == nil) != tt.noBody || n.Actions != full.Actions {
			t.Errorf("%s %s: subject %q body %q (nil %v)", tt.level, tt.typ, deref(n.Subject), deref(n.Body), n.Body == nil)
		}
	}
	if deref(full.Body) != "hey alice, the code is 1234" {
		t.Error("previewed changed its argument")
	}
}

func TestCheckPushPreview(t *testing.T) {
	for v, ok := range map[string]bool{"": true, "full": true, "sender": true, "none": true, "Full": false, "all": false, " none": false} {
		if err := checkPushPreview(v); (err == nil) != ok {
			t.Errorf("checkPushPreview(%q) = %v", v, err)
		}
	}
}
