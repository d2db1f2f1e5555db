package rrproxy

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestRoundRobin: requests go to the nodes in turn, the Host the browser
// used reaches the node, and an event stream's events pass through as the
// node flushes them (not when the response ends).
func TestRoundRobin(t *testing.T) {
	release := make(chan struct{})
	var nodes []*url.URL
	for _, name := range []string{"a", "b", "c"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/sse" {
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, "data: "+name+"\n\n")
				w.(http.Flusher).Flush()
				<-release
				return
			}
			io.WriteString(w, name+" "+r.Host)
		}))
		t.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)
		nodes = append(nodes, u)
	}
	front := httptest.NewServer(New(nodes))
	t.Cleanup(front.Close)
	t.Cleanup(func() { close(release) })

	var got []string
	for range 6 {
		req, _ := http.NewRequest("GET", front.URL+"/x", nil)
		req.Host = "localhost:8080"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got = append(got, string(b))
	}
	want := "a localhost:8080,b localhost:8080,c localhost:8080,a localhost:8080,b localhost:8080,c localhost:8080"
	if strings.Join(got, ",") != want {
		t.Errorf("requests went to %q, want %q", got, want)
	}

	resp, err := http.Get(front.URL + "/sse")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(resp.Body).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if l != "data: a\n" {
			t.Errorf("first line of the stream %q, want the event of node a", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream's first event did not pass the proxy while the stream stayed open")
	}
}
