package xmppconn

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sync"
)

const initialBufSize = 2048

// bufPool holds the read buffers of captures that are busy: an idle
// connection gives its buffer back and waits for input in a few bytes of
// its own (capture.first), so thousands of idle connections hold no read
// buffer (TestIntegrationSessionIdleCost).
var bufPool = sync.Pool{New: func() any { b := make([]byte, initialBufSize); return &b }}

// capture is the byte source of the stream's xml.Decoder. It implements
// io.ByteReader, so the decoder does not add a buffer of its own, and it keeps
// every byte from a mark on, so that the exact bytes of a stanza can be cut
// out by decoder offsets. It refuses to hold more than max bytes past the
// mark, which bounds the memory of every token and stanza.
type capture struct {
	src  io.Reader
	buf  []byte
	r, w int   // next byte to hand out, end of valid data, both in buf
	base int64 // stream offset of buf[0]
	mark int64 // stream offset from which bytes must be kept
	lim  int   // index in buf that r must not reach
	max  int
	err  error // the error src returned, if any

	pooled *[]byte  // the bufPool entry buf is, or nil
	first  [64]byte // buf while idle: where the first bytes after a pause land
}

func newCapture(src io.Reader, max int) *capture {
	c := &capture{src: src, max: max}
	c.take()
	c.lim = max
	return c
}

// take makes a buffer from bufPool the capture's buffer, keeping the
// bytes buf holds (at most len(first), as take follows release).
func (c *capture) take() {
	p := bufPool.Get().(*[]byte)
	copy(*p, c.buf[:c.w])
	c.buf, c.pooled = *p, p
}

// release gives the buffer back while nothing in it is needed: every byte
// read was consumed and nothing is kept from the mark on.
func (c *capture) release() {
	c.base, c.r, c.w = c.mark, 0, 0
	c.lim = c.max
	if c.pooled != nil {
		bufPool.Put(c.pooled)
		c.pooled = nil
	}
	c.buf = c.first[:]
}

// setMark allows bytes before the stream offset off to be discarded and
// restarts the size limit there.
func (c *capture) setMark(off int64) {
	c.mark = off
	c.lim = int(off-c.base) + c.max
}

// buffered reports the number of bytes read from src but not yet consumed.
func (c *capture) buffered() int { return c.w - c.r }

// bytes returns the kept bytes between stream offsets from and to.
func (c *capture) bytes(from, to int64) []byte {
	return c.buf[from-c.base : to-c.base]
}

func (c *capture) ReadByte() (byte, error) {
	if c.r >= c.lim {
		return 0, fmt.Errorf("%w: %w (more than %d bytes)", ErrProtocol, ErrStanzaTooLarge, c.max)
	}
	if c.r == c.w {
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	b := c.buf[c.r]
	c.r++
	return b, nil
}

// Read is there to satisfy io.Reader; the decoder only uses ReadByte.
func (c *capture) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b, err := c.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = b
	return 1, nil
}

func (c *capture) fill() error {
	// Drop what lies before the mark.
	if keep := int(c.mark - c.base); keep > 0 {
		n := copy(c.buf, c.buf[keep:c.w])
		c.r -= keep
		c.w = n
		c.lim -= keep
		c.base = c.mark
		// Give back a buffer grown by a big stanza once it is idle again.
		if len(c.buf) > 4*initialBufSize && n <= initialBufSize/2 {
			small := make([]byte, initialBufSize)
			copy(small, c.buf[:n])
			c.buf, c.pooled = small, nil
		}
	}
	if c.w == len(c.buf) {
		grown := make([]byte, min(2*len(c.buf), c.max+initialBufSize))
		if len(grown) <= len(c.buf) {
			grown = make([]byte, len(c.buf)+initialBufSize)
		}
		copy(grown, c.buf[:c.w])
		c.buf, c.pooled = grown, nil
	}
	for {
		n, err := c.src.Read(c.buf[c.w:])
		c.w += n
		if n > 0 {
			return nil
		}
		if err != nil {
			c.err = err
			return err
		}
	}
}

// element is one complete child of the stream root.
type element struct {
	name xml.Name   // resolved against the stream's namespaces
	attr []xml.Attr // attributes of the start tag
	raw  []byte     // the exact bytes received, start tag to end tag

	// For message, presence and iq elements read with decoding on: the
	// decoded stanza, or why the typed decoder rejected it.
	stanza    *Stanza
	decodeErr error
}

func (e *element) attrValue(local string) string {
	for _, a := range e.attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// errStreamEnd is returned by next when the server closed the stream.
var errStreamEnd = errors.New("xmppconn: end of stream")

// limiter sits between the tokenizer and the namespace-aware decoder. It
// counts depth and attributes and rejects restricted XML (RFC 6120 11.1):
// DTDs and entity declarations, comments, processing instructions other
// than the XML declaration.
type limiter struct {
	raw      *xml.Decoder
	depth    int // elements open, the stream root included
	tokens   int
	maxDepth int
	maxAttrs int
}

func (l *limiter) Token() (xml.Token, error) {
	tok, err := l.raw.RawToken()
	if err != nil {
		return nil, err
	}
	l.tokens++
	switch t := tok.(type) {
	case xml.StartElement:
		l.depth++
		if l.depth > l.maxDepth {
			return nil, protoErr("elements nested deeper than %d", l.maxDepth)
		}
		if len(t.Attr) > l.maxAttrs {
			return nil, protoErr("more than %d attributes", l.maxAttrs)
		}
	case xml.EndElement:
		l.depth--
	case xml.CharData:
	case xml.ProcInst:
		if l.tokens != 1 || t.Target != "xml" {
			return nil, protoErr("processing instruction in stream")
		}
	default:
		return nil, protoErr("restricted XML (%T) in stream", tok)
	}
	return tok, nil
}

// elemReader reads a stream header and then its children one by one. The
// tokenizer reads from a capture, so each child's exact bytes are cut out
// by offsets, and stanzas are decoded in the same pass.
type elemReader struct {
	cap *capture
	raw *xml.Decoder // tokenizer over cap
	lim *limiter
	dec *xml.Decoder // namespaces, tag matching, unmarshalling
}

func newElemReader(src io.Reader, maxSize int) *elemReader {
	c := newCapture(src, maxSize)
	raw := xml.NewDecoder(c)
	raw.Strict = true
	lim := &limiter{raw: raw, maxDepth: DefaultMaxDepth + 1, maxAttrs: DefaultMaxAttrs}
	dec := xml.NewTokenDecoder(lim)
	dec.Strict = true
	return &elemReader{cap: c, raw: raw, lim: lim, dec: dec}
}

const nsStream = "http://etherx.jabber.org/streams"

// header reads up to and including the server's <stream:stream> start tag.
func (er *elemReader) header() (xml.StartElement, error) {
	for {
		er.cap.setMark(er.raw.InputOffset())
		tok, err := er.dec.Token()
		if err != nil {
			return xml.StartElement{}, er.wrap(err)
		}
		switch t := tok.(type) {
		case xml.ProcInst:
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return xml.StartElement{}, protoErr("text before stream header")
			}
		case xml.StartElement:
			if t.Name.Space != nsStream || t.Name.Local != "stream" {
				return xml.StartElement{}, protoErr("stream header is <%s xmlns=%q>", t.Name.Local, t.Name.Space)
			}
			return t, nil
		default:
			return xml.StartElement{}, protoErr("unexpected %T before stream header", tok)
		}
	}
}

// next returns the next child of the stream root; with decode set, message,
// presence and iq elements are decoded as well. It returns errStreamEnd when
// the server closes the stream.
func (er *elemReader) next(decode bool) (element, error) {
	for {
		before := er.raw.InputOffset()
		er.cap.setMark(before)
		tok, err := er.dec.Token()
		if err != nil {
			return element{}, er.wrap(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			el := element{name: t.Name, attr: t.Attr}
			if decode && t.Name.Space == nsClient && isStanzaName(t.Name.Local) {
				s := new(Stanza)
				if derr := decodeElement(er.dec, er.raw.InputOffset, 0, t, s); derr != nil {
					if er.fatal(derr) {
						return element{}, er.wrap(derr)
					}
					el.decodeErr = derr
					s = nil
				}
				el.stanza = s
			}
			// Whatever the decoder left of the element (all of it when not
			// decoding, the rest after a rejection) is skipped.
			for er.lim.depth > 1 {
				if _, err := er.dec.Token(); err != nil {
					return element{}, er.wrap(err)
				}
			}
			el.raw = bytes.Clone(er.cap.bytes(before, er.raw.InputOffset()))
			if el.stanza != nil {
				el.stanza.setRaw(el.raw, before)
			}
			return el, nil
		case xml.EndElement:
			return element{}, errStreamEnd
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return element{}, protoErr("text between stanzas")
			}
		default:
			return element{}, protoErr("unexpected %T in stream", tok)
		}
	}
}

// waitInput blocks between two children of the stream root until the
// source has bytes the tokenizer has not read, or has failed (next then
// reads the failure again and reports it). It does what the tokenizer's
// next read would do, but from the caller's shallow frame: a reader that
// idles here keeps a small stack. It returns at once unless the tokenizer
// holds nothing (no byte read back, no element open below the root) and
// every byte read so far was consumed. While it waits, the capture holds no
// read buffer of its own (bufPool).
func (er *elemReader) waitInput() {
	c := er.cap
	off := er.raw.InputOffset()
	if er.lim.depth != 1 || c.err != nil || c.buffered() > 0 || off != c.base+int64(c.r) {
		return
	}
	c.setMark(off)
	c.release()
	_ = c.fill()
	c.take()
}

func isStanzaName(local string) bool {
	return local == "message" || local == "presence" || local == "iq"
}

// fatal reports whether a decoding error broke the stream (bad XML, a limit,
// the socket) rather than being a typed decoder's rejection of well-formed
// XML.
func (er *elemReader) fatal(err error) bool {
	var se *xml.SyntaxError
	return errors.Is(err, ErrProtocol) || errors.As(err, &se) || er.cap.err != nil
}

// wrap classifies a decoder error: a failure of the source (including its
// end in the middle of the stream) is a network error, anything else a
// protocol violation.
func (er *elemReader) wrap(err error) error {
	if errors.Is(err, ErrProtocol) {
		return err
	}
	if src := er.cap.err; src != nil {
		if src == io.EOF {
			return netErr(io.ErrUnexpectedEOF)
		}
		if errors.Is(err, src) {
			return netErr(err)
		}
	}
	return fmt.Errorf("%w: %w", ErrProtocol, err)
}
