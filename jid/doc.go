// Package jid computes the canonical form of XMPP addresses the way the
// XMPP server does, so that the gateway and the server always agree on who
// a name denotes.
//
// # Why it exists
//
// The gateway keys everything it keeps per user (TOTP state, lockout and
// rate-limit counters, passkeys, revoked tokens, the token's subject) on
// the user's bare JID. The server authenticates a name only after
// preparing it: ejabberd runs every localpart through the Nodeprep profile
// of stringprep (RFC 3920 appendix A, built on RFC 3454), which maps case,
// removes characters such as the soft hyphen, and applies Unicode NFKC, so
// "ａlice" (full-width a), "ALICE" and "alice" are one account. A gateway
// that keyed its state on a lighter normalization (lower case alone) would
// let one of those spellings reach alice's account past her second factor
// and her lockout. Every name that enters the gateway therefore goes
// through [Localpart] before it is used as a key or sent to the server.
//
// # The profiles
//
//   - [Localpart]: Nodeprep. Tables B.1 and B.2 (mapping, case folding),
//     NFKC, the prohibited tables C.1.1 to C.9, the eight characters
//     Nodeprep adds (" & ' / : < > @), unassigned code points (A.1, as
//     for stored strings) and the bidirectional rule (RFC 3454 section 6).
//   - [Domainpart]: Nameprep (RFC 3491): the same mappings and NFKC, the
//     prohibited tables C.1.2 to C.9, unassigned code points and bidi;
//     then the characters no domain label holds are refused.
//   - [Resourcepart]: Resourceprep (RFC 3920 appendix B): table B.1 only
//     (case is kept), NFKC, C.1.2 to C.9, unassigned and bidi.
//
// Each result is at most 1023 bytes and never empty (RFC 7622 section
// 3.1). A name that does not survive its profile is refused with an error
// that says why, in words a person can act on.
//
// # Agreement with the server
//
// The profiles use the Unicode 3.2 tables of RFC 3454 (from
// github.com/xdg-go/stringprep) as the server does; a code point assigned
// after Unicode 3.2 is refused rather than guessed at. The gateway also
// checks the server's own answer: xmppconn compares the JID the server
// binds with the one it asked for and refuses a session whose name the
// server spelled differently.
package jid
