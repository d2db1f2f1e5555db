package sse

import "bytes"

// A stream may leave out events by name (ServeStream's omit): the
// gateway's streams leave out chatapi.xmpp, the raw XML of every stanza,
// unless the client asks for it, since it doubles what each message costs a
// browser. The log keeps every event once, for every stream; each stream
// skips what it does not want as it copies frames out, so leaving an event
// out costs a stream a look at the frame's first line or two, never an
// encoding.

// omits reports whether the stream leaves out the event of frame.
func (s *subscriber) omits(frame []byte) bool {
	if len(s.omit) == 0 {
		return false
	}
	name := frameName(frame)
	for _, o := range s.omit {
		if string(name) == o {
			return true
		}
	}
	return false
}

// keep returns the frames of q the stream wants, in place.
func (s *subscriber) keep(q [][]byte) [][]byte {
	if len(s.omit) == 0 {
		return q
	}
	out := q[:0]
	for _, f := range q {
		if !s.omits(f) {
			out = append(out, f)
		}
	}
	return out
}

// frameName returns the event name of an encoded frame (appendFrame's
// "id:" line, if any, then its "event:" line), or nil when it has none.
func frameName(frame []byte) []byte {
	if bytes.HasPrefix(frame, []byte("id: ")) {
		i := bytes.IndexByte(frame, '\n')
		if i < 0 {
			return nil
		}
		frame = frame[i+1:]
	}
	rest, ok := bytes.CutPrefix(frame, []byte("event: "))
	if !ok {
		return nil
	}
	if i := bytes.IndexByte(rest, '\n'); i >= 0 {
		return rest[:i]
	}
	return nil
}
