package gateway_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
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
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/gateway/gatewaytest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
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
}

// TestIntegrationSecurityTokens: every authenticated operation of the
// spec refuses a missing, expired, revoked, tampered, alg=none or
// foreign-key token with 401 and the JSON error body.
func TestIntegrationSecurityTokens(t *testing.T) {
	e := newAuthGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	ops := authenticatedOps(t)
	if len(ops) < 50 {
		t.Fatalf("only %d authenticated operations in the spec", len(ops))
	}
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
		{"web-index", e.Do(t, "GET", "/index.html", "", "", ""), false, true, 0},
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
	{"zero-width-space", "b%E2%80%8Bob"},
	{"rtl-override", "b%E2%80%AEob"},
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
	// ".." is a valid localpart and "../admin" a valid resource: no
	// file system is behind a JID.
	{"dotdot", "..%2F..%2Fadmin"},
}

// TestIntegrationSecurityJIDInjection puts malformed and odd JIDs into
// every path parameter that names one: malformed ones are 400 with the
// JSON error body, odd ones any status but a 5xx.
func TestIntegrationSecurityJIDInjection(t *testing.T) {
	e := newGateway(t, nil)
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
