package xmppadmin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// ejabberd's session commands (mod_admin_extra: connected_users_info,
// send_message; core: kick_user, connected_users_vhost). ejabberd 23.01
// has no reversible lockout: ban_account replaces the password with a
// random one and there is no unban_account, so Ejabberd does not implement
// Lockouts and the gateway keeps lockouts itself.
var (
	_ Sessions    = (*Ejabberd)(nil)
	_ Broadcaster = (*Ejabberd)(nil)
)

// ServerSessions implements Sessions with connected_users_info, keeping
// the sessions of Domain (the command lists every virtual host's).
func (e *Ejabberd) ServerSessions(ctx context.Context) ([]ServerSession, error) {
	var raw []struct {
		JID      string `json:"jid"`
		IP       string `json:"ip"`
		Node     string `json:"node"`
		Priority int    `json:"priority"`
		Status   string `json:"status"`
		Uptime   int64  `json:"uptime"`
	}
	if err := e.call(ctx, "connected_users_info", struct{}{}, &raw); err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]ServerSession, 0, len(raw))
	for _, r := range raw {
		if !inDomain(r.JID, e.Domain) {
			continue
		}
		s := ServerSession{JID: r.JID, IP: r.IP, Node: r.Node, Priority: r.Priority, Status: r.Status}
		if r.Uptime > 0 {
			s.Since = now.Add(-time.Duration(r.Uptime) * time.Second).Truncate(time.Second)
		}
		out = append(out, s)
	}
	return out, nil
}

// Kick implements Sessions with kick_user. ejabberd answers the number of
// sessions ended, bare or as {"num_resources": N} depending on the
// version; an unknown user has none.
func (e *Ejabberd) Kick(ctx context.Context, user string) (int, error) {
	var raw json.RawMessage
	if err := e.call(ctx, "kick_user", userArgs{user, e.Domain}, &raw); err != nil {
		return 0, err
	}
	var n int
	if json.Unmarshal(raw, &n) == nil {
		return n, nil
	}
	var obj struct {
		N *int `json:"num_resources"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.N != nil {
		return *obj.N, nil
	}
	return -1, nil
}

// Broadcast implements Broadcaster: connected_users_vhost lists the
// online sessions, and send_message sends m to each user once (to the
// bare JID, so the server routes it to the user's sessions by its own
// rules). It reports the users it reached; an error stops the rest.
func (e *Ejabberd) Broadcast(ctx context.Context, m Broadcast) (int, error) {
	var sessions []string
	if err := e.call(ctx, "connected_users_vhost", struct {
		Host string `json:"host"`
	}{e.Domain}, &sessions); err != nil {
		return 0, err
	}
	users := make([]string, 0, len(sessions))
	for _, s := range sessions {
		bare, _, _ := strings.Cut(s, "/")
		users = append(users, strings.ToLower(bare))
	}
	slices.Sort(users)
	users = slices.Compact(users)
	from := m.From
	if from == "" {
		from = e.Domain
	}
	sent := 0
	for i, to := range users {
		args := struct {
			Type    string `json:"type"`
			From    string `json:"from"`
			To      string `json:"to"`
			Subject string `json:"subject"`
			Body    string `json:"body"`
		}{m.Type, from, to, m.Subject, m.Body}
		if err := e.callStatus(ctx, "send_message", args); err != nil {
			if ae := asAPIError(err); ae != nil && ae.Status == http.StatusOK {
				// The recipient went offline meanwhile: not a failure
				// of the broadcast.
				continue
			}
			return sent, fmt.Errorf("xmppadmin: broadcast to %d of %d users: %w", len(users)-i, len(users), err)
		}
		sent++
	}
	return sent, nil
}
