package gateway_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// testPNG is a small PNG image.
func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for x := range 16 {
		img.Set(x, x%12, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestIntegrationAvatar: the user sets an avatar through the API; the
// gateway serves the same bytes back, a contact on a plain XMPP client
// reads the same bytes from the user's PEP, and the contact's own avatar,
// published by the plain client, is served to the user. Wrong types,
// non-images and oversized images are refused; someone who is not a
// contact gets a 403 JSON error; a removed avatar is 404 and its image is
// gone from the user's PEP, and an avatar can be set again.
func TestIntegrationAvatar(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	srv := ejabberdtest.Shared(t)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta := e.Login(t, a.Name, a.Password)
	stream := e.OpenConnected(t, ta, "")

	if r := e.Do(t, "GET", api+"/avatar/"+a.JID, ta, "", ""); r.Status != 404 {
		t.Fatalf("no avatar yet: %d %s, want 404", r.Status, r.Body)
	}
	for _, c := range []struct {
		name, ctype, body string
		want              int
	}{
		{"text", "text/plain", "hello", 400},
		{"svg", "image/svg+xml", "<svg/>", 400},
		{"not-a-png", "image/png", "GIF89a not a png", 400},
		{"empty", "image/png", "", 400},
		{"too-big", "image/png", string(bytes.Repeat([]byte{'x'}, 128<<10+1)), 413},
	} {
		if r := e.Do(t, "PUT", api+"/avatar", ta, c.ctype, c.body); r.Status != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Body, c.want)
		}
	}

	img := testPNG(t)
	sum := sha1.Sum(img)
	id := hex.EncodeToString(sum[:])
	r := e.Do(t, "PUT", api+"/avatar", ta, "image/png", string(img))
	if r.Status != 200 {
		t.Fatalf("set: %d %s", r.Status, r.Body)
	}
	var set struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Size int    `json:"size"`
	}
	r.JSON(t, &set)
	if set.ID != id || set.Type != "image/png" || set.Size != len(img) {
		t.Fatalf("set answered %+v, want id %s, image/png, %d bytes", set, id, len(img))
	}
	r = e.Do(t, "GET", api+"/avatar/"+a.JID, ta, "", "")
	if r.Status != 200 || !bytes.Equal(r.Body, img) {
		t.Fatalf("own avatar: %d, %d bytes, want the %d set", r.Status, len(r.Body), len(img))
	}
	if ct, et, cc := r.Header.Get("Content-Type"), r.Header.Get("ETag"), r.Header.Get("Cache-Control"); ct != "image/png" || et != `"`+id+`"` || cc != "private" {
		t.Errorf("headers: Content-Type %q, ETag %q, Cache-Control %q", ct, et, cc)
	}

	// A contact on a plain client reads the same bytes from a's PEP.
	bc := availableClient(t, srv, b)
	befriend(t, e, ta, stream, a, b, bc)
	reply, err := bc.RawIQ(t.Context(), "get", a.JID, []byte(`<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:data'><item id='`+id+`'/></items></pubsub>`))
	if err != nil {
		t.Fatalf("b reads a's avatar: %v", err)
	}
	var got struct {
		Items []struct {
			ID   string `xml:"id,attr"`
			Data string `xml:"urn:xmpp:avatar:data data"`
		} `xml:"pubsub>items>item"`
	}
	if err := xml.Unmarshal(reply.Raw, &got); err != nil || len(got.Items) != 1 {
		t.Fatalf("b's answer %s: %v", reply.Raw, err)
	}
	if raw, err := base64.StdEncoding.DecodeString(got.Items[0].Data); err != nil || !bytes.Equal(raw, img) {
		t.Fatalf("b got %d bytes (%v), want the %d set", len(raw), err, len(img))
	}

	// b's own avatar, published by the plain client, reaches a as bytes.
	bimg := append(testPNG(t), 0) // trailing byte: another id, still a PNG
	bsum := sha1.Sum(bimg)
	bid := hex.EncodeToString(bsum[:])
	for node, item := range map[string]string{
		"urn:xmpp:avatar:data":     `<item id='` + bid + `'><data xmlns='urn:xmpp:avatar:data'>` + base64.StdEncoding.EncodeToString(bimg) + `</data></item>`,
		"urn:xmpp:avatar:metadata": `<item id='` + bid + `'><metadata xmlns='urn:xmpp:avatar:metadata'><info id='` + bid + `' bytes='1' type='image/png'/></metadata></item>`,
	} {
		if _, err := bc.RawIQ(t.Context(), "set", "", []byte(`<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='`+node+`'>`+item+`</publish></pubsub>`)); err != nil {
			t.Fatalf("b publishes %s: %v", node, err)
		}
	}
	r = e.Do(t, "GET", api+"/avatar/"+b.JID, ta, "", "")
	if r.Status != 200 || !bytes.Equal(r.Body, bimg) || r.Header.Get("ETag") != `"`+bid+`"` {
		t.Fatalf("b's avatar: %d, %d bytes, ETag %s; want %d bytes", r.Status, len(r.Body), r.Header.Get("ETag"), len(bimg))
	}

	// Someone who is not a's contact may not read a's avatar: a JSON
	// error, as the spec says.
	c := ejabberdtest.NewUser(t)
	tc := e.Login(t, c.Name, c.Password)
	r = e.Do(t, "GET", api+"/avatar/"+a.JID, tc, "", "")
	if r.Status != 403 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("a non-contact reads a's avatar: %d %s %s, want a 403 JSON error", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	var problem struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	}
	if r.JSON(t, &problem); problem.Status != 403 || problem.Code != "forbidden" {
		t.Fatalf("the 403's body %s", r.Body)
	}
	if r := e.Do(t, "GET", api+"/avatar/"+b.JID, tc, "", ""); r.Status != 403 {
		t.Fatalf("a non-contact reads b's avatar: %d %s, want 403", r.Status, r.Body)
	}

	if r := e.Do(t, "DELETE", api+"/avatar", ta, "", ""); r.Status != 200 {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", api+"/avatar/"+a.JID, ta, "", ""); r.Status != 404 {
		t.Fatalf("removed avatar: %d %s, want 404", r.Status, r.Body)
	}
	// The image itself is gone: the contact who knows its id cannot read it.
	if reply, err := bc.RawIQ(t.Context(), "get", a.JID, []byte(`<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:data'><item id='`+id+`'/></items></pubsub>`)); err == nil {
		got.Items = nil
		if xml.Unmarshal(reply.Raw, &got); len(got.Items) != 0 {
			t.Fatalf("the removed image is still readable: %s", reply.Raw)
		}
	} else if !errors.Is(err, xmppconn.ErrItemNotFound) {
		t.Fatalf("b reads the removed image: %v, want item-not-found", err)
	}
	// Removing twice is fine, and an avatar can be set again.
	if r := e.Do(t, "DELETE", api+"/avatar", ta, "", ""); r.Status != 200 {
		t.Fatalf("remove again: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "PUT", api+"/avatar", ta, "image/png", string(img)); r.Status != 200 {
		t.Fatalf("set after removing: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", api+"/avatar/"+a.JID, ta, "", ""); r.Status != 200 || !bytes.Equal(r.Body, img) {
		t.Fatalf("avatar set again: %d, %d bytes", r.Status, len(r.Body))
	}
}
