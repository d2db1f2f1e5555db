package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// MeetingNamesFile holds the 32-byte key that names online meetings
// (MeetingName). Like the other key files it is made on first start, and
// the nodes of a cluster need the same one.
const MeetingNamesFile = "meeting-names.key"

// meetingNameLen is the length of a meeting name: 130 bits of the HMAC in
// base32, which no one guesses.
const meetingNameLen = 26

// MeetingName names the online meeting of scope (the people or the room
// it is for; gateway/meet.go says which): the same scope gives the same
// name on every node with these keys, and without the key file no one can
// tell a meeting's name from its scope. Lower case letters and digits
// only, which every meeting service takes in a URL path.
func (k *Keys) MeetingName(scope string) string {
	return MeetingName(k.meeting, scope)
}

// MeetingName is Keys.MeetingName for a key of the caller's.
func MeetingName(key []byte, scope string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("sparkgate meeting\x00"))
	m.Write([]byte(scope))
	name := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil))
	return strings.ToLower(name[:meetingNameLen])
}
