package xmppconn

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is a minimal in-process XMPP server for the protocol steps:
// it negotiates a stream (optionally STARTTLS), SASL PLAIN / X-OAUTH2 and
// bind, then hands the connection to the test's session function.
type fakeServer struct {
	t  testing.TB
	ln net.Listener
	o  fakeOpts
	wg sync.WaitGroup
}

type fakeOpts struct {
	password    string // accepted secret for user "alice" (PLAIN or X-OAUTH2)
	authFailure string // if set, SASL fails with this condition
	tlsCert     *tls.Certificate
	tlsRequired bool
	streamError string // sent instead of the first features
	session     func(sc *serverConn)
}

// serverConn is the server side of one client stream after bind.
type serverConn struct {
	t   testing.TB
	nc  net.Conn
	er  *elemReader
	jid string
	mu  sync.Mutex
}

func (sc *serverConn) send(s string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if _, err := sc.nc.Write([]byte(s)); err != nil {
		sc.t.Logf("fake server write: %v", err)
	}
}

// next reads the next element from the client.
func (sc *serverConn) next() (element, error) { return sc.er.next(false) }

func newFakeServer(t testing.TB, o fakeOpts) *fakeServer {
	t.Helper()
	if o.password == "" {
		o.password = "secret"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeServer{t: t, ln: ln, o: o}
	fs.wg.Add(1)
	go func() {
		defer fs.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			fs.wg.Add(1)
			go func() {
				defer fs.wg.Done()
				defer nc.Close()
				fs.serve(nc)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		fs.wg.Wait()
	})
	return fs
}

func (fs *fakeServer) addr() string { return fs.ln.Addr().String() }

func (fs *fakeServer) config() Config {
	return Config{Addr: fs.addr(), Domain: "localhost", User: "alice", Password: "secret", TLS: TLSOff}
}

const serverHeader = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0' xml:lang='en'>"

func (fs *fakeServer) serve(nc net.Conn) {
	var conn net.Conn = nc
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	open := func(features string) (*elemReader, bool) {
		er := newElemReader(conn, 1<<20)
		if _, err := er.header(); err != nil {
			return nil, false
		}
		conn.Write([]byte(serverHeader + "<stream:features>" + features + "</stream:features>"))
		return er, true
	}
	if fs.o.streamError != "" {
		er := newElemReader(conn, 1<<20)
		if _, err := er.header(); err != nil {
			return
		}
		conn.Write([]byte(serverHeader + "<stream:error><" + fs.o.streamError + " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>go away</text></stream:error></stream:stream>"))
		return
	}
	mechs := "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism><mechanism>X-OAUTH2</mechanism></mechanisms>"
	if fs.o.tlsCert != nil {
		req := ""
		if fs.o.tlsRequired {
			req = "<required/>"
		}
		er, ok := open("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>" + req + "</starttls>" + mechs)
		if !ok {
			return
		}
		el, err := er.next(true)
		if err != nil || el.name.Local != "starttls" {
			return
		}
		conn.Write([]byte("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"))
		tc := tls.Server(nc, &tls.Config{Certificates: []tls.Certificate{*fs.o.tlsCert}})
		if err := tc.Handshake(); err != nil {
			return
		}
		conn = tc
	}
	er, ok := open(mechs)
	if !ok {
		return
	}
	el, err := er.next(true)
	if err != nil || el.name.Local != "auth" {
		return
	}
	var auth struct {
		Text string `xml:",chardata"`
	}
	if err := unmarshal(el.raw, &auth); err != nil {
		return
	}
	dec, _ := base64.StdEncoding.DecodeString(auth.Text)
	parts := strings.Split(string(dec), "\x00")
	switch {
	case fs.o.authFailure != "":
		conn.Write([]byte("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><" + fs.o.authFailure + "/><text>nope</text></failure>"))
		return
	case len(parts) != 3 || parts[1] != "alice" || parts[2] != fs.o.password:
		conn.Write([]byte("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>"))
		return
	}
	conn.Write([]byte("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"))
	er, ok = open("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>")
	if !ok {
		return
	}
	el, err = er.next(false)
	if err != nil || el.name.Local != "iq" {
		return
	}
	var bind struct {
		Resource string `xml:"bind>resource"`
	}
	unmarshal(el.raw, &bind)
	jid := "alice@localhost/" + bind.Resource
	conn.Write([]byte(fmt.Sprintf("<iq type='result' id='%s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>%s</jid></bind></iq>", el.attrValue("id"), jid)))
	nc.SetDeadline(time.Time{})
	sc := &serverConn{t: fs.t, nc: conn, er: er, jid: jid}
	if fs.o.session != nil {
		fs.o.session(sc)
		return
	}
	sc.echoUntilClose()
}

// echoUntilClose answers pings and closes the stream when the client does.
func (sc *serverConn) echoUntilClose() {
	sc.eachUntilClose(func(el element) {
		if el.name.Local == "iq" && el.attrValue("type") == "get" {
			sc.send(fmt.Sprintf("<iq type='result' id='%s' from='localhost'/>", el.attrValue("id")))
		}
	})
}

// eachUntilClose calls fn with each element the client sends, until the
// client ends its stream (answered with the server's end) or the
// connection fails.
func (sc *serverConn) eachUntilClose(fn func(el element)) {
	for {
		el, err := sc.next()
		if err == errStreamEnd {
			sc.send("</stream:stream>")
			return
		}
		if err != nil {
			return
		}
		fn(el)
	}
}

func dialFake(t testing.TB, fs *fakeServer, mod func(*Config)) *Conn {
	t.Helper()
	cfg := fs.config()
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.Close(ctx)
	})
	return c
}

// selfSigned makes a certificate for "localhost" and writes it as a PEM
// file usable as Config.CAFile.
func selfSigned(t testing.TB) (*tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, file
}

func unmarshal(raw []byte, v any) error {
	return xmlUnmarshal(bytes.NewReader(raw), v)
}
