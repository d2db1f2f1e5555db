package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"time"
)

// probeXMPP reports whether the XMPP server at addr answers a client
// stream for domain with its stream features. It logs nobody in.
func probeXMPP(ctx context.Context, addr, domain string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline := time.Now().Add(3 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	var open bytes.Buffer
	open.WriteString("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='")
	_ = xml.EscapeText(&open, []byte(domain))
	open.WriteString("'>")
	if _, err := conn.Write(open.Bytes()); err != nil {
		return err
	}
	dec := xml.NewDecoder(conn)
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return fmt.Errorf("xmpp probe: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "features":
				_, _ = conn.Write([]byte("</stream:stream>"))
				return nil
			case "error":
				return errors.New("xmpp probe: stream error")
			}
		}
	}
}
