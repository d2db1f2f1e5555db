package gateway_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

func TestIntegrationCollabUpload(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	tok := e.Login(t, u.Name, u.Password)
	content := "hello, upload ✓\n" + strings.Repeat("x", 1000)

	tests := []struct {
		name   string
		path   string
		token  string
		status int
	}{
		{"slot", "/upload/" + url.PathEscape("notes é.txt") + "/" + strconv.Itoa(len(content)), tok, 200},
		{"too-large", "/upload/big.bin/104857601", tok, 413},
		{"zero-size", "/upload/a.txt/0", tok, 400},
		{"bad-size", "/upload/a.txt/ten", tok, 400},
		{"backslash", "/upload/a%5Cb.txt/10", tok, 400},
		{"control", "/upload/a%01b.txt/10", tok, 400},
		{"bad-content-type", "/upload/a.txt/10?contentType=text", tok, 400},
		{"no-token", "/upload/a.txt/10", "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Do(t, "GET", api+tt.path, tt.token, "", "")
			if r.Status != tt.status {
				t.Fatalf("GET %s = %d %s, want %d", tt.path, r.Status, r.Body, tt.status)
			}
			checkContract(t, "GET", api+tt.path, r)
			if tt.status != 200 {
				if eb := r.Error(t); eb.Status != tt.status {
					t.Fatalf("error body %+v", eb)
				}
				return
			}
			var slot gateway.UploadSlot
			r.JSON(t, &slot)
			if slot.PutUrl == "" || slot.GetUrl == "" || slot.Put == nil || *slot.Put != slot.PutUrl || slot.Get == nil || *slot.Get != slot.GetUrl {
				t.Fatalf("slot %s", r.Body)
			}
			// The slot really works: PUT the file, then GET it back.
			req, err := http.NewRequestWithContext(t.Context(), "PUT", slot.PutUrl, strings.NewReader(content))
			if err != nil {
				t.Fatal(err)
			}
			if slot.Headers == nil || (*slot.Headers)["Content-Type"] != "text/plain" {
				t.Fatalf("slot headers %v, want the guessed Content-Type", slot.Headers)
			}
			for k, v := range *slot.Headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 201 && resp.StatusCode != 200 {
				t.Fatalf("PUT %s = %d", slot.PutUrl, resp.StatusCode)
			}
			resp, err = http.Get(slot.GetUrl)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(got) != content {
				t.Fatalf("GET %s = %d, %d bytes (want %d)", slot.GetUrl, resp.StatusCode, len(got), len(content))
			}
		})
	}

	// A content type given by the client is the one the PUT must carry.
	r := e.Do(t, "GET", api+"/upload/data.bin/10?contentType=application/json", tok, "", "")
	var slot gateway.UploadSlot
	r.JSON(t, &slot)
	if r.Status != 200 || slot.Headers == nil || (*slot.Headers)["Content-Type"] != "application/json" {
		t.Fatalf("slot with a content type: %d %s", r.Status, r.Body)
	}
	checkContract(t, "GET", api+"/upload/data.bin/10?contentType=application/json", r)

	// A configured service that is not an upload service, or that does
	// not exist: the XMPP server's refusal is a 502.
	for _, service := range []string{ejabberdtest.Shared(t).Domain(), "nosuchservice." + ejabberdtest.Shared(t).Domain()} {
		wrong := newGateway(t, func(c *gateway.Config) { c.Collab.UploadService = service })
		wtok := wrong.Login(t, u.Name, u.Password)
		r := wrong.Do(t, "GET", api+"/upload/a.txt/10", wtok, "", "")
		if r.Status != 502 {
			t.Fatalf("upload to %s: %d %s, want 502", service, r.Status, r.Body)
		}
		checkContract(t, "GET", api+"/upload/a.txt/10", r)
	}
}

func TestIntegrationCollabPubSub(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, alice.Name, alice.Password), e.Login(t, bob.Name, bob.Password)
	node := "sgtest-" + strings.ToLower(rand.Text()[:10])
	missing := node + "-missing"
	t.Cleanup(func() {
		// Leave the shared server's pubsub service as we found it.
		conn := dialAs(t, alice)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.RawIQ(ctx, "set", ejabberdtest.Shared(t).PubSubService(),
			[]byte(`<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><delete node='`+node+`'/></pubsub>`))
	})

	bobTab, r := e.Open(t, tb, "")
	if r.Status != 200 {
		t.Fatalf("stream: %d", r.Status)
	}
	bobTab.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)

	t.Run("create", func(t *testing.T) {
		e.run(t, []collabCall{
			{"created", "POST", "/pubsub/create/" + node, ta, "", "", 200},
			{"exists", "POST", "/pubsub/create/" + node, tb, "", "", 409},
			{"no-token", "POST", "/pubsub/create/" + node, "", "", "", 401},
		})
	})
	t.Run("subscribe", func(t *testing.T) {
		e.run(t, []collabCall{
			{"subscribed", "POST", "/pubsub/subscribe/" + node, tb, "", "", 200},
			{"missing-node", "POST", "/pubsub/subscribe/" + missing, tb, "", "", 404},
			{"no-token", "POST", "/pubsub/subscribe/" + node, "", "", "", 401},
		})
	})
	payload := `{"greeting": "hé <there> & \"you\"", "n": [1, 2.5, null], "nested": {"ok": true}}`
	t.Run("publish", func(t *testing.T) {
		e.run(t, []collabCall{
			{"published", "POST", "/pubsub/publish/" + node, ta, "application/json", payload, 200},
			{"invalid-json", "POST", "/pubsub/publish/" + node, ta, "text/plain", `{"a": `, 400},
			{"not-an-object", "POST", "/pubsub/publish/" + node, ta, "text/plain", `[1, 2]`, 400},
			{"json-array", "POST", "/pubsub/publish/" + node, ta, "application/json", `[1, 2]`, 400},
			{"missing-node", "POST", "/pubsub/publish/" + missing, ta, "application/json", `{"a": 1}`, 404},
			{"too-large", "POST", "/pubsub/publish/" + node, ta, "text/plain", `{"a": "` + strings.Repeat("x", 70000) + `"}`, 400},
			{"no-token", "POST", "/pubsub/publish/" + node, "", "application/json", `{"a": 1}`, 401},
		})
	})
	t.Run("notification", func(t *testing.T) {
		var ev chatapi.PubSub
		bobTab.NextNamed(t, chatapi.EventPubSub, 10*time.Second, &ev)
		if ev.Type != chatapi.TypePubSubItem || ev.Node != node || ev.ItemID == "" || ev.From != ejabberdtest.Shared(t).PubSubService() {
			t.Fatalf("event %+v", ev)
		}
		var got, want any
		if err := json.Unmarshal(ev.Data, &got); err != nil {
			t.Fatalf("data %q: %v", ev.Data, err)
		}
		json.Unmarshal([]byte(payload), &want)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("data (-want +got):\n%s", d)
		}
	})
	t.Run("subscribers", func(t *testing.T) {
		res := e.run(t, []collabCall{
			{"owner", "GET", "/pubsub/subscribers/" + node, ta, "", "", 200},
			{"not-owner", "GET", "/pubsub/subscribers/" + node, tb, "", "", 403},
			{"missing-node", "GET", "/pubsub/subscribers/" + missing, ta, "", "", 404},
			{"no-token", "GET", "/pubsub/subscribers/" + node, "", "", "", 401},
		})
		var users gateway.UserEntities
		res["owner"].JSON(t, &users)
		if len(users.Users) != 1 || users.Users[0].Username == nil || *users.Users[0].Username != bob.Name {
			t.Fatalf("subscribers %s, want only %s", res["owner"].Body, bob.Name)
		}
	})
	t.Run("nodes", func(t *testing.T) {
		res := e.run(t, []collabCall{
			{"listed", "GET", "/pubsub/nodes", tb, "", "", 200},
			{"no-token", "GET", "/pubsub/nodes", "", "", "", 401},
		})
		var nodes gateway.NodeEntities
		res["listed"].JSON(t, &nodes)
		for _, n := range nodes.Nodes {
			if n.Id != nil && *n.Id == node {
				if n.Owners == nil || !slices.Contains(*n.Owners, alice.JID) {
					t.Fatalf("node %s owners %v, want %s", node, n.Owners, alice.JID)
				}
				return
			}
		}
		t.Fatalf("node %s not in %s", node, res["listed"].Body)
	})
	// The rest of the node's life: its items read back, one taken back
	// (told to the subscriber), the subscription ended, the node deleted;
	// each refused to who may not.
	var itemID string
	t.Run("items", func(t *testing.T) {
		res := e.run(t, []collabCall{
			{"read", "GET", "/pubsub/items/" + node + "?max=5", tb, "", "", 200},
			{"max-zero", "GET", "/pubsub/items/" + node + "?max=0", tb, "", "", 400},
			{"missing-node", "GET", "/pubsub/items/" + missing, tb, "", "", 404},
			{"no-token", "GET", "/pubsub/items/" + node, "", "", "", 401},
		})
		var items gateway.PubSubItems
		res["read"].JSON(t, &items)
		if len(items.Items) != 1 || items.Items[0].Id == "" || !strings.Contains(items.Items[0].Payload, "urn:xmpp:json:0") {
			t.Fatalf("items %s, want the one published", res["read"].Body)
		}
		var got, want any
		b, _ := json.Marshal(items.Items[0].Data)
		json.Unmarshal(b, &got)
		json.Unmarshal([]byte(payload), &want)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("the item's data (-want +got):\n%s", d)
		}
		itemID = items.Items[0].Id
	})
	t.Run("retract", func(t *testing.T) {
		e.run(t, []collabCall{
			{"not-publisher", "DELETE", "/pubsub/items/" + node + "/" + itemID, tb, "", "", 403},
			{"publisher", "DELETE", "/pubsub/items/" + node + "/" + itemID, ta, "", "", 200},
			{"no-token", "DELETE", "/pubsub/items/" + node + "/" + itemID, "", "", "", 401},
		})
		for deadline := time.Now().Add(10 * time.Second); ; {
			var ev chatapi.PubSub
			bobTab.NextNamed(t, chatapi.EventPubSub, time.Until(deadline), &ev)
			if ev.Type == chatapi.TypePubSubRetract && ev.Node == node && ev.ItemID == itemID {
				break
			}
		}
		var items gateway.PubSubItems
		e.Do(t, "GET", api+"/pubsub/items/"+node, tb, "", "").JSON(t, &items)
		if len(items.Items) != 0 {
			t.Fatalf("items after the retraction: %+v", items)
		}
	})
	t.Run("unsubscribe", func(t *testing.T) {
		e.run(t, []collabCall{
			{"subscribed", "DELETE", "/pubsub/subscribe/" + node, tb, "", "", 200},
			{"not-subscribed", "DELETE", "/pubsub/subscribe/" + node, tb, "", "", 409},
			{"missing-node", "DELETE", "/pubsub/subscribe/" + missing, tb, "", "", 404},
			{"no-token", "DELETE", "/pubsub/subscribe/" + node, "", "", "", 401},
		})
		var users gateway.UserEntities
		e.Do(t, "GET", api+"/pubsub/subscribers/"+node, ta, "", "").JSON(t, &users)
		if len(users.Users) != 0 {
			t.Fatalf("subscribers after bob left: %+v", users.Users)
		}
	})
	t.Run("delete", func(t *testing.T) {
		e.run(t, []collabCall{
			{"not-owner", "DELETE", "/pubsub/nodes/" + node, tb, "", "", 403},
			{"no-token", "DELETE", "/pubsub/nodes/" + node, "", "", "", 401},
			{"owner", "DELETE", "/pubsub/nodes/" + node, ta, "", "", 200},
			{"gone", "GET", "/pubsub/items/" + node, ta, "", "", 404},
			{"missing-node", "DELETE", "/pubsub/nodes/" + missing, ta, "", "", 404},
		})
	})
}

func TestIntegrationCollabPEP(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	alice := ejabberdtest.NewUser(t)
	ta := e.Login(t, alice.Name, alice.Password)
	node := "urn:sparkgate:test:" + strings.ToLower(rand.Text()[:8])
	tab, _ := e.Open(t, ta, "")
	tab.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)

	t.Run("publish", func(t *testing.T) {
		e.run(t, []collabCall{
			{"first", "POST", "/pep/publish/" + url.PathEscape(node), ta, "application/json", `{"mood": "busy"}`, 200},
			{"again", "POST", "/pep/publish/" + url.PathEscape(node), ta, "text/plain", `{"mood": "free"}`, 200},
			{"invalid-json", "POST", "/pep/publish/" + url.PathEscape(node), ta, "text/plain", `{mood}`, 400},
			{"no-token", "POST", "/pep/publish/" + url.PathEscape(node), "", "application/json", `{}`, 401},
		})
	})
	t.Run("list", func(t *testing.T) {
		res := e.run(t, []collabCall{
			{"listed", "GET", "/pep/nodes", ta, "", "", 200},
			{"no-token", "GET", "/pep/nodes", "", "", "", 401},
		})
		var nodes gateway.NodeEntities
		res["listed"].JSON(t, &nodes)
		for _, n := range nodes.Nodes {
			if n.Id != nil && *n.Id == node {
				return
			}
		}
		t.Fatalf("PEP node %s not in %s", node, res["listed"].Body)
	})
	t.Run("items", func(t *testing.T) {
		// The last item is the XEP-0335 container with the JSON.
		reply := rawIQ(t, dialAs(t, alice), "get", alice.JID, `<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='`+node+`'/></pubsub>`)
		if !strings.Contains(string(reply.Raw), `<json xmlns="urn:xmpp:json:0">{&quot;mood&quot;:&quot;free&quot;}</json>`) &&
			!strings.Contains(string(reply.Raw), `<json xmlns='urn:xmpp:json:0'>{&quot;mood&quot;:&quot;free&quot;}</json>`) &&
			!strings.Contains(string(reply.Raw), `{"mood":"free"}`) {
			t.Fatalf("items %s", reply.Raw)
		}
	})
}
