package gateway

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/bookmark"
	"github.com/sparkgate/sparkgate/xmppadmin"
)

// CollabConfig configures pubsub and PEP, bookmarks, upload and meetings.
type CollabConfig struct {
	// PubSubService is the XEP-0060 service of POST /pubsub/...; empty
	// means pubsub.<Domain>.
	PubSubService string
	// UploadService is the XEP-0363 service; empty means found by service
	// discovery on the domain (and remembered once found).
	UploadService string
	// Admins are the bare JIDs that may create global bookmarks and change
	// or delete anyone's.
	Admins []string
	// Bookmarks keeps the bookmarks; nil answers 501 on the bookmark
	// operations.
	Bookmarks bookmark.Store
	// Groups tells which shared roster groups a user is in, for bookmark
	// visibility; nil means Config.Directory when it is an
	// xmppadmin.GroupDirectory, else group-targeted bookmarks are seen
	// only by their creator.
	Groups xmppadmin.GroupDirectory
	// Meetings configures GET /meet/{service}/{id}.
	Meetings MeetingsConfig
}

// MeetingsConfig configures the online meeting services.
type MeetingsConfig struct {
	// JitsiURL is the base URL of a Jitsi Meet deployment, e.g.
	// https://meet.example.org; a room is JitsiURL/<id>. Empty answers 501
	// for jitsi.
	JitsiURL string
	// JitsiAppID and JitsiSecret, when both set, make the URL carry a
	// signed JWT (?jwt=) for Jitsi's token authentication.
	JitsiAppID  string
	JitsiSecret []byte
	// GaleneURL is the base URL of a Galene server, e.g.
	// https://galene.example.org:8443; a meeting is the group
	// GaleneURL/group/<GaleneGroup>/<name>/. Empty answers 501 for galene.
	GaleneURL string
	// GaleneGroup is the Galene group whose subgroups the meetings are (it
	// must allow subgroups: "allow-subgroups": true); empty means
	// "sparkgate".
	GaleneGroup string
	// GaleneSecret, when set, makes the URL carry a signed token (?token=)
	// that the group accepts when it lists the secret among its authKeys
	// (an "oct" key with kid GaleneKeyID, alg HS256).
	GaleneSecret []byte
	GaleneKeyID  string
	// GalenePermissions are the permissions the token grants; nil means
	// ["present"].
	GalenePermissions []string
	// TokenTTL is the lifetime of meeting tokens; zero means 1h.
	TokenTTL time.Duration
	// Issuer names the gateway in Galene tokens; empty means "sparkgate".
	Issuer string
	// Names names a meeting from its scope (meet.go: the pair of people or
	// the room it is for), the same on every node: auth.Keys.MeetingName.
	// Nil means a key made when the gateway starts, so that the names
	// change with each start.
	Names func(scope string) string
}

// collabState is the Server's state for CollabConfig.
type collabState struct {
	pubsub string
	admins map[string]bool
	store  bookmark.Store
	groups xmppadmin.GroupDirectory
	meet   MeetingsConfig

	// The upload service found by discovery, and its size limit.
	uploadMu    sync.Mutex
	upload      string
	uploadMax   int64
	uploadKnown bool

	// offered remembers, per user, the version (update time in ms) of
	// each bookmark published into the user's XEP-0402 node.
	offeredMu sync.Mutex
	offered   map[string]map[int64]int64

	// access decides who sees bookmarks (package bookmark).
	access *bookmark.Access
}

func (s *Server) initCollab() error {
	cfg := s.cfg.Collab
	st := &s.collab
	st.pubsub = cfg.PubSubService
	if st.pubsub == "" {
		st.pubsub = "pubsub." + s.cfg.Domain
	}
	st.admins = make(map[string]bool, len(cfg.Admins))
	for _, a := range cfg.Admins {
		jid, err := toJID(strings.TrimSpace(a), s.cfg.Domain)
		if err != nil {
			return errors.New("Collab.Admins: " + err.Error())
		}
		st.admins[jid] = true
	}
	st.store = cfg.Bookmarks
	st.groups = cfg.Groups
	if st.groups == nil {
		st.groups, _ = s.cfg.Directory.(xmppadmin.GroupDirectory)
	}
	var members bookmark.Members
	if st.groups != nil {
		members = s.bookmarkMembers
	}
	named := func(ctx context.Context) ([]string, error) {
		if st.store == nil {
			return nil, nil
		}
		return st.store.BookmarkGroups(ctx)
	}
	st.access = bookmark.NewAccess(members, named, nil)
	st.upload = cfg.UploadService
	m := cfg.Meetings
	for _, base := range []*string{&m.JitsiURL, &m.GaleneURL} {
		if *base == "" {
			continue
		}
		u, err := url.Parse(*base)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errors.New("Collab.Meetings: a base URL must be an absolute http(s) URL")
		}
		*base = strings.TrimRight(*base, "/")
	}
	if m.TokenTTL <= 0 {
		m.TokenTTL = time.Hour
	}
	if m.Issuer == "" {
		m.Issuer = "sparkgate"
	}
	if m.GalenePermissions == nil {
		m.GalenePermissions = []string{"present"}
	}
	if m.GaleneGroup == "" {
		m.GaleneGroup = "sparkgate"
	}
	if m.Names == nil {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		m.Names = func(scope string) string { return auth.MeetingName(key, scope) }
	}
	st.meet = m
	return nil
}

// isBookmarkAdmin reports whether the bare JID is one of CollabConfig.Admins,
// who may make bookmarks global and whose room bookmarks are offered to the
// users who see them.
func (s *Server) isBookmarkAdmin(jid string) bool { return s.collab.admins[jid] }
