package gateway

import "strings"

// The gateway's ways of taking a JID apart. Each JID that enters the
// gateway has been through package jid (canonical form) where it matters;
// these only split strings and never validate.

// bareJID returns j without its resource: local@domain, or domain.
func bareJID(j string) string {
	b, _, _ := strings.Cut(j, "/")
	return b
}

// localPart returns the localpart of j (the username of a user's JID, the
// room name of a room's), or its domain when it has none.
func localPart(j string) string {
	b := bareJID(j)
	if l, _, ok := strings.Cut(b, "@"); ok {
		return l
	}
	return b
}

// domainOf returns the domain of j (after its "@", before its "/").
func domainOf(j string) string {
	b := bareJID(j)
	if _, d, ok := strings.Cut(b, "@"); ok {
		return d
	}
	return b
}

// cutJID splits a bare JID at its last "@"; ok is false unless both the
// localpart and the domain are non-empty.
func cutJID(bare string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(bare, '@')
	if i < 0 {
		return "", "", false
	}
	return bare[:i], bare[i+1:], i > 0 && i < len(bare)-1
}

// jidParts splits j into the contract's JID: node (omitted when empty),
// domain, and resource (omitted when j has no "/").
func jidParts(j string) *JID {
	out := &JID{}
	bare, res, hasRes := strings.Cut(j, "/")
	local, dom, hasAt := strings.Cut(bare, "@")
	if !hasAt {
		local, dom = "", bare
	}
	if local != "" {
		out.Node = ptr(local)
	}
	out.Domain = ptr(dom)
	if hasRes {
		out.Resource = ptr(res)
	}
	return out
}
