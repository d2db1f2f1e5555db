package jid

import "strings"

// JID is an XMPP address in canonical form: each part has been through
// its profile. The zero JID is not valid.
type JID struct {
	Local, Domain, Resource string
}

// Parse splits s (localpart@domainpart/resourcepart, the first two parts
// optional as RFC 7622 section 3.1 says) and prepares each part. A
// string without "@" before its first "/" has no localpart.
func Parse(s string) (JID, error) {
	rest, res, hasRes := strings.Cut(s, "/")
	local, dom, hasAt := strings.Cut(rest, "@")
	if !hasAt {
		local, dom = "", rest
	}
	var j JID
	var err error
	if hasAt {
		if j.Local, err = Localpart(local); err != nil {
			return JID{}, err
		}
	}
	if j.Domain, err = Domainpart(dom); err != nil {
		return JID{}, err
	}
	if hasRes {
		if j.Resource, err = Resourcepart(res); err != nil {
			return JID{}, err
		}
	}
	return j, nil
}

// Bare returns localpart@domainpart, or the domain alone.
func (j JID) Bare() string {
	if j.Local == "" {
		return j.Domain
	}
	return j.Local + "@" + j.Domain
}

// String returns the whole JID.
func (j JID) String() string {
	if j.Resource == "" {
		return j.Bare()
	}
	return j.Bare() + "/" + j.Resource
}

// User returns the bare JID of local at domain, both in canonical form,
// or the first part's error.
func User(local, domain string) (string, error) {
	l, err := Localpart(local)
	if err != nil {
		return "", err
	}
	d, err := Domainpart(domain)
	if err != nil {
		return "", err
	}
	return l + "@" + d, nil
}
