package linkpreview

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
	"time"

	"code.dny.dev/ssrf"
	"golang.org/x/net/html/charset"
)

// MaxURL is the longest URL, in bytes, that is fetched or reported.
const MaxURL = 4096

const (
	maxTitle       = 300  // runes of a title or site name
	maxDescription = 1000 // runes of a description
	maxFetches     = 16   // fetches running at once per Fetcher
)

// ErrRefused is returned, wrapped, for a URL the fetcher will not fetch:
// not an absolute http or https URL, credentials in it, a port or an
// address the guard refuses (when checking the URL, a redirect, or the
// address being dialled), or too many redirects.
var ErrRefused = errors.New("linkpreview: address refused")

// Config configures a Fetcher. Zero values are documented per field.
type Config struct {
	// Timeout bounds one preview: connecting, redirects and reading. Zero
	// means 10 seconds.
	Timeout time.Duration
	// MaxBytes is how much of a page is read; the rest is ignored. Zero
	// means 1 MiB.
	MaxBytes int64
	// MaxRedirects is how many redirects are followed. Zero means 5;
	// negative means none.
	MaxRedirects int
	// CacheTTL is how long a preview is kept. Zero means 10 minutes;
	// negative disables the cache.
	CacheTTL time.Duration
	// CacheSize is how many previews are kept. Zero means 1024.
	CacheSize int
	// Allow are address ranges the fetcher may connect to although they
	// are loopback, private, link-local or otherwise special. Empty (the
	// default) allows none; meant for tests and intranet deployments.
	Allow []netip.Prefix
	// Ports are the destination ports allowed; empty means 80 and 443.
	// A single 0 allows any port.
	Ports []uint16
	// UserAgent is sent with each request; empty means "sparkgate-preview".
	UserAgent string
}

// Preview is what a page says about itself. Empty fields are unknown.
type Preview struct {
	// URL is the page's address after redirects.
	URL string
	// Title, Description and SiteName are clean text (see the package
	// doc's limits).
	Title       string
	Description string
	SiteName    string
	// Image is an http or https URL of the page's image; the page's own
	// URL when the page is an image.
	Image string
}

// A Fetcher fetches previews through an SSRF-guarded HTTP client and
// caches them. It is safe for concurrent use.
type Fetcher struct {
	cfg    Config
	ports  []uint16 // nil: any port
	guard  *ssrf.Guardian
	client *http.Client
	slots  chan struct{} // one per running fetch
	cache  *cache
}

// New returns a Fetcher for cfg. It fails when an Allow prefix is invalid.
func New(cfg Config) (*Fetcher, error) {
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
		switch {
		case !p.IsValid():
			return nil, fmt.Errorf("linkpreview: allowed prefix %v is invalid", p)
		case p.Addr().Is4():
			v4 = append(v4, p.Masked())
		default:
			v6 = append(v6, p.Masked())
		}
	}
	ports := []uint16{80, 443}
	if len(cfg.Ports) == 1 && cfg.Ports[0] == 0 {
		ports = nil
	} else if len(cfg.Ports) > 0 {
		ports = slices.Clone(cfg.Ports)
	}
	f := &Fetcher{
		cfg:   cfg,
		ports: ports,
		guard: ssrf.New(ssrf.WithAllowedV4Prefixes(v4...), ssrf.WithAllowedV6Prefixes(v6...), ssrf.WithPorts(ports...)),
		slots: make(chan struct{}, maxFetches),
		cache: newCache(cfg.CacheTTL, cfg.CacheSize),
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, Control: f.guard.Safe}
	f.client = &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{
			Proxy:                  nil, // see the package doc: a proxy dials past the guard
			DialContext:            dialer.DialContext,
			TLSHandshakeTimeout:    cfg.Timeout,
			ResponseHeaderTimeout:  cfg.Timeout,
			MaxResponseHeaderBytes: 64 << 10,
			// Each fetch is a one-off: no idle connection, and so no
			// goroutine, outlives it.
			DisableKeepAlives: true,
			ForceAttemptHTTP2: true,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if cfg.MaxRedirects < 0 || len(via) > cfg.MaxRedirects {
				return fmt.Errorf("%w: more than %d redirects", ErrRefused, max(cfg.MaxRedirects, 0))
			}
			return f.checkURL(req.URL)
		},
	}
	return f, nil
}

// Fetch returns the preview of the page at rawURL, from the cache when it
// is there. quality (1 to 9, clamped) chooses among the page's images; see
// the package doc. A refused URL or address is an error wrapping
// [ErrRefused]; a cancelled ctx ends the fetch with ctx's error.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string, quality int) (Preview, error) {
	if len(rawURL) > MaxURL {
		return Preview{}, fmt.Errorf("%w: the URL is longer than %d bytes", ErrRefused, MaxURL)
	}
	quality = min(max(quality, 1), 9)
	key := strconv.Itoa(quality) + " " + rawURL
	if p, ok := f.cache.get(key); ok {
		return p, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || !u.IsAbs() {
		return Preview{}, fmt.Errorf("%w: not an absolute URL", ErrRefused)
	}
	u.Fragment, u.RawFragment = "", ""
	if err := f.checkURL(u); err != nil {
		return Preview{}, err
	}
	select {
	case f.slots <- struct{}{}:
		defer func() { <-f.slots }()
	case <-ctx.Done():
		return Preview{}, ctx.Err()
	}
	p, err := f.fetch(ctx, u, quality)
	if err != nil {
		if refusedByGuard(err) {
			return Preview{}, fmt.Errorf("%w: %w", ErrRefused, err)
		}
		return Preview{}, err
	}
	f.cache.put(key, p)
	return p, nil
}

// refusedByGuard reports whether err is the dial-time guard's refusal.
func refusedByGuard(err error) bool {
	return errors.Is(err, ssrf.ErrProhibitedIP) || errors.Is(err, ssrf.ErrProhibitedPort) ||
		errors.Is(err, ssrf.ErrProhibitedNetwork) || errors.Is(err, ssrf.ErrInvalidHostPort)
}

// fetch makes the request for u, which checkURL has accepted, and reads
// the preview from the answer.
func (f *Fetcher) fetch(ctx context.Context, u *url.URL, quality int) (Preview, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Preview{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	req.Header.Set("User-Agent", f.cfg.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,image/*;q=0.5")
	resp, err := f.client.Do(req)
	if err != nil {
		return Preview{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Preview{}, fmt.Errorf("linkpreview: the page answered %d", resp.StatusCode)
	}
	final := resp.Request.URL // after redirects
	ct := resp.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case strings.HasPrefix(mt, "image/"):
		return Preview{URL: final.String(), Image: final.String()}, nil
	case mt == "text/html", mt == "application/xhtml+xml", mt == "":
	default:
		return Preview{}, fmt.Errorf("linkpreview: not an HTML page (%q)", mt)
	}
	body, err := charset.NewReader(io.LimitReader(resp.Body, f.cfg.MaxBytes), ct)
	if err != nil {
		return Preview{}, fmt.Errorf("linkpreview: %w", err)
	}
	p := extractMeta(body, final, quality)
	p.URL = final.String()
	return p, nil
}
