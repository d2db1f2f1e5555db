package linkpreview

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestExtractMeta(t *testing.T) {
	base, _ := url.Parse("https://example.com/articles/1")
	tests := []struct {
		name    string
		page    string
		quality int
		want    Preview
	}{
		{"opengraph", `<html><head><title>Plain</title>
			<meta property="og:title" content=" OG  title ">
			<meta property="og:description" content="OG description">
			<meta property="og:site_name" content="Example">
			<meta property="og:image" content="/small.png"><meta property="og:image:width" content="100">
			<meta property="og:image" content="https://cdn.example.com/big.png"><meta property="og:image:width" content="1200">
			</head><body><img src="/body.png"></body></html>`, 9,
			Preview{Title: "OG title", Description: "OG description", SiteName: "Example", Image: "https://cdn.example.com/big.png"}},
		{"quality-picks-small", `<meta property="og:image" content="/small.png"><meta property="og:image:width" content="100">
			<meta property="og:image" content="/big.png"><meta property="og:image:width" content="1200">`, 1,
			Preview{Image: "https://example.com/small.png"}},
		{"twitter", `<meta name="twitter:title" content="TW"><meta name="twitter:description" content="TD">
			<meta name="twitter:image" content="//img.example.org/t.jpg">`, 5,
			Preview{Title: "TW", Description: "TD", Image: "https://img.example.org/t.jpg"}},
		{"plain", "<title>A\n  page &amp; more</title><meta name=description content='Desc'><link rel=image_src href='i.png'>", 5,
			Preview{Title: "A page & more", Description: "Desc", Image: "https://example.com/articles/i.png"}},
		{"img-fallback", `<body><img src="javascript:alert(1)"><img src="data:image/png;base64,AA"></body>`, 5, Preview{}},
		{"first-img", `<body><p>x</p><img src="pic.jpg"><img src="other.jpg"></body>`, 5,
			Preview{Image: "https://example.com/articles/pic.jpg"}},
		{"long-title", "<title>" + strings.Repeat("é", 1000) + "</title>", 5, Preview{Title: strings.Repeat("é", maxTitle)}},
		{"title-in-body-ignored-after-first", "<title>One</title><svg><title>Two</title></svg>", 5, Preview{Title: "One"}},
		{"control-chars", "<title>a\x00b\x07c</title>", 5, Preview{Title: "a\uFFFDb c"}}, // the tokenizer turns NUL into U+FFFD
		{"nul-kept-out", "<title>x</title>", 5, Preview{Title: "x"}},
		{"image-bad-port", `<meta property="og:image" content="//:0:">`, 5, Preview{}},
		{"image-port-without-host", `<meta property="og:image" content="//:80/a.png">`, 5, Preview{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := extractMeta(strings.NewReader(tt.page), base, tt.quality)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("extractMeta (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzExtractMeta: no page makes the parser panic, and what it reports is
// valid UTF-8 without control characters, within the length limits, with
// an image that is an http(s) URL or nothing.
func FuzzExtractMeta(f *testing.F) {
	f.Add(`<html><head><title>T</title><meta property="og:image" content="/a.png"></head></html>`, 3)
	f.Add(`<meta name="twitter:image" content="//x"><img src="y">`, 9)
	f.Add("<title>\xff\xfe</title><meta property=og:image:width content=-1>", 1)
	base, _ := url.Parse("https://example.com/dir/page")
	f.Fuzz(func(t *testing.T, page string, quality int) {
		m := extractMeta(strings.NewReader(page), base, quality)
		for _, s := range []string{m.Title, m.Description, m.SiteName} {
			if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
				t.Fatalf("unclean text %q", s)
			}
		}
		if utf8.RuneCountInString(m.Title) > maxTitle || utf8.RuneCountInString(m.Description) > maxDescription {
			t.Fatalf("over the limits: %d, %d runes", utf8.RuneCountInString(m.Title), utf8.RuneCountInString(m.Description))
		}
		if m.Image != "" {
			u, err := url.Parse(m.Image)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(m.Image) > MaxURL {
				t.Fatalf("image %q is not an http(s) URL", m.Image)
			}
		}
	})
}
