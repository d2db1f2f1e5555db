package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// BenchmarkIntegrationSendChat is the server side of a sent message, in
// process: the middleware, request validation, token check, the handler
// and the stanza write to the real ejabberd (no HTTP connection). Profile
// it with -cpuprofile to see where a POST /chat/message spends its CPU.
func BenchmarkIntegrationSendChat(b *testing.B) {
	// One user sends b.N messages as fast as they go: past the per-user
	// request limit (apilimit.go), which a benchmark of the path is not.
	e := newGateway(b, func(c *gateway.Config) { c.Limits.UserRequests = gateway.RateLimit{Burst: -1} })
	var tokens [2]string
	users := [2]ejabberdtest.User{ejabberdtest.NewUser(b), ejabberdtest.NewUser(b)}
	for i, u := range users { // both online, as in the latency benchmark
		tokens[i] = e.Login(b, u.Name, u.Password)
	}
	path, auth := api+"/chat/message/"+users[1].Name, "Bearer "+tokens[0]
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader("bench message"))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "text/plain")
		rec := httptest.NewRecorder()
		e.gw.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("send: %d %s", rec.Code, rec.Body)
		}
	}
}
