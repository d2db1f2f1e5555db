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
// them away it returns the presence that says they are back, to be written
// once s.mu is released (writePresence).
func (s *Session) seenLocked(now time.Time) []byte {
	s.lastUse, s.seenAt = now, now
	if !s.away {
		return nil
	}
	s.away = false
	return s.presenceBytesLocked()
}

// idleAway is the janitor's: when the user has shown no sign for after,
// the session shows them away. active reports an open stream (a sign).
func (s *Session) idleAway(now time.Time, after time.Duration, active func(string) bool) {
	if after < 0 {
		return
	}
	var p []byte
	if active != nil && active(s.user) {
		s.mu.Lock()
		p = s.seenLocked(now)
		s.mu.Unlock()
	} else {
		s.mu.Lock()
		if !s.away && now.Sub(s.seenAt) > after {
			s.away = true
			p = s.presenceBytesLocked()
			s.m.log.Debug("user away: no stream and no request", "user", s.user, "for", now.Sub(s.seenAt).Round(time.Second))
		}
		s.mu.Unlock()
	}
	s.writePresence(p)
}

// presenceBytesLocked encodes the presence the session shows now, or nil
// when the show would not change (the user's own is dnd or xa).
func (s *Session) presenceBytesLocked() []byte {
	if awayShow(s.show, true) == s.show {
		return nil
	}
	b, err := xml.Marshal(s.presenceStanzaLocked())
	if err != nil {
		return nil
	}
	return b
}

// writePresence queues p for the connection's answer writer
// (autoreply.go), which never blocks the caller: the janitor and the
// request paths that bring the user back. While the session reconnects
// there is no connection; the next one sends the session's presence as it
// stands (presenceStanzaLocked), away or not.
func (s *Session) writePresence(p []byte) {
	if p == nil {
		return
	}
	if c := s.current(); c != nil {
		c.writeAsync(p)
	}
}

// Away reports whether the session shows its user away because they had
// no stream and made no request for ManagerConfig.AwayAfter.
func (s *Session) Away() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.away
}
