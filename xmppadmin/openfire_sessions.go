package xmppadmin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The Openfire REST API plugin's sessions (GET /sessions, DELETE
// /sessions/{username}) and its broadcast (POST /messages/users).
var (
	_ Sessions    = (*Openfire)(nil)
	_ Broadcaster = (*Openfire)(nil)
)

// openfireSession is the plugin's session entity (the fields sparkgate
// uses). sessionId is the full JID; presenceStatus is a word such as
// "Online" or "Away"; dates are ISO 8601 with milliseconds and offset.
type openfireSession struct {
	SessionID      string `json:"sessionId"`
	Node           string `json:"node"`
	PresenceStatus string `json:"presenceStatus"`
	Priority       int    `json:"priority"`
	HostAddress    string `json:"hostAddress"`
	CreationDate   string `json:"creationDate"`
}

// openfireSessions is the list entity, under either key (as with users).
type openfireSessions struct {
	Sessions []openfireSession `json:"sessions"`
	Session  []openfireSession `json:"session"`
}

// ServerSessions implements Sessions with GET /sessions, keeping the
// sessions of Domain.
func (o *Openfire) ServerSessions(ctx context.Context) ([]ServerSession, error) {
	var res openfireSessions
	if err := o.do(ctx, http.MethodGet, "/sessions", nil, &res); err != nil {
		return nil, err
	}
	all := append(res.Sessions, res.Session...)
	out := make([]ServerSession, 0, len(all))
	for _, s := range all {
		if !inDomain(s.SessionID, o.Domain) {
			continue
		}
		ss := ServerSession{JID: s.SessionID, IP: s.HostAddress, Node: s.Node, Priority: s.Priority,
			Status: strings.ToLower(s.PresenceStatus)}
		if t, err := time.Parse(time.RFC3339, s.CreationDate); err == nil {
			ss.Since = t
		}
		out = append(out, ss)
	}
	return out, nil
}

// Kick implements Sessions with DELETE /sessions/{username}; the plugin
// does not say how many sessions ended (-1).
func (o *Openfire) Kick(ctx context.Context, user string) (int, error) {
	err := o.do(ctx, http.MethodDelete, "/sessions/"+url.PathEscape(user), nil, nil)
	if err != nil {
		return 0, notFound("kick", user, err)
	}
	return -1, nil
}

// Broadcast implements Broadcaster with POST /messages/users, Openfire's
// server message to every online user. Its message entity has a body
// only, so the type is Openfire's own and a subject goes on the body's
// first line; the plugin does not say how many users it reached (-1).
func (o *Openfire) Broadcast(ctx context.Context, m Broadcast) (int, error) {
	body := m.Body
	if m.Subject != "" {
		body = m.Subject + "\n" + body
	}
	msg := struct {
		Body string `json:"body"`
	}{body}
	if err := o.do(ctx, http.MethodPost, "/messages/users", msg, nil); err != nil {
		return 0, err
	}
	return -1, nil
}
