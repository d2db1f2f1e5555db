package linkpreview

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// newSite serves pages on 127.0.0.2, the one address the test's fetcher
// may reach, and returns its URL with the URL of a server on 127.0.0.1
// that must never be reached, and that server's hit counter.
func newSite(t testing.TB) (site string, hits *atomic.Int64, inside string, insideHits *atomic.Int64) {
	t.Helper()
	hits, insideHits = new(atomic.Int64), new(atomic.Int64)
	in := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		insideHits.Add(1)
		fmt.Fprint(w, "<title>secret</title>")
	}))
	t.Cleanup(in.Close)
	_, inPort, _ := net.SplitHostPort(in.Listener.Addr().String())

	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<title>Plain</title><meta property="og:title" content="The Page"><meta property="og:image" content="/i.png">`)
	})
	mux.HandleFunc("/image", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\n"))
	})
	mux.HandleFunc("/binary", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/to-page", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/page", http.StatusFound) })
	mux.HandleFunc("/to-inside", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:"+inPort+"/", http.StatusFound)
	})
	mux.HandleFunc("/to-localhost", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:"+inPort+"/", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.2: %v", err)
	}
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	s.Listener.Close()
	s.Listener = ln
	s.Start()
	t.Cleanup(s.Close)
	return s.URL, hits, in.URL, insideHits
}

func TestFetch(t *testing.T) {
	site, hits, inside, insideHits := newSite(t)
	f, err := New(Config{
		Allow:   []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")},
		Ports:   []uint16{0},
		Timeout: 3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	page := Preview{URL: site + "/page", Title: "The Page", Image: site + "/i.png"}
	ok := []struct {
		name, url string
		want      Preview
	}{
		{"page", site + "/page", page},
		{"redirect-same-site", site + "/to-page#top", page},
		{"image", site + "/image", Preview{URL: site + "/image", Image: site + "/image"}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.Fetch(t.Context(), tt.url, 5)
			if err != nil {
				t.Fatalf("Fetch(%q): %v", tt.url, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Fetch(%q) (-want +got):\n%s", tt.url, diff)
			}
		})
	}
	t.Run("cached", func(t *testing.T) {
		before := hits.Load()
		if _, err := f.Fetch(t.Context(), site+"/page", 5); err != nil {
			t.Fatal(err)
		}
		if n := hits.Load() - before; n != 0 {
			t.Fatalf("a cached preview fetched the page %d times", n)
		}
	})

	bad := []struct {
		name, url string
		refused   bool
	}{
		{"inside", inside + "/", true},
		{"redirect-inside", site + "/to-inside", true},
		{"redirect-localhost", site + "/to-localhost", true}, // refused when dialling
		{"redirect-loop", site + "/loop", true},
		{"relative", "/page", true},
		{"too-long", site + "/" + string(make([]byte, MaxURL)), true},
		{"not-html", site + "/binary", false},
		{"404", site + "/missing", false},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.Fetch(t.Context(), tt.url, 5)
			if err == nil || errors.Is(err, ErrRefused) != tt.refused {
				t.Errorf("Fetch(%.60q) = %v, want an error, ErrRefused %v", tt.url, err, tt.refused)
			}
		})
	}
	if n := insideHits.Load(); n != 0 {
		t.Errorf("the server inside was reached %d times", n)
	}

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := f.Fetch(ctx, site+"/to-page", 5); !errors.Is(err, context.Canceled) {
			t.Errorf("Fetch with a cancelled context = %v, want context.Canceled", err)
		}
	})
}

func TestNewRefusesInvalidPrefix(t *testing.T) {
	if _, err := New(Config{Allow: []netip.Prefix{{}}}); err == nil {
		t.Error("New accepted an invalid Allow prefix")
	}
}
