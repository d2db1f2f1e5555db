package sse

import (
	"net/http"
	"strconv"
	"strings"
)

// maxIDLen bounds the length of a Last-Event-ID we try to parse: two
// 20-digit numbers and a dash.
const maxIDLen = 41

// appendID appends the SSE id of event seq in log gen.
func appendID(dst []byte, gen, seq uint64) []byte {
	dst = strconv.AppendUint(dst, gen, 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, seq, 10)
}

// formatID returns the SSE id of event seq in log gen.
func formatID(gen, seq uint64) string {
	return string(appendID(make([]byte, 0, maxIDLen), gen, seq))
}

// parseID parses an id made by formatID. It reports false for anything
// else, including ids longer than maxIDLen.
func parseID(s string) (gen, seq uint64, ok bool) {
	if len(s) > maxIDLen {
		return 0, 0, false
	}
	g, q, found := strings.Cut(s, "-")
	if !found || !digits(g) || !digits(q) {
		return 0, 0, false
	}
	gen, err := strconv.ParseUint(g, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	seq, err = strconv.ParseUint(q, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return gen, seq, true
}

// digits reports whether s is a non-empty run of ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// LastEventID returns the id a reconnecting client asks to resume after: the
// Last-Event-ID header that EventSource sends, or else the lastEventId query
// parameter for clients that cannot set headers. It returns "" when there is
// neither. The value is untrusted; the hub only parses it.
func LastEventID(r *http.Request) string {
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		return id
	}
	return r.URL.Query().Get("lastEventId")
}
