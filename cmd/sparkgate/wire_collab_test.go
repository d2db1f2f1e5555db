package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
)

func TestWireCollab(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "jitsi.key")
	if err := os.WriteFile(file, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		set  collabSettings
		ok   bool
	}{
		{"file", collabSettings{JitsiAppID: "app", JitsiSecretFile: file, BookmarkAdmins: " alice , bob@example.org,"}, true},
		{"env", collabSettings{JitsiAppID: "app", JitsiSecret: "s3cret"}, true},
		{"both", collabSettings{JitsiAppID: "app", JitsiSecret: "x", JitsiSecretFile: file}, false},
		{"missing-file", collabSettings{JitsiAppID: "app", JitsiSecretFile: filepath.Join(dir, "nope")}, false},
		{"secret-without-app", collabSettings{JitsiSecret: "x"}, false},
		{"nothing", collabSettings{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gc gateway.Config
			err := wireCollab(t.Context(), &config{Collab: tt.set, PubSubService: "pubsub.example.org"}, nil, nil, &gc)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if err != nil {
				return
			}
			if gc.Collab.PubSubService != "pubsub.example.org" {
				t.Errorf("pubsub service %q", gc.Collab.PubSubService)
			}
			if tt.name == "file" {
				if string(gc.Collab.Meetings.JitsiSecret) != "s3cret" {
					t.Errorf("secret %q", gc.Collab.Meetings.JitsiSecret)
				}
				if len(gc.Collab.Admins) != 2 || gc.Collab.Admins[0] != "alice" || gc.Collab.Admins[1] != "bob@example.org" {
					t.Errorf("admins %q", gc.Collab.Admins)
				}
			}
		})
	}
}

// TestWireCollabMeetingNames: the meetings are named with the key kept in
// the data directory, so every node with the same keys names a meeting
// alike, and a restart keeps the names.
func TestWireCollabMeetingNames(t *testing.T) {
	dir := t.TempDir()
	keys, err := auth.LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	var gc gateway.Config
	if err := wireCollab(t.Context(), &config{}, nil, keys, &gc); err != nil {
		t.Fatal(err)
	}
	names := gc.Collab.Meetings.Names
	if names == nil {
		t.Fatal("no meeting names wired")
	}
	again, err := auth.LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names("room\x00team@conference.example.org"), again.MeetingName("room\x00team@conference.example.org"); got != want {
		t.Errorf("meeting name %q after a restart %q: want the same", got, want)
	}
}
