package xmppconn

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Automatic answers (IQ replies, roster push acknowledgements, delivery
// receipts) are written for the reader, which must never wait on the
// socket: a reader blocked on a write stops reading, and a server that
// waits for the client to read before it reads itself would then wait
// forever. They used to be written by a goroutine each; a burst of
// messages asking for receipts (a busy chat, or a sender flooding one
// user through a slow connection) made as many goroutines, each holding
// its answer and a timer for up to autoReplyTimeout.
//
// Now they queue (replyQueue), and one goroutine per Conn, started when
// the queue gets its first answer and gone when it is empty, writes what
// queued while the previous write was on its way in one write, in the
// order they were queued. Past maxQueuedReplies answers waiting the new
// ones are dropped and counted (Stats.AutoRepliesDropped): an answer is a
// courtesy to a peer that may ask again (a ping, a receipt), and what the
// reader delivers must not wait for it.

// maxQueuedReplies bounds the answers waiting for the socket. Answers are
// 60–200 bytes (the client's disco#info answer about 730), so a full queue
// holds under 64 KiB unless it is all disco#info; a healthy connection
// writes a batch within a millisecond, in which a reader reads a few dozen
// stanzas at most: only a stalled socket fills it.
const maxQueuedReplies = 256

// autoReplyTimeout bounds the write of one batch of automatic answers.
const autoReplyTimeout = 10 * time.Second

// replyQueue holds the automatic answers waiting for the socket.
type replyQueue struct {
	mu      sync.Mutex
	q       [][]byte // in the order queued
	writing bool     // a goroutine owns the queue and writes it
}

// writeAsync queues b, one automatic answer, for the Conn's answer writer,
// starting it when none runs; it never blocks.
func (c *Conn) writeAsync(b []byte) {
	r := &c.replies
	r.mu.Lock()
	if len(r.q) >= maxQueuedReplies {
		r.mu.Unlock()
		c.stats.repliesDropped.Add(1)
		c.s.log.Debug("xmppconn: automatic answer dropped: too many waiting for the socket")
		if c.s.OnAnswerDropped != nil {
			c.s.OnAnswerDropped()
		}
		return
	}
	r.q = append(r.q, b)
	start := !r.writing
	r.writing = true
	r.mu.Unlock()
	if start {
		c.wg.Add(1)
		go c.writeReplies()
	}
}

// writeReplies writes the queued answers, each batch in one write, until
// the queue is empty. After the stream ends each write fails at once, so
// it drains a full queue without waiting.
func (c *Conn) writeReplies() {
	defer c.wg.Done()
	r := &c.replies
	var spare []byte // a joined batch's buffer, for the next batch; not kept by an idle Conn
	for {
		r.mu.Lock()
		batch := r.q
		r.q = nil
		if len(batch) == 0 {
			r.writing = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		buf := batch[0]
		if len(batch) > 1 {
			buf = spare[:0]
			for _, b := range batch {
				buf = append(buf, b...)
			}
		}
		ctx, cancel := context.WithTimeout(c.ctx, autoReplyTimeout)
		err := c.write(ctx, buf)
		cancel()
		if err != nil {
			c.s.log.Debug("xmppconn: automatic answers not sent", slog.Int("answers", len(batch)), slog.Any("err", err))
		}
		if len(batch) > 1 {
			spare = buf
		}
	}
}
