package unread

// Queued is how many changes wait in t's queue.
func Queued(t *Tracker) int { return len(t.ops) }

// Naps is how many times t's batches slept; read it after Close.
func Naps(t *Tracker) int { return t.naps }
