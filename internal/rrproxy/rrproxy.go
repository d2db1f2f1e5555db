// Package rrproxy is the load balancer in front of a cluster of gateway
// nodes, for `make cluster` (cmd/sparkdev) and the cluster tests: it
// sends each request to the next node in turn, knowing nothing about
// users, as an operator's balancer need not.
package rrproxy

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
)

// RoundRobin sends each request to the next node in turn; event streams
// pass through unbuffered (FlushInterval -1), so an event reaches the
// browser when the node writes it. A node that owns another node's user
// answers for it (the gateway's own business). A node that is down is not
// skipped: its requests answer 502, as a plain balancer's would without
// health checks. It is safe for concurrent use.
type RoundRobin struct {
	nodes []*url.URL
	next  atomic.Uint64
	proxy *httputil.ReverseProxy
}

// New returns a RoundRobin over nodes (at least one).
func New(nodes []*url.URL) *RoundRobin {
	rr := &RoundRobin{nodes: nodes}
	rr.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			n := rr.nodes[int(rr.next.Add(1)-1)%len(rr.nodes)]
			r.SetURL(n)
			r.Out.Host = r.In.Host // the public URL's host, as WebAuthn and CORS expect
			r.SetXForwarded()
		},
		FlushInterval: -1,
	}
	return rr
}

// ServeHTTP passes r to the next node.
func (rr *RoundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) { rr.proxy.ServeHTTP(w, r) }
