package main

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/gateway"
)

func TestWireUsers(t *testing.T) {
	tests := []struct {
		name    string
		s       usersSettings
		wantErr string
		check   func(t *testing.T, u gateway.UsersConfig)
	}{
		{name: "defaults", s: usersSettings{PreviewPorts: "80,443", PreviewCacheTTL: 10 * time.Minute},
			check: func(t *testing.T, u gateway.UsersConfig) {
				if len(u.Preview.Allow) != 0 || !slices.Equal(u.Preview.Ports, []uint16{80, 443}) || u.Preview.CacheTTL != 10*time.Minute {
					t.Errorf("preview %+v", u.Preview)
				}
				if u.Global.VAPIDPublicKey == nil || len(u.OnDelete) != 0 {
					t.Errorf("wireUsers dropped what another area set, or added hooks without a store: %+v", u)
				}
			}},
		{name: "lists", s: usersSettings{Admins: " boss@example.org, ,chief ", JoinableGroups: "staff,*", PreviewAllow: "10.0.0.0/8, fd00::/8", PreviewPorts: "*"},
			check: func(t *testing.T, u gateway.UsersConfig) {
				if !slices.Equal(u.Admins, []string{"boss@example.org", "chief"}) || !slices.Equal(u.JoinableGroups, []string{"staff", "*"}) {
					t.Errorf("admins %q, groups %q", u.Admins, u.JoinableGroups)
				}
				want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
				if !slices.Equal(u.Preview.Allow, want) || !slices.Equal(u.Preview.Ports, []uint16{0}) {
					t.Errorf("preview %+v", u.Preview)
				}
				if u.Preview.CacheTTL >= 0 {
					t.Errorf("cache ttl 0 must switch the cache off, got %v", u.Preview.CacheTTL)
				}
			}},
		{name: "bad-prefix", s: usersSettings{PreviewAllow: "10.0.0.1"}, wantErr: "preview-allow"},
		{name: "bad-port", s: usersSettings{PreviewPorts: "80,http"}, wantErr: "preview-ports"},
		{name: "zero-port", s: usersSettings{PreviewPorts: "0"}, wantErr: "preview-ports"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &config{Users: tt.s}
			gc := &gateway.Config{}
			gc.Users.Global.VAPIDPublicKey = func(context.Context) (string, error) { return "k", nil }
			err := wireUsers(t.Context(), c, nil, nil, gc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("wireUsers = %v, want an error about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, gc.Users)
		})
	}
}
