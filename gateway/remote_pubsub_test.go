package gateway_test

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationRemotePubSub: the pubsub verbs carried to the owner node
// keep their arguments and answers. alice's session is on node 1; every
// call goes to node 2: create, publish, read the items back (the JSON
// intact), retract one, subscribe and leave, delete the node.
func TestIntegrationRemotePubSub(t *testing.T) {
	n1, n2, _ := remoteNodes(t, 5*time.Second, nil, nil, nil)
	alice := ejabberdtest.NewUser(t)
	ta := n1.Login(t, alice.Name, alice.Password) // the session opens on node 1
	node := "sgremote-" + strings.ToLower(rand.Text()[:10])
	call := func(method, path, body string, want int) []byte {
		t.Helper()
		ct := ""
		if body != "" {
			ct = "application/json"
		}
		r := n2.Do(t, method, api+path, ta, ct, body)
		if r.Status != want {
			t.Fatalf("%s %s on node 2: %d %s, want %d", method, path, r.Status, r.Body, want)
		}
		return r.Body
	}
	call("POST", "/pubsub/create/"+node, "", 200)
	call("POST", "/pubsub/publish/"+node, `{"n": 1}`, 200)
	call("POST", "/pubsub/publish/"+node, `{"n": 2}`, 200)
	var items gateway.PubSubItems
	r := n2.Do(t, "GET", api+"/pubsub/items/"+node+"?max=1", ta, "", "")
	r.JSON(t, &items)
	if r.Status != 200 || len(items.Items) != 1 {
		t.Fatalf("items with max=1 on node 2: %d %s", r.Status, r.Body)
	}
	e2 := n2.Do(t, "GET", api+"/pubsub/items/"+node, ta, "", "")
	e2.JSON(t, &items)
	if len(items.Items) != 2 {
		t.Fatalf("items on node 2: %s, want both", e2.Body)
	}
	call("DELETE", "/pubsub/items/"+node+"/"+items.Items[0].Id, "", 200)
	n2.Do(t, "GET", api+"/pubsub/items/"+node, ta, "", "").JSON(t, &items)
	if len(items.Items) != 1 {
		t.Fatalf("items after a retraction on node 2: %+v", items)
	}
	call("POST", "/pubsub/subscribe/"+node, "", 200)
	call("DELETE", "/pubsub/subscribe/"+node, "", 200)
	call("DELETE", "/pubsub/subscribe/"+node, "", 409)
	call("DELETE", "/pubsub/nodes/"+node, "", 200)
	call("GET", "/pubsub/items/"+node, "", 404)
}
