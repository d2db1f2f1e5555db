package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"code.dny.dev/ssrf"
	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
)

// Limits of what a preview reports.
const (
	maxPreviewTitle       = 300  // runes
	maxPreviewDescription = 1000 // runes
	maxPreviewURL         = 4096 // bytes
	maxPreviewFetches     = 16   // concurrent fetches per gateway
)

// errPreviewRefused is returned for a URL or an address the fetcher will
// not connect to.
var errPreviewRefused = errors.New("gateway: preview address refused")

// previewer fetches pages for GET /preview through an SSRF-safe client and
// keeps the results for a while. It is safe for concurrent use.
//
// The guard works at three points: the URL is checked before the request
// (scheme, credentials, IP literals and the numeric forms of IPv4 that
// inet_aton accepts), every redirect is checked the same way, and the
// dialer's Control function checks the address actually being connected
// to, after DNS resolution, so a name that resolves to a refused address
// (or changes its answer between two lookups) is refused too. No proxy is
// used: one would connect on the fetcher's behalf, past the guard.
type previewer struct {
	cfg    PreviewConfig
	ports  []uint16 // nil: any port
	guard  *ssrf.Guardian
	client *http.Client
	slots  chan struct{}

	mu    sync.Mutex
	cache map[string]cachedPreview
}

type cachedPreview struct {
	p   LinkPreview
	exp time.Time
}

func newPreviewer(cfg PreviewConfig) (*previewer, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 1 << 20
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = 5
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 10 * time.Minute
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 1024
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "sparkgate-preview"
	}
	var v4, v6 []netip.Prefix
	for _, p := range cfg.Allow {
		if !p.IsValid() {
			return nil, fmt.Errorf("users: preview allow prefix %v is invalid", p)
		}
		if p.Addr().Is4() {
			v4 = append(v4, p.Masked())
		} else {
			v6 = append(v6, p.Masked())
		}
	}
	ports := []uint16{80, 443}
	switch {
	case len(cfg.Ports) == 1 && cfg.Ports[0] == 0:
		ports = nil
	case len(cfg.Ports) > 0:
		ports = slices.Clone(cfg.Ports)
	}
	opts := []ssrf.Option{ssrf.WithAllowedV4Prefixes(v4...), ssrf.WithAllowedV6Prefixes(v6...), ssrf.WithPorts(ports...)}
	p := &previewer{
		cfg:   cfg,
		ports: ports,
		guard: ssrf.New(opts...),
		slots: make(chan struct{}, maxPreviewFetches),
		cache: make(map[string]cachedPreview),
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, Control: p.guard.Safe}
	p.client = &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{
			Proxy:                  nil,
			DialContext:            dialer.DialContext,
			TLSHandshakeTimeout:    cfg.Timeout,
			ResponseHeaderTimeout:  cfg.Timeout,
			MaxResponseHeaderBytes: 64 << 10,
			// Each preview is a one-off: no idle connections (and so no
			// goroutines) outlive it.
			DisableKeepAlives: true,
			ForceAttemptHTTP2: true,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if cfg.MaxRedirects < 0 || len(via) > cfg.MaxRedirects {
				return fmt.Errorf("%w: more than %d redirects", errPreviewRefused, max(cfg.MaxRedirects, 0))
			}
			return p.checkURL(req.URL)
		},
	}
	return p, nil
}

// checkURL refuses what must never be fetched, before any connection:
// another scheme than http or https, credentials in the URL, an IP
// literal the guard refuses, and host names that are IPv4 addresses in a
// form other than dotted decimal (2130706433, 0x7f000001, 0177.0.0.1,
// 127.1), which some resolvers turn into addresses.
func (p *previewer) checkURL(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return fmt.Errorf("%w: only http and https URLs", errPreviewRefused)
	}
	if u.User != nil {
		return fmt.Errorf("%w: credentials in the URL", errPreviewRefused)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: no host", errPreviewRefused)
	}
	port := uint16(0)
	if ps := u.Port(); ps != "" {
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil || n == 0 {
			return fmt.Errorf("%w: invalid port", errPreviewRefused)
		}
		port = uint16(n)
	} else if strings.EqualFold(u.Scheme, "https") {
		port = 443
	} else {
		port = 80
	}
	if p.ports != nil && !slices.Contains(p.ports, port) {
		return fmt.Errorf("%w: port %d is not allowed", errPreviewRefused, port)
	}
	if strings.ContainsFunc(host, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == utf8.RuneError || strings.ContainsRune("%\\/@[]<>\"'`{}|^", r)
	}) {
		return fmt.Errorf("%w: invalid host name", errPreviewRefused)
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if addr.Zone() != "" {
			return fmt.Errorf("%w: zoned address", errPreviewRefused)
		}
		if err := p.guard.SafeAddrPort(netip.AddrPortFrom(addr, port)); err != nil {
			return fmt.Errorf("%w: %v", errPreviewRefused, err)
		}
		return nil
	}
	if numericHost(host) {
		return fmt.Errorf("%w: a numeric host that is not a dotted-decimal address", errPreviewRefused)
	}
	return nil
}

// numericHost reports whether host's last label is a number (decimal,
// octal or 0x hex): no top-level domain is, but inet_aton reads such names
// as IPv4 addresses.
func numericHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if len(last) > 2 && (last[:2] == "0x" || last[:2] == "0X") {
		last = last[2:]
		return strings.IndexFunc(last, func(r rune) bool { return !unicode.Is(unicode.ASCII_Hex_Digit, r) }) < 0
	}
	return strings.IndexFunc(last, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// preview returns the preview of raw at the given quality, from the cache
// when it is there.
func (p *previewer) preview(ctx context.Context, raw string, quality int) (LinkPreview, error) {
	key := strconv.Itoa(quality) + " " + raw
	if lp, ok := p.cached(key); ok {
		return lp, nil
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return LinkPreview{}, fmt.Errorf("%w: not an absolute URL", errPreviewRefused)
	}
	u.Fragment, u.RawFragment = "", ""
	if err := p.checkURL(u); err != nil {
		return LinkPreview{}, err
	}
	select {
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	case <-ctx.Done():
		return LinkPreview{}, ctx.Err()
	}
	lp, err := p.fetch(ctx, u, quality)
	if err != nil {
		return LinkPreview{}, err
	}
	p.store(key, lp)
	return lp, nil
}

func (p *previewer) fetch(ctx context.Context, u *url.URL, quality int) (LinkPreview, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return LinkPreview{}, fmt.Errorf("%w: %v", errPreviewRefused, err)
	}
	req.Header.Set("User-Agent", p.cfg.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,image/*;q=0.5")
	resp, err := p.client.Do(req)
	if err != nil {
		return LinkPreview{}, err
	}
	defer resp.Body.Close()
	final := resp.Request.URL
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return LinkPreview{}, fmt.Errorf("gateway: preview: the page answered %d", resp.StatusCode)
	}
	finalURL := final.String()
	lp := LinkPreview{Url: &finalURL}
	ct := resp.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case strings.HasPrefix(mt, "image/"):
		lp.Image = &finalURL
		return lp, nil
	case mt == "text/html", mt == "application/xhtml+xml", mt == "":
	default:
		return LinkPreview{}, fmt.Errorf("gateway: preview: not an HTML page (%q)", mt)
	}
	body, err := charset.NewReader(io.LimitReader(resp.Body, p.cfg.MaxBytes), ct)
	if err != nil {
		return LinkPreview{}, fmt.Errorf("gateway: preview: %w", err)
	}
	m := extractMeta(body, final, quality)
	m.fill(&lp)
	return lp, nil
}

func (p *previewer) cached(key string) (LinkPreview, bool) {
	if p.cfg.CacheTTL < 0 {
		return LinkPreview{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.cache[key]
	if !ok || time.Now().After(c.exp) {
		return LinkPreview{}, false
	}
	return c.p, true
}

func (p *previewer) store(key string, lp LinkPreview) {
	if p.cfg.CacheTTL < 0 {
		return
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.cache) >= p.cfg.CacheSize {
		for k, c := range p.cache {
			if now.After(c.exp) {
				delete(p.cache, k)
			}
		}
		// Still full: drop arbitrary entries (map order is random).
		for k := range p.cache {
			if len(p.cache) < p.cfg.CacheSize {
				break
			}
			delete(p.cache, k)
		}
	}
	p.cache[key] = cachedPreview{p: lp, exp: now.Add(p.cfg.CacheTTL)}
}

// pageMeta is what extractMeta finds in a page.
type pageMeta struct {
	Title, Description, SiteName string
	Image                        string
}

func (m pageMeta) fill(lp *LinkPreview) {
	set := func(dst **string, v string) {
		if v != "" {
			*dst = &v
		}
	}
	set(&lp.Title, m.Title)
	set(&lp.DescriptionShort, m.Description)
	set(&lp.SiteName, m.SiteName)
	set(&lp.Image, m.Image)
}

type pageImage struct {
	url   string
	width int
}

// extractMeta reads the title, description, site name and image of an
// HTML page: OpenGraph first, then Twitter cards, then <title>, the meta
// description, link rel=image_src and the first <img>. Image URLs are
// resolved against base and kept only when http or https. quality (1-9)
// picks among images of known width the one closest to quality*160
// pixels; without widths the first image wins.
func extractMeta(r io.Reader, base *url.URL, quality int) pageMeta {
	z := html.NewTokenizer(r)
	z.SetMaxBuf(256 << 10)
	var (
		og, tw, plain      pageMeta
		images, twImages   []pageImage
		fallbackImg        string
		inTitle, titleDone bool
		title              strings.Builder
	)
	// The reader is bounded by MaxBytes; the token count bounds the work
	// of a page made of tiny tokens.
	for n := 0; n < 1<<20; n++ {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		switch tt {
		case html.TextToken:
			if inTitle && title.Len() < 4*maxPreviewTitle {
				title.Write(z.Text())
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "title" && inTitle {
				inTitle, titleDone = false, true
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				key := strings.ToLower(string(k))
				if _, dup := attrs[key]; !dup && len(attrs) < 16 {
					attrs[key] = string(v)
				}
			}
			switch string(name) {
			case "title":
				if !titleDone && tt == html.StartTagToken {
					inTitle = true
				}
			case "meta":
				prop := strings.ToLower(strings.TrimSpace(attrs["property"]))
				if prop == "" {
					prop = strings.ToLower(strings.TrimSpace(attrs["name"]))
				}
				content := attrs["content"]
				switch prop {
				case "og:title":
					setOnce(&og.Title, content)
				case "og:description":
					setOnce(&og.Description, content)
				case "og:site_name":
					setOnce(&og.SiteName, content)
				case "og:image", "og:image:url", "og:image:secure_url":
					if u := resolveImage(base, content); u != "" && len(images) < 32 {
						if prop == "og:image" || len(images) == 0 {
							images = append(images, pageImage{url: u})
						}
					}
				case "og:image:width":
					if n, err := strconv.Atoi(strings.TrimSpace(content)); err == nil && n > 0 && len(images) > 0 {
						images[len(images)-1].width = n
					}
				case "twitter:title":
					setOnce(&tw.Title, content)
				case "twitter:description":
					setOnce(&tw.Description, content)
				case "twitter:image", "twitter:image:src":
					if u := resolveImage(base, content); u != "" && len(twImages) < 32 {
						twImages = append(twImages, pageImage{url: u})
					}
				case "description":
					setOnce(&plain.Description, content)
				case "application-name":
					setOnce(&plain.SiteName, content)
				}
			case "link":
				if strings.EqualFold(strings.TrimSpace(attrs["rel"]), "image_src") && fallbackImg == "" {
					fallbackImg = resolveImage(base, attrs["href"])
				}
			case "img":
				if fallbackImg == "" {
					fallbackImg = resolveImage(base, attrs["src"])
				}
			}
		}
	}
	plain.Title = title.String()
	m := pageMeta{
		Title:       clean(first(og.Title, tw.Title, plain.Title), maxPreviewTitle),
		Description: clean(first(og.Description, tw.Description, plain.Description), maxPreviewDescription),
		SiteName:    clean(first(og.SiteName, plain.SiteName), maxPreviewTitle),
	}
	switch {
	case len(images) > 0:
		m.Image = pickImage(images, quality)
	case len(twImages) > 0:
		m.Image = twImages[0].url
	default:
		m.Image = fallbackImg
	}
	return m
}

func setOnce(dst *string, v string) {
	if *dst == "" {
		*dst = strings.TrimSpace(v)
	}
}

func first(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// clean makes s valid UTF-8 without control characters, collapses white
// space and cuts it to at most n runes.
func clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	count := 0
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			if count++; count > n {
				break
			}
			b.WriteByte(' ')
		}
		space = false
		if count++; count > n {
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// resolveImage resolves ref against base and keeps it only when it is an
// http or https URL of reasonable length.
func resolveImage(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || len(ref) > maxPreviewURL {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if s := strings.ToLower(u.Scheme); (s != "http" && s != "https") || u.Host == "" {
		return ""
	}
	out := u.String()
	if len(out) > maxPreviewURL || !utf8.ValidString(out) {
		return ""
	}
	return out
}

// pickImage chooses the image whose width is closest to quality*160
// pixels; images without a width count as far from every target.
func pickImage(images []pageImage, quality int) string {
	target := min(max(quality, 1), 9) * 160
	best, bestDist := images[0].url, -1
	for _, im := range images {
		if im.width <= 0 {
			continue
		}
		d := im.width - target
		if d < 0 {
			d = -d
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = im.url, d
		}
	}
	return best
}

// PreviewLink serves GET /preview/{quality}/{url}. Every failure to fetch
// or parse, and every refused address, is 400, as the spec says.
func (s *Server) PreviewLink(c echo.Context, quality int, rawURL string) error {
	if quality < 1 || quality > 9 {
		return errorf(http.StatusBadRequest, "quality must be between 1 and 9")
	}
	if len(rawURL) > maxPreviewURL {
		return errorf(http.StatusBadRequest, "the URL is too long")
	}
	lp, err := s.users.preview.preview(c.Request().Context(), rawURL, quality)
	switch {
	case err == nil:
		return c.JSON(http.StatusOK, lp)
	case errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil:
		return err
	case errors.Is(err, errPreviewRefused), errors.Is(err, ssrf.ErrProhibitedIP),
		errors.Is(err, ssrf.ErrProhibitedPort), errors.Is(err, ssrf.ErrProhibitedNetwork),
		errors.Is(err, ssrf.ErrInvalidHostPort):
		return wrap(http.StatusBadRequest, "the address of this page is not allowed", err)
	}
	return wrap(http.StatusBadRequest, "the page could not be fetched", err)
}
