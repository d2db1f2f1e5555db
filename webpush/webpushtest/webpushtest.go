// Package webpushtest runs a Web Push service on loopback for tests: it
// checks each request's VAPID JWT (RFC 8292) and headers, decrypts the
// aes128gcm payload (RFC 8291) with the subscription's private key and
// auth secret, and hands the plaintext to the test. It uses only the
// standard library, so it checks the webpush package independently.
package webpushtest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one notification the service accepted or refused.
type Message struct {
	Endpoint  string
	Plaintext []byte
	TTL       string
	Urgency   string
	Topic     string
	// Subject and Audience are the VAPID JWT's sub and aud claims.
	Subject, Audience string
	// Status is what the service answered.
	Status int
	// Err says why the request was malformed (nil when it was fine).
	Err error
}

// Service is a fake push service. Create it with NewService.
type Service struct {
	// URL is the base URL (http://127.0.0.1:port).
	URL string

	vapid    string
	server   *httptest.Server
	messages chan Message

	mu      sync.Mutex
	clients map[string]*client // by endpoint path
	next    int
}

type client struct {
	priv     *ecdh.PrivateKey
	auth     []byte
	statuses []int // scripted answers, consumed in order; then 201
	gone     bool  // answer 410 forever
}

// NewService starts a service that accepts only requests signed with the
// VAPID public key vapidPublic (base64url). It is closed by t.Cleanup.
func NewService(t testing.TB, vapidPublic string) *Service {
	t.Helper()
	s := Start(vapidPublic)
	t.Cleanup(s.Close)
	return s
}

// Start is NewService for a program that is not a test (the benchmark):
// the caller closes the service.
func Start(vapidPublic string) *Service {
	s := &Service{vapid: vapidPublic, messages: make(chan Message, 256), clients: make(map[string]*client)}
	s.server = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.server.URL
	return s
}

// Close stops the service.
func (s *Service) Close() { s.server.Close() }

// Subscription is what a browser would hand its application server.
type Subscription struct {
	Endpoint, P256dh, Auth string
}

// JSON returns the subscription as PushSubscription.toJSON() writes it.
func (s Subscription) JSON() string {
	b, _ := json.Marshal(map[string]any{
		"endpoint":       s.Endpoint,
		"expirationTime": nil,
		"keys":           map[string]string{"p256dh": s.P256dh, "auth": s.Auth},
	})
	return string(b)
}

// Subscribe creates a browser key pair and auth secret and returns the
// subscription to them.
func (s *Service) Subscribe(t testing.TB) Subscription {
	t.Helper()
	sub, err := s.NewSubscription()
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// NewSubscription is Subscribe for a program that is not a test.
func (s *Service) NewSubscription() (Subscription, error) {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return Subscription{}, err
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	s.mu.Lock()
	s.next++
	path := "/push/" + strconv.Itoa(s.next)
	s.clients[path] = &client{priv: priv, auth: auth}
	s.mu.Unlock()
	return Subscription{
		Endpoint: s.URL + path,
		P256dh:   base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
		Auth:     base64.RawURLEncoding.EncodeToString(auth),
	}, nil
}

// Respond scripts the next answers for the subscription's endpoint (after
// them: 201).
func (s *Service) Respond(sub Subscription, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.clients[strings.TrimPrefix(sub.Endpoint, s.URL)]; c != nil {
		c.statuses = append(c.statuses, statuses...)
	}
}

// Gone makes the endpoint answer 410 from now on.
func (s *Service) Gone(sub Subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.clients[strings.TrimPrefix(sub.Endpoint, s.URL)]; c != nil {
		c.gone = true
	}
}

// Messages delivers every request the service answered, in order.
func (s *Service) Messages() <-chan Message { return s.messages }

// Next waits up to d for the next message and fails the test without one.
// A message whose request was malformed fails the test too.
func (s *Service) Next(t testing.TB, d time.Duration) Message {
	t.Helper()
	select {
	case m := <-s.messages:
		if m.Err != nil {
			t.Fatalf("push service: bad request to %s: %v", m.Endpoint, m.Err)
		}
		return m
	case <-time.After(d):
		t.Fatalf("push service: no request within %v", d)
		return Message{}
	}
}

// None fails the test if a message arrives within d.
func (s *Service) None(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case m := <-s.messages:
		t.Fatalf("push service: unexpected request to %s: %q", m.Endpoint, m.Plaintext)
	case <-time.After(d):
	}
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	m := Message{
		Endpoint: s.URL + r.URL.Path,
		TTL:      r.Header.Get("TTL"),
		Urgency:  r.Header.Get("Urgency"),
		Topic:    r.Header.Get("Topic"),
	}
	s.mu.Lock()
	c := s.clients[r.URL.Path]
	status := http.StatusCreated
	if c != nil && len(c.statuses) > 0 {
		status, c.statuses = c.statuses[0], c.statuses[1:]
	} else if c != nil && c.gone {
		status = http.StatusGone
	}
	s.mu.Unlock()
	m.Err = func() error {
		if c == nil {
			status = http.StatusNotFound
			return nil
		}
		if r.Method != http.MethodPost {
			return fmt.Errorf("method %s", r.Method)
		}
		if r.Header.Get("Content-Encoding") != "aes128gcm" {
			return fmt.Errorf("Content-Encoding %q", r.Header.Get("Content-Encoding"))
		}
		if ttl, err := strconv.Atoi(m.TTL); err != nil || ttl < 0 {
			return fmt.Errorf("TTL %q", m.TTL)
		}
		if len(m.Topic) > 32 || strings.ContainsFunc(m.Topic, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) {
			return fmt.Errorf("Topic %q is not 32 base64url characters at most", m.Topic)
		}
		switch m.Urgency {
		case "", "very-low", "low", "normal", "high":
		default:
			return fmt.Errorf("Urgency %q", m.Urgency)
		}
		var err error
		m.Subject, m.Audience, err = CheckVAPID(r.Header.Get("Authorization"), s.vapid, s.URL)
		if err != nil {
			return fmt.Errorf("vapid: %w", err)
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 8192))
		if err != nil {
			return err
		}
		m.Plaintext, err = Decrypt(body, c.priv, c.auth)
		return err
	}()
	if m.Err != nil {
		status = http.StatusBadRequest
	}
	m.Status = status
	select {
	case s.messages <- m:
	default:
	}
	w.WriteHeader(status)
}

// CheckVAPID verifies an Authorization header "vapid t=<JWT>, k=<key>"
// (RFC 8292 section 3): k must be wantKey, the JWT an ES256 JWT signed by
// it, with aud the push service's origin, exp within 24 hours and a sub.
func CheckVAPID(header, wantKey, origin string) (sub, aud string, err error) {
	rest, ok := strings.CutPrefix(header, "vapid ")
	if !ok {
		return "", "", fmt.Errorf("scheme of %q is not vapid", header)
	}
	var tok, key string
	for part := range strings.SplitSeq(rest, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch name {
		case "t":
			tok = val
		case "k":
			key = val
		}
	}
	if key != wantKey {
		return "", "", errors.New("k is not the gateway's public key")
	}
	raw, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil {
		return "", "", fmt.Errorf("k: %w", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return "", "", fmt.Errorf("k: %w", err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", "", errors.New("t is not a JWT")
	}
	var hdr struct{ Alg, Typ string }
	if err := decodeSegment(parts[0], &hdr); err != nil || hdr.Alg != "ES256" {
		return "", "", fmt.Errorf("JWT header alg %q, want ES256", hdr.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return "", "", errors.New("JWT signature is not 64 bytes r||s")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return "", "", errors.New("JWT signature does not verify")
	}
	var claims struct {
		Aud string `json:"aud"`
		Sub string `json:"sub"`
		Exp int64  `json:"exp"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return "", "", fmt.Errorf("JWT claims: %w", err)
	}
	if claims.Aud != origin {
		return "", "", fmt.Errorf("aud %q, want %q", claims.Aud, origin)
	}
	exp := time.Unix(claims.Exp, 0)
	if now := time.Now(); exp.Before(now) || exp.After(now.Add(24*time.Hour)) {
		return "", "", fmt.Errorf("exp %v not within 24 hours", exp)
	}
	if !strings.HasPrefix(claims.Sub, "mailto:") && !strings.HasPrefix(claims.Sub, "https:") {
		return "", "", fmt.Errorf("sub %q is neither mailto: nor https:", claims.Sub)
	}
	return claims.Sub, claims.Aud, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Decrypt opens an RFC 8291 aes128gcm body (RFC 8188 single record) with
// the user agent's private key and auth secret, and strips the padding.
func Decrypt(body []byte, priv *ecdh.PrivateKey, auth []byte) ([]byte, error) {
	// Header: salt(16) | rs(4) | idlen(1) | keyid(idlen).
	if len(body) < 21 {
		return nil, errors.New("body shorter than the aes128gcm header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if idlen != 65 || len(body) < 21+idlen {
		return nil, fmt.Errorf("keyid length %d, want 65", idlen)
	}
	if rs < 18 {
		return nil, fmt.Errorf("record size %d", rs)
	}
	asPub := body[21 : 21+idlen]
	ct := body[21+idlen:]
	if len(ct) > int(rs) {
		return nil, fmt.Errorf("ciphertext of %d bytes is more than one record of %d", len(ct), rs)
	}
	peer, err := ecdh.P256().NewPublicKey(asPub)
	if err != nil {
		return nil, fmt.Errorf("sender key: %w", err)
	}
	secret, err := priv.ECDH(peer)
	if err != nil {
		return nil, err
	}
	info := append([]byte("WebPush: info\x00"), priv.PublicKey().Bytes()...)
	info = append(info, asPub...)
	ikm, err := hkdf.Key(sha256.New, secret, auth, string(info), 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	// The last record ends with 0x02 and zero padding (RFC 8188 section 2).
	end := len(plain) - 1
	for end >= 0 && plain[end] == 0 {
		end--
	}
	if end < 0 || plain[end] != 2 {
		return nil, errors.New("no last-record padding delimiter")
	}
	return plain[:end], nil
}
