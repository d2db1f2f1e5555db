package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRatioToBest(t *testing.T) {
	tests := []struct {
		name   string
		figure float64
		peers  map[string]float64
		higher bool
		want   RatioTo
	}{
		{"throughput-best-is-highest", 200, map[string]float64{"mercure": 190, "centrifugo": 500}, true,
			RatioTo{Figure: 200, Peer: "centrifugo", Best: 500, Ratio: 0.4}},
		{"latency-best-is-lowest", 10, map[string]float64{"mercure": 16.8, "centrifugo": 12.5}, false,
			RatioTo{Figure: 10, Peer: "centrifugo", Best: 12.5, Ratio: 0.8}},
		{"unmeasured-peer-does-not-compete", 31, map[string]float64{"mercure": 48, "centrifugo": 0}, false,
			RatioTo{Figure: 31, Peer: "mercure", Best: 48, Ratio: 0.65}},
		{"no-peer", 31, map[string]float64{}, false, RatioTo{Figure: 31}},
		{"no-figure", 0, map[string]float64{"mercure": 48}, false, RatioTo{Peer: "mercure", Best: 48}},
		{"tie-takes-first-name", 5, map[string]float64{"mercure": 10, "centrifugo": 10}, true,
			RatioTo{Figure: 5, Peer: "centrifugo", Best: 10, Ratio: 0.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ratioToBest(tt.figure, tt.peers, tt.higher)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ratioToBest (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPeerRatios(t *testing.T) {
	targets := []PeerTarget{
		{Name: targetMercure, Peer: true, DeliveredPerSec: 190000, FanoutLast: Dist{P99: 16.8}, IdleKiBPerStream: 48.4},
		{Name: targetCentrifugo, Peer: true, DeliveredPerSec: 498000, FanoutLast: Dist{P99: 12.5}, IdleKiBPerStream: 68.6},
		{Name: targetGateway, DeliveredPerSec: 192000, FanoutLast: Dist{P99: 19.7}, IdleKiBPerStream: 30.9},
		{Name: targetHub, NotMeasured: "failed"},
	}
	got := peerRatios(targets)
	want := []PeerRatios{{
		Target:     targetGateway,
		Throughput: RatioTo{Figure: 192000, Peer: targetCentrifugo, Best: 498000, Ratio: 0.39},
		FanoutP99:  RatioTo{Figure: 19.7, Peer: targetCentrifugo, Best: 12.5, Ratio: 1.58},
		IdleRSS:    RatioTo{Figure: 30.9, Peer: targetMercure, Best: 48.4, Ratio: 0.64},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("peerRatios (-want +got):\n%s", diff)
	}
}

func TestMarkerSeq(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{peerPayload(42), 42, true},
		{`{"pub":{"channel":"news","data":` + peerPayload(7) + `,"offset":3}}`, 7, true},
		{`"pk 0"`, 0, true},
		{`{"body":"pk x"}`, 0, false},
		{`{"body":"pk -1"}`, 0, false},
		{`{"body":"pk 12`, 0, false},
		{`{"body":"hello"}`, 0, false},
		{`{"body":"pk "}`, 0, false},
	}
	for _, tt := range tests {
		got, ok := markerSeq(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("markerSeq(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if !json.Valid([]byte(peerPayload(1))) {
		t.Errorf("peerPayload is not JSON: %s", peerPayload(1))
	}
}

func TestHS256(t *testing.T) {
	secret := []byte("k")
	tok, err := hs256(secret, map[string]any{"sub": "u", "channels": []string{"news"}})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("hs256 = %q, want three parts", tok)
	}
	enc := base64.RawURLEncoding
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if got, want := parts[2], enc.EncodeToString(mac.Sum(nil)); got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
	var head struct{ Alg, Typ string }
	var claims struct {
		Sub      string
		Channels []string
	}
	for i, v := range []any{&head, &claims} {
		b, err := enc.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	if head.Alg != "HS256" || head.Typ != "JWT" || claims.Sub != "u" || len(claims.Channels) != 1 {
		t.Errorf("header %+v, claims %+v", head, claims)
	}
}

func TestQuantiles(t *testing.T) {
	if q := quantiles(nil, time.Millisecond); q != nil {
		t.Errorf("quantiles(nil) = %v, want nil", q)
	}
	ds := make([]time.Duration, 0, 200)
	for i := 200; i >= 1; i-- { // unsorted
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	q := quantiles(ds, time.Millisecond)
	if len(q) != 101 {
		t.Fatalf("len = %d, want 101", len(q))
	}
	for _, c := range []struct {
		p    int
		want float64
	}{{0, 1}, {50, 100}, {99, 198}, {100, 200}} {
		if q[c.p] != c.want {
			t.Errorf("q[%d] = %v, want %v", c.p, q[c.p], c.want)
		}
	}
	for i := 1; i < len(q); i++ {
		if q[i] < q[i-1] {
			t.Errorf("q[%d] = %v < q[%d] = %v", i, q[i], i-1, q[i-1])
		}
	}
	if got := signif(1234.5, 3); got != 1230 {
		t.Errorf("signif(1234.5, 3) = %v, want 1230", got)
	}
	if got := signif(0.012345, 3); got != 0.0123 {
		t.Errorf("signif(0.012345, 3) = %v, want 0.0123", got)
	}
}

func TestBitset(t *testing.T) {
	var b bitset
	for _, k := range []int{0, 63, 64, 1000} {
		if b.testAndSet(k) {
			t.Errorf("testAndSet(%d) first time = true", k)
		}
		if !b.testAndSet(k) {
			t.Errorf("testAndSet(%d) second time = false", k)
		}
	}
	if b.testAndSet(1) {
		t.Error("testAndSet(1) = true, never set")
	}
}

func TestPeerOrder(t *testing.T) {
	in := []string{"a", "b", "c"}
	if got := peerOrder(in, 0); !cmp.Equal(got, in) {
		t.Errorf("round 0: %v", got)
	}
	if got := peerOrder(in, 1); !cmp.Equal(got, []string{"c", "b", "a"}) {
		t.Errorf("round 1: %v", got)
	}
	if !cmp.Equal(in, []string{"a", "b", "c"}) {
		t.Errorf("peerOrder changed its input: %v", in)
	}
}

func TestProcCPU(t *testing.T) {
	end := time.Now().Add(50 * time.Millisecond)
	for n := 0; time.Now().Before(end); n++ { // some CPU of our own
		_ = n * n
	}
	if got := procCPU(os.Getpid()); got <= 0 {
		t.Errorf("procCPU(self) = %v, want > 0", got)
	}
	if got := procCPU(-1); got != 0 {
		t.Errorf("procCPU(-1) = %v, want 0", got)
	}
}

func TestPeerBinary(t *testing.T) {
	cache := t.TempDir()
	builds := 0
	build := func(_ context.Context, out, _ string) error {
		builds++
		return os.WriteFile(out, []byte("#!/bin/sh\n"), 0o755)
	}
	bin, err := peerBinary(t.Context(), cache, "peer", "v1", build)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cache, "peer-v1", "peer"); bin != want {
		t.Errorf("peerBinary = %s, want %s", bin, want)
	}
	if _, err := peerBinary(t.Context(), cache, "peer", "v1", build); err != nil || builds != 1 {
		t.Errorf("second call: %v, %d builds; want the cached binary, 1 build", err, builds)
	}

	failed := errors.New("no proxy")
	_, err = peerBinary(t.Context(), cache, "other", "v2", func(_ context.Context, out, _ string) error {
		_ = os.WriteFile(out, []byte("half"), 0o755)
		return failed
	})
	if !errors.Is(err, failed) {
		t.Errorf("failed build: %v, want %v", err, failed)
	}
	ents, _ := os.ReadDir(filepath.Join(cache, "other-v2"))
	if len(ents) != 0 {
		t.Errorf("a failed build left %v behind", ents)
	}
}
