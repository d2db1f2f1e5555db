package chatapi

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Marshal returns the JSON of an event's data: exactly what
// json.Marshal(p) returns, error included.
//
// Why not json.Marshal: every copy of every event is encoded on its own.
// A room message reaches the gateway once per member (each member's copy is
// its own stanza, with its own "to"), and each copy becomes a chatapi.muc,
// a chatapi.xmpp and later a chatapi.unread. encoding/json walks a struct
// by reflection (about 2.5 µs for a chat message and its raw XML on the
// build machine, 8 % of the gateway's CPU in a room's fan-out); the events
// that come in numbers are appended field by field here instead. The rest
// go through encoding/json, and so do the rare forms of the fast ones
// (a message carrying JSON data, which encoding/json checks and compacts).
//
// TestMarshalMatchesEncodingJSON fills every field of each fast type by
// reflection and compares the bytes with encoding/json's, so a field added
// to one of these structs fails it until it is appended here too;
// FuzzMarshal compares them for arbitrary strings.
func Marshal(p Payload) ([]byte, error) {
	switch v := p.(type) {
	case Chat:
		if v.Data == nil {
			n := textLen(v.Type, v.To, v.From, v.Body, v.ID, v.StanzaID, v.Stamp, v.Thread, v.Replace, v.Retract, v.ReplyTo)
			return v.appendJSON(make([]byte, 0, 160+n+v.File.textLen())), nil
		}
	case GroupChat:
		if v.Data == nil {
			n := textLen(v.Type, v.To, v.From, v.Body, v.ID, v.StanzaID, v.Stamp, v.Replace, v.Retract, v.ReplyTo)
			if v.Subject != nil {
				n += len(*v.Subject)
			}
			return v.appendJSON(make([]byte, 0, 160+n+v.File.textLen())), nil
		}
	case Unread:
		return v.appendJSON(make([]byte, 0, 64+len(v.JID)+len(v.LastRead))), nil
	case XMPP:
		return v.appendJSON(make([]byte, 0, 12+base64.StdEncoding.EncodedLen(len(v.XMPP)))), nil
	}
	return json.Marshal(p)
}

// textLen is the length of strs together: with a fixed allowance for the
// names and punctuation, what an event's buffer needs unless its strings
// must be escaped (then it grows once).
func textLen(strs ...string) int {
	n := 0
	for _, s := range strs {
		n += len(s)
	}
	return n
}

// textLen is the length of a file link's strings, 0 for none.
func (f *File) textLen() int {
	if f == nil {
		return 0
	}
	return 24 + len(f.URL) + len(f.Desc)
}

// appendMessageHead appends the fields Chat and GroupChat open with, in
// their order: the catalogue's five (data null) and the ids and stamp.
func appendMessageHead(b []byte, typ, to, from, body, id, stanzaID, stamp string) []byte {
	b = appendField(b, `{"type":`, typ)
	b = appendField(b, `,"to":`, to)
	b = appendField(b, `,"from":`, from)
	b = append(b, `,"data":null`...)
	b = appendField(b, `,"body":`, body)
	b = appendOmitEmpty(b, `,"id":`, id)
	b = appendOmitEmpty(b, `,"stanzaId":`, stanzaID)
	return appendOmitEmpty(b, `,"stamp":`, stamp)
}

// appendJSON appends c as encoding/json writes it; c.Data must be nil.
func (c Chat) appendJSON(b []byte) []byte {
	b = appendMessageHead(b, c.Type, c.To, c.From, c.Body, c.ID, c.StanzaID, c.Stamp)
	b = appendOmitEmpty(b, `,"thread":`, c.Thread)
	if c.Sent {
		b = append(b, `,"sent":true`...)
	}
	b = appendOmitEmpty(b, `,"replace":`, c.Replace)
	b = appendOmitEmpty(b, `,"retract":`, c.Retract)
	b = appendOmitEmpty(b, `,"replyTo":`, c.ReplyTo)
	b = c.File.appendField(b)
	return append(b, '}')
}

// appendJSON appends g as encoding/json writes it; g.Data must be nil.
func (g GroupChat) appendJSON(b []byte) []byte {
	b = appendMessageHead(b, g.Type, g.To, g.From, g.Body, g.ID, g.StanzaID, g.Stamp)
	if g.Subject != nil {
		b = appendField(b, `,"subject":`, *g.Subject)
	}
	b = g.File.appendField(b)
	b = appendOmitEmpty(b, `,"replace":`, g.Replace)
	b = appendOmitEmpty(b, `,"retract":`, g.Retract)
	b = appendOmitEmpty(b, `,"replyTo":`, g.ReplyTo)
	return append(b, '}')
}

// appendJSON appends u as encoding/json writes it.
func (u Unread) appendJSON(b []byte) []byte {
	b = appendField(b, `{"jid":`, u.JID)
	b = append(b, `,"room":`...)
	b = strconv.AppendBool(b, u.Room)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(u.Count), 10)
	b = appendField(b, `,"lastRead":`, u.LastRead)
	return append(b, '}')
}

// appendJSON appends x as encoding/json writes it: a []byte is standard
// base64 with padding, nil is null.
func (x XMPP) appendJSON(b []byte) []byte {
	if x.XMPP == nil {
		return append(b, `{"xmpp":null}`...)
	}
	b = append(b, `{"xmpp":"`...)
	b = base64.StdEncoding.AppendEncode(b, x.XMPP)
	return append(b, `"}`...)
}

// appendField appends a file link's field, nothing when f is nil.
func (f *File) appendField(b []byte) []byte {
	if f == nil {
		return b
	}
	b = appendField(b, `,"file":{"url":`, f.URL)
	b = appendOmitEmpty(b, `,"desc":`, f.Desc)
	return append(b, '}')
}

// appendField appends key (the comma, the quoted name and the colon) and
// s as a JSON string.
func appendField(b []byte, key, s string) []byte {
	return appendString(append(b, key...), s)
}

// appendOmitEmpty is appendField for an omitempty field: nothing when s
// is empty.
func appendOmitEmpty(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendField(b, key, s)
}

// plain marks the ASCII bytes a JSON string holds as they are.
var plain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s quoted as encoding/json quotes a string by
// default: <, > and & as \u003c, \u003e and \u0026 (so that the JSON is
// safe inside HTML), \b \f \n \r \t short, other control characters as
// \u00XX, U+2028 and U+2029 escaped (JavaScript line terminators), and
// each byte of invalid UTF-8 as \ufffd.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0 // s[start:i] is still to be copied as it is
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
