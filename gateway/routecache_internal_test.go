package gateway

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/routers"
)

// countingRouter resolves /rest/chat/message/{to} and counts its calls.
type countingRouter struct{ calls int }

func (r *countingRouter) FindRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	r.calls++
	to, ok := strings.CutPrefix(req.URL.EscapedPath(), "/rest/chat/message/")
	if !ok {
		return nil, nil, routers.ErrPathNotFound
	}
	if req.Method != http.MethodPost {
		return nil, nil, routers.ErrMethodNotAllowed
	}
	return &routers.Route{Path: "/rest/chat/message/{to}", Method: req.Method}, map[string]string{"to": to}, nil
}

// TestRouteCache: a path asked again is not resolved again; each answer
// has its own route and parameters (the validator unescapes them in
// place); refusals are never kept; the cache stays within its bound.
func TestRouteCache(t *testing.T) {
	inner := &countingRouter{}
	rc := newRouteCache(inner)
	find := func(method, path string) (*routers.Route, map[string]string, error) {
		t.Helper()
		return rc.FindRoute(httptest.NewRequest(method, path, nil))
	}
	for _, tt := range []struct {
		method, path string
		wantErr      error
		wantTo       string
		wantCalls    int // the inner router's calls so far
	}{
		{http.MethodPost, "/rest/chat/message/bob%2540x", nil, "bob%2540x", 1},
		{http.MethodPost, "/rest/chat/message/bob%2540x", nil, "bob%2540x", 1}, // kept
		{http.MethodPost, "/rest/chat/message/carol", nil, "carol", 2},
		{http.MethodGet, "/rest/chat/message/carol", routers.ErrMethodNotAllowed, "", 3},
		{http.MethodGet, "/rest/chat/message/carol", routers.ErrMethodNotAllowed, "", 4}, // not kept
		{http.MethodPost, "/nowhere", routers.ErrPathNotFound, "", 5},
		{http.MethodPost, "/nowhere", routers.ErrPathNotFound, "", 6},
	} {
		route, params, err := find(tt.method, tt.path)
		if err != tt.wantErr {
			t.Fatalf("%s %s: err %v, want %v", tt.method, tt.path, err, tt.wantErr)
		}
		if inner.calls != tt.wantCalls {
			t.Fatalf("%s %s: %d lookups, want %d", tt.method, tt.path, inner.calls, tt.wantCalls)
		}
		if err != nil {
			continue
		}
		if params["to"] != tt.wantTo || route.Path != "/rest/chat/message/{to}" || route.Method != tt.method {
			t.Fatalf("%s %s: %+v %v", tt.method, tt.path, route, params)
		}
		// What the validator does to its copy stays there.
		params["to"] = "changed"
		route.Method = "changed"
	}

	// Bounded: past routeCacheMax paths it starts again.
	for i := range routeCacheMax + 10 {
		if _, _, err := find(http.MethodPost, fmt.Sprintf("/rest/chat/message/u%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	rc.mu.RLock()
	n := len(rc.m)
	rc.mu.RUnlock()
	if n == 0 || n > routeCacheMax {
		t.Fatalf("%d paths kept, want 1..%d", n, routeCacheMax)
	}
}
