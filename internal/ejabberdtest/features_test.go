package ejabberdtest_test

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

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
	c.send("<iq type='get' id='slot' to='%s'><request xmlns='urn:xmpp:http:upload:0' "+
		"filename='hello.txt' size='%d' content-type='text/plain'/></iq>", s.UploadService(), len(content))
	answer := c.until("</iq>")
	urls := map[string]string{}
	for _, m := range slotURL.FindAllStringSubmatch(answer, -1) {
		urls[m[1]] = strings.ReplaceAll(m[2], "&amp;", "&")
	}
	if urls["put"] == "" || urls["get"] == "" {
		t.Fatalf("no upload slot: %s", answer)
	}
	if !strings.HasPrefix(urls["put"], s.HTTPURL()+"/upload/") {
		t.Errorf("put URL %s is not on the HTTP listener %s", urls["put"], s.HTTPURL())
	}

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
