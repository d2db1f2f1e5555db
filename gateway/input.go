package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNodeBytes is RFC 7622's limit on a JID's localpart (and domainpart,
// resourcepart) in octets.
const maxNodeBytes = 1023

// validUsername reports why name cannot be the localpart of a JID, or nil.
// It applies the rules of RFC 7622 section 3.3 that matter for a login
// name: not empty, at most 1023 bytes of UTF-8, none of the characters the
// RFC forbids (" & ' / : < > @), no spaces or control characters. Names are
// compared in lower case by the XMPP server, so the gateway lowercases
// them before use (see normalizeUsername).
func validUsername(name string) error {
	switch {
	case name == "":
		return errors.New("the username is empty")
	case len(name) > maxNodeBytes:
		return errors.New("the username is longer than 1023 bytes")
	case !utf8.ValidString(name):
		return errors.New("the username is not valid UTF-8")
	}
	for _, r := range name {
		switch {
		case strings.ContainsRune("\"&'/:<>@", r):
			return fmt.Errorf("the username may not contain %q", r)
		case unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError:
			return errors.New("the username may not contain spaces or control characters")
		case !unicode.IsPrint(r):
			return errors.New("the username may not contain unprintable characters")
		}
	}
	return nil
}

// normalizeUsername lowercases a username the way the XMPP server compares
// localparts (RFC 7622's UsernameCaseMapped profile maps case).
func normalizeUsername(name string) string { return strings.ToLower(name) }

// toJID turns what a path parameter holds into a JID: a bare or full JID is
// kept (its localpart and domain lowercased), a username alone becomes
// username@domain. It refuses empty parts, control characters and parts
// over 1023 bytes.
func toJID(s, domain string) (string, error) {
	if s == "" {
		return "", errors.New("the address is empty")
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return "", errors.New("the address contains control characters")
	}
	bare, resource, hasResource := strings.Cut(s, "/")
	if hasResource && (resource == "" || len(resource) > maxNodeBytes) {
		return "", errors.New("the address has an empty or oversized resource")
	}
	local, dom, hasAt := strings.Cut(bare, "@")
	if !hasAt {
		local, dom = bare, domain
	}
	if hasAt && local == "" {
		return "", errors.New("the address has an empty username")
	}
	if local != "" {
		if err := validUsername(local); err != nil {
			return "", err
		}
	}
	if dom == "" || len(dom) > maxNodeBytes || strings.ContainsAny(dom, "@/\"&'<>: ") {
		return "", errors.New("the address has an invalid domain")
	}
	jid := strings.ToLower(dom)
	if local != "" {
		jid = normalizeUsername(local) + "@" + jid
	}
	if hasResource {
		jid += "/" + resource
	}
	return jid, nil
}

// readText reads a request body that the SparkWeb API sends as a bare
// string. text/plain (or no content type) is taken as is; application/json
// must be one JSON string. limit bounds what is read.
func readText(r *http.Request, limit int64) (string, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return "", errorf(http.StatusBadRequest, "the request body could not be read")
	}
	if int64(len(raw)) > limit {
		return "", errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", limit))
	}
	return decodeText(r.Header.Get("Content-Type"), raw)
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
