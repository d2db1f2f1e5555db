package gateway

import (
	"errors"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestExtractMeta(t *testing.T) {
	base, _ := url.Parse("https://example.com/articles/1")
	tests := []struct {
		name    string
		page    string
		quality int
		want    pageMeta
	}{
		{"opengraph", `<html><head><title>Plain</title>
			<meta property="og:title" content=" OG  title ">
			<meta property="og:description" content="OG description">
			<meta property="og:site_name" content="Example">
			<meta property="og:image" content="/small.png"><meta property="og:image:width" content="100">
			<meta property="og:image" content="https://cdn.example.com/big.png"><meta property="og:image:width" content="1200">
			</head><body><img src="/body.png"></body></html>`, 9,
			pageMeta{Title: "OG title", Description: "OG description", SiteName: "Example", Image: "https://cdn.example.com/big.png"}},
		{"quality-picks-small", `<meta property="og:image" content="/small.png"><meta property="og:image:width" content="100">
			<meta property="og:image" content="/big.png"><meta property="og:image:width" content="1200">`, 1,
			pageMeta{Image: "https://example.com/small.png"}},
		{"twitter", `<meta name="twitter:title" content="TW"><meta name="twitter:description" content="TD">
			<meta name="twitter:image" content="//img.example.org/t.jpg">`, 5,
			pageMeta{Title: "TW", Description: "TD", Image: "https://img.example.org/t.jpg"}},
		{"plain", "<title>A\n  page &amp; more</title><meta name=description content='Desc'><link rel=image_src href='i.png'>", 5,
			pageMeta{Title: "A page & more", Description: "Desc", Image: "https://example.com/articles/i.png"}},
		{"img-fallback", `<body><img src="javascript:alert(1)"><img src="data:image/png;base64,AA"></body>`, 5, pageMeta{}},
		{"first-img", `<body><p>x</p><img src="pic.jpg"><img src="other.jpg"></body>`, 5,
			pageMeta{Image: "https://example.com/articles/pic.jpg"}},
		{"long-title", "<title>" + strings.Repeat("é", 1000) + "</title>", 5, pageMeta{Title: strings.Repeat("é", maxPreviewTitle)}},
		{"title-in-body-ignored-after-first", "<title>One</title><svg><title>Two</title></svg>", 5, pageMeta{Title: "One"}},
		{"control-chars", "<title>a\x00b\x07c</title>", 5, pageMeta{Title: "a\uFFFDb c"}}, // the tokenizer turns NUL into U+FFFD
		{"nul-kept-out", "<title>x</title>", 5, pageMeta{Title: "x"}},
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
		if utf8.RuneCountInString(m.Title) > maxPreviewTitle || utf8.RuneCountInString(m.Description) > maxPreviewDescription {
			t.Fatalf("over the limits: %d, %d runes", utf8.RuneCountInString(m.Title), utf8.RuneCountInString(m.Description))
		}
		if m.Image != "" {
			u, err := url.Parse(m.Image)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(m.Image) > maxPreviewURL {
				t.Fatalf("image %q is not an http(s) URL", m.Image)
			}
		}
	})
}

func TestCheckURL(t *testing.T) {
	p, err := newPreviewer(PreviewConfig{})
	if err != nil {
		t.Fatal(err)
	}
	allowed, err := newPreviewer(PreviewConfig{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, Ports: []uint16{0}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		p   *previewer
		url string
		ok  bool
	}{
		{p, "https://example.com/a", true},
		{p, "http://example.com:80/", true},
		{p, "HTTPS://Example.COM/", true},
		{p, "http://93.184.215.14/", true},
		{p, "http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/", true},
		{p, "ftp://example.com/", false},
		{p, "file:///etc/passwd", false},
		{p, "http://user:pw@example.com/", false},
		{p, "http://127.0.0.1/", false},
		{p, "http://[::1]/", false},
		{p, "http://[::ffff:127.0.0.1]/", false},
		{p, "http://[::ffff:7f00:1]/", false},
		{p, "http://10.1.2.3/", false},
		{p, "http://172.16.0.1/", false},
		{p, "http://192.168.1.1/", false},
		{p, "http://169.254.169.254/latest/meta-data/", false},
		{p, "http://100.64.0.1/", false},
		{p, "http://0.0.0.0/", false},
		{p, "http://[::]/", false},
		{p, "http://224.0.0.1/", false},
		{p, "http://[fe80::1]/", false},
		{p, "http://[fe80::1%25eth0]/", false},
		{p, "http://[fc00::1]/", false},
		{p, "http://[64:ff9b::7f00:1]/", false},
		{p, "http://2130706433/", false},
		{p, "http://0177.0.0.1/", false},
		{p, "http://0x7f000001/", false},
		{p, "http://0x7f.0.0.1/", false},
		{p, "http://127.1/", false},
		{p, "http://017700000001/", false},
		{p, "http://example.com:8080/", false}, // only 80 and 443 by default
		{p, "http://example.com:0/", false},
		{allowed, "http://127.0.0.2:8080/", true},
		{allowed, "http://127.0.0.1:8080/", false},
		{allowed, "http://example.com:8080/", true},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			if tt.ok {
				t.Errorf("url.Parse(%q): %v", tt.url, err)
			}
			continue
		}
		err = tt.p.checkURL(u)
		if (err == nil) != tt.ok {
			t.Errorf("checkURL(%q) = %v, want ok %v", tt.url, err, tt.ok)
		}
		if err != nil && !errors.Is(err, errPreviewRefused) {
			t.Errorf("checkURL(%q) = %v, not errPreviewRefused", tt.url, err)
		}
	}
}

// FuzzPreviewGuard: whatever the URL, checkURL never panics, and a URL it
// accepts never names a special-purpose address literally or in a numeric
// form; whatever the address, the dial-time guard never lets a loopback,
// private, link-local, multicast or unspecified one through (IPv4-mapped
// forms included).
func FuzzPreviewGuard(f *testing.F) {
	p, err := newPreviewer(PreviewConfig{Ports: []uint16{0}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"http://127.0.0.1/", "http://[::ffff:10.0.0.1]/", "http://0x7f000001/", "https://example.com/", "http://1.1.1.1:8080/x"} {
		f.Add(s, []byte{127, 0, 0, 1})
	}
	f.Add("http://[::1]/", []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1})
	f.Fuzz(func(t *testing.T, raw string, ip []byte) {
		if u, err := url.Parse(raw); err == nil && p.checkURL(u) == nil {
			host := u.Hostname()
			a, err := netip.ParseAddr(host)
			if err == nil && special(a) {
				t.Fatalf("checkURL accepted %q (%v)", raw, a)
			}
			if err != nil && numericHost(host) {
				t.Fatalf("checkURL accepted the numeric host %q", host)
			}
		}
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			return
		}
		if special(a) && p.guard.SafeAddr(a) == nil {
			t.Fatalf("guard allowed %v", a)
		}
		if err := p.guard.Safe("tcp4", netip.AddrPortFrom(a.Unmap(), 80).String(), nil); special(a) && a.Unmap().Is4() && err == nil {
			t.Fatalf("guard allowed %v as tcp4", a)
		}
	})
}

// special reports whether a is an address a preview must never reach.
func special(a netip.Addr) bool {
	u := a.Unmap()
	return u.IsLoopback() || u.IsPrivate() || u.IsLinkLocalUnicast() || u.IsLinkLocalMulticast() ||
		u.IsMulticast() || u.IsUnspecified() || u.IsInterfaceLocalMulticast() ||
		netip.MustParsePrefix("100.64.0.0/10").Contains(u) || netip.MustParsePrefix("0.0.0.0/8").Contains(u)
}

func TestPreviewCacheBound(t *testing.T) {
	p, err := newPreviewer(PreviewConfig{CacheSize: 8, CacheTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		title := strconv.Itoa(i)
		p.store(title, LinkPreview{Title: &title})
		if len(p.cache) > 8 {
			t.Fatalf("cache holds %d previews, limit 8", len(p.cache))
		}
	}
	last := "99"
	if lp, ok := p.cached(last); !ok || *lp.Title != last {
		t.Fatalf("the newest preview is not cached: %+v, %v", lp, ok)
	}

	off, err := newPreviewer(PreviewConfig{CacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	off.store("k", LinkPreview{})
	if _, ok := off.cached("k"); ok || len(off.cache) != 0 {
		t.Fatal("a disabled cache kept a preview")
	}
}
