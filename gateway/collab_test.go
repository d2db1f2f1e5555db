package gateway_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// dialAs opens a plain XMPP connection as u, for setting things up behind
// the gateway's back; it is closed at the end of the test.
func dialAs(t *testing.T, u ejabberdtest.User) *xmppconn.Conn {
	t.Helper()
	srv := ejabberdtest.Shared(t)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	local, _, _ := strings.Cut(u.JID, "@")
	conn, err := xmppconn.Dial(ctx, xmppconn.Config{Addr: srv.C2SAddr(), Domain: srv.Domain(), User: local, Password: u.Password, TLS: xmppconn.TLSOff})
	if err != nil {
		t.Fatalf("dial as %s: %v", u.JID, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(ctx)
	})
	return conn
}

// rawIQ sends payload (one element) in an IQ of type typ to to and returns
// the reply.
func rawIQ(t *testing.T, conn *xmppconn.Conn, typ, to, payload string) xmppconn.Stanza {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	reply, err := conn.RawIQ(ctx, typ, to, []byte(payload))
	if err != nil {
		t.Fatalf("iq %s to %q %s: %v", typ, to, payload, err)
	}
	return reply
}

// jwtClaims checks an HS256 JWT against secret and returns its header and
// claims.
func jwtClaims(t *testing.T, tok string, secret []byte) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		t.Fatalf("JWT signature does not verify with the secret")
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

func TestIntegrationCollabMeetings(t *testing.T) {
	secret := []byte("jitsi-test-secret")
	signed := newGateway(t, func(c *gateway.Config) {
		c.Collab.Meetings = gateway.MeetingsConfig{
			JitsiURL: "https://meet.example.org/", JitsiAppID: "sparkgate-test", JitsiSecret: secret,
			GaleneURL: "https://galene.example.org:8443", GaleneSecret: []byte("galene-secret"), GaleneKeyID: "k1",
			TokenTTL: 10 * time.Minute,
		}
	})
	plain := newGateway(t, func(c *gateway.Config) {
		c.Collab.Meetings = gateway.MeetingsConfig{JitsiURL: "https://meet.example.org", GaleneURL: "https://galene.example.org"}
	})
	none := newGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	// The token names the user as their vCard does.
	conn := dialAs(t, u)
	rawIQ(t, conn, "set", "", `<vCard xmlns='vcard-temp'><FN>Alice Example</FN><EMAIL><INTERNET/><USERID>alice@mail.example</USERID></EMAIL></vCard>`)

	tests := []struct {
		name   string
		env    *env
		path   string
		status int
		url    string // the URL without its token query
		token  string // "jwt", "token" or ""
	}{
		{"jitsi-jwt", signed, "/meet/jitsi/Standup", 200, "https://meet.example.org/Standup", "jwt"},
		{"jitsi-plain", plain, "/meet/jitsi/standup", 200, "https://meet.example.org/standup", ""},
		{"galene-token", signed, "/meet/galene/standup", 200, "https://galene.example.org:8443/group/standup/", "token"},
		{"galene-plain", plain, "/meet/galene/standup", 200, "https://galene.example.org/group/standup/", ""},
		{"unknown-service", signed, "/meet/zoom/standup", 400, "", ""},
		{"bad-id", signed, "/meet/jitsi/a%3Fb", 400, "", ""},
		{"not-configured", none, "/meet/jitsi/standup", 501, "", ""},
		{"no-token", signed, "/meet/jitsi/standup", 401, "", ""},
	}
	tokens := map[*env]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := ""
			if tt.status != 401 {
				if tokens[tt.env] == "" {
					tokens[tt.env] = tt.env.Login(t, u.Name, u.Password)
				}
				tok = tokens[tt.env]
			}
			r := tt.env.Do(t, "GET", api+tt.path, tok, "", "")
			if r.Status != tt.status {
				t.Fatalf("GET %s = %d %s, want %d", tt.path, r.Status, r.Body, tt.status)
			}
			if tt.status != 200 {
				if e := r.Error(t); e.Status != tt.status {
					t.Fatalf("error body %+v", e)
				}
				return
			}
			var m gateway.OnlineMeetingEntity
			r.JSON(t, &m)
			got, err := url.Parse(m.Url)
			if err != nil {
				t.Fatal(err)
			}
			q := got.Query()
			got.RawQuery = ""
			if got.String() != tt.url {
				t.Fatalf("url %q, want %q", got, tt.url)
			}
			if tt.token == "" {
				if len(q) != 0 {
					t.Fatalf("unexpected query %v", q)
				}
				return
			}
			now := float64(time.Now().Unix())
			switch tt.token {
			case "jwt":
				_, c := jwtClaims(t, q.Get("jwt"), secret)
				exp, _ := c["exp"].(float64)
				if exp < now+9*60 || exp > now+11*60 {
					t.Errorf("exp %v not about 10 minutes from now", c["exp"])
				}
				delete(c, "exp")
				delete(c, "iat")
				delete(c, "nbf")
				want := map[string]any{
					"iss": "sparkgate-test", "aud": []any{"jitsi"}, "sub": "*", "room": "standup",
					"context": map[string]any{"user": map[string]any{"name": "Alice Example", "email": "alice@mail.example"}},
				}
				if d := cmp.Diff(want, c); d != "" {
					t.Fatalf("jitsi claims (-want +got):\n%s", d)
				}
			case "token":
				h, c := jwtClaims(t, q.Get("token"), []byte("galene-secret"))
				local, _, _ := strings.Cut(u.JID, "@")
				if h["kid"] != "k1" || c["sub"] != local || !cmp.Equal(c["aud"], []any{tt.url}) ||
					!cmp.Equal(c["permissions"], []any{"present"}) {
					t.Fatalf("galene header %v claims %v", h, c)
				}
			}
		})
	}
}
