package webpush

import (
	"bytes"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// MaxEndpoint is the longest endpoint URL accepted, in bytes.
const MaxEndpoint = 2048

// Subscription is one browser's push subscription (the W3C Push API's
// PushSubscription) stored for a user and a resource name.
type Subscription struct {
	User     string // bare JID
	Resource string // the name the client chose (device, app)
	// Endpoint is the push service URL the notification is POSTed to. It
	// is a capability: anyone who knows it can push to the browser.
	Endpoint string
	// P256dh is the browser's P-256 public key, the 65-byte uncompressed
	// point, base64url without padding.
	P256dh string
	// Auth is the 16-byte authentication secret, base64url without padding.
	Auth string
	// Expires is when the browser said the subscription ends; zero means
	// never.
	Expires time.Time
	// Updated is when the subscription was last stored; set by the Store.
	Updated time.Time
	// Login is the login (refresh token family) of the token that stored
	// the subscription: signing that login out from another device
	// removes it. Empty when that login had no family.
	Login string
}

// LogValue keeps the endpoint and keys out of logs: only the endpoint's
// host is shown.
func (s Subscription) LogValue() slog.Value {
	host := ""
	if u, err := url.Parse(s.Endpoint); err == nil {
		host = u.Host
	}
	return slog.GroupValue(slog.String("user", s.User), slog.String("resource", s.Resource), slog.String("host", host))
}

// wireSubscription is the PushSubscription JSON (PushSubscription.toJSON).
type wireSubscription struct {
	Endpoint       string   `json:"endpoint"`
	ExpirationTime *float64 `json:"expirationTime"`
	Keys           struct {
		P256dh string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

// ParseSubscription decodes a PushSubscription as JSON.stringify writes it
// and checks it with CheckSubscription. The keys of the result are
// normalised to base64url without padding; User and Resource are left for
// the caller. Every rejection matches ErrInvalidSubscription.
func ParseSubscription(data []byte, insecureHosts []string) (Subscription, error) {
	var w wireSubscription
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&w); err != nil {
		return Subscription{}, fmt.Errorf("%w: not a PushSubscription JSON object", ErrInvalidSubscription)
	}
	if dec.More() {
		return Subscription{}, fmt.Errorf("%w: trailing data after the JSON object", ErrInvalidSubscription)
	}
	sub := Subscription{Endpoint: w.Endpoint, P256dh: w.Keys.P256dh, Auth: w.Keys.Auth}
	if w.ExpirationTime != nil {
		ms := *w.ExpirationTime
		if math.IsNaN(ms) || ms < 0 || ms > 1e15 {
			return Subscription{}, fmt.Errorf("%w: expirationTime out of range", ErrInvalidSubscription)
		}
		if ms > 0 {
			sub.Expires = time.UnixMilli(int64(ms)).UTC()
		}
	}
	if err := CheckSubscription(&sub, insecureHosts); err != nil {
		return Subscription{}, err
	}
	return sub, nil
}

// CheckSubscription validates sub and normalises its keys: the endpoint
// must be an absolute https URL on a public host (plain http, loopback and
// private addresses are allowed only for a host listed in insecureHosts,
// as "host" or "host:port", for tests), p256dh a
// valid uncompressed P-256 point and auth 16 bytes, both base64url
// (padding optional; the standard alphabet is accepted too). Every
// rejection matches ErrInvalidSubscription.
func CheckSubscription(sub *Subscription, insecureHosts []string) error {
	if err := checkEndpoint(sub.Endpoint, insecureHosts); err != nil {
		return err
	}
	p, err := decodeKey(sub.P256dh)
	if err != nil {
		return fmt.Errorf("%w: p256dh is not base64url", ErrInvalidSubscription)
	}
	if len(p) != 65 || p[0] != 4 {
		return fmt.Errorf("%w: p256dh is not a 65-byte uncompressed P-256 point", ErrInvalidSubscription)
	}
	if _, err := ecdh.P256().NewPublicKey(p); err != nil {
		return fmt.Errorf("%w: p256dh is not a point on P-256", ErrInvalidSubscription)
	}
	a, err := decodeKey(sub.Auth)
	if err != nil {
		return fmt.Errorf("%w: auth is not base64url", ErrInvalidSubscription)
	}
	if len(a) != 16 {
		return fmt.Errorf("%w: auth is %d bytes, want 16", ErrInvalidSubscription, len(a))
	}
	sub.P256dh = base64.RawURLEncoding.EncodeToString(p)
	sub.Auth = base64.RawURLEncoding.EncodeToString(a)
	return nil
}

func checkEndpoint(endpoint string, insecureHosts []string) error {
	if endpoint == "" {
		return fmt.Errorf("%w: no endpoint", ErrInvalidSubscription)
	}
	if len(endpoint) > MaxEndpoint {
		return fmt.Errorf("%w: endpoint longer than %d bytes", ErrInvalidSubscription, MaxEndpoint)
	}
	if strings.ContainsFunc(endpoint, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("%w: endpoint has spaces or control characters", ErrInvalidSubscription)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("%w: endpoint is not a URL", ErrInvalidSubscription)
	}
	if u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return fmt.Errorf("%w: endpoint has no host", ErrInvalidSubscription)
	}
	if u.User != nil {
		return fmt.Errorf("%w: endpoint has user information", ErrInvalidSubscription)
	}
	if u.Fragment != "" {
		return fmt.Errorf("%w: endpoint has a fragment", ErrInvalidSubscription)
	}
	allowed := slices.Contains(insecureHosts, u.Host) || slices.Contains(insecureHosts, u.Hostname())
	if u.Scheme != "https" && (u.Scheme != "http" || !allowed) {
		return fmt.Errorf("%w: endpoint must be https", ErrInvalidSubscription)
	}
	if allowed {
		return nil
	}
	// Push services are public hosts: an address of this machine or of a
	// private network is refused here (and again when the Sender dials).
	h := strings.ToLower(u.Hostname())
	if ip, err := netip.ParseAddr(h); err == nil && !publicAddr(ip) {
		return fmt.Errorf("%w: endpoint is not a public address", ErrInvalidSubscription)
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return fmt.Errorf("%w: endpoint is not a public address", ErrInvalidSubscription)
	}
	return nil
}

// decodeKey accepts base64url or standard base64, padded or not.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "+/") {
		return base64.RawStdEncoding.DecodeString(s)
	}
	return base64.RawURLEncoding.DecodeString(s)
}
