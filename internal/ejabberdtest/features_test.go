package ejabberdtest_test

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberd"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// These tests check that the generated configuration gives the gateway what
// it relies on, through the same raw client streams as the harness tests.

var slotURL = regexp.MustCompile(`<(put|get) url='([^']+)'`)

func TestIntegrationHTTPUpload(t *testing.T) {
	s := ejabberdtest.Shared(t)
	u := ejabberdtest.NewUser(t)
	c := dial(t, s)
	if got := c.login(s.Domain(), "PLAIN", u.Name, u.Password); !strings.Contains(got, "<success") {
		t.Fatalf("login: %s", got)
	}
	const content = "hello upload"
	urls := uploadSlot(t, c, s, "hello.txt", "text/plain", len(content))

	// A browser page on another origin first asks, then PUTs.
	pre, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, urls["put"], nil)
	pre.Header.Set("Origin", "http://localhost:8080")
	pre.Header.Set("Access-Control-Request-Method", "PUT")
	pre.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := http.DefaultClient.Do(pre)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PUT") ||
		resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("preflight: %s, headers %v", resp.Status, resp.Header)
	}

	put, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, urls["put"], strings.NewReader(content))
	put.Header.Set("Content-Type", "text/plain")
	put.Header.Set("Origin", "http://localhost:8080")
	resp, err = http.DefaultClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("PUT: %s, headers %v", resp.Status, resp.Header)
	}
	resp, err = http.Get(urls["get"])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != content {
		t.Errorf("GET: %s %q, want 200 %q", resp.Status, body, content)
	}
}

// uploadSlot asks the upload service for a slot (XEP-0363) and returns its
// put and get URLs, checking that both are on the upload listener.
func uploadSlot(t *testing.T, c *stream, s *ejabberd.Server, name, contentType string, size int) map[string]string {
	t.Helper()
	c.send("<iq type='get' id='slot-%s' to='%s'><request xmlns='urn:xmpp:http:upload:0' "+
		"filename='%s' size='%d' content-type='%s'/></iq>", name, s.UploadService(), name, size, contentType)
	answer := c.until("</iq>")
	urls := map[string]string{}
	for _, m := range slotURL.FindAllStringSubmatch(answer, -1) {
		urls[m[1]] = strings.ReplaceAll(m[2], "&amp;", "&")
	}
	if urls["put"] == "" || urls["get"] == "" {
		t.Fatalf("no upload slot: %s", answer)
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, s.UploadOrigin()+"/upload/") {
			t.Errorf("slot URL %s is not on the upload listener %s", u, s.UploadOrigin())
		}
	}
	return urls
}

// TestIntegrationUploadListener: uploads and the credential-less admin
// API have listeners of their own, so a file anyone uploaded (an SVG or
// an HTML page with script) is never same-origin with the admin API, and
// uploads are served sandboxed, never sniffed.
func TestIntegrationUploadListener(t *testing.T) {
	s := ejabberdtest.Shared(t)
	u := ejabberdtest.NewUser(t)
	post := func(t *testing.T, url string) *http.Response {
		t.Helper()
		resp, err := http.Post(url, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	t.Run("admin-api-not-on-upload-port", func(t *testing.T) {
		if resp := post(t, s.UploadOrigin()+"/api/status"); resp.StatusCode == http.StatusOK {
			t.Errorf("POST %s/api/status = %s: the admin API answers on the upload port", s.UploadOrigin(), resp.Status)
		}
		if resp := post(t, s.AdminURL()+"/status"); resp.StatusCode != http.StatusOK {
			t.Errorf("POST %s/status = %s: the admin API does not answer on its own port", s.AdminURL(), resp.Status)
		}
		if s.AdminURL() == s.UploadOrigin()+"/api" {
			t.Errorf("admin API and uploads share %s", s.UploadOrigin())
		}
	})
	files := []struct{ name, contentType, content string }{
		{"pic.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>`},
		{"page.html", "text/html", `<script>fetch("/api/status", {method: "POST", body: "{}"})</script>`},
		{"notes.txt", "text/plain", "plain text"},
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			c := dial(t, s)
			if got := c.login(s.Domain(), "PLAIN", u.Name, u.Password); !strings.Contains(got, "<success") {
				t.Fatalf("login: %s", got)
			}
			urls := uploadSlot(t, c, s, f.name, f.contentType, len(f.content))
			put, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, urls["put"], strings.NewReader(f.content))
			put.Header.Set("Content-Type", f.contentType)
			resp, err := http.DefaultClient.Do(put)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("PUT: %s", resp.Status)
			}
			resp, err = http.Get(urls["get"])
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(body) != f.content {
				t.Fatalf("GET: %s %q", resp.Status, body)
			}
			h := resp.Header
			if h.Get("Content-Security-Policy") != "sandbox" || h.Get("X-Content-Type-Options") != "nosniff" ||
				len(h.Values("Content-Disposition")) != 1 || h.Get("Content-Disposition") != "attachment" {
				t.Errorf("GET %s: Content-Security-Policy %q, X-Content-Type-Options %q, Content-Disposition %q; want sandbox, nosniff, attachment",
					f.name, h.Get("Content-Security-Policy"), h.Get("X-Content-Type-Options"), h.Values("Content-Disposition"))
			}
		})
	}
}

func TestIntegrationMUCArchive(t *testing.T) {
	s := ejabberdtest.Shared(t)
	u := ejabberdtest.NewUser(t)
	c := dial(t, s)
	if got := c.login(s.Domain(), "PLAIN", u.Name, u.Password); !strings.Contains(got, "<success") {
		t.Fatalf("login: %s", got)
	}
	room := "room-" + u.Name + "@" + s.MUCService()
	c.send("<presence to='%s/owner'><x xmlns='http://jabber.org/protocol/muc'/></presence>", room)
	c.until("status code='110'") // our own presence in the room; the room may send its caps first
	c.until("</presence>")
	// Accept the default configuration (an instant room, XEP-0045 §10.1.2).
	c.send("<iq type='set' id='cfg' to='%s'><query xmlns='http://jabber.org/protocol/muc#owner'>"+
		"<x xmlns='jabber:x:data' type='submit'/></query></iq>", room)
	got := c.until("id='cfg'")
	if iq := got[strings.LastIndex(got, "<iq"):]; !strings.Contains(iq, "type='result'") {
		t.Fatalf("instant room: %s", got)
	}
	c.send("<message to='%s' type='groupchat' id='g1'><body>archived in the room</body></message>", room)
	c.until("archived in the room")
	c.send("<iq type='set' id='mam' to='%s'><query xmlns='urn:xmpp:mam:2'/></iq>", room)
	got = c.until("<fin")
	if !strings.Contains(got, "archived in the room") {
		t.Errorf("room archive lacks the message: %s", got)
	}
}

func TestIntegrationBookmarksNodeConfig(t *testing.T) {
	s := ejabberdtest.Shared(t)
	u := ejabberdtest.NewUser(t)
	c := dial(t, s)
	if got := c.login(s.Domain(), "PLAIN", u.Name, u.Password); !strings.Contains(got, "<success") {
		t.Fatalf("login: %s", got)
	}
	// XEP-0402 publish with the publish-options 23.01 understands.
	c.send("<iq type='set' id='pub'><pubsub xmlns='http://jabber.org/protocol/pubsub'>" +
		"<publish node='urn:xmpp:bookmarks:1'><item id='room@conference.example'>" +
		"<conference xmlns='urn:xmpp:bookmarks:1' name='Room' autojoin='true'/></item></publish>" +
		"<publish-options><x xmlns='jabber:x:data' type='submit'>" +
		"<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>" +
		"<field var='pubsub#persist_items'><value>true</value></field>" +
		"<field var='pubsub#access_model'><value>whitelist</value></field>" +
		"</x></publish-options></pubsub></iq>")
	if got := c.until("</iq>"); !strings.Contains(got, "type='result'") {
		t.Fatalf("publish: %s", got)
	}
	c.send("<iq type='get' id='conf'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>" +
		"<configure node='urn:xmpp:bookmarks:1'/></pubsub></iq>")
	got := c.until("</iq>")
	for _, want := range []string{
		`var='pubsub#max_items'`, `<value>1000</value>`,
		`var='pubsub#access_model'`, `<value>whitelist</value>`,
		`var='pubsub#send_last_published_item'`, `<value>never</value>`,
	} {
		if !strings.Contains(strings.ReplaceAll(got, `"`, `'`), want) {
			t.Errorf("node configuration lacks %s:\n%s", want, got)
		}
	}
}

// TestIntegrationNoShaper sends 256 KiB of chat from one client to another.
// Debian's stock c2s shaper (3,000 bytes/s) would need well over a minute;
// the stream deadline of dial is 10 s.
func TestIntegrationNoShaper(t *testing.T) {
	s := ejabberdtest.Shared(t)
	alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	a, b := dial(t, s), dial(t, s)
	for _, l := range []struct {
		c *stream
		u ejabberdtest.User
	}{{a, alice}, {b, bob}} {
		if got := l.c.login(s.Domain(), "PLAIN", l.u.Name, l.u.Password); !strings.Contains(got, "<success") {
			t.Fatalf("login: %s", got)
		}
	}
	b.send("<presence/>")
	b.until("<presence") // the server reflects it (RFC 6121 §4.2.2)
	const n = 256
	body := strings.Repeat("x", 1000)
	began := time.Now()
	for i := range n {
		a.send("<message to='%s' type='chat' id='m%d'><body>%s</body></message>", bob.JID, i, body)
	}
	b.until(fmt.Sprintf("id='m%d'", n-1))
	elapsed := time.Since(began)
	t.Logf("%d messages of 1 KB from client to client in %v (%.0f KB/s)", n, elapsed.Round(time.Millisecond),
		float64(n)/elapsed.Seconds())
}

// TestIntegrationInBandAccountsClosed: the project's ejabberd takes no
// account creation, removal or password change in band (XEP-0077) from
// any client, so accounts change only through the gateway, which forgets
// a removed account's state (README, operating ejabberd).
func TestIntegrationInBandAccountsClosed(t *testing.T) {
	s := ejabberdtest.Shared(t)
	u := ejabberdtest.NewUser(t)
	c := dial(t, s)
	if got := c.login(s.Domain(), "PLAIN", u.Name, u.Password); !strings.Contains(got, "<success") {
		t.Fatalf("login: %s", got)
	}
	for _, tt := range []struct{ name, query string }{
		{"password change", fmt.Sprintf("<username>%s</username><password>changed-in-band</password>", u.Name)},
		{"removal", "<remove/>"},
	} {
		id := "ibr-" + tt.name[:3]
		c.send("<iq type='set' id='%s'><query xmlns='jabber:iq:register'>%s</query></iq>", id, tt.query)
		if tag := c.iqTag(id); !strings.Contains(tag, "type='error'") {
			t.Errorf("%s in band: %s, want an error", tt.name, tag)
		}
	}
	// The account and its password are as they were.
	c2 := dial(t, s)
	if got := c2.login(s.Domain(), "PLAIN", u.Name, u.Password); !strings.Contains(got, "<success") {
		t.Fatalf("login after the in-band attempts: %s", got)
	}
	// A new account in band, without logging in, is refused too.
	c3 := dial(t, s)
	c3.open(s.Domain())
	c3.send("<iq type='set' id='reg'><query xmlns='jabber:iq:register'><username>ibr%s</username><password>x-password-1</password></query></iq>", u.Name)
	// ejabberd ends the stream (not-authorized) or answers an error; a
	// success would time out here.
	c3.until("error")
}

// iqTag reads up to the end of the start tag of the iq with id and
// returns that tag (ejabberd writes attributes in single quotes).
func (c *stream) iqTag(id string) string {
	c.t.Helper()
	before := c.until("id='" + id + "'")
	rest := c.until(">")
	return before[strings.LastIndex(before, "<iq"):] + rest
}
