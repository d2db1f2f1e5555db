package gateway

import (
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/routers"
)

// routeCache remembers which operation of the spec each request path
// resolved to, for request validation. kin-openapi's gorillamux router
// tries the operations' patterns one after another, a regular expression
// each: a third of the CPU a POST /chat/message costs the gateway
// (BenchmarkIntegrationSendChat's profile), on the path of every message.
// A client asks the same few paths again and again (its conversations,
// its rooms), so the answer is kept per method and path.
//
// Only matches are kept: a path that resolves to no operation is a 404 or
// 405 each time, and any client can ask unlimited distinct ones.
type routeCache struct {
	inner routers.Router

	mu sync.RWMutex
	m  map[string]cachedRoute // guarded by mu
}

type cachedRoute struct {
	route  routers.Route
	params map[string]string
}

// routeCacheMax bounds the paths kept (they hold user names and room
// addresses); when it is reached the cache starts again empty, which
// costs the next requests one lookup each.
const routeCacheMax = 4096

func newRouteCache(inner routers.Router) *routeCache {
	return &routeCache{inner: inner, m: make(map[string]cachedRoute)}
}

// FindRoute is the inner router's answer, remembered. Each call gets its
// own copy of the route and of its path parameters: the validator
// unescapes the parameters in place.
func (rc *routeCache) FindRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	key := req.Method + " " + req.URL.EscapedPath()
	rc.mu.RLock()
	hit, ok := rc.m[key]
	rc.mu.RUnlock()
	if !ok {
		route, params, err := rc.inner.FindRoute(req)
		if err != nil {
			return nil, nil, err
		}
		hit = cachedRoute{route: *route, params: clonePathParams(params)}
		rc.mu.Lock()
		if len(rc.m) >= routeCacheMax {
			clear(rc.m)
		}
		rc.m[key] = hit
		rc.mu.Unlock()
	}
	route := hit.route
	return &route, clonePathParams(hit.params), nil
}

func clonePathParams(p map[string]string) map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}
