// Package xmppconn is the gateway's XMPP client. It has two layers: [Conn],
// the client side of one XMPP stream (RFC 6120) — dial, STARTTLS, SASL PLAIN
// or X-OAUTH2, resource binding, and afterwards an ordered, lossless,
// bounded flow of stanzas — and [Manager] with its [Session]s, one per
// user, which keep a user's XMPP presence alive across connection losses
// and turn stanzas into chatapi events.
//
// gosrc.io/xmpp's stanza package is the vocabulary for decoding and
// marshalling (stanza.Message, stanza.Presence, stanza.IQ and friends), but
// the stream itself is owned here: that library's Client reorders inbound
// stanzas, loses IQ replies and drops the connection on payloads it cannot
// decode.
//
// # Session Negotiation
//
// [Dial] connects to Config.Addr (never a DNS SRV lookup), opens the stream,
// negotiates TLS as Config.TLS asks, authenticates and binds a resource. Every
// step is bounded by the context. It never sends initial presence: the caller
// decides when the account is online.
//
//	conn, err := xmppconn.Dial(ctx, xmppconn.Config{
//		Addr: "127.0.0.1:5222", Domain: "example.org",
//		User: "alice", Password: pw, TLS: xmppconn.TLSRequired,
//	})
//	switch {
//	case errors.Is(err, xmppconn.ErrNotAuthorized): // bad credentials, do not retry
//	case errors.Is(err, xmppconn.ErrNetwork): // retry with backoff
//	}
//
// # Receiving
//
// One reader goroutine per Conn reads top-level stanzas strictly in the order
// they arrive, with the package's own tokenizer of RFC 6120's restricted XML
// (xmltok.go): a comment, a DTD, a processing instruction, an entity
// reference other than the predefined ones, or a depth or attribute limit
// exceeded ends the connection with an ErrProtocol error. Each is handed to the consumer as a [Stanza] holding the exact
// bytes received (Raw) and a decoded form. Unknown payloads never end the
// stream: unknown children are kept as *stanza.Node extensions, and MAM
// results and carbons are decoded with their nested message. Stanzas go
// through a bounded queue ([Conn.In], [Conn.Next]); when it is full the reader
// stops reading, so TCP pushes back on the server instead of memory growing,
// and Config.OnQueueFull is called.
//
// IQ replies (result and error) never reach the queue: they go to the caller
// of [Conn.IQ] that is waiting for them. IQ requests (get and set) from the
// server go to the queue only when Config.DeliverIQ says so; the others are
// answered with service-unavailable, except XEP-0199 pings from the server,
// which are answered with a result.
//
// # Sending
//
// [Conn.Send], [Conn.SendRaw] and [Conn.IQ] are safe for concurrent use by
// multiple goroutines; one writer at a time owns the socket.
//
// Every stanza given as text ([Conn.SendRaw], [Conn.Send] after
// marshalling, [Session.SendStanza] for a client's own) goes through one
// check: exactly one message, presence or iq in jabber:client, no DTD,
// entities, comments or processing instructions, within size, depth,
// attribute and token limits, and its from attribute left out.
//
// # Sessions and verbs
//
// A [Manager] holds one [Session] per user: it reconnects, catches up from
// the archive and delivers what arrives as chatapi events. The Session's
// verbs are the only way the rest of the gateway speaks XMPP: SendChat,
// SendGroupChat and SendChatState for messages, Roster, SetRosterItem,
// SetSubscription and DeclineSubscription for contacts, Blocklist, Block
// and Unblock for the blocklist (XEP-0191), VCard and SetVCard, Bookmarks and
// SetBookmark for native bookmarks, the pubsub verbs, the room verbs
// (EnterRoom, ExitRoom, Invite, RoomConfig, ConfigureRoom, SetSubject,
// SetRole, SetAffiliation, Affiliations, DestroyRoom; roomadmin.go), and
// SendStanza for a stanza a client wrote itself.
//
// # Archive
//
// [Session.QueryArchive] reads one page of an archive (XEP-0313) as the
// server keeps it: every message as sent, so a correction (XEP-0308), a
// retraction (XEP-0424) and a reaction (XEP-0444) are messages of their
// own. [FoldArchive], a pure function, turns a page into what a live
// client showed: each message once with its latest correction's text, a
// retracted message without a body, each sender's latest reactions, the
// message a reply (XEP-0461) answers; the modifying messages are not
// listed. It also takes the results that follow the page, whose
// modifications of the page's messages it applies, and it reports the
// page's modifications of messages on older pages as updates.
//
// # Liveness and closing
//
// Every Config.KeepAlive the Conn writes a whitespace keepalive and sends an
// XEP-0199 ping to the server; a dead connection ends within two intervals
// (with Err matching ErrPingTimeout). A reader stalled on a full queue is
// not taken for a dead connection. An idle Conn owns one goroutine, the
// reader; the keepalive runs on a timer.
// [Conn.Done] is closed when the stream has ended and [Conn.Err] tells why.
// [Conn.Close] closes the stream politely, bounded by its context.
//
// # Sessions
//
// A [Manager] holds at most one [Session] per user, keyed by bare JID.
// [Manager.Open] returns the user's session, logging in first when there
// is none; a password is checked by the XMPP server every time, even when
// the session exists, and a user the gateway verified itself (TOTP,
// passkey) logs in with an OAuth token from ManagerConfig.Issuer.
// ManagerConfig.MaxSessions bounds the sessions. The Manager's janitor
// ends a session that had neither API use nor an open event stream for
// ManagerConfig.IdleTimeout, and one whose tokens have all expired; a
// session whose user showed no sign (a request with their token, an open
// stream, a touch) for ManagerConfig.AwayAfter shows them away for a while
// (xa) until they are back (away.go).
//
// A Session survives connection losses: it reconnects with backoff and
// jitter (ManagerConfig.ReconnectMin and ReconnectMax) using a fresh token,
// restores the user's presence and joined rooms, sends again the messages
// the user wrote in the seconds before the loss (the server may have lost
// them with the connection), and reads the archive (XEP-0313) for what
// arrived meanwhile, dropping what was already delivered by archive id and
// origin-id (XEP-0359). While it reconnects its send methods fail with
// [ErrOffline]; once it has ended, with [ErrSessionEnded]. The gateway speaks to the XMPP server through the
// Session's verbs (SendChat, Roster, EnterRoom, QueryArchive, Publish and
// the rest), each taking the request's context.
//
// Every event of every session goes to ManagerConfig.Deliver, in order per
// user, from the session's goroutine, which it must not block (a live
// session's goroutine is the reader of its connection, which runs the
// session's handler itself: one goroutine per idle user; inline.go);
// ManagerConfig.OnEnd is told once when a session ends for good.
// ManagerConfig.Rooms and OnRoomsSaved let the rooms a user is in outlive
// the session: a session that opens enters them again and reads each
// room's archive after the last message it delivered (roomstate.go);
// OnRoomRead hears of each move of that position while the session lives.
// Entering a room gives one chatapi.muc occupants event, not a presence
// per occupant. Every
// goroutine of a Session belongs to the Manager: [Manager.Close] ends the
// sessions and returns when their goroutines have exited.
package xmppconn
