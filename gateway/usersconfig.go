package gateway

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/sparkgate/sparkgate/linkpreview"
)

// UsersConfig configures user management, groups, user and global
// settings, and link previews.
//
// Privacy rules (they are the gateway's, not the XMPP server's):
//   - GET /user, GET /config/properties answer the caller's own profile;
//     GET /users answers public fields only (username and vCard name) and
//     searches the caller's roster (which holds the members of the caller's
//     shared roster groups) unless SearchAll is set or the caller is an
//     admin. Email addresses and properties of other users are never shown.
//   - Groups: anyone may join or leave the groups in JoinableGroups ("*"
//     means every existing group); admins may join or leave any existing
//     group and, with CreateGroups, create a missing one. Anything else is
//     403, a missing group 404.
type UsersConfig struct {
	// Properties keeps the users' properties (POST /config/properties,
	// PUT /user). Nil means the gateway keeps none: GET answers no
	// properties and setting one is 501.
	Properties PropertyStore
	// MaxProperties is the most properties one user may keep; zero means
	// 64.
	MaxProperties int
	// Admins are the bare JIDs of the gateway's administrators.
	Admins []string
	// SearchAll lets every user search all registered users with GET
	// /users. False limits a search to the caller's roster and shared
	// roster groups (admins always search everyone).
	SearchAll bool
	// JoinableGroups are the shared roster groups any user may join and
	// leave; "*" means every existing group. Empty means only admins
	// change group memberships.
	JoinableGroups []string
	// CreateGroups lets an admin create a missing group by joining it.
	CreateGroups bool
	// OnDelete are called, in order, whenever the gateway forgets an
	// account that no longer exists (DELETE /user, an account the XMPP
	// server removed, a name registered anew), to remove what other parts
	// of the gateway keep for the user (TOTP, passkeys, push
	// subscriptions). user is the bare JID. An error is logged; the
	// deletion still succeeds.
	OnDelete []func(ctx context.Context, user string) error
	// Global holds what GET /config/global reports beyond what the gateway
	// knows itself.
	Global GlobalSettings
	// Preview configures the link previews of GET /preview.
	Preview linkpreview.Config
}

// GlobalSettings are the public settings GET /config/global reports that
// other parts of the deployment own. Zero fields are left out.
type GlobalSettings struct {
	// Version is the gateway's version; empty means the module version
	// from the build information ("dev" when there is none).
	Version string
	// PubSubService and UploadService are the XMPP services of those
	// names; UploadMaxSize is the upload service's limit in bytes.
	PubSubService string
	UploadService string
	UploadMaxSize int64
	// MeetingServices are the meeting services configured ("jitsi",
	// "galene").
	MeetingServices []string
	// VAPIDPublicKey returns the Web Push public key (as GET
	// /webpush/vapidkey does); "" leaves it out. Nil means the push
	// area's own key (Server.VAPIDPublicKey).
	VAPIDPublicKey func(ctx context.Context) (string, error)
}

// PropertyStore keeps per-user public properties. Users are bare JIDs.
// Implementations are safe for concurrent use (store.SQLite is one).
type PropertyStore interface {
	// UserProperties returns the user's properties by name (an empty map
	// for none).
	UserProperties(ctx context.Context, user string) (map[string]string, error)
	// SetUserProperties deletes the names in remove and sets those in set
	// in one transaction. When maxCount is positive and the user would end
	// with more properties, nothing changes and ok is false.
	SetUserProperties(ctx context.Context, user string, set map[string]string, remove []string, maxCount int) (ok bool, err error)
	// DeleteUserProperties removes every property of the user.
	DeleteUserProperties(ctx context.Context, user string) error
	// UsersWithProperty lists the users (sorted) having the property name,
	// with the given value when matchValue; at most limit when positive.
	UsersWithProperty(ctx context.Context, name, value string, matchValue bool, limit int) ([]string, error)
}

// usersState is the Server's state for UsersConfig.
type usersState struct {
	admins  map[string]bool
	joinAll bool
	join    map[string]bool
	version string
	preview *linkpreview.Fetcher
	groups  *groupIndex // GET /user/groups (groupindex.go)
}

func (s *Server) initUsers() error {
	uc := &s.cfg.Users
	if uc.MaxProperties <= 0 {
		uc.MaxProperties = 64
	}
	st := &s.users
	st.admins = make(map[string]bool, len(uc.Admins))
	for _, a := range uc.Admins {
		jid, err := toJID(strings.TrimSpace(a), s.cfg.Domain)
		if err != nil || strings.Contains(jid, "/") {
			return fmt.Errorf("users: admin %q is not a bare JID", a)
		}
		st.admins[jid] = true
	}
	st.join = make(map[string]bool, len(uc.JoinableGroups))
	for _, g := range uc.JoinableGroups {
		if g == "*" {
			st.joinAll = true
			continue
		}
		st.join[g] = true
	}
	st.version = uc.Global.Version
	if st.version == "" {
		st.version = "dev"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			st.version = bi.Main.Version
		}
	}
	p, err := linkpreview.New(uc.Preview)
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	st.preview = p
	st.groups = newGroupIndex(groupIndexTTL, time.Now, s.bg)
	return nil
}

// isUsersAdmin reports whether the bare JID user is an administrator of
// the users area (UsersConfig.Admins).
func (s *Server) isUsersAdmin(user string) bool { return s.users.admins[strings.ToLower(user)] }

// mayJoin reports whether user may join or leave the group.
func (s *Server) mayJoin(user, group string) bool {
	return s.isUsersAdmin(user) || s.users.joinAll || s.users.join[group]
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
