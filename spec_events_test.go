package sparkgate_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/chatapi"
)

// eventSchemas pairs every payload the gateway sends (package chatapi) with
// the schema of openapi.yaml that describes it.
var eventSchemas = []struct {
	payload chatapi.Payload
	schema  string
}{
	{chatapi.Connect{}, "ConnectEvent"},
	{chatapi.Chat{}, "ChatMessageEvent"},
	{chatapi.ChatState{}, "ChatStateEvent"},
	{chatapi.GroupChat{}, "GroupChatEvent"},
	{chatapi.Invitation{}, "InvitationEvent"},
	{chatapi.Occupants{}, "OccupantsEvent"},
	{chatapi.Presence{}, "PresenceEvent"},
	{chatapi.XMPP{}, "XMPPEvent"},
	{chatapi.Roster{}, "RosterEvent"},
	{chatapi.Request{}, "RequestEvent"},
	{chatapi.Blocklist{}, "BlocklistEvent"},
	{chatapi.Muted{}, "MutedEvent"},
	{chatapi.Strangers{}, "StrangersEvent"},
	{chatapi.Properties{}, "PropertiesEvent"},
	{chatapi.Notify{}, "NotifyEvent"},
	{chatapi.PubSub{}, "PubSubEvent"},
	{chatapi.Reactions{}, "ReactionEvent"},
	{chatapi.Unread{}, "UnreadEvent"},
	{chatapi.Avatar{}, "AvatarEvent"},
	{chatapi.Nick{}, "NickEvent"},
	{chatapi.Receipt{}, "ReceiptEvent"},
	{chatapi.Error{}, "ErrorEvent"},
	{chatapi.Session{}, "SessionEvent"},
	{chatapi.Reset{}, "ResetEvent"},
	{chatapi.Close{}, "CloseEvent"},
}

// jsonFields answers the JSON names of a struct's fields and those that are
// always present (no omitempty).
func jsonFields(t reflect.Type) (all, always []string) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") {
			always = append(always, name)
		}
	}
	sort.Strings(all)
	sort.Strings(always)
	return all, always
}

// TestSpecEventSchemas keeps the event schemas of openapi.yaml (what typed
// clients such as sdk/typescript are generated from) and package chatapi
// (what the gateway really encodes) the same: every payload has a schema
// with exactly its fields, required exactly when never omitted, and the
// event stream's x-sparkgate-events names each event with its schemas.
func TestSpecEventSchemas(t *testing.T) {
	doc := loadSpec(t)
	byEvent := map[string][]string{}
	for _, es := range eventSchemas {
		t.Run(es.schema, func(t *testing.T) {
			ref := doc.Components.Schemas[es.schema]
			if ref == nil || ref.Value == nil {
				t.Fatalf("components/schemas/%s is missing", es.schema)
			}
			var props []string
			for name := range ref.Value.Properties {
				props = append(props, name)
			}
			sort.Strings(props)
			required := slices.Clone(ref.Value.Required)
			sort.Strings(required)
			all, always := jsonFields(reflect.TypeOf(es.payload))
			if diff := cmp.Diff(all, props); diff != "" {
				t.Errorf("%s properties differ from chatapi.%T's fields (-go +spec):\n%s", es.schema, es.payload, diff)
			}
			if diff := cmp.Diff(always, required); diff != "" {
				t.Errorf("%s required differs from chatapi.%T's fields without omitempty (-go +spec):\n%s", es.schema, es.payload, diff)
			}
		})
		byEvent[es.payload.EventName()] = append(byEvent[es.payload.EventName()], es.schema)
	}

	ok := doc.Paths.Find("/sparkweb/api/sse").GetOperation(http.MethodGet).Responses.Status(200)
	raw, found := ok.Value.Extensions["x-sparkgate-events"]
	if !found {
		t.Fatal("GET /sparkweb/api/sse's 200 response lacks x-sparkgate-events")
	}
	b, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string][]string
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("x-sparkgate-events is not a map of event names to schema names: %v", err)
	}
	for _, names := range got {
		sort.Strings(names)
	}
	for _, names := range byEvent {
		sort.Strings(names)
	}
	if diff := cmp.Diff(byEvent, got); diff != "" {
		t.Errorf("x-sparkgate-events differs from package chatapi (-go +spec):\n%s", diff)
	}
}
