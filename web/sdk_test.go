package web_test

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/internal/browsertest"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/internal/gatewayenv"
	"github.com/sparkgate/sparkgate/web"
)

// sdkUsers are the modules that speak to the gateway through the SDK's
// ESM build (issue 22), each with what shows it: the calls (api.js), the
// push subscription and the event stream import the build; the logins
// use its helpers on api.js's clients.
var sdkUsers = map[string][]string{
	"api.js":    {`\bfrom\s+['"]\./sparkgate-client\.js['"]`, `\.api\.request\(`},
	"push.js":   {`\bfrom\s+['"]\./sparkgate-client\.js['"]`, `\bsubscribePush\(`, `\bputPushSubscription\(`, `\bdeletePushSubscription\(`},
	"events.js": {`\bfrom\s+['"]\./sparkgate-client\.js['"]`, `\.subscribe\(`},
	"auth.js":   {`\.loginWithPassword\(`, `\.loginWithTOTP\(`, `\.loginWithPasskey\(`, `\.registerPasskey\(`},
}

// ownFetches are the modules allowed to call fetch themselves, and why:
// neither talks to the gateway's REST API or its stream.
var ownFetches = map[string]string{
	"chat.js":             "the upload's PUT goes to the HTTP upload service's slot",
	"sw.js":               "the service worker is a classic script and cannot import the SDK",
	"sparkgate-client.js": "the SDK itself",
}

// TestClientUsesSDK fails when the web client goes back to hand-writing
// what the SDK provides: each of sdkUsers uses the SDK as it says, no
// module opens an EventSource, runs a WebAuthn ceremony or subscribes
// to push itself, and only ownFetches call fetch.
func TestClientUsesSDK(t *testing.T) {
	static, err := fs.Sub(web.FS, "static")
	if err != nil {
		t.Fatal(err)
	}
	for f, uses := range sdkUsers {
		b, err := fs.ReadFile(static, f)
		if err != nil {
			t.Fatal(err)
		}
		src := withoutComments(string(b))
		for _, use := range uses {
			if !regexp.MustCompile(use).MatchString(src) {
				t.Errorf("%s does not use the SDK: no match for %s", f, use)
			}
		}
	}
	forbidden := map[string]*regexp.Regexp{
		"opens an EventSource":       regexp.MustCompile(`\bnew\s+EventSource\b`),
		"runs a WebAuthn ceremony":   regexp.MustCompile(`\bcredentials\s*\.\s*(get|create)\s*\(`),
		"subscribes to push":         regexp.MustCompile(`\bpushManager\s*\.\s*subscribe\s*\(`),
		"calls fetch":                regexp.MustCompile(`(^|[^.\w])fetch\s*\(`),
		"sends an XMLHttpRequest":    regexp.MustCompile(`\bXMLHttpRequest\b`),
		"opens the stream by itself": regexp.MustCompile(`['"]/sse['"]|/sse\?`),
	}
	files, err := fs.Glob(static, "*.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f == "sparkgate-client.js" {
			continue
		}
		b, err := fs.ReadFile(static, f)
		if err != nil {
			t.Fatal(err)
		}
		src := withoutComments(string(b))
		for what, re := range forbidden {
			if what == "calls fetch" && ownFetches[f] != "" {
				continue
			}
			if m := re.FindString(src); m != "" {
				t.Errorf("%s %s (%q): go through the SDK (./sparkgate-client.js)", f, what, strings.TrimSpace(m))
			}
		}
	}
	for f := range ownFetches {
		if _, err := fs.Stat(static, f); err != nil {
			t.Errorf("ownFetches names %s, which is not embedded", f)
		}
	}
}

// withoutComments drops the // line comments of a module (the doc
// comments name what the SDK does), roughly: not inside strings.
func withoutComments(src string) string {
	var b strings.Builder
	for line := range strings.Lines(src) {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "//") {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

// TestBrowserUsesSDK: a signed-in page has loaded the SDK's build from
// the gateway, and its event stream is the SDK's (a fetch with the token
// in a header, no EventSource with the token in the URL), which resumes
// after a cut. At both viewports.
func TestBrowserUsesSDK(t *testing.T) {
	t.Parallel()
	onViewports(t, func(t *testing.T, e *gatewayenv.Env, b *browsertest.Browser, v viewport) {
		u := ejabberdtest.NewUser(t)
		p := newPage(t, b, "alice-"+v.name)
		v.apply(t, p)
		signIn(t, e, p, u.Name, u.Password)
		p.Wait(t, `document.body.dataset.conn === "connected"`)
		// A stream shows in the resource timings once it ended: cut it
		// (the page resumes), then look.
		dropStreams(t, e, p)
		p.Wait(t, `performance.getEntriesByType("resource").some(e => e.name.includes("/sparkweb/api/sse"))`)
		p.Wait(t, `document.body.dataset.conn === "connected"`)
		type entry struct {
			Name      string `json:"name"`
			Initiator string `json:"initiatorType"`
		}
		got := browsertest.MustEval[[]entry](t, p, `performance.getEntriesByType("resource").map(e => ({name: e.name, initiatorType: e.initiatorType}))`)
		var sdk, stream bool
		for _, r := range got {
			switch {
			case strings.HasSuffix(r.Name, "/sparkgate-client.js"):
				sdk = true
			case strings.Contains(r.Name, "/sparkweb/api/sse"):
				stream = true
				if r.Initiator != "fetch" || strings.Contains(r.Name, "token=") {
					t.Errorf("the stream %s was opened by %q, want the SDK's fetch without the token in the URL", r.Name, r.Initiator)
				}
			}
		}
		if !sdk || !stream {
			t.Errorf("the page loaded the SDK: %v, opened the stream: %v; resources: %v", sdk, stream, got)
		}
	})
}
