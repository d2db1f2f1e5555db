package sparkgate_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/sparkgate/sparkgate"
	"github.com/sparkgate/sparkgate/web"
)

// sparkWebOperations are the 66 operations of the SparkWeb REST API, exactly
// as issue 3 lists them (method and path).
var sparkWebOperations = []string{
	"POST /sparkweb/api/rest/totp/authenticate/{username}/{code}",
	"POST /sparkweb/api/rest/totp/register/{username}",
	"POST /sparkweb/api/rest/login/{username}",
	"POST /sparkweb/api/rest/logout",
	"POST /sparkweb/api/rest/register/{username}",
	"GET /sparkweb/api/sse",
	"POST /sparkweb/api/rest/webauthn/authenticate/finish/{username}",
	"POST /sparkweb/api/rest/webauthn/authenticate/start/{username}",
	"POST /sparkweb/api/rest/webauthn/register/finish/{username}",
	"POST /sparkweb/api/rest/webauthn/register/start/{username}",
	"POST /sparkweb/api/rest/bookmark",
	"DELETE /sparkweb/api/rest/bookmark/{bookmarkID}",
	"DELETE /sparkweb/api/rest/bookmark/{bookmarkID}/{name}",
	"GET /sparkweb/api/rest/bookmark/{bookmarkID}",
	"GET /sparkweb/api/rest/bookmarks",
	"PUT /sparkweb/api/rest/bookmark/{bookmarkID}",
	"POST /sparkweb/api/rest/bookmark/{bookmarkID}/{name}",
	"GET /sparkweb/api/rest/chat/messages",
	"POST /sparkweb/api/rest/chat/chatstate/{state}/{to}",
	"POST /sparkweb/api/rest/chat/message/{to}",
	"POST /sparkweb/api/rest/pubsub/create/{node}",
	"GET /sparkweb/api/rest/pep/nodes",
	"GET /sparkweb/api/rest/pubsub/nodes",
	"GET /sparkweb/api/rest/pubsub/subscribers/{node}",
	"GET /sparkweb/api/rest/meet/{service}/{id}",
	"POST /sparkweb/api/rest/xmpp",
	"GET /sparkweb/api/rest/preview/{quality}/{url}",
	"POST /sparkweb/api/rest/pep/publish/{node}",
	"POST /sparkweb/api/rest/pubsub/publish/{node}",
	"POST /sparkweb/api/rest/pubsub/subscribe/{node}",
	"GET /sparkweb/api/rest/upload/{fileName}/{fileSize}",
	"POST /sparkweb/api/rest/roster",
	"DELETE /sparkweb/api/rest/roster/{jid}",
	"GET /sparkweb/api/rest/roster",
	"PUT /sparkweb/api/rest/roster/{jid}",
	"GET /sparkweb/api/rest/groupchat/messages",
	"GET /sparkweb/api/rest/groupchat/room/{roomName}/chathistory",
	"GET /sparkweb/api/rest/groupchat/room/{roomName}",
	"GET /sparkweb/api/rest/groupchat/room/{roomName}/occupants",
	"GET /sparkweb/api/rest/groupchat/room/{roomName}/participants",
	"GET /sparkweb/api/rest/groupchat/rooms",
	"POST /sparkweb/api/rest/groupchat/room/{roomName}/{invitedJid}",
	"PUT /sparkweb/api/rest/groupchat/room/{roomName}",
	"DELETE /sparkweb/api/rest/groupchat/room/{roomName}",
	"POST /sparkweb/api/rest/groupchat/room/{roomName}",
	"GET /sparkweb/api/rest/presence/roster",
	"POST /sparkweb/api/rest/presence",
	"GET /sparkweb/api/rest/presence/{target}",
	"POST /sparkweb/api/rest/user/groups/{groupName}",
	"POST /sparkweb/api/rest/user/groups",
	"DELETE /sparkweb/api/rest/user",
	"DELETE /sparkweb/api/rest/user/groups/{groupName}",
	"DELETE /sparkweb/api/rest/user/groups",
	"GET /sparkweb/api/rest/config/global",
	"GET /sparkweb/api/rest/user",
	"GET /sparkweb/api/rest/config/properties",
	"GET /sparkweb/api/rest/user/groups",
	"GET /sparkweb/api/rest/users",
	"POST /sparkweb/api/rest/config/properties",
	"PUT /sparkweb/api/rest/user",
	"GET /sparkweb/api/rest/webpush/subscribers",
	"GET /sparkweb/api/rest/webpush/vapidkey",
	"POST /sparkweb/api/rest/webpush/action",
	"POST /sparkweb/api/rest/webpush/notify/{target}",
	"PUT /sparkweb/api/rest/webpush/subscribe/{resource}",
	"POST /sparkweb/api/rest/webpush/message/{target}",
}

// publicOperations need no token (security: []). Everything else must be
// secured.
var publicOperations = []string{
	"login",
	"register",
	"totpAuthenticate",
	"webauthnAuthenticateStart",
	"webauthnAuthenticateFinish",
	"webauthnDiscoverableStart",
	"webauthnDiscoverableFinish",
	// Authenticated by the refresh token in its body.
	"refreshToken",
	"getGlobalConfig",
	"getVapidKey",
	"getOpenAPISpec",
	// Authenticated by the action token of a push notification, which the
	// handler checks itself (an access token is not accepted there).
	"handleNotificationAction",
}

// sparkWebTags are the tags an operation may carry.
var sparkWebTags = []string{
	"authentication", "sse", "chat", "group_chat", "presence", "contact_management",
	"collaboration", "bookmarks", "user_management", "web_push", "meta", "operator",
}

type operation struct {
	key string // "METHOD /path"
	op  *openapi3.Operation
}

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(sparkgate.OpenAPI)
	if err != nil {
		t.Fatalf("LoadFromData(openapi.yaml): %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

func operations(t *testing.T, doc *openapi3.T) []operation {
	t.Helper()
	var ops []operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops = append(ops, operation{key: method + " " + path, op: op})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].key < ops[j].key })
	return ops
}

func TestSpecValid(t *testing.T) {
	doc := loadSpec(t)
	if got := doc.OpenAPI; !strings.HasPrefix(got, "3.0.") {
		t.Errorf("openapi = %q, want 3.0.x", got)
	}
	for _, s := range doc.Servers {
		if s.URL != "/" {
			t.Errorf("servers holds %q; paths are absolute, so only \"/\" is allowed", s.URL)
		}
	}
}

func TestSpecHasExactlyTheSparkWebOperations(t *testing.T) {
	doc := loadSpec(t)
	if len(sparkWebOperations) != 66 {
		t.Fatalf("the table holds %d operations, want 66", len(sparkWebOperations))
	}
	have := make(map[string]*openapi3.Operation)
	for _, o := range operations(t, doc) {
		have[o.key] = o.op
	}
	want := make(map[string]bool)
	for _, key := range sparkWebOperations {
		if want[key] {
			t.Errorf("the table lists %s twice", key)
		}
		want[key] = true
		op, ok := have[key]
		if !ok {
			t.Errorf("missing SparkWeb operation %s", key)
			continue
		}
		if ext, ok := op.Extensions["x-sparkgate-extension"]; ok {
			t.Errorf("%s is a SparkWeb operation but is marked x-sparkgate-extension: %v", key, ext)
		}
	}
	for key, op := range have {
		if want[key] {
			continue
		}
		if ext, _ := op.Extensions["x-sparkgate-extension"].(bool); !ext {
			t.Errorf("%s is not a SparkWeb operation and lacks x-sparkgate-extension: true", key)
		}
		if !strings.HasPrefix(key[strings.IndexByte(key, ' ')+1:], "/sparkweb/api/") {
			t.Errorf("extension %s is outside /sparkweb/api/", key)
		}
	}
}

func TestSpecOperationIDsAndTags(t *testing.T) {
	doc := loadSpec(t)
	seen := make(map[string]string)
	for _, o := range operations(t, doc) {
		id := o.op.OperationID
		if id == "" {
			t.Errorf("%s has no operationId", o.key)
			continue
		}
		if prev, dup := seen[id]; dup {
			t.Errorf("operationId %q is used by %s and %s", id, prev, o.key)
		}
		seen[id] = o.key
		if c := id[0]; c < 'a' || c > 'z' || strings.ContainsAny(id, "_- .") {
			t.Errorf("%s: operationId %q is not lower camelCase", o.key, id)
		}
		if len(o.op.Tags) == 0 {
			t.Errorf("%s has no tags", o.key)
		}
		for _, tag := range o.op.Tags {
			if !slices.Contains(sparkWebTags, tag) {
				t.Errorf("%s has unknown tag %q", o.key, tag)
			}
		}
		if o.op.Summary == "" || o.op.Description == "" {
			t.Errorf("%s needs a summary and a description", o.key)
		}
	}
}

// refersToError reports whether s is the Error schema, or an allOf that
// includes it.
func refersToError(s *openapi3.SchemaRef) bool {
	if s == nil {
		return false
	}
	if s.Ref == "#/components/schemas/Error" {
		return true
	}
	if s.Value == nil {
		return false
	}
	for _, part := range s.Value.AllOf {
		if refersToError(part) {
			return true
		}
	}
	return false
}

func TestSpecErrorResponsesUseErrorSchema(t *testing.T) {
	doc := loadSpec(t)
	for _, o := range operations(t, doc) {
		if o.op.RequestBody != nil && o.op.Responses.Status(http.StatusRequestEntityTooLarge) == nil {
			t.Errorf("%s takes a body but lacks a 413 response", o.key)
		}
		for status, resp := range o.op.Responses.Map() {
			if status == "default" || status[0] < '4' {
				continue
			}
			if resp.Value == nil {
				t.Errorf("%s %s: unresolved response %q", o.key, status, resp.Ref)
				continue
			}
			if resp.Value.Description == nil || *resp.Value.Description == "" {
				t.Errorf("%s %s: no description", o.key, status)
			}
			mt := resp.Value.Content.Get("application/json")
			if mt == nil || len(resp.Value.Content) != 1 {
				t.Errorf("%s %s: an error response must have exactly application/json content", o.key, status)
				continue
			}
			if !refersToError(mt.Schema) {
				t.Errorf("%s %s: error response does not use #/components/schemas/Error", o.key, status)
			}
		}
	}
}

func TestSpecErrorSchema(t *testing.T) {
	doc := loadSpec(t)
	ref := doc.Components.Schemas["Error"]
	if ref == nil || ref.Value == nil {
		t.Fatal("components/schemas/Error is missing")
	}
	for _, field := range []string{"status", "code", "message", "resource", "exception"} {
		if ref.Value.Properties[field] == nil {
			t.Errorf("Error lacks the field %q", field)
		}
	}
	code := ref.Value.Properties["code"]
	if code == nil || code.Value == nil {
		t.Fatal("Error.code is missing")
	}
	// The codes the gateway writes (gateway/errors.go) must all be in the enum.
	for _, c := range []string{
		"bad_request", "unauthorized", "forbidden", "not_found", "method_not_allowed",
		"conflict", "payload_too_large", "unsupported_media_type", "rate_limited",
		"not_implemented", "xmpp_unavailable", "timeout", "internal", "mfa_required",
	} {
		if !slices.Contains(code.Value.Enum, any(c)) {
			t.Errorf("Error.code enum lacks %q", c)
		}
	}
	for _, name := range []string{
		"BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict", "PayloadTooLarge",
		"TooManyRequests", "BadGateway", "GatewayTimeout", "NotImplemented",
	} {
		if doc.Components.Responses[name] == nil {
			t.Errorf("components/responses/%s is missing", name)
		}
	}
}

func TestSpecSecurity(t *testing.T) {
	doc := loadSpec(t)
	if got := doc.Security; len(got) != 1 || got[0]["jwt"] == nil {
		t.Fatalf("global security = %v, want [jwt]", got)
	}
	jwt := doc.Components.SecuritySchemes["jwt"]
	if jwt == nil || jwt.Value.Type != "apiKey" || jwt.Value.In != "header" || jwt.Value.Name != "Authorization" {
		t.Errorf("securitySchemes/jwt must be an apiKey in header Authorization")
	}
	q := doc.Components.SecuritySchemes["jwtQuery"]
	if q == nil || q.Value.Type != "apiKey" || q.Value.In != "query" || q.Value.Name != "token" {
		t.Errorf("securitySchemes/jwtQuery must be an apiKey in query token")
	}
	for _, o := range operations(t, doc) {
		public := slices.Contains(publicOperations, o.op.OperationID)
		sec := o.op.Security
		switch {
		case public:
			if sec == nil || len(*sec) != 0 {
				t.Errorf("%s (%s) is public and must say security: []", o.key, o.op.OperationID)
			}
		case sec != nil && len(*sec) == 0:
			t.Errorf("%s (%s) is not in the public list but has security: []", o.key, o.op.OperationID)
		case sec != nil:
			for _, req := range *sec {
				if len(req) == 0 {
					t.Errorf("%s (%s) allows anonymous access", o.key, o.op.OperationID)
				}
			}
		}
		if !public {
			// Every secured operation documents the common failures.
			for _, status := range []int{400, 401, 403, 429, 502, 504} {
				if o.op.Responses.Status(status) == nil {
					t.Errorf("%s lacks a %d response", o.key, status)
				}
			}
			if o.op.Responses.Status(429) != nil && o.op.Responses.Status(429).Value.Headers["Retry-After"] == nil {
				t.Errorf("%s: 429 lacks the Retry-After header", o.key)
			}
		}
	}
	tq := doc.Components.SecuritySchemes["streamTicket"]
	if tq == nil || tq.Value.Type != "apiKey" || tq.Value.In != "query" || tq.Value.Name != "ticket" {
		t.Errorf("securitySchemes/streamTicket must be an apiKey in query ticket")
	}
	sse := doc.Paths.Find("/sparkweb/api/sse").Get
	if sse.Security == nil || len(*sse.Security) != 3 ||
		(*sse.Security)[0]["jwt"] == nil || (*sse.Security)[1]["streamTicket"] == nil || (*sse.Security)[2]["jwtQuery"] == nil {
		t.Errorf("GET /sparkweb/api/sse security = %v, want [jwt] or [streamTicket] or [jwtQuery]", sse.Security)
	}
}

func TestSpecEventStream(t *testing.T) {
	doc := loadSpec(t)
	op := doc.Paths.Find("/sparkweb/api/sse").GetOperation(http.MethodGet)
	if op == nil {
		t.Fatal("GET /sparkweb/api/sse is missing")
	}
	ok := op.Responses.Status(200)
	if ok == nil || ok.Value.Content.Get("text/event-stream") == nil {
		t.Error("GET /sparkweb/api/sse must answer 200 text/event-stream")
	}
	if op.Parameters.GetByInAndName("header", "Last-Event-ID") == nil {
		t.Error("GET /sparkweb/api/sse lacks the Last-Event-ID header parameter")
	}
	if op.Parameters.GetByInAndName("query", "lastEventId") == nil {
		t.Error("GET /sparkweb/api/sse lacks the lastEventId query parameter")
	}
	// The catalogue: every event the gateway sends (package chatapi) is named.
	for _, name := range []string{
		"onConnect", "chatapi.chat", "chatapi.muc", "chatapi.presence", "chatapi.xmpp",
		"chatapi.notify", "chatapi.pubsub", "chatapi.receipt", "chatapi.reset",
		"chatapi.close", "chatapi.error", "chatapi.session", "chatapi.roster", "Last-Event-ID", "retry:",
	} {
		if !strings.Contains(op.Description, "`"+name) {
			t.Errorf("the event catalogue does not mention %s", name)
		}
	}
}

// TestSpecModels checks that every model the SparkWeb API names is a
// component schema, with the SparkWeb field names.
func TestSpecModels(t *testing.T) {
	doc := loadSpec(t)
	models := map[string][]string{
		"TokenEntity":              {"token"},
		"UserEntity":               {"email", "name", "password", "properties", "username", "vcard"},
		"UserEntities":             {"users"},
		"RosterEntities":           {"roster"},
		"RosterItemEntity":         {"groups", "jid", "nickname", "show", "status", "subscriptionType"},
		"MUCRoomEntity":            {"roomName", "naturalName", "description", "subject", "publicRoom", "membersOnly", "owners", "admins", "members", "outcasts", "maxUsers", "creationDate"},
		"MUCRoomEntities":          {"chatRooms"},
		"OccupantEntity":           {"affiliation", "jid", "role", "userAddress"},
		"OccupantEntities":         {"occupants"},
		"ParticipantEntity":        {"affiliation", "jid", "role"},
		"ParticipantEntities":      {"participants"},
		"MUCRoomMessageEntity":     {"body", "delayFrom", "delayStamp", "from", "to", "type"},
		"MUCRoomMessageEntities":   {"messages"},
		"Conversations":            {"conversations"},
		"Conversation":             {"chatRoom", "conversationID", "conversationParticipants", "external", "lastActivity", "messageCount", "messages", "participantList", "participants", "room", "startDate"},
		"ArchivedMessage":          {"body", "conversationID", "from", "fromJID", "roomEvent", "sentDate", "stanza", "to", "toJID"},
		"JID":                      {"domain", "node", "resource"},
		"Bookmark":                 {"bookmarkID", "globalBookmark", "groups", "name", "properties", "type", "users", "value"},
		"Bookmarks":                {"bookmarks"},
		"NodeEntity":               {"description", "id", "name", "owners"},
		"NodeEntities":             {"nodes"},
		"PresenceEntity":           {"show", "status", "username"},
		"PublicKey":                {"publicKey"},
		"NotificationEntity":       {"actions", "body", "data", "icon", "persistent", "requireInteraction", "sticky", "subject", "token"},
		"NotificationActionEntity": {"action", "data", "icon", "placeholder", "title", "type", "value"},
		"OnlineMeetingEntity":      {"url"},
		"TOTPEntity":               {"url"},
		"UserGroupsEntity":         {"groupnames"},
		"UserProperty":             {"key", "value"},
		"UploadSlot":               {"putUrl", "getUrl", "headers"},
	}
	for name, fields := range models {
		ref := doc.Components.Schemas[name]
		if ref == nil || ref.Value == nil {
			t.Errorf("components/schemas/%s is missing", name)
			continue
		}
		for _, f := range fields {
			if ref.Value.Properties[f] == nil {
				t.Errorf("%s lacks the field %q", name, f)
			}
		}
	}
}

// TestSpecValidatesRequests runs requests through the same kin-openapi
// router and validator the gateway uses, to pin down what the spec accepts:
// full JIDs with an encoded slash, both body forms of a password, and the
// enums and patterns that must refuse bad input.
func TestSpecValidatesRequests(t *testing.T) {
	doc := loadSpec(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("gorillamux.NewRouter: %v", err)
	}
	const api = "/sparkweb/api/rest"
	long := strings.Repeat("x", 262145)
	tests := []struct {
		name        string
		method      string
		target      string
		contentType string
		body        string
		wantOp      string
		wantOK      bool
	}{
		{"password as text", "POST", api + "/login/alice", "text/plain;charset=UTF-8", "s3cret", "login", true},
		{"password as JSON string", "POST", api + "/login/alice", "application/json", `"s3cret"`, "login", true},
		{"password as JSON object", "POST", api + "/login/alice", "application/json", `{"password":"x"}`, "login", false},
		{"unicode username", "POST", api + "/register/j%C3%BCrgen", "text/plain", "s3cret", "register", true},
		{"username with @", "POST", api + "/login/alice@example.org", "text/plain", "s3cret", "login", false},
		{"username with space", "POST", api + "/login/al%20ice", "text/plain", "s3cret", "login", false},
		{"no password", "POST", api + "/login/alice", "text/plain", "", "login", false},
		{"password too long", "POST", api + "/login/alice", "text/plain", strings.Repeat("p", 1025), "login", false},
		{"totp code", "POST", api + "/totp/authenticate/alice/123456", "", "", "totpAuthenticate", true},
		{"totp code not digits", "POST", api + "/totp/authenticate/alice/12a456", "", "", "totpAuthenticate", false},
		{"chat to full JID", "POST", api + "/chat/message/bob@example.org%2Fmy%20phone", "text/plain", "hi \"there\"", "sendChatMessage", true},
		{"chat to username", "POST", api + "/chat/message/bob", "text/plain", "hi", "sendChatMessage", true},
		{"chat message as JSON", "POST", api + "/chat/message/bob", "application/json", `{"body":"hi","data":{"k":1}}`, "sendChatMessage", true},
		{"chat JSON without body", "POST", api + "/chat/message/bob", "application/json", `{"text":"hi"}`, "sendChatMessage", false},
		{"empty message", "POST", api + "/chat/message/bob", "text/plain", "", "sendChatMessage", false},
		{"chat state", "POST", api + "/chat/chatstate/composing/bob@example.org%2Fweb", "", "", "postChatState", true},
		{"unknown chat state", "POST", api + "/chat/chatstate/typing/bob", "", "", "postChatState", false},
		{"archive dates", "GET", api + "/chat/messages?to=bob&start=01/02/26&end=2026-01-03T00:00:00Z&max=50", "", "", "getChatMessages", true},
		{"bad archive date", "GET", api + "/chat/messages?start=yesterday", "", "", "getChatMessages", false},
		{"presence show", "POST", api + "/presence?show=away&status=lunch", "", "", "setPresence", true},
		{"unknown presence show", "POST", api + "/presence?show=busy", "", "", "setPresence", false},
		{"roster presence is not a probe", "GET", api + "/presence/roster", "", "", "getRosterPresence", true},
		{"probe", "GET", api + "/presence/bob@example.org", "", "", "probePresence", true},
		{"preview", "GET", api + "/preview/5/https%3A%2F%2Fexample.org%2Fa%3Fb%3Dc", "", "", "previewLink", true},
		{"preview quality 0", "GET", api + "/preview/0/https%3A%2F%2Fexample.org", "", "", "previewLink", false},
		{"preview of ftp", "GET", api + "/preview/5/ftp%3A%2F%2Fexample.org", "", "", "previewLink", false},
		{"upload", "GET", api + "/upload/r%C3%A9sum%C3%A9%20v2.pdf/1048576", "", "", "requestUploadSlot", true},
		{"upload of 0 bytes", "GET", api + "/upload/a.txt/0", "", "", "requestUploadSlot", false},
		{"upload size not a number", "GET", api + "/upload/a.txt/big", "", "", "requestUploadSlot", false},
		{"meeting", "GET", api + "/meet/jitsi/team-room", "", "", "getMeetingURL", true},
		{"unknown meeting service", "GET", api + "/meet/zoom/team-room", "", "", "getMeetingURL", false},
		{"room with service", "PUT", api + "/groupchat/room/lobby?serviceName=conference&nick=Al", "", "", "joinRoom", true},
		{"room occupants", "GET", api + "/groupchat/room/lobby/occupants", "", "", "getRoomOccupants", true},
		{"invite", "POST", api + "/groupchat/room/lobby/bob@example.org", "text/plain", "come", "inviteToRoom", true},
		{"rooms of unknown type", "GET", api + "/groupchat/rooms?type=private", "", "", "listRooms", false},
		{"bookmark id not a number", "GET", api + "/bookmark/abc", "", "", "getBookmark", false},
		{"bookmark", "PUT", api + "/bookmark/7", "application/json", `{"bookmarkID":7,"type":"url","name":"n","value":"https://example.org","users":["alice"],"globalBookmark":false,"properties":[{"key":"k","value":"v"}]}`, "updateBookmark", true},
		{"bookmark of unknown type", "POST", api + "/bookmark", "application/json", `{"type":"file","name":"n"}`, "createBookmark", false},
		{"roster item", "POST", api + "/roster", "application/json", `{"jid":"bob@example.org","nickname":"Bob","subscriptionType":3,"groups":["Friends"]}`, "addRosterItem", true},
		{"roster item without jid", "POST", api + "/roster", "application/json", `{"nickname":"Bob"}`, "addRosterItem", false},
		{"stanza", "POST", api + "/xmpp", "text/plain", `<message to="bob@example.org"><body>hi</body></message>`, "sendStanza", true},
		{"stanza too long", "POST", api + "/xmpp", "text/plain", long, "sendStanza", false},
		{"push subscription", "PUT", api + "/webpush/subscribe/phone", "application/json", `{"endpoint":"https://push.example.org/x","expirationTime":null,"keys":{"p256dh":"BN","auth":"Zm9v"}}`, "putPushSubscription", true},
		{"push subscription as text", "PUT", api + "/webpush/subscribe/phone", "text/plain;charset=UTF-8", `{"endpoint":"https://push.example.org/x"}`, "putPushSubscription", true},
		{"push subscription without keys", "PUT", api + "/webpush/subscribe/phone", "application/json", `{"endpoint":"https://push.example.org/x"}`, "putPushSubscription", false},
		{"properties", "POST", api + "/config/properties", "application/json", `[{"name":"theme","value":"dark"}]`, "setUserProperties", true},
		{"pubsub JSON", "POST", api + "/pubsub/publish/news", "application/json", `{"x":1}`, "publishPubSubItem", true},
		{"pep node URI", "POST", api + "/pep/publish/urn%3Axmpp%3Amicroblog%3A0", "text/plain", `{"x":1}`, "publishPepItem", true},
		{"event stream resume", "GET", "/sparkweb/api/sse?token=eyJ.x.y&lastEventId=1764000000000-12", "", "", "streamEvents", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req := httptest.NewRequest(tt.method, tt.target, body)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			req.Header.Set("Authorization", "eyJ.x.y")
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("FindRoute(%s %s): %v", tt.method, tt.target, err)
			}
			if route.Operation.OperationID != tt.wantOp {
				t.Fatalf("%s %s routes to %s, want %s", tt.method, tt.target, route.Operation.OperationID, tt.wantOp)
			}
			// The gateway's middleware unescapes path parameters the same way.
			for k, v := range params {
				if u, err := url.PathUnescape(v); err == nil {
					params[k] = u
				}
			}
			err = openapi3filter.ValidateRequest(t.Context(), &openapi3filter.RequestValidationInput{
				Request:    req,
				PathParams: params,
				Route:      route,
				Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
			})
			if gotOK := err == nil; gotOK != tt.wantOK {
				t.Errorf("ValidateRequest(%s %s) = %v, want ok=%v", tt.method, tt.target, err, tt.wantOK)
			}
		})
	}
}

// TestAPIDocsPage checks the embedded reference page: it exists, runs no
// inline script (the gateway's Content-Security-Policy forbids it), loads
// nothing from another origin, and every file it names is embedded.
func TestAPIDocsPage(t *testing.T) {
	docs, err := fs.Sub(web.APIDocs, "apidocs")
	if err != nil {
		t.Fatal(err)
	}
	page, err := fs.ReadFile(docs, "index.html")
	if err != nil {
		t.Fatalf("apidocs/index.html: %v", err)
	}
	html := string(page)
	ref := regexp.MustCompile(`(?i)<(script|link)\b[^>]*>`)
	attr := regexp.MustCompile(`(?i)\b(src|href)="([^"]*)"`)
	for _, tag := range ref.FindAllString(html, -1) {
		m := attr.FindStringSubmatch(tag)
		if m == nil {
			if strings.HasPrefix(strings.ToLower(tag), "<script") {
				t.Errorf("index.html has an inline script: %s", tag)
			}
			continue
		}
		target := m[2]
		if target == "data:," {
			continue
		}
		if strings.Contains(target, "//") || strings.HasPrefix(target, "/") {
			t.Errorf("index.html loads %q, which is not a file next to it", target)
			continue
		}
		if _, err := fs.Stat(docs, target); err != nil {
			t.Errorf("index.html names %q, which is not embedded: %v", target, err)
		}
	}
	if regexp.MustCompile(`(?i)<script\b[^>]*>[^<\s]`).MatchString(html) || strings.Contains(html, "style=") {
		t.Error("index.html has inline script or style")
	}
	js, err := fs.ReadFile(docs, "apidocs.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"openapi.yaml"`) || !strings.Contains(string(js), "validatorUrl: null") {
		t.Error("apidocs.js must load ./openapi.yaml and switch the online validator off")
	}
	for _, name := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "README.md"} {
		if _, err := fs.Stat(docs, name); err != nil {
			t.Errorf("apidocs/%s is missing: %v", name, err)
		}
	}
}

// TestSpecValidatesResponses pins down what response validation (the
// contract tests of the handlers) accepts: the gateway's error body, the
// login's second-factor answer, and no undocumented fields in response-only
// models.
func TestSpecValidatesResponses(t *testing.T) {
	doc := loadSpec(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("gorillamux.NewRouter: %v", err)
	}
	tests := []struct {
		name   string
		method string
		target string
		status int
		body   string
		wantOK bool
	}{
		{"token", "POST", "/sparkweb/api/rest/login/alice", 200, `{"token":"eyJ.x.y"}`, true},
		{"token with an undocumented field", "POST", "/sparkweb/api/rest/login/alice", 200, `{"token":"eyJ.x.y","user":"alice"}`, false},
		{"failed login", "POST", "/sparkweb/api/rest/login/alice", 401, `{"status":401,"code":"unauthorized","message":"wrong username or password","resource":"/sparkweb/api/rest/login/alice"}`, true},
		{"second factor", "POST", "/sparkweb/api/rest/login/alice", 401, `{"status":401,"code":"mfa_required","message":"a second factor is required","mfaRequired":"totp","ticket":"t"}`, true},
		{"error with an unknown code", "POST", "/sparkweb/api/rest/login/alice", 401, `{"status":401,"code":"nope","message":"x"}`, false},
		{"error without a code", "GET", "/sparkweb/api/rest/roster", 502, `{"status":502,"message":"x"}`, false},
		{"undocumented status", "GET", "/sparkweb/api/rest/roster", 418, `{"status":418,"code":"bad_request","message":"x"}`, false},
		{"roster", "GET", "/sparkweb/api/rest/roster", 200, `{"roster":[{"jid":"bob@example.org","nickname":"Bob","subscriptionType":3,"groups":[]}]}`, true},
		{"presence", "GET", "/sparkweb/api/rest/presence/bob", 200, `{"username":"bob@example.org","show":"away","status":"lunch"}`, true},
		{"presence with unknown show", "GET", "/sparkweb/api/rest/presence/bob", 200, `{"username":"bob@example.org","show":"busy"}`, false},
		{"upload slot", "GET", "/sparkweb/api/rest/upload/a.txt/3", 200, `{"putUrl":"https://u.example.org/p","getUrl":"https://u.example.org/g","headers":{"Authorization":"x"}}`, true},
		{"room without password", "GET", "/sparkweb/api/rest/groupchat/room/lobby", 200, `{"roomName":"lobby","publicRoom":true,"owners":["alice@example.org"]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, nil)
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("FindRoute: %v", err)
			}
			in := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
				Status:                 tt.status,
				Header:                 http.Header{"Content-Type": {"application/json"}},
				Options:                &openapi3filter.Options{IncludeResponseStatus: true},
			}
			in.SetBodyBytes([]byte(tt.body))
			err = openapi3filter.ValidateResponse(t.Context(), in)
			if gotOK := err == nil; gotOK != tt.wantOK {
				t.Errorf("ValidateResponse(%d %s) = %v, want ok=%v", tt.status, tt.body, err, tt.wantOK)
			}
		})
	}
}
