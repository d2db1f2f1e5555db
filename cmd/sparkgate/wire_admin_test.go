package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/store"
	"github.com/sparkgate/sparkgate/xmppadmin"
)

func TestNewDirectory(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(strings.Repeat("t", 40)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		want    xmppadmin.Directory
		wantErr string
	}{
		{name: "default is ejabberd", args: []string{"-xmpp-domain=example.org", "-admin-url=http://127.0.0.1:1/api"},
			want: &xmppadmin.Ejabberd{BaseURL: "http://127.0.0.1:1/api", Domain: "example.org"}},
		{name: "ejabberd", args: []string{"-admin-backend=ejabberd", "-openfire-secret=ignored"},
			want: &xmppadmin.Ejabberd{BaseURL: "http://127.0.0.1:5280/api", Domain: "localhost"}},
		{name: "openfire secret", args: []string{"-admin-backend=openfire", "-xmpp-domain=example.org", "-openfire-secret=s3cret"},
			want: &xmppadmin.Openfire{BaseURL: "http://127.0.0.1:9090/plugins/restapi/v1", Domain: "example.org", Secret: "s3cret"}},
		{name: "openfire secret file", args: []string{"-admin-backend=openfire", "-openfire-url=http://127.0.0.1:9091/rest", "-openfire-secret-file=" + secretFile},
			want: &xmppadmin.Openfire{BaseURL: "http://127.0.0.1:9091/rest", Domain: "localhost", Secret: "from-file"}},
		{name: "openfire without secret", args: []string{"-admin-backend=openfire"}, wantErr: "openfire-secret"},
		{name: "userservice", args: []string{"-admin-backend=userservice", "-xmpp-domain=example.org", "-userservice-secret-file=" + secretFile},
			want: &xmppadmin.UserService{BaseURL: "http://127.0.0.1:9090/plugins/userService", Domain: "example.org", Secret: "from-file"}},
		{name: "userservice legacy", args: []string{"-admin-backend=userservice", "-userservice-url=http://127.0.0.1:9091/us", "-userservice-secret=s3cret", "-userservice-legacy=true"},
			want: &xmppadmin.UserService{BaseURL: "http://127.0.0.1:9091/us", Domain: "localhost", Secret: "s3cret", Legacy: true}},
		{name: "userservice without secret", args: []string{"-admin-backend=userservice"}, wantErr: "userservice-secret"},
		{name: "prosody", args: []string{"-admin-backend=prosody", "-xmpp-domain=example.org"},
			want: &xmppadmin.Prosodyctl{Config: "/etc/prosody/prosody.cfg.lua", DataDir: "/var/lib/prosody", Domain: "example.org"}},
		{name: "prosody elsewhere", args: []string{"-admin-backend=prosody", "-prosody-config=/srv/p/p.cfg.lua", "-prosody-data-dir=/srv/p/data"},
			want: &xmppadmin.Prosodyctl{Config: "/srv/p/p.cfg.lua", DataDir: "/srv/p/data", Domain: "localhost"}},
		{name: "prosody with token secret", args: []string{"-admin-backend=prosody", "-prosody-token-secret-file=" + tokenFile},
			want: &xmppadmin.Prosodyctl{Config: "/etc/prosody/prosody.cfg.lua", DataDir: "/var/lib/prosody", Domain: "localhost", TokenSecret: strings.Repeat("t", 40)}},
		{name: "prosody token secret too short", args: []string{"-admin-backend=prosody", "-prosody-token-secret-file=" + secretFile}, wantErr: "at least 32"},
		{name: "prosody token secret missing", args: []string{"-admin-backend=prosody", "-prosody-token-secret-file=/nonexistent/token"}, wantErr: "prosody-token-secret-file"},
		{name: "openfire both secrets", args: []string{"-admin-backend=openfire", "-openfire-secret=a", "-openfire-secret-file=" + secretFile}, wantErr: "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(tt.args, func(string) string { return "" }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			got, err := newDirectory(c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("newDirectory = %v, want an error about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("newDirectory (-want +got):\n%s", diff)
			}
		})
	}

	if _, err := loadConfig([]string{"-admin-backend=mongooseim"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("admin-backend mongooseim accepted")
	}
}

// TestWireUsersDeletesPasskeys runs the DELETE /user hooks wireUsers adds
// and checks the user's passkeys are gone.
func TestWireUsersDeletesPasskeys(t *testing.T) {
	ctx := t.Context()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, u := range []string{"a@x", "b@x"} {
		if _, err := st.WebAuthnHandle(ctx, u, []byte("h-"+u)); err != nil {
			t.Fatal(err)
		}
		c := auth.PasskeyCredential{User: u, ID: []byte("id-" + u), Name: "key", Data: []byte(`{}`), CreatedAt: time.Now()}
		if err := st.AddPasskeyCredential(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	c := &config{Users: usersSettings{PreviewPorts: "80"}}
	var gc gateway.Config
	if err := wireUsers(ctx, c, st, nil, &gc); err != nil {
		t.Fatal(err)
	}
	for _, fn := range gc.Users.OnDelete {
		if err := fn(ctx, "a@x"); err != nil {
			t.Errorf("OnDelete hook = %v", err)
		}
	}
	if got, err := st.PasskeyCredentials(ctx, "a@x"); err != nil || len(got) != 0 {
		t.Errorf("a@x keeps %d passkeys after deletion (%v)", len(got), err)
	}
	if got, err := st.PasskeyCredentials(ctx, "b@x"); err != nil || len(got) != 1 {
		t.Errorf("b@x has %d passkeys (%v), want 1", len(got), err)
	}
}
