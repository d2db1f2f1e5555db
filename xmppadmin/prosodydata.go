package xmppadmin

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Prosody's internal storage keeps each user's data (accounts, roster, …)
// as a file of Lua source that returns one table, written by the server
// (util.serialization), e.g.
//
//	return {
//		[false] = { ["version"] = 3; ["pending"] = {}; };
//		["bob@example.org"] = { ["subscription"] = "both"; ["name"] = "Bob"; };
//	};
//
// parseProsodyData reads that subset of Lua: string, number, boolean and
// nil constants and table constructors, nothing that runs. It never runs
// the file: the gateway only needs its values.

// maxProsodyData bounds a file parseProsodyData reads: a roster of tens
// of thousands of contacts fits.
const maxProsodyData = 16 << 20

// maxProsodyDepth bounds the tables' nesting: the server's files nest four
// deep (a pending request's stanza), so a deeper one is not the server's.
const maxProsodyDepth = 32

var errProsodyData = errors.New("xmppadmin: not a Prosody data file")

// luaTable is a Lua table: its keys are string, float64 or bool.
type luaTable map[any]any

// parseProsodyData returns the value the file returns: a luaTable,
// string, float64, bool or nil.
func parseProsodyData(src []byte) (any, error) {
	if len(src) > maxProsodyData {
		return nil, fmt.Errorf("%w: larger than %d bytes", errProsodyData, maxProsodyData)
	}
	p := &luaParser{src: src}
	p.space()
	if !p.word("return") {
		return nil, p.fail("no return")
	}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.peek() == ';' {
		p.i++
		p.space()
	}
	if p.i != len(p.src) {
		return nil, p.fail("more after the value")
	}
	return v, nil
}

type luaParser struct {
	src []byte
	i   int
}

func (p *luaParser) fail(what string) error {
	return fmt.Errorf("%w: %s at byte %d", errProsodyData, what, p.i)
}

func (p *luaParser) peek() byte {
	if p.i < len(p.src) {
		return p.src[p.i]
	}
	return 0
}

// space skips white space and comments.
func (p *luaParser) space() {
	for p.i < len(p.src) {
		switch c := p.src[p.i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			p.i++
		case c == '-' && p.i+1 < len(p.src) && p.src[p.i+1] == '-':
			for p.i < len(p.src) && p.src[p.i] != '\n' {
				p.i++
			}
		default:
			return
		}
	}
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// name reads an identifier, or "" where there is none.
func (p *luaParser) name() string {
	start := p.i
	if p.i < len(p.src) && !(p.src[p.i] >= '0' && p.src[p.i] <= '9') {
		for p.i < len(p.src) && isNameByte(p.src[p.i]) {
			p.i++
		}
	}
	return string(p.src[start:p.i])
}

// word reads the keyword w, whole.
func (p *luaParser) word(w string) bool {
	start := p.i
	if p.name() == w {
		return true
	}
	p.i = start
	return false
}

func (p *luaParser) value(depth int) (any, error) {
	p.space()
	switch c := p.peek(); {
	case c == '{':
		if depth >= maxProsodyDepth {
			return nil, p.fail("tables nested too deep")
		}
		return p.table(depth + 1)
	case c == '"' || c == '\'':
		return p.str()
	case c == '-' || c == '.' || c >= '0' && c <= '9':
		return p.number()
	}
	start := p.i
	switch p.name() {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "nil":
		return nil, nil
	}
	p.i = start
	return nil, p.fail("no value")
}

func (p *luaParser) table(depth int) (luaTable, error) {
	p.i++ // {
	t := luaTable{}
	next := 1.0 // the key of the next positional value
	for {
		p.space()
		if p.peek() == '}' {
			p.i++
			return t, nil
		}
		var key, val any
		var err error
		switch start := p.i; {
		case p.peek() == '[':
			p.i++
			if key, err = p.value(depth); err != nil {
				return nil, err
			}
			p.space()
			if p.peek() != ']' {
				return nil, p.fail("no ] after a key")
			}
			p.i++
			if err := p.equals(); err != nil {
				return nil, err
			}
		default:
			if n := p.name(); n != "" && n != "true" && n != "false" && n != "nil" {
				key = n
				if err := p.equals(); err != nil {
					return nil, err
				}
				break
			}
			p.i = start
			key = next
			next++
		}
		if key == nil {
			return nil, p.fail("a nil key")
		}
		if val, err = p.value(depth); err != nil {
			return nil, err
		}
		if val != nil {
			t[key] = val
		}
		p.space()
		switch p.peek() {
		case ',', ';':
			p.i++
		case '}':
		default:
			return nil, p.fail("no separator between fields")
		}
	}
}

func (p *luaParser) equals() error {
	p.space()
	if p.peek() != '=' {
		return p.fail("no = after a key")
	}
	p.i++
	return nil
}

func (p *luaParser) number() (float64, error) {
	start := p.i
	for p.i < len(p.src) {
		c := p.src[p.i]
		if !(isNameByte(c) || c == '.' || c == '-' || c == '+') {
			break
		}
		p.i++
	}
	s := string(p.src[start:p.i])
	// Go's parsers take more than Lua's numerals (inf, nan, _, 0b, 0o):
	// decimal ones go to ParseFloat, 0x ones to ParseInt.
	if !strings.ContainsAny(s, "iInN_") {
		digits := strings.TrimPrefix(s, "-")
		if strings.HasPrefix(digits, "0x") || strings.HasPrefix(digits, "0X") {
			if n, err := strconv.ParseInt(s, 0, 64); err == nil {
				return float64(n), nil
			}
		} else if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, nil
		}
	}
	p.i = start
	return 0, p.fail("not a number")
}

// str reads a quoted string with Lua's escapes.
func (p *luaParser) str() (string, error) {
	quote := p.src[p.i]
	p.i++
	var b strings.Builder
	for {
		if p.i >= len(p.src) {
			return "", p.fail("a string without its end")
		}
		c := p.src[p.i]
		p.i++
		switch {
		case c == quote:
			return b.String(), nil
		case c == '\n':
			return "", p.fail("a line break in a string")
		case c != '\\':
			b.WriteByte(c)
			continue
		}
		if p.i >= len(p.src) {
			return "", p.fail("a string without its end")
		}
		e := p.src[p.i]
		p.i++
		switch e {
		case 'n', '\n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '\\', '"', '\'':
			b.WriteByte(e)
		case 'x':
			if p.i+2 > len(p.src) {
				return "", p.fail("a short \\x escape")
			}
			n, err := strconv.ParseUint(string(p.src[p.i:p.i+2]), 16, 8)
			if err != nil {
				return "", p.fail("a bad \\x escape")
			}
			b.WriteByte(byte(n))
			p.i += 2
		case 'z':
			for p.i < len(p.src) && strings.IndexByte(" \t\n\r\f\v", p.src[p.i]) >= 0 {
				p.i++
			}
		default:
			if e < '0' || e > '9' {
				return "", p.fail("an unknown escape")
			}
			n := int(e - '0')
			for k := 0; k < 2 && p.i < len(p.src) && p.src[p.i] >= '0' && p.src[p.i] <= '9'; k++ {
				n = n*10 + int(p.src[p.i]-'0')
				p.i++
			}
			if n > 255 {
				return "", p.fail("a decimal escape over 255")
			}
			b.WriteByte(byte(n))
		}
	}
}
