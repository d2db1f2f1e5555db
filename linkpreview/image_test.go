package linkpreview

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// pngBytes is the start of a PNG file: enough for its type to be read.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

func TestImage(t *testing.T) {
	mux := http.NewServeMux()
	serve := func(path, declared string, body []byte) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", declared)
			w.Write(body)
		})
	}
	serve("/a.png", "image/png", pngBytes)
	serve("/lying.png", "text/html", pngBytes) // the bytes say what it is
	serve("/a.jpg", "image/jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"))
	serve("/a.gif", "image/gif", []byte("GIF89a\x01\x00\x01\x00"))
	serve("/a.webp", "image/webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 "))
	serve("/a.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
	serve("/page", "image/png", []byte("<!doctype html><title>not an image</title>"))
	serve("/huge.png", "image/png", append(append([]byte{}, pngBytes...), bytes.Repeat([]byte{0}, MaxImageBytes)...))
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/to-inside", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:9/secret.png", http.StatusFound)
	})
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.2: %v", err)
	}
	s := httptest.NewUnstartedServer(mux)
	s.Listener.Close()
	s.Listener = ln
	s.Start()
	t.Cleanup(s.Close)
	f, err := New(Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, Ports: []uint16{0}, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path     string
		wantType string
		wantErr  error // nil: an image; else what the error wraps (or any error for errAny)
	}{
		{"/a.png", "image/png", nil},
		{"/lying.png", "image/png", nil},
		{"/a.jpg", "image/jpeg", nil},
		{"/a.gif", "image/gif", nil},
		{"/a.webp", "image/webp", nil},
		{"/a.svg", "", ErrNotImage},
		{"/page", "", ErrNotImage},
		{"/huge.png", "", ErrNotImage},
		{"/missing", "", errAny},
		{"/to-inside", "", ErrRefused},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			img, err := f.Image(t.Context(), s.URL+tt.path)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Image: %v", err)
			case tt.wantErr == nil && (img.Type != tt.wantType || len(img.Data) == 0):
				t.Fatalf("Image = %q, %d bytes; want %q", img.Type, len(img.Data), tt.wantType)
			case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("Image = %q, %v; want an error wrapping %v", img.Type, err, tt.wantErr)
			}
		})
	}
	for _, bad := range []string{"http://127.0.0.1:9/x.png", "ftp://127.0.0.2/x.png", "/relative.png", "http://10.0.0.1/x.png"} {
		if _, err := f.Image(t.Context(), bad); !errors.Is(err, ErrRefused) {
			t.Errorf("Image(%q) = %v, want ErrRefused", bad, err)
		}
	}
}

// errAny stands for any error in TestImage's table.
var errAny = errors.New("any error")
