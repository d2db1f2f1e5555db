package xmppconn

import "context"

// RawIQ sends raw, one IQ request (get or set) given as XML text whose id
// attribute is id and whose to is to (empty for the user's own server),
// and waits for the reply like IQ. raw is checked like SendRaw's.
func (s *Session) RawIQ(ctx context.Context, id, to string, raw []byte) (Stanza, error) {
	c, err := s.usable()
	if err != nil {
		return Stanza{}, err
	}
	if err := checkRaw(raw); err != nil {
		return Stanza{}, err
	}
	s.Touch()
	return c.iq(ctx, id, to, raw)
}
