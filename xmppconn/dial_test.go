package xmppconn

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestDialBindsResource(t *testing.T) {
	fs := newFakeServer(t, fakeOpts{})
	c := dialFake(t, fs, func(c *Config) { c.Resource = "web-1" })
	if got, want := c.JID(), "alice@localhost/web-1"; got != want {
		t.Errorf("JID() = %q, want %q", got, want)
	}
}

func TestDialRandomResource(t *testing.T) {
	fs := newFakeServer(t, fakeOpts{})
	a := dialFake(t, fs, nil)
	b := dialFake(t, fs, nil)
	if a.JID() == b.JID() || !strings.HasPrefix(a.JID(), "alice@localhost/sparkgate-") {
		t.Errorf("JIDs %q and %q: want distinct random resources", a.JID(), b.JID())
	}
}

func TestDialToken(t *testing.T) {
	fs := newFakeServer(t, fakeOpts{password: "tok-123"})
	dialFake(t, fs, func(c *Config) { c.Password, c.Token = "", "tok-123" })
}

func TestDialErrors(t *testing.T) {
	cert, caFile := selfSigned(t)
	_, otherCA := selfSigned(t)
	tests := []struct {
		name string
		opts fakeOpts
		mod  func(*Config)
		want []error
	}{
		{"wrong password", fakeOpts{}, func(c *Config) { c.Password = "bad" }, []error{ErrNotAuthorized}},
		{"bad token", fakeOpts{}, func(c *Config) { c.Password, c.Token = "", "bad" }, []error{ErrNotAuthorized}},
		{"account disabled", fakeOpts{authFailure: "account-disabled"}, nil, []error{ErrNotAuthorized}},
		{"temporary", fakeOpts{authFailure: "temporary-auth-failure"}, nil, []error{ErrTemporaryAuth}},
		{"stream error", fakeOpts{streamError: "system-shutdown"}, nil, []error{&StreamError{Condition: "system-shutdown"}}},
		{"tls required, not offered", fakeOpts{}, func(c *Config) { c.TLS = TLSRequired }, []error{ErrTLS}},
		{"tls off, server requires", fakeOpts{tlsCert: cert, tlsRequired: true}, nil, []error{ErrTLS}},
		{"untrusted certificate", fakeOpts{tlsCert: cert}, func(c *Config) { c.TLS, c.CAFile = TLSRequired, otherCA }, []error{ErrTLS}},
		{"wrong server name", fakeOpts{tlsCert: cert}, func(c *Config) { c.TLS, c.CAFile, c.ServerName = TLSRequired, caFile, "example.org" }, []error{ErrTLS}},
		{"no password", fakeOpts{}, func(c *Config) { c.Password = "" }, []error{ErrConfig}},
		{"password and token", fakeOpts{}, func(c *Config) { c.Token = "x" }, []error{ErrConfig}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			fs := newFakeServer(t, test.opts)
			cfg := fs.config()
			if test.mod != nil {
				test.mod(&cfg)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := Dial(ctx, cfg)
			if err == nil {
				c.Close(ctx)
				t.Fatal("Dial succeeded, want an error")
			}
			for _, w := range test.want {
				if !errors.Is(err, w) {
					t.Errorf("Dial error %v, want errors.Is(%v)", err, w)
				}
			}
			if test.want[0] != ErrNetwork && errors.Is(err, ErrNetwork) {
				t.Errorf("Dial error %v also matches ErrNetwork", err)
			}
		})
	}
}

func TestDialTLS(t *testing.T) {
	cert, caFile := selfSigned(t)
	tests := []struct {
		name string
		opts fakeOpts
		mod  func(*Config)
	}{
		{"required with CA file", fakeOpts{tlsCert: cert}, func(c *Config) { c.TLS, c.CAFile = TLSRequired, caFile }},
		{"optional with CA file", fakeOpts{tlsCert: cert, tlsRequired: true}, func(c *Config) { c.TLS, c.CAFile = TLSOptional, caFile }},
		{"insecure skip verify", fakeOpts{tlsCert: cert}, func(c *Config) { c.TLS, c.InsecureSkipVerifyForDevelopmentOnly = TLSRequired, true }},
		{"optional, not offered", fakeOpts{}, func(c *Config) { c.TLS = TLSOptional }},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			fs := newFakeServer(t, test.opts)
			c := dialFake(t, fs, test.mod)
			if _, err := c.RawIQ(t.Context(), "get", "", []byte("<ping xmlns='urn:xmpp:ping'/>")); err != nil {
				t.Errorf("ping over the stream: %v", err)
			}
		})
	}
}

func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Dial(t.Context(), Config{Addr: addr, Domain: "localhost", User: "alice", Password: "x", TLS: TLSOff})
	var oe *net.OpError
	if !errors.Is(err, ErrNetwork) || !errors.As(err, &oe) {
		t.Errorf("Dial to a closed port: %v, want ErrNetwork and a *net.OpError", err)
	}
	if errors.Is(err, ErrNotAuthorized) {
		t.Errorf("Dial to a closed port matches ErrNotAuthorized")
	}
}

func TestDialSilentServerHonoursContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err == nil {
			accepted <- nc
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Dial(ctx, Config{Addr: ln.Addr().String(), Domain: "localhost", User: "alice", Password: "x", TLS: TLSOff})
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial to a silent server: %v, want context.DeadlineExceeded", err)
	}
	if took > 2*time.Second {
		t.Errorf("Dial took %v after a 200ms deadline", took)
	}
	(<-accepted).Close()
}
