package xmppconn

import (
	"encoding/xml"
	"time"
)

// Away while no one is there. A session outlives its user's tabs (for the
// notifications it delivers, up to ManagerConfig.IdleTimeout, 8 hours by
// default), and without this its presence said "available" all that time:
// contacts saw someone online who had closed the browser hours ago. So a
// session whose user has had no event stream and made no request for
// ManagerConfig.AwayAfter shows as away for a while (xa), with the status
// text the user set, until the user is back: a request with one of their
// tokens (AddToken), a stream's touch (Touch) or an open stream (the
// janitor's Active check). "Do not disturb" and "away for a while" set by
// the user stay as they are.
//
// What the session does on its own (catch-up, rejoining rooms, answers)
// is not the user: it keeps the session from idling out (used) but does
// not bring the user back.

// defaultAwayAfter is ManagerConfig.AwayAfter's zero: long enough that a
// reload or a tab moving between networks does not flicker the presence,
// short enough that contacts learn within minutes.
const defaultAwayAfter = 5 * time.Minute

// awayShow is the show a session sends for the user's own show when the
// user is away (auto): the available ones become xa, dnd and xa stay.
func awayShow(show string, away bool) string {
	if !away {
		return show
	}
	switch show {
	case "", "available", "chat", "away":
		return "xa"
	}
	return show
}

// used records a use of the session by the session itself or on the
// user's behalf, which keeps it from idling out but is no sign of the user.
func (s *Session) used() {
	s.mu.Lock()
	s.lastUse = time.Now()
	s.mu.Unlock()
}

// seenLocked records a sign of the user at now; when the session showed
// them away, it queues the presence that says they are back.
func (s *Session) seenLocked(now time.Time) {
	s.lastUse, s.seenAt = now, now
	if !s.away {
		return
	}
	s.away = false
	s.writePresenceLocked()
}

// idleAway is the janitor's: when the user has shown no sign for after,
// the session shows them away. active reports an open stream (a sign).
func (s *Session) idleAway(now time.Time, after time.Duration, active func(string) bool) {
	if after < 0 {
		return
	}
	here := active != nil && active(s.user)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case here:
		s.seenLocked(now)
	case !s.away && now.Sub(s.seenAt) > after:
		s.away = true
		s.m.log.Debug("user away: no stream and no request", "user", s.user, "for", now.Sub(s.seenAt).Round(time.Second))
		s.writePresenceLocked()
	}
}

// writePresenceLocked queues the presence the session shows now for the
// connection's answer writer (autoreply.go), which never blocks, when the
// away changes what it shows (not for a user whose own show is dnd or xa).
// It queues under s.mu, so that an away and the return after it reach the
// server in the order they were decided. While the session reconnects
// there is no connection; the next one sends the presence as it stands
// (presenceStanzaLocked), away or not.
func (s *Session) writePresenceLocked() {
	if awayShow(s.show, true) == s.show || s.conn == nil {
		return
	}
	if b, err := xml.Marshal(s.presenceStanzaLocked()); err == nil {
		s.conn.writeAsync(b)
	}
}
