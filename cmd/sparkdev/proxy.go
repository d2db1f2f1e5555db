package main

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
)

// roundRobin is the load balancer of `make cluster`: it knows nothing about
// users, as an operator's would not. Each request goes to the next node in
// turn; event streams pass through unbuffered (FlushInterval -1), so an
// event reaches the browser when the node writes it. A node that owns
// another node's user answers for it (the gateway's own business).
type roundRobin struct {
	nodes []*url.URL
	next  atomic.Uint64
	proxy *httputil.ReverseProxy
}

func newRoundRobin(nodes []*url.URL) *roundRobin {
	rr := &roundRobin{nodes: nodes}
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

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) { rr.proxy.ServeHTTP(w, r) }
