package gateway_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/sparkgate/sparkgate"
	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/store"
)

// authMessage is what the validator answers for any token it refuses; a
// 401 with another message would come from somewhere else.
const authMessage = "missing, invalid, expired or revoked token"

// specOp is one operation of openapi.yaml.
type specOp struct {
	method, path string // path as in the spec, with {parameters}
	op           *openapi3.Operation
	item         *openapi3.PathItem
}

// authenticatedOps loads openapi.yaml and returns every operation that
// does not declare `security: []`, in a stable order.
func authenticatedOps(t testing.TB) []specOp {
	t.Helper()
	spec, err := openapi3.NewLoader().LoadFromData(sparkgate.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	var ops []specOp
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			sec := op.Security
			if sec == nil {
				sec = &spec.Security
			}
			if len(*sec) == 0 {
				continue
			}
			ops = append(ops, specOp{method: method, path: path, op: op, item: item})
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].path != ops[j].path {
			return ops[i].path < ops[j].path
		}
		return ops[i].method < ops[j].method
	})
	return ops
}

// params returns the operation's parameters, the path item's included.
func (o specOp) params() openapi3.Parameters {
	ps := slices.Clone(o.op.Parameters)
	for _, p := range o.item.Parameters {
		if o.op.Parameters.GetByInAndName(p.Value.In, p.Value.Name) == nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// sampleValue is a plausible value of a parameter: an enum's first
// value, a number, or a name.
func sampleValue(p *openapi3.Parameter) string {
	if s := p.Schema; s != nil && s.Value != nil {
		if len(s.Value.Enum) > 0 {
			return fmt.Sprint(s.Value.Enum[0])
		}
		if s.Value.Type.Is("integer") || s.Value.Type.Is("number") {
			return "1"
		}
	}
	switch p.Name {
	case "url":
		return url.PathEscape("https://example.org/")
	case "fileName":
		return "notes.txt"
	}
	return "sgsec1"
}

// request builds a plausible request of the operation: path parameters
// filled in, required query parameters set, and a body of the first
// content type it takes, so that no 400 about the shape of the request
// could hide a missing 401 (the validator checks security before
// parameters and body anyway: openapi3filter.ValidateRequest).
func (o specOp) request() (path, ct, body string) {
	path = o.path
	q := url.Values{}
	for _, pr := range o.params() {
		p := pr.Value
		switch p.In {
		case openapi3.ParameterInPath:
			path = strings.ReplaceAll(path, "{"+p.Name+"}", sampleValue(p))
		case openapi3.ParameterInQuery:
			if p.Required {
				q.Set(p.Name, sampleValue(p))
			}
		}
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	if rb := o.op.RequestBody; rb != nil && rb.Value != nil {
		switch {
		case rb.Value.Content.Get("text/plain") != nil:
			ct, body = "text/plain", "hello"
		case rb.Value.Content.Get("application/json") != nil:
			ct, body = "application/json", "{}"
		}
	}
	return path, ct, body
}

// badTokens are tokens that must not authenticate anyone, by kind.
func badTokens(t *testing.T, e *authEnv, u ejabberdtest.User) []struct{ name, header string } {
	t.Helper()
	ctx := t.Context()
	good := e.Login(t, u.Name, u.Password)
	parts := strings.Split(good, ".")

	past, err := auth.NewTokens(auth.TokensConfig{Keys: e.keys, Store: e.store, Audience: e.domain, Issuer: testIssuer,
		Clock: func() time.Time { return time.Now().Add(-9 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	expired, _, err := past.Issue(ctx, u.JID, auth.MethodPassword)
	if err != nil {
		t.Fatal(err)
	}
	revoked := e.Login(t, u.Name, u.Password)
	if r := e.Do(t, "POST", api+"/logout", revoked, "", ""); r.Status != 200 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	// Tampered: another subject, the signature kept.
	forged := strings.Replace(string(payload), u.Name, "admin", 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
	// alg=none: the good token's claims, no signature.
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	otherKeys, err := auth.LoadOrCreateKeys(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := auth.NewTokens(auth.TokensConfig{Keys: otherKeys, Store: e.store, Audience: e.domain, Issuer: testIssuer})
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _, err := other.Issue(ctx, u.JID, auth.MethodPassword)
	if err != nil {
		t.Fatal(err)
	}
	return []struct{ name, header string }{
		{"no-token", ""},
		{"expired", expired},
		{"revoked", revoked},
		{"tampered", tampered},
		{"alg-none", none},
		{"other-key", "Bearer " + otherKey},
	}
}

// wantUnauthorized checks a 401 from the authentication check, with the
// JSON error body.
func wantUnauthorized(t *testing.T, r gatewaytest.Response) {
	t.Helper()
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("status %d %.300s, want 401", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON", ct)
	}
	eb := r.Error(t)
	if eb.Status != 401 || eb.Code != "unauthorized" || eb.Message != authMessage {
		t.Fatalf("error body %+v", eb)
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Cache-Control") != "no-store" ||
		r.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("security headers missing: %v", r.Header)
	}
}

// TestIntegrationSecurityTokens: every authenticated operation of the
// spec refuses a missing, expired, revoked, tampered, alg=none or
// foreign-key token with 401 and the JSON error body.
func TestIntegrationSecurityTokens(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	ops := authenticatedOps(t)
	if len(ops) < 50 {
		t.Fatalf("only %d authenticated operations in the spec", len(ops))
	}
	// A good token in the query string counts only for the stream
	// (EventSource cannot set headers); everywhere else it is no token.
	good := e.Login(t, u.Name, u.Password)
	t.Run("good-token-in-query", func(t *testing.T) {
		for _, o := range ops {
			if o.path == "/sparkweb/api/sse" {
				continue
			}
			path, ct, body := o.request()
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			t.Run(o.method+" "+o.path, func(t *testing.T) {
				wantUnauthorized(t, e.Do(t, o.method, path+sep+"token="+url.QueryEscape(good), "", ct, body))
			})
		}
	})
	for _, tk := range badTokens(t, e, u) {
		t.Run(tk.name, func(t *testing.T) {
			for _, o := range ops {
				path, ct, body := o.request()
				t.Run(o.method+" "+o.path, func(t *testing.T) {
					if o.path == "/sparkweb/api/sse" {
						// The stream takes the token in the query as well.
						if tk.header != "" {
							path += "?token=" + url.QueryEscape(strings.TrimPrefix(tk.header, "Bearer "))
						}
					}
					wantUnauthorized(t, e.Do(t, o.method, path, tk.header, ct, body))
				})
			}
		})
	}
}

// TestIntegrationSecurityHeaders: every response carries nosniff and a
// framing ban; API responses are not cached; pages have a strict CSP.
func TestIntegrationSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	tok := e.Login(t, u.Name, u.Password)
	s, sr := e.Open(t, tok, "")
	s.Close()

	type check struct {
		name   string
		r      gatewaytest.Response
		api    bool // no-store
		page   bool // a page: script-src 'self', no inline script
		status int
	}
	checks := []check{
		{"api-200", e.Do(t, "GET", api+"/roster", tok, "", ""), true, false, 200},
		{"api-401", e.Do(t, "GET", api+"/roster", "", "", ""), true, false, 401},
		{"api-400", e.Do(t, "POST", api+"/chat/message/a%00b", tok, "text/plain", "x"), true, false, 400},
		{"api-404", e.Do(t, "GET", api+"/no/such", tok, "", ""), true, false, 404},
		{"sse", sr, true, false, 200},
		{"healthz", e.Do(t, "GET", "/healthz", "", "", ""), true, false, 200},
		{"readyz", e.Do(t, "GET", "/readyz", "", "", ""), true, false, 200},
		{"web-root", e.Do(t, "GET", "/", "", "", ""), false, true, 200},
		{"web-index", e.Do(t, "GET", "/index.html", "", "", ""), false, true, 200},
		{"docs", e.Do(t, "GET", "/sparkweb/api/docs/", "", "", ""), false, true, 200},
		{"spec", e.Do(t, "GET", "/sparkweb/api/openapi.yaml", "", "", ""), false, false, 200},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			h := c.r.Header
			if c.status != 0 && c.r.Status != c.status {
				t.Fatalf("status %d, want %d", c.r.Status, c.status)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
			csp := h.Get("Content-Security-Policy")
			if h.Get("X-Frame-Options") != "DENY" || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("framing allowed: X-Frame-Options %q, CSP %q", h.Get("X-Frame-Options"), csp)
			}
			if c.api && !strings.Contains(h.Get("Cache-Control"), "no-store") {
				t.Errorf("Cache-Control %q, want no-store", h.Get("Cache-Control"))
			}
			if c.page {
				if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
					strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "object-src 'none'") {
					t.Errorf("page CSP %q", csp)
				}
			}
		})
	}
}

// TestIntegrationSecurityCORS: a preflight from an origin not in the
// configuration gets no Access-Control-Allow-Origin; one from a configured
// origin does.
func TestIntegrationSecurityCORS(t *testing.T) {
	t.Parallel()
	const allowed = "https://chat.example.org"
	on := newGateway(t, func(c *gateway.Config) { c.CORSOrigins = []string{allowed} })
	off := newGateway(t, nil)
	preflight := func(t *testing.T, e *env, origin string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodOptions, e.Base+api+"/chat/message/bob", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, err := e.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	tests := []struct {
		name   string
		e      *env
		origin string
		allow  bool
	}{
		{"allowed-origin", on, allowed, true},
		{"other-origin", on, "https://evil.example.net", false},
		{"suffix-origin", on, allowed + ".evil.example.net", false},
		{"null-origin", on, "null", false},
		{"scheme-differs", on, "http://chat.example.org", false},
		{"no-cors-configured", off, allowed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := preflight(t, tt.e, tt.origin)
			got := resp.Header.Get("Access-Control-Allow-Origin")
			if tt.allow {
				if got != tt.origin || resp.StatusCode >= 300 {
					t.Fatalf("preflight from %s: %d, Access-Control-Allow-Origin %q", tt.origin, resp.StatusCode, got)
				}
				if !strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "authorization") {
					t.Errorf("Access-Control-Allow-Headers %q", resp.Header.Get("Access-Control-Allow-Headers"))
				}
				return
			}
			if got != "" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Fatalf("preflight from %s allowed: %d, Access-Control-Allow-Origin %q", tt.origin, resp.StatusCode, got)
			}
		})
	}
	// A simple request from a foreign origin is not readable either.
	t.Run("simple-request-other-origin", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, on.Base+"/healthz", nil)
		req.Header.Set("Origin", "https://evil.example.net")
		resp, err := on.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Fatalf("Access-Control-Allow-Origin %q", got)
		}
	})
}

// jidInjections are path segments (already escaped) that name no valid
// JID, each with the reason; the gateway must answer 400.
var jidInjections = []struct{ name, seg string }{
	{"slash-only", "%2F"},
	{"empty-resource", "bob%2F"},
	{"at-only", "%40"},
	{"empty-local", "%40example.org"},
	{"two-ats", "a%40b%40c"},
	{"nul", "bo%00b"},
	{"nul-resource", "bob%2Fr%00x"},
	{"crlf", "bob%0D%0Aevent%3A%20evil"},
	{"lf", "bob%0Ax"},
	{"tab", "bo%09b"},
	{"space", "bo%20b"},
	{"angle", "%3Cscript%3E"},
	{"quote", "bo%22b"},
	{"ampersand", "bo%26b"},
	{"colon", "bo%3Ab"},
	{"long-local", strings.Repeat("a", 2000)},
	{"long-domain", "a%40" + strings.Repeat("d", 2000)},
	{"long-resource", "a%2F" + strings.Repeat("r", 2000)},
	{"invalid-utf8", "bo%FFb"},
	{"rtl-override", "b%E2%80%AEob"},
	// The server's Nodeprep refuses these too (package jid).
	{"ltr-mark", "b%E2%80%8Eob"},
	{"fullwidth-at", "a%EF%BC%A0b"},
	{"only-soft-hyphen", "%C2%AD"},
	{"private-use", "b%EE%80%80ob"},
	{"mixed-directions", "%D7%90a"},
}

// jidOddities are valid, if unusual, JIDs: the gateway may accept them or
// refuse them, but never fail (5xx).
var jidOddities = []struct{ name, seg string }{
	{"mixed-case", "BoB"},
	{"mixed-case-domain", "BoB%40EXAMPLE.ORG"},
	{"full-jid", "bob%40example.org%2Fphone"},
	{"resource-with-slash", "bob%40example.org%2Fa%2Fb"},
	{"resource-with-at", "bob%40example.org%2Fa%40b"},
	{"nfc", "b%C3%B6b"},
	{"nfd", "bo%CC%88b"},
	{"fullwidth", "%EF%BD%82ob"},
	{"ligature", "%EF%AC%80"},
	{"domain-only", "example.org"},
	{"idn-domain", "bob%40b%C3%BCcher.example"},
	{"kelvin-sign", "%E2%84%AAelvin"},
	{"emoji", "%F0%9F%98%80"},
	// Nodeprep removes a zero-width space: the server reads "bob".
	{"zero-width-space", "b%E2%80%8Bob"},
	// ".." is a valid localpart and "../admin" a valid resource: no
	// file system is behind a JID.
	{"dotdot", "..%2F..%2Fadmin"},
}

// TestIntegrationSecurityJIDInjection puts malformed and odd JIDs into
// every path parameter that names one: malformed ones are 400 with the
// JSON error body, odd ones any status but a 5xx.
func TestIntegrationSecurityJIDInjection(t *testing.T) {
	t.Parallel()
	// 480 requests of one user within a second or so: past the per-user
	// request limit (apilimit.go), whose 429 would hide the 400s checked.
	e := newGateway(t, func(c *gateway.Config) { c.Limits.UserRequests = gateway.RateLimit{Burst: -1} })
	u := ejabberdtest.NewUser(t)
	tok := e.Login(t, u.Name, u.Password)
	room := "sgsec" + strings.ToLower(rand.Text()[:8])
	type target struct {
		name, method, path, ct, body string // path has %s for the value
	}
	targets := []target{
		{"chat-message", "POST", api + "/chat/message/%s", "text/plain", "hi"},
		{"chat-state", "POST", api + "/chat/chatstate/composing/%s", "", ""},
		{"roster-update", "PUT", api + "/roster/%s", "application/json", `{"jid":"x@example.org","nickname":"x"}`},
		{"roster-delete", "DELETE", api + "/roster/%s", "", ""},
		{"presence-probe", "GET", api + "/presence/%s", "", ""},
		{"room-info", "GET", api + "/groupchat/room/%s", "", ""},
		{"room-post", "POST", api + "/groupchat/room/%s", "text/plain", "hi"},
		{"room-invite-room", "POST", api + "/groupchat/room/%s/bob", "text/plain", "join us"},
		{"room-invite-jid", "POST", api + "/groupchat/room/" + room + "/%s", "text/plain", "join us"},
		{"roster-decline", "POST", api + "/roster/%s/decline", "", ""},
		{"block", "PUT", api + "/blocklist/%s", "", ""},
		{"unblock", "DELETE", api + "/blocklist/%s", "", ""},
	}
	check := func(t *testing.T, tg target, seg string, strict bool) {
		t.Helper()
		r := e.Do(t, tg.method, fmt.Sprintf(tg.path, seg), tok, tg.ct, tg.body)
		if r.Status >= 500 {
			t.Fatalf("%s %s = %d %.300s", tg.method, tg.path, r.Status, r.Body)
		}
		if strict && r.Status != http.StatusBadRequest {
			t.Fatalf("%s %s = %d %.300s, want 400", tg.method, fmt.Sprintf(tg.path, seg), r.Status, r.Body)
		}
		if r.Status >= 400 {
			if eb := r.Error(t); eb.Status != r.Status || eb.Code == "" {
				t.Fatalf("error body %s", r.Body)
			}
		}
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			for _, in := range jidInjections {
				t.Run(in.name, func(t *testing.T) { check(t, tg, in.seg, true) })
			}
			for _, in := range jidOddities {
				t.Run(in.name, func(t *testing.T) { check(t, tg, in.seg, false) })
			}
		})
	}
	// The gateway and the user's session survived all of it.
	if r := e.Do(t, "GET", api+"/roster", tok, "", ""); r.Status != 200 {
		t.Fatalf("roster after the injections: %d %s", r.Status, r.Body)
	}
}

// TestIntegrationSecurityBodies: oversize bodies are 413, malformed ones
// 400 (or 415 for a content type the operation does not take), each with
// the JSON error body.
func TestIntegrationSecurityBodies(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	tok := e.Login(t, u.Name, u.Password)
	big := strings.Repeat("x", 600<<10)
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	tests := []struct {
		name, method, path, ct, body string
		status                       []int
	}{
		{"text-over-512KiB", "POST", api + "/chat/message/bob", "text/plain", big, []int{413}},
		{"json-over-512KiB", "POST", api + "/roster", "application/json", `{"jid":"` + big + `"}`, []int{413}},
		{"stanza-over-512KiB", "POST", api + "/xmpp", "text/plain", "<message>" + big + "</message>", []int{413}},
		{"stanza-over-256KiB", "POST", api + "/xmpp", "text/plain", "<message><body>" + strings.Repeat("x", 300<<10) + "</body></message>", []int{400, 413}},
		{"message-over-64KiB", "POST", api + "/chat/message/bob", "text/plain", strings.Repeat("x", 70000), []int{400}},
		{"message-invalid-utf8", "POST", api + "/chat/message/bob", "text/plain", "a\xffb", []int{400}},
		{"message-json-without-body", "POST", api + "/chat/message/bob", "application/json", `{"text":"x"}`, []int{400}},
		{"message-json-body-not-string", "POST", api + "/chat/message/bob", "application/json", `{"body":["x"]}`, []int{400}},
		{"message-json-truncated", "POST", api + "/chat/message/bob", "application/json", `"abc`, []int{400}},
		{"message-empty", "POST", api + "/chat/message/bob", "text/plain", "", []int{400}},
		{"message-bad-content-type", "POST", api + "/chat/message/bob", "image/png", "x", []int{400, 415}},
		{"message-malformed-content-type", "POST", api + "/chat/message/bob", "text/plain; charset", "x", []int{400, 415}},
		{"roster-truncated-json", "POST", api + "/roster", "application/json", `{"jid":`, []int{400}},
		{"roster-wrong-type", "POST", api + "/roster", "application/json", `{"jid":1}`, []int{400}},
		{"roster-missing-field", "POST", api + "/roster", "application/json", `{"nickname":"x"}`, []int{400}},
		{"roster-array", "POST", api + "/roster", "application/json", `[]`, []int{400}},
		{"roster-deep-nesting", "POST", api + "/roster", "application/json", deep, []int{400}},
		{"roster-trailing-garbage", "POST", api + "/roster", "application/json", `{"jid":"a@b"} {"jid":"c@d"}`, []int{400}},
		{"roster-as-text", "POST", api + "/roster", "text/plain", `{"jid":"a@b"}`, []int{400, 415}},
		{"user-not-json", "PUT", api + "/user", "application/json", `not json`, []int{400}},
		{"bookmark-nul", "POST", api + "/bookmark", "application/json", "{\"name\":\"a\x00\"}", []int{400}},
		{"properties-deep", "POST", api + "/config/properties", "application/json", deep, []int{400}},
		{"notify-malformed", "POST", api + "/webpush/notify/bob", "application/json", `{"subject":`, []int{400}},
		{"presence-status-huge", "POST", api + "/presence?status=" + strings.Repeat("s", 8000), "", "", []int{400, 431}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Do(t, tt.method, tt.path, tok, tt.ct, tt.body)
			if !slices.Contains(tt.status, r.Status) {
				t.Fatalf("%s %s = %d %.300s, want one of %v", tt.method, tt.name, r.Status, r.Body, tt.status)
			}
			if r.Status != 431 {
				if eb := r.Error(t); eb.Status != r.Status || eb.Code == "" || eb.Message == "" {
					t.Fatalf("error body %s", r.Body)
				}
			}
		})
	}
	// A chunked body (no Content-Length) is bounded the same way.
	t.Run("chunked-over-512KiB", func(t *testing.T) {
		req, err := http.NewRequestWithContext(t.Context(), "POST", e.Base+api+"/chat/message/bob",
			io.MultiReader(strings.NewReader(big), strings.NewReader(big)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", tok)
		req.Header.Set("Content-Type", "text/plain")
		resp, err := e.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if req.ContentLength > 0 || resp.StatusCode != 413 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("chunked: length %d, status %d %s", req.ContentLength, resp.StatusCode, b)
		}
	})
}

// TestIntegrationSecurityXMPPStanza: POST /xmpp takes exactly one stanza,
// with no DTD, entities, comments, processing instructions or deep
// nesting.
func TestIntegrationSecurityXMPPStanza(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	u, peer := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	tok := e.Login(t, u.Name, u.Password)
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">` +
		`<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>` +
		`<message to="` + peer.JID + `"><body>&lol3;</body></message>`
	tests := []struct{ name, body string }{
		{"billion-laughs", laughs},
		{"external-entity", `<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><message to="` + peer.JID + `"><body>&x;</body></message>`},
		{"parameter-entity", `<!DOCTYPE m [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x"> %p;]><message/>`},
		{"dtd-only", `<!DOCTYPE message><message to="` + peer.JID + `"><body>x</body></message>`},
		{"undefined-entity", `<message to="` + peer.JID + `"><body>&xxe;</body></message>`},
		{"deep-nesting", `<message to="` + peer.JID + `">` + strings.Repeat("<x>", 100) + strings.Repeat("</x>", 100) + `</message>`},
		{"very-deep-nesting", `<message>` + strings.Repeat("<x>", 20000) + strings.Repeat("</x>", 20000) + `</message>`},
		{"two-roots", `<message to="` + peer.JID + `"><body>a</body></message><message to="` + peer.JID + `"><body>b</body></message>`},
		{"root-then-text", `<message to="` + peer.JID + `"/>trailing`},
		{"comment", `<message to="` + peer.JID + `"><!-- c --><body>x</body></message>`},
		{"processing-instruction", `<message to="` + peer.JID + `"><?pi x?><body>x</body></message>`},
		{"not-a-stanza", `<stream:stream xmlns:stream="http://etherx.jabber.org/streams"/>`},
		{"server-namespace", `<message xmlns="jabber:server" to="` + peer.JID + `"/>`},
		{"unclosed", `<message to="` + peer.JID + `"><body>x</body>`},
		{"mismatched", `<message><body>x</message></body>`},
		{"empty", ` `},
		{"many-attributes", `<message ` + manyAttrs(100) + `/>`},
		{"iq-bad-type", `<iq type="bogus" id="1"><query xmlns="jabber:iq:roster"/></iq>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Do(t, "POST", api+"/xmpp", tok, "text/plain", tt.body)
			if r.Status != 400 {
				t.Fatalf("= %d %.300s, want 400", r.Status, r.Body)
			}
			if eb := r.Error(t); eb.Code != "bad_request" || eb.Message == "" {
				t.Fatalf("error body %s", r.Body)
			}
		})
	}
	// The operation works: one good stanza is sent.
	t.Run("one-good-stanza", func(t *testing.T) {
		r := e.Do(t, "POST", api+"/xmpp", tok, "text/plain", `<message to="`+peer.JID+`" type="chat"><body>ok &amp; &#x263A;</body></message>`)
		if r.Status != 200 {
			t.Fatalf("= %d %s", r.Status, r.Body)
		}
	})
}

func manyAttrs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `a%d="%d" `, i, i)
	}
	return b.String()
}

// TestIntegrationSecuritySSEFields: what a client sends (a message body, a
// stanza id) ends up inside an event's data, never as an event name, id or
// a field of its own.
func TestIntegrationSecuritySSEFields(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := e.Login(t, a.Name, a.Password), e.Login(t, b.Name, b.Password)
	s, _ := e.Open(t, tb, "")
	s.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	evil := "x\r\nevent: evil\r\nid: 1-999\r\nretry: 1\r\ndata: injected\r\n\r\nevent: chatapi.close\ndata: {}\n\n\rz"
	tests := []struct {
		name string
		send func(t *testing.T)
		want func(t *testing.T, c chatapi.Chat) bool
	}{
		{"message-body", func(t *testing.T) {
			if r := e.Do(t, "POST", api+"/chat/message/"+b.Name, ta, "text/plain", evil); r.Status != 200 {
				t.Fatalf("send: %d %s", r.Status, r.Body)
			}
		}, func(t *testing.T, c chatapi.Chat) bool {
			// The body arrives whole; XML normalizes CR to LF.
			return c.Body == strings.ReplaceAll(strings.ReplaceAll(evil, "\r\n", "\n"), "\r", "\n")
		}},
		{"stanza-id", func(t *testing.T) {
			st := `<message to="` + b.JID + `" type="chat" id="i&#13;&#10;event: evil&#10;id: 1-999&#10;"><body>by id</body></message>`
			if r := e.Do(t, "POST", api+"/xmpp", ta, "text/plain", st); r.Status != 200 {
				t.Fatalf("send: %d %s", r.Status, r.Body)
			}
		}, func(t *testing.T, c chatapi.Chat) bool {
			return c.Body == "by id" && strings.Contains(c.ID, "event: evil")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.send(t)
			ev := s.NextNamed(t, chatapi.EventChat, 10*time.Second, nil)
			var c chatapi.Chat
			if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
				t.Fatalf("data %q: %v", ev.Data, err)
			}
			if !tt.want(t, c) {
				t.Fatalf("event data %q", ev.Data)
			}
			if ev.ID == "1-999" || strings.ContainsAny(ev.ID+ev.Name, "\r\n") || strings.Contains(ev.Data, "\n") {
				t.Fatalf("event %+v", ev)
			}
			// Nothing else follows but the unread count the message
			// raised: no injected event, no close.
			for range 3 {
				next, err := s.TryNext(300 * time.Millisecond)
				if err != nil {
					break
				}
				if next.Name != chatapi.EventUnread || strings.Contains(next.Data, "\n") {
					t.Fatalf("an extra event followed: %+v", next)
				}
			}
		})
	}
}

// idorCase is one request by a user on another user's resource; any of
// the statuses is right, 200 never is.
type idorCase struct {
	name, method, path, token, ct, body string
	status                              []int
}

func runIDOR(t *testing.T, e *env, cases []idorCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Do(t, tt.method, api+tt.path, tt.token, tt.ct, tt.body)
			if !slices.Contains(tt.status, r.Status) {
				t.Fatalf("%s %s = %d %.300s, want one of %v", tt.method, tt.path, r.Status, r.Body, tt.status)
			}
			if eb := r.Error(t); eb.Status != r.Status || eb.Code == "" {
				t.Fatalf("error body %s", r.Body)
			}
		})
	}
}

// TestIntegrationSecurityIDOR: a user cannot read, change or delete
// another user's bookmarks, pubsub subscribers, push subscriptions or
// passkeys through their ids.
func TestIntegrationSecurityIDOR(t *testing.T) {
	t.Parallel()
	t.Run("bookmarks", func(t *testing.T) {
		e := newBookmarkGateway(t)
		alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		ta, tb := e.Login(t, alice.Name, alice.Password), e.Login(t, bob.Name, bob.Password)
		r := e.Do(t, "POST", api+"/bookmark", ta, "application/json",
			`{"type":"url","name":"Private","value":"https://private.example.org/","properties":[{"key":"secret","value":"s3"}]}`)
		var b gateway.Bookmark
		r.JSON(t, &b)
		if r.Status != 200 || b.BookmarkID == nil {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		p := fmt.Sprintf("/bookmark/%d", *b.BookmarkID)
		no := []int{403, 404}
		runIDOR(t, e, []idorCase{
			{"get", "GET", p, tb, "", "", no},
			{"update", "PUT", p, tb, "application/json", `{"type":"url","name":"Mine now","value":"https://evil.example.org/"}`, no},
			{"delete", "DELETE", p, tb, "", "", no},
			{"set-property", "POST", p + "/secret", tb, "text/plain", "changed", no},
			{"delete-property", "DELETE", p + "/secret", tb, "", "", no},
		})
		t.Run("list", func(t *testing.T) {
			r := e.Do(t, "GET", api+"/bookmarks", tb, "", "")
			if r.Status != 200 || strings.Contains(string(r.Body), "Private") {
				t.Fatalf("bob's list: %d %s", r.Status, r.Body)
			}
		})
		t.Run("unchanged", func(t *testing.T) {
			r := e.Do(t, "GET", api+p, ta, "", "")
			if r.Status != 200 || !strings.Contains(string(r.Body), `"Private"`) || !strings.Contains(string(r.Body), `"s3"`) {
				t.Fatalf("alice's bookmark after bob: %d %s", r.Status, r.Body)
			}
		})
	})

	t.Run("pubsub", func(t *testing.T) {
		e := newGateway(t, nil)
		alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		ta, tb := e.Login(t, alice.Name, alice.Password), e.Login(t, bob.Name, bob.Password)
		node := "sgsec" + strings.ToLower(rand.Text()[:10])
		if r := e.Do(t, "POST", api+"/pubsub/create/"+node, ta, "", ""); r.Status != 200 {
			t.Fatalf("create node: %d %s", r.Status, r.Body)
		}
		runIDOR(t, e, []idorCase{
			{"subscribers", "GET", "/pubsub/subscribers/" + node, tb, "", "", []int{403}},
			{"publish", "POST", "/pubsub/publish/" + node, tb, "application/json", `{"x":1}`, []int{403}},
		})
		t.Run("owner-sees-subscribers", func(t *testing.T) {
			if r := e.Do(t, "GET", api+"/pubsub/subscribers/"+node, ta, "", ""); r.Status != 200 {
				t.Fatalf("owner: %d %s", r.Status, r.Body)
			}
		})
	})

	t.Run("webpush", func(t *testing.T) {
		p := newPushGateway(t)
		alice, dave := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		ta, td := p.Login(t, alice.Name, alice.Password), p.Login(t, dave.Name, dave.Password)
		sub := p.subscribe(t, ta, "phone")
		runIDOR(t, p.env, []idorCase{
			{"delete-their-resource", "DELETE", "/webpush/subscribe/phone", td, "", "", []int{404}},
			{"notify-non-contact", "POST", "/webpush/notify/" + alice.Name, td, "application/json", `{"subject":"hi","body":"x"}`, []int{403}},
			{"message-non-contact", "POST", "/webpush/message/" + alice.Name, td, "text/plain", "x", []int{403}},
		})
		t.Run("subscribers-list", func(t *testing.T) {
			r := p.Do(t, "GET", api+"/webpush/subscribers", td, "", "")
			if r.Status != 200 || strings.Contains(string(r.Body), alice.Name) {
				t.Fatalf("dave's list: %d %s", r.Status, r.Body)
			}
		})
		t.Run("same-resource-name", func(t *testing.T) {
			// dave's "phone" is dave's; alice's stays hers.
			p.subscribe(t, td, "phone")
			subs, err := p.store.PushSubscriptions(t.Context(), alice.JID)
			if err != nil || len(subs) != 1 || subs[0].Endpoint != sub.Endpoint {
				t.Fatalf("alice's subscriptions %+v, %v", subs, err)
			}
		})
	})

	t.Run("passkeys", func(t *testing.T) {
		e := newAuthGateway(t, nil)
		alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
		ta := e.Login(t, alice.Name, alice.Password)
		e.registerPasskey(t, alice, ta, "alice's key", true)
		tb := e.Login(t, bob.Name, bob.Password)
		var list gateway.WebAuthnCredentials
		e.Do(t, "GET", api+"/webauthn/credentials", ta, "", "").JSON(t, &list)
		if len(list.Credentials) != 1 {
			t.Fatalf("alice's passkeys: %+v", list)
		}
		id := list.Credentials[0].Id
		runIDOR(t, e.env, []idorCase{
			{"delete-their-credential", "DELETE", "/webauthn/credentials/" + id, tb, "", "", []int{403, 404}},
			// Bob knows alice's password: his own token still adds nothing to her account.
			{"add-credential-to-them", "POST", "/webauthn/register/start/" + alice.Name, tb, "text/plain", alice.Password, []int{403}},
			// Nor does it put an authenticator of his on her account.
			{"enrol-totp-on-them", "POST", "/totp/register/" + alice.Name, tb, "text/plain", alice.Password, []int{403}},
		})
		t.Run("list", func(t *testing.T) {
			r := e.Do(t, "GET", api+"/webauthn/credentials", tb, "", "")
			if r.Status != 200 || strings.Contains(string(r.Body), id) {
				t.Fatalf("bob's list: %d %s", r.Status, r.Body)
			}
		})
		t.Run("unchanged", func(t *testing.T) {
			var after gateway.WebAuthnCredentials
			e.Do(t, "GET", api+"/webauthn/credentials", ta, "", "").JSON(t, &after)
			if len(after.Credentials) != 1 || after.Credentials[0].Id != id {
				t.Fatalf("alice's passkeys after bob: %+v", after)
			}
			if _, err := e.store.TOTPSecret(t.Context(), alice.JID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("alice has a TOTP secret after bob: %v", err)
			}
		})
	})
}

// TestIntegrationSecurityStaticTraversal: the web client and the docs
// serve their embedded files only, whatever the path says.
func TestIntegrationSecurityStaticTraversal(t *testing.T) {
	t.Parallel()
	e := newGateway(t, nil)
	paths := []string{
		"/..%2F..%2F..%2Fetc%2Fpasswd",
		"/%2e%2e/%2e%2e/etc/passwd",
		"/static/..%2F..%2Fgo.mod",
		"/sparkweb/api/docs/..%2F..%2F..%2Fetc%2Fpasswd",
		"/sparkweb/api/docs/%2e%2e/%2e%2e/go.mod",
		"/index.html%00.txt",
		"/.git/config",
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			r := e.Do(t, "GET", p, "", "", "")
			if r.Status >= 500 || r.Status == 200 && (strings.Contains(string(r.Body), "root:") ||
				strings.Contains(string(r.Body), "module github.com") || strings.Contains(string(r.Body), "[core]")) {
				t.Fatalf("GET %s = %d %.200s", p, r.Status, r.Body)
			}
		})
	}
}
