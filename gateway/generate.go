// Package gateway serves the SparkWeb REST API and the event stream over
// HTTP: it routes every operation of openapi.yaml to its handler through the
// generated ServerInterface, validates each request against the spec before
// a handler runs, and writes every failure as the spec's JSON error.
//
// # The archive
//
// The archive operations (GET /chat/messages, /groupchat/messages and
// /groupchat/room/{roomName}/chathistory; archive.go) answer pages of the
// XMPP archive folded by xmppconn.FoldArchive: each message once as it
// reads now, annotated (edited, retracted, reactions, replyTo), never a
// correction, retraction or reactions message of its own. A page knows of
// modifications that follow it: unless it is the archive's newest, the
// 250 results after it are read as well and applied to it, so a client
// scrolling back through pages sees the state it saw live. What a page
// changes of older messages is in its updates, for a client that holds
// them (needed only beyond those 250). A keyword search matches the folded
// text.
package gateway

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
