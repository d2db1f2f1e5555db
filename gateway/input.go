package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/sparkgate/sparkgate/jid"
)

// username returns the canonical form of a username (a JID's localpart):
// the Nodeprep form the XMPP server authenticates, so that every spelling
// the server takes for one account is one key here too (see package jid).
// The error says why the name can be no one's.
func username(name string) (string, error) { return jid.Localpart(name) }

// sameUser reports whether name is a spelling of the canonical username
// local.
func sameUser(name, local string) bool {
	c, err := username(name)
	return err == nil && c == local
}

// canonicalDomain reports whether d is a domain in canonical form.
func canonicalDomain(d string) bool {
	c, err := jid.Domainpart(d)
	return err == nil && c == d
}

// toJID turns what a path parameter holds into a canonical JID: a bare or
// full JID has each part prepared as the server would (package jid), a
// string without "@" is a username and becomes username@domain (with its
// resource, if it has one).
func toJID(s, domain string) (string, error) {
	if s == "" {
		return "", errors.New("the address is empty")
	}
	bare := bareJID(s)
	if !strings.Contains(bare, "@") {
		s = s[:len(bare)] + "@" + domain + s[len(bare):]
	}
	j, err := jid.Parse(s)
	if err != nil {
		return "", err
	}
	return j.String(), nil
}

// readText reads a request body that the SparkWeb API sends as a bare
// string. text/plain (or no content type) is taken as is; application/json
// must be one JSON string. limit bounds what is read.
func readText(r *http.Request, limit int64) (string, error) {
	raw, err := readBody(r, limit)
	if err != nil {
		return "", err
	}
	return decodeText(r.Header.Get("Content-Type"), raw)
}

// readBody reads a whole request body of at most limit bytes (413 past it).
func readBody(r *http.Request, limit int64) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "the request body could not be read")
	}
	if int64(len(raw)) > limit {
		return nil, errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", limit))
	}
	return raw, nil
}

// decodeChat reads the body of a chat message (the spec's ChatMessage):
// text/plain is the text, unless it is a JSON object with a string "body",
// which, as SparkWeb took it, is sent as the text with the whole object as
// the message's data; application/json must be such an object. An empty
// text with no data is refused.
func decodeChat(contentType string, raw []byte) (body string, data json.RawMessage, err error) {
	mt := "text/plain"
	if contentType != "" {
		if mt, _, err = mime.ParseMediaType(contentType); err != nil {
			return "", nil, errorf(http.StatusBadRequest, "the Content-Type header is malformed")
		}
	}
	if mt != "text/plain" && mt != "application/json" {
		return "", nil, errorf(http.StatusUnsupportedMediaType, "the request body must be text/plain or a JSON object")
	}
	if !utf8.Valid(raw) {
		return "", nil, errorf(http.StatusBadRequest, "the request body is not valid UTF-8")
	}
	var obj struct {
		Body *string `json:"body"`
	}
	trimmed := bytes.TrimSpace(raw)
	isObject := len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &obj) == nil && obj.Body != nil
	switch {
	case isObject:
		body, data = *obj.Body, json.RawMessage(trimmed)
	case mt == "application/json":
		return "", nil, errorf(http.StatusBadRequest, `the request body must be a JSON object with a string "body"`)
	default:
		body = string(raw)
	}
	if body == "" {
		return "", nil, errorf(http.StatusBadRequest, "the message is empty")
	}
	return body, data, nil
}

// decodeText is readText's decoding step, split out so it can be fuzzed.
func decodeText(contentType string, raw []byte) (string, error) {
	mt := "text/plain"
	if contentType != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(contentType); err != nil {
			return "", errorf(http.StatusBadRequest, "the Content-Type header is malformed")
		}
	}
	switch mt {
	case "text/plain":
		if !utf8.Valid(raw) {
			return "", errorf(http.StatusBadRequest, "the request body is not valid UTF-8")
		}
		return string(raw), nil
	case "application/json":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", errorf(http.StatusBadRequest, "the request body must be a JSON string")
		}
		return s, nil
	}
	return "", errorf(http.StatusUnsupportedMediaType, "the request body must be text/plain or a JSON string")
}
