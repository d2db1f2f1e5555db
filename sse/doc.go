// Package sse is a per-user Server-Sent Events hub: it keeps a short ordered
// log of each user's events and fans every event out to all the streams
// (browser tabs) the user has open, replaying what a reconnecting stream
// missed.
//
// The hub moves opaque events — an id it assigns, an event name and data the
// caller has already serialized — and knows nothing of XMPP, JSON payloads or
// authentication. The gateway authenticates a request, then calls
// [Hub.ServeStream]; producers call [Hub.Publish].
//
// # Wire format
//
// Each event is written as "id:", "event:" and one "data:" line per line of
// the data (HTML Living Standard, section 9.2 "Server-sent events"). CR, LF
// and NUL are removed from event names so that no caller can inject fields;
// data is split on CR, LF and CRLF, so a client reassembles it with LF line
// breaks (JSON from encoding/json contains none). A stream starts with a
// "retry:" hint and the caller's hello event (SparkWeb clients expect
// onConnect first). A ": ping" comment is written only after
// Config.Heartbeat without any other write.
//
// # Event ids and resuming
//
// An id is "<log>-<seq>": log identifies the user's current log (it is the
// creation time in milliseconds, made unique and increasing within the hub,
// so ids also increase across gateway restarts) and seq counts the user's
// events from 1. Finding where to resume is an index computation, not a scan.
//
// A stream that sends a Last-Event-ID (the header, or the lastEventId query
// parameter for clients that cannot set headers) gets exactly the events
// after that id, then live events, with no gap and no duplicate. When those
// events are no longer all kept (the log holds Config.LogEvents events,
// Config.LogBytes bytes and Config.LogAge of history), or the id does not
// belong to the current log (the gateway restarted, [Hub.Forget] dropped the
// log, the id is malformed), the stream gets a reset event
// (Config.ResetEvent, "chatapi.reset") instead, whose id is the newest id,
// and continues with live events: the client reloads its state from the
// archive. A stream that sends no Last-Event-ID gets the kept events that no
// stream has received yet (for example offline messages flushed at login
// before any tab was open), then live events.
//
// # A log beyond the process
//
// With Config.Remote set (several gateway nodes, or ids that survive a
// restart), the memory log is a cache of a log kept elsewhere: events come
// in through [Hub.PublishSeq] with the seq the Remote log gave them, ids are
// "<Remote.Gen>-<seq>", and a resume after an id the memory does not hold
// is served by Remote.Replay (a failure there is ErrUnavailable, before any
// header). Without it nothing changes: Publish numbers events itself and
// the hub makes no call outside its memory.
//
// # Lazy events
//
// Events named in Config.Lazy do not wake a stream on their own: each is
// written with the stream's next event, or Config.LazyDelay after it was
// logged when none comes (lazy.go). They keep their place in the order
// and in the log. They are for summaries of what the streams get anyway
// (the gateway's unread counts), whose own write would double a busy
// room's writes. An event a stream leaves out (the gateway's raw XML, for
// streams that did not ask for it) does not wake that stream either: it
// moves past it with its next write, while the user's streams that asked
// for it are woken.
//
// # Ending streams
//
// When the hub ends a stream itself it writes a last event
// (Config.CloseEvent, "chatapi.close") with data {"reason":…,"resume":…}:
// "slow" (the stream fell behind), "max-age" and "shutdown" ask the client to
// resume; [Hub.EndUser] passes the caller's reason (logout, token expiry) and
// asks it not to.
//
// # Concurrency
//
// All methods of [Hub] are safe for concurrent use. Publish never blocks on
// a stream: it appends the event to the user's log under a short lock and
// wakes the user's streams. A stream that is taken over, whose goroutine
// waits in its read and has not written in the last millisecond, is not
// woken: Publish writes the event to its socket itself, in one
// non-blocking system call, and wakes the stream only for what the socket
// did not take (through.go). Events
// are delivered to each stream in the order Publish calls for that user
// were serialized.
//
// The hub starts no goroutines of its own but for detached streams. Each
// stream runs in the goroutine that calls ServeStream (the net/http
// connection goroutine), except an HTTP/1.1 stream served by
// [Hub.ServeStreamDetached]: once its connection is taken over, it runs in
// a goroutine the hub starts, which ends with the stream after calling the
// caller's done, so that the handler's goroutine (and its deep stack, and
// net/http's buffers) need not wait for the stream's end. A stream has
// no queue: it is a cursor into the user's log, and when woken it lets
// the other ready goroutines run once (so that events published meanwhile
// join the batch), copies out the frames logged since its last write and writes them in one write
// and one flush, under a write deadline of about Config.WriteTimeout set
// through [http.ResponseController]. So a burst of events (a room's
// occupant list on entry) costs a stream nothing but a wake until it writes
// them, and a stream that falls behind costs no memory beyond the log. A
// stream is ended as slow when the log has to drop an event it has not
// written yet (from then on, resuming could not replay that event either),
// when it falls more than Config.QueueEvents behind (if set), or when a
// write misses its deadline; the others are unaffected, and the client
// resumes with its Last-Event-ID. With a ResponseWriter that does not
// support write deadlines (a wrapper without Unwrap), a stalled client can
// hold its ServeStream call, and Close, until the connection breaks.
//
// [Hub.EndStreams] asks every stream to end and returns at once; it is meant
// for [http.Server.RegisterOnShutdown], since Shutdown otherwise waits for
// streams that never go idle. [Hub.Close] ends every stream and returns once
// every ServeStream call has returned and every detached stream's done has.
package sse
