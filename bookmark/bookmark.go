// Package bookmark declares the gateway's server-side bookmarks (the
// Openfire "Client Control" model the SparkWeb API exposes) and the store
// they live in. The gateway decides who sees and changes them; package
// store implements Store.
package bookmark

import (
	"context"
	"errors"
	"time"
)

// Types of a bookmark.
const (
	TypeURL       = "url"
	TypeGroupChat = "group_chat"
)

// ErrNotFound is matched by the error a Store returns for a missing
// bookmark.
var ErrNotFound = errors.New("bookmark: not found")

// Bookmark is a URL or a group chat room offered to some users: every user
// when Global, else the Users named and the members of the Groups named.
type Bookmark struct {
	ID    int64
	Type  string // TypeURL or TypeGroupChat
	Name  string
	Value string // the URL, or the room's bare JID
	// Creator is the bare JID of the user who created it; only they (or an
	// admin) may change it.
	Creator string
	// Users are usernames (localparts), Groups are shared roster group ids.
	Users, Groups []string
	Global        bool
	// Properties are free name/value pairs (autojoin, nameasnick, ...),
	// sorted by name.
	Properties []Property
	Created    time.Time
	Updated    time.Time
}

// Property is one name/value pair of a bookmark.
type Property struct {
	Name, Value string
}

// Property returns the value of the property name and whether it is set.
func (b *Bookmark) Property(name string) (string, bool) {
	for _, p := range b.Properties {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// Store keeps bookmarks. Implementations are safe for concurrent use.
type Store interface {
	// CreateBookmark stores b (its ID is ignored) and returns it with the
	// ID and times assigned.
	CreateBookmark(ctx context.Context, b Bookmark) (Bookmark, error)
	// Bookmark returns the bookmark id or an error matching ErrNotFound.
	Bookmark(ctx context.Context, id int64) (Bookmark, error)
	// UpdateBookmark replaces every field of the bookmark b.ID but its
	// Creator and Created (properties included), or returns ErrNotFound.
	UpdateBookmark(ctx context.Context, b Bookmark) (Bookmark, error)
	// DeleteBookmark removes the bookmark id or returns ErrNotFound.
	DeleteBookmark(ctx context.Context, id int64) error
	// SetBookmarkProperty creates or replaces one property.
	SetBookmarkProperty(ctx context.Context, id int64, name, value string) (Bookmark, error)
	// DeleteBookmarkProperty removes one property (absent is not an
	// error, a missing bookmark is).
	DeleteBookmarkProperty(ctx context.Context, id int64, name string) (Bookmark, error)
	// VisibleBookmarks lists, by id, the bookmarks that are global, name
	// user (a username), name one of groups, or were created by creator.
	VisibleBookmarks(ctx context.Context, user, creator string, groups []string) ([]Bookmark, error)
	// BookmarkGroups lists the groups that some bookmark names.
	BookmarkGroups(ctx context.Context) ([]string, error)
	// DeleteUserBookmarks removes the bookmarks creator created and takes
	// user (the same person's username) off the others' user lists, for
	// an account's removal.
	DeleteUserBookmarks(ctx context.Context, user, creator string) error
}
