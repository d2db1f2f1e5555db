package webpush_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/webpush"
)

func testKeys(t testing.TB) (p256dh, auth string) {
	t.Helper()
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a := make([]byte, 16)
	rand.Read(a)
	return base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()), base64.RawURLEncoding.EncodeToString(a)
}

func subJSON(endpoint, p256dh, auth, exp string) string {
	return fmt.Sprintf(`{"endpoint":%q,"expirationTime":%s,"keys":{"p256dh":%q,"auth":%q}}`, endpoint, exp, p256dh, auth)
}

func TestParseSubscription(t *testing.T) {
	p, a := testKeys(t)
	raw, _ := base64.RawURLEncoding.DecodeString(p)
	rawAuth, _ := base64.RawURLEncoding.DecodeString(a)
	padded := base64.URLEncoding.EncodeToString(raw)
	std := base64.StdEncoding.EncodeToString(rawAuth)
	compressed := base64.RawURLEncoding.EncodeToString(append([]byte{2}, raw[1:33]...))
	offCurve := append([]byte{4}, make([]byte, 64)...)
	offCurve[64] = 1
	tests := []struct {
		name      string
		in        string
		wantErr   bool
		wantExp   time.Time
		wantP, wA string
	}{
		{"valid", subJSON("https://push.example/send/abc", p, a, "null"), false, time.Time{}, p, a},
		{"padded-and-standard-base64", subJSON("https://push.example/x", padded, std, "null"), false, time.Time{}, p, a},
		{"expiration", subJSON("https://push.example/x", p, a, "1767225600000"), false, time.UnixMilli(1767225600000).UTC(), p, a},
		{"insecure-allowed-host", subJSON("http://127.0.0.1:9999/push/1", p, a, "null"), false, time.Time{}, p, a},
		{"https-allowed-loopback", subJSON("https://127.0.0.1:9999/push/1", p, a, "null"), false, time.Time{}, p, a},
		{"https-loopback", subJSON("https://127.0.0.2/push/1", p, a, "null"), true, time.Time{}, "", ""},
		{"https-private", subJSON("https://10.1.2.3/push/1", p, a, "null"), true, time.Time{}, "", ""},
		{"https-link-local", subJSON("https://[fe80::1]/push/1", p, a, "null"), true, time.Time{}, "", ""},
		{"https-mapped-loopback", subJSON("https://[::ffff:127.0.0.2]/push/1", p, a, "null"), true, time.Time{}, "", ""},
		{"https-localhost", subJSON("https://push.localhost/x", p, a, "null"), true, time.Time{}, "", ""},
		{"https-public-ip", subJSON("https://203.0.114.7/x", p, a, "null"), false, time.Time{}, p, a},
		{"http-not-allowed", subJSON("http://push.example/x", p, a, "null"), true, time.Time{}, "", ""},
		{"ftp", subJSON("ftp://push.example/x", p, a, "null"), true, time.Time{}, "", ""},
		{"relative", subJSON("/push/1", p, a, "null"), true, time.Time{}, "", ""},
		{"userinfo", subJSON("https://u:p@push.example/x", p, a, "null"), true, time.Time{}, "", ""},
		{"no-endpoint", subJSON("", p, a, "null"), true, time.Time{}, "", ""},
		{"long-endpoint", subJSON("https://push.example/"+strings.Repeat("a", 2048), p, a, "null"), true, time.Time{}, "", ""},
		{"control-char", subJSON("https://push.example/\u0001", p, a, "null"), true, time.Time{}, "", ""},
		{"compressed-point", subJSON("https://push.example/x", compressed, a, "null"), true, time.Time{}, "", ""},
		{"off-curve", subJSON("https://push.example/x", base64.RawURLEncoding.EncodeToString(offCurve), a, "null"), true, time.Time{}, "", ""},
		{"auth-15-bytes", subJSON("https://push.example/x", p, base64.RawURLEncoding.EncodeToString(make([]byte, 15)), "null"), true, time.Time{}, "", ""},
		{"auth-not-base64", subJSON("https://push.example/x", p, "!!!!", "null"), true, time.Time{}, "", ""},
		{"negative-expiration", subJSON("https://push.example/x", p, a, "-5"), true, time.Time{}, "", ""},
		{"not-json", `endpoint=https://x`, true, time.Time{}, "", ""},
		{"trailing", subJSON("https://push.example/x", p, a, "null") + "{}", true, time.Time{}, "", ""},
		{"no-keys", `{"endpoint":"https://push.example/x"}`, true, time.Time{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub, err := webpush.ParseSubscription([]byte(tt.in), []string{"127.0.0.1"})
			if tt.wantErr {
				if !errors.Is(err, webpush.ErrInvalidSubscription) {
					t.Fatalf("err = %v, want ErrInvalidSubscription", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sub.P256dh != tt.wantP || sub.Auth != tt.wA || !sub.Expires.Equal(tt.wantExp) {
				t.Errorf("got %q %q %v, want %q %q %v", sub.P256dh, sub.Auth, sub.Expires, tt.wantP, tt.wA, tt.wantExp)
			}
		})
	}
}

func FuzzParseSubscription(f *testing.F) {
	p, a := testKeys(f)
	f.Add([]byte(subJSON("https://push.example/send/abc", p, a, "null")))
	f.Add([]byte(subJSON("http://127.0.0.1:1/x", p, a, "1767225600000")))
	f.Add([]byte(`{"endpoint":"https://[::1]:80/x","keys":{"p256dh":"BA","auth":"AAAA"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sub, err := webpush.ParseSubscription(data, []string{"127.0.0.1"})
		if err != nil {
			if !errors.Is(err, webpush.ErrInvalidSubscription) {
				t.Fatalf("error %v does not match ErrInvalidSubscription", err)
			}
			return
		}
		// An accepted subscription is normalised: checking it again is a
		// no-op, and its keys have the right sizes.
		again := sub
		if err := webpush.CheckSubscription(&again, []string{"127.0.0.1"}); err != nil || again != sub {
			t.Fatalf("re-check of an accepted subscription: %v, %+v != %+v", err, again, sub)
		}
		if len(sub.P256dh) != 87 || len(sub.Auth) != 22 {
			t.Fatalf("key lengths %d, %d", len(sub.P256dh), len(sub.Auth))
		}
	})
}
