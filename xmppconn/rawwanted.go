package xmppconn

// Raw XML events (chatapi.xmpp, ManagerConfig.RawEvents) are made only for
// sessions whose user may read them. Each one doubles what a stanza costs
// the gateway (an event encoded, logged and published; in a cluster one
// more append to JetStream) and takes a place in the user's replay log,
// whose bound (-event-buffer) it halves for the typed events, while most
// clients never open a stream that carries them (?raw=true).
//
// A session starts undecided and makes them: what it delivers before the
// first stream opens (the roster, presences, offline messages kept for
// the first stream) is there for a first stream that wants it raw. The
// first stream decides; a stream that wants raw XML turns them on for the
// rest of the session's life, so a raw stream that resumes finds every
// stanza since it asked.

// Raw XML modes of a session (Session.rawMode).
const (
	rawUndecided int32 = iota // no stream opened yet: make them
	rawWanted                 // a stream asked for them: make them
	rawUnwanted               // streams opened, none asked: skip them
)

// WantRaw records that an event stream of the user opened, and whether it
// carries raw XML events. A stream that wants them turns them on for good;
// one that does not turns them off only if no stream asked before.
func (s *Session) WantRaw(want bool) {
	if want {
		s.rawMode.Store(rawWanted)
		return
	}
	s.rawMode.CompareAndSwap(rawUndecided, rawUnwanted)
}

// makesRaw reports whether the session delivers a chatapi.xmpp event with
// each inbound stanza.
func (s *Session) makesRaw() bool {
	return s.m.cfg.RawEvents && s.rawMode.Load() != rawUnwanted
}
