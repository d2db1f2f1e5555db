package xmppconn

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"
)

// TLSMode says how Dial treats STARTTLS.
type TLSMode int

const (
	// TLSRequired, the zero value, negotiates STARTTLS and fails with ErrTLS
	// when the server does not offer it.
	TLSRequired TLSMode = iota
	// TLSOptional negotiates STARTTLS when the server offers it and goes on in
	// plain text otherwise.
	TLSOptional
	// TLSOff never negotiates TLS (loopback and tests only); a server that
	// requires STARTTLS makes Dial fail with ErrTLS.
	TLSOff
)

func (m TLSMode) String() string {
	switch m {
	case TLSRequired:
		return "required"
	case TLSOptional:
		return "optional"
	case TLSOff:
		return "off"
	}
	return fmt.Sprintf("TLSMode(%d)", int(m))
}

// Defaults used for zero Config fields.
const (
	DefaultKeepAlive     = 30 * time.Second
	DefaultQueueSize     = 32
	DefaultMaxStanzaSize = 1 << 20
	DefaultMaxDepth      = 64
	DefaultMaxAttrs      = 64
)

// Config describes one client stream. The zero value of every optional field
// is a sensible default, documented on the field.
type Config struct {
	// Addr is the server's "host:port" (required). Dial connects to exactly
	// this address: there is never a DNS SRV lookup.
	Addr string
	// Domain is the XMPP domain of the account (required), e.g. "example.org".
	Domain string
	// User is the local part of the account (required).
	User string
	// Password authenticates with SASL PLAIN. Exactly one of Password and
	// Token must be set.
	Password string
	// Token authenticates with X-OAUTH2 (a token from ejabberd's
	// oauth_issue_token with scope sasl_auth).
	Token string
	// Resource is the resource to bind; empty means a random one per session.
	Resource string

	// TLS selects STARTTLS behaviour; the zero value is TLSRequired.
	TLS TLSMode
	// CAFile is a PEM file of CA certificates to trust instead of the system
	// roots; empty means the system roots.
	CAFile string
	// ServerName is the name checked in the server certificate; empty means
	// Domain.
	ServerName string
	// InsecureSkipVerifyForDevelopmentOnly disables certificate verification.
	// Never set it in production.
	InsecureSkipVerifyForDevelopmentOnly bool

	// KeepAlive is the interval of whitespace keepalives and XEP-0199 pings
	// to the server; zero means DefaultKeepAlive, negative disables both.
	KeepAlive time.Duration
	// PingTimeout bounds the wait for a ping reply; zero (or more than
	// KeepAlive) means half of KeepAlive, so that a dead connection is
	// noticed within two intervals.
	PingTimeout time.Duration
	// QueueSize is the number of inbound stanzas buffered for the consumer;
	// zero means DefaultQueueSize.
	QueueSize int
	// MaxStanzaSize bounds the bytes of one inbound stanza (and of anything
	// between stanzas); zero means DefaultMaxStanzaSize.
	MaxStanzaSize int
	// Logger receives debug and warning records; nil discards them. Stanza
	// contents and credentials are never logged.
	Logger *slog.Logger

	// OnQueueFull, when set, is called on the reader goroutine each time the
	// inbound queue is found full, just before the reader stops reading until
	// the consumer takes a stanza. It must not block.
	OnQueueFull func()
	// OnAnswerDropped, when set, is called each time an automatic answer
	// (a delivery receipt, a roster push acknowledgement, an IQ reply) is
	// dropped because too many waited for a stalled socket (autoreply.go;
	// Stats.AutoRepliesDropped counts them per Conn). It runs on the
	// goroutine that handles the stanza being answered (the reader, or a
	// Session's own goroutine) and must not block.
	OnAnswerDropped func()
	// OnStanzaSkipped, when set, is called on the reader goroutine each
	// time a well-formed stanza is skipped because the decoder rejected it
	// (Stats.DecodeErrors counts them per Conn, with IQ replies decoded
	// only in part): what it carried never reaches the consumer. It must
	// not block.
	OnStanzaSkipped func()
	// DeliverIQ, when set, is asked for each IQ get or set from the server
	// whether it goes to the consumer (who must then answer it). payload is
	// the name of the IQ's child element. When it is nil or returns false the
	// Conn answers service-unavailable itself (pings from the server get a
	// result).
	DeliverIQ func(typ string, payload xml.Name) bool

	// inline selects inline mode (inline.go): no queue, the owner hands
	// the reader a handler. The Manager sets it for its sessions.
	inline bool
}

// settings is a Config with defaults applied and derived values computed.
type settings struct {
	Config
	tlsConfig *tls.Config
	log       *slog.Logger
}

func (c Config) settings() (*settings, error) {
	switch {
	case c.Addr == "":
		return nil, fmt.Errorf("%w: Addr is required", ErrConfig)
	case c.Domain == "":
		return nil, fmt.Errorf("%w: Domain is required", ErrConfig)
	case c.User == "":
		return nil, fmt.Errorf("%w: User is required", ErrConfig)
	case (c.Password == "") == (c.Token == ""):
		return nil, fmt.Errorf("%w: exactly one of Password and Token is required", ErrConfig)
	case c.TLS < TLSRequired || c.TLS > TLSOff:
		return nil, fmt.Errorf("%w: unknown TLS mode %v", ErrConfig, c.TLS)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return nil, fmt.Errorf("%w: Addr: %v", ErrConfig, err)
	}
	s := &settings{Config: c}
	if s.Resource == "" {
		s.Resource = "sparkgate-" + rand.Text()[:12]
	}
	if s.KeepAlive == 0 {
		s.KeepAlive = DefaultKeepAlive
	}
	if s.KeepAlive > 0 && (s.PingTimeout <= 0 || s.PingTimeout > s.KeepAlive) {
		s.PingTimeout = s.KeepAlive / 2
	}
	if s.QueueSize <= 0 {
		s.QueueSize = DefaultQueueSize
	}
	if s.MaxStanzaSize <= 0 {
		s.MaxStanzaSize = DefaultMaxStanzaSize
	}
	s.log = c.Logger
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.TLS != TLSOff {
		tc := &tls.Config{
			ServerName:         c.ServerName,
			InsecureSkipVerify: c.InsecureSkipVerifyForDevelopmentOnly,
			MinVersion:         tls.VersionTLS12,
		}
		if tc.ServerName == "" {
			tc.ServerName = c.Domain
		}
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return nil, fmt.Errorf("%w: CA file: %w", ErrTLS, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%w: CA file %s holds no certificate", ErrTLS, c.CAFile)
			}
			tc.RootCAs = pool
		}
		s.tlsConfig = tc
	}
	return s, nil
}
