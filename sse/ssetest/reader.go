// Package ssetest reads Server-Sent Events streams in tests: it parses the
// frames a client receives the way a browser's EventSource does (HTML Living
// Standard, section 9.2.6 "Interpreting an event stream").
package ssetest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Event is one dispatched event.
type Event struct {
	// ID is the last event id in effect when the event was dispatched, as
	// EventSource's lastEventId: an event without an "id:" field keeps the
	// previous one.
	ID string
	// Name is the event type; "message" when the event has no "event:"
	// field.
	Name string
	// Data is the data lines joined with LF.
	Data string
}

// Reader reads events from a stream. It is not safe for concurrent use.
type Reader struct {
	r *bufio.Reader

	lastID string
	skipLF bool // the last line ended with CR; a following LF belongs to it
	// Retry is the last reconnection time the stream set with "retry:", in
	// milliseconds; -1 until one is seen.
	Retry int
	// Comments counts the ":" comment lines seen, such as heartbeats.
	Comments int
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReader(r), Retry: -1}
}

// LastEventID returns the id a reconnecting EventSource would send.
func (r *Reader) LastEventID() string { return r.lastID }

// Next returns the next dispatched event. It returns io.EOF when the stream
// ends cleanly between events, and io.ErrUnexpectedEOF when it ends inside
// one (the partial event is discarded, as EventSource does).
func (r *Reader) Next() (Event, error) {
	var (
		name    string
		data    strings.Builder
		hasData bool
		started bool
	)
	for {
		line, err := r.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && (started || line != "") {
				return Event{}, io.ErrUnexpectedEOF
			}
			return Event{}, err
		}
		if line == "" {
			if !hasData {
				name, started = "", false
				continue
			}
			ev := Event{ID: r.lastID, Name: name, Data: strings.TrimSuffix(data.String(), "\n")}
			if ev.Name == "" {
				ev.Name = "message"
			}
			return ev, nil
		}
		if line[0] == ':' {
			r.Comments++
			continue
		}
		started = true
		field, value, found := strings.Cut(line, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch field {
		case "event":
			name = value
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
			hasData = true
		case "id":
			if !strings.Contains(value, "\x00") {
				r.lastID = value
			}
		case "retry":
			if n, err := strconv.Atoi(value); err == nil && n >= 0 && strings.Trim(value, "0123456789") == "" {
				r.Retry = n
			}
		}
	}
}

// readLine reads one line ended by CRLF, LF or CR, without its ending. It
// scans what is buffered instead of reading byte by byte, so that a
// benchmark's many readers cost little next to the server they measure.
func (r *Reader) readLine() (string, error) {
	var long []byte // the start of a line longer than what was buffered
	for {
		n := r.r.Buffered()
		if n == 0 {
			if _, err := r.r.Peek(1); err != nil {
				return string(long), err
			}
			n = r.r.Buffered()
		}
		buf, _ := r.r.Peek(n)
		if r.skipLF {
			// The last line ended with CR; an LF right after belongs to
			// it. Checked only now: on a live stream the byte after a CR
			// may not have arrived when the line was returned.
			r.skipLF = false
			if buf[0] == '\n' {
				_, _ = r.r.Discard(1)
				continue
			}
		}
		i := bytes.IndexAny(buf, "\r\n")
		if i < 0 {
			long = append(long, buf...)
			_, _ = r.r.Discard(n)
			continue
		}
		var line string
		if long == nil {
			line = string(buf[:i])
		} else {
			line = string(append(long, buf[:i]...))
		}
		r.skipLF = buf[i] == '\r'
		_, _ = r.r.Discard(i + 1)
		return line, nil
	}
}

// ReadAll reads events until the stream ends and returns them; err is nil
// when the stream ended cleanly.
func ReadAll(rd io.Reader) ([]Event, error) {
	r := NewReader(rd)
	var out []Event
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}
