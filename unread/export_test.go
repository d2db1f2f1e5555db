package unread

// Queued is how many changes wait in t's queue.
func Queued(t *Tracker) int { return len(t.ops) }
