package sse

import (
	"bytes"
	"strings"
)

// Event is an event the hub writes without logging it, such as the hello
// event at the start of a stream. Data is serialized by the caller.
type Event struct {
	// Name is the SSE event name; CR, LF and NUL are removed. Empty means
	// no "event:" field (the client sees a "message" event).
	Name string
	// Data is the event's data; nil with an empty Name means no event.
	Data []byte
}

// cleanName removes CR, LF and NUL, which would end the "event:" line early
// and let the rest of the name inject fields.
func cleanName(name string) string {
	if !strings.ContainsAny(name, "\r\n\x00") {
		return name
	}
	// Byte-wise: CR, LF and NUL never occur inside a multi-byte UTF-8
	// sequence, and other bytes pass unchanged.
	b := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '\r', '\n', 0:
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// frameSize returns an upper bound of the encoded size of an event.
func frameSize(idLen int, name string, data []byte) int {
	n := len("data: \n\n") + len(data)
	if idLen > 0 {
		n += len("id: \n") + idLen
	}
	if name != "" {
		n += len("event: \n") + len(name)
	}
	breaks := bytes.Count(data, []byte{'\n'}) + bytes.Count(data, []byte{'\r'})
	return n + breaks*len("data: \n")
}

// appendFrame appends the encoding of one event. id and name must already be
// free of CR, LF and NUL (ids are made by appendID, names pass cleanName).
// Data is split into "data:" lines at CRLF, CR and LF, the line endings an
// SSE parser recognises; data without line breaks is copied once.
func appendFrame(dst []byte, id []byte, name string, data []byte) []byte {
	if len(id) > 0 {
		dst = append(dst, "id: "...)
		dst = append(dst, id...)
		dst = append(dst, '\n')
	}
	if name != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, name...)
		dst = append(dst, '\n')
	}
	for {
		dst = append(dst, "data: "...)
		i := indexLineBreak(data)
		if i < 0 {
			dst = append(dst, data...)
			dst = append(dst, '\n')
			break
		}
		dst = append(dst, data[:i]...)
		dst = append(dst, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return append(dst, '\n')
}

// indexLineBreak returns the index of the first CR or LF in b, or -1.
func indexLineBreak(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.IndexByte(b, '\r')
	}
	if j := bytes.IndexByte(b[:i], '\r'); j >= 0 {
		return j
	}
	return i
}
