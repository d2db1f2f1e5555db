package gateway

import (
	"strings"
	"testing"
)

func TestPageCSP(t *testing.T) {
	tests := []struct {
		in       []string
		want     string
		wantImgs string // images come from the same origins (shared uploads)
	}{
		{nil, "connect-src 'self';", "img-src 'self' data: blob:;"},
		{[]string{"http://127.0.0.1:5280/api"}, "connect-src 'self' http://127.0.0.1:5280;", "img-src 'self' data: blob: http://127.0.0.1:5280;"},
		{[]string{"https://upload.example.org", "https://b.example.org:8443/x"}, "connect-src 'self' https://upload.example.org https://b.example.org:8443;",
			"img-src 'self' data: blob: https://upload.example.org https://b.example.org:8443;"},
		// Nothing that could add a directive or a keyword gets through.
		{[]string{"https://a.example.org; script-src *", "javascript:alert(1)", "'unsafe-inline'", "*", "ftp://x.example.org"}, "connect-src 'self';", "img-src 'self' data: blob:;"},
	}
	for _, tt := range tests {
		got := pageCSP(tt.in)
		if !strings.Contains(got, tt.want) || !strings.Contains(got, tt.wantImgs) || strings.Count(got, "script-src") != 1 || strings.Count(got, "img-src") != 1 {
			t.Errorf("pageCSP(%q) = %q, want it to contain %q and %q", tt.in, got, tt.want, tt.wantImgs)
		}
	}
}
