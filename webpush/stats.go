package webpush

import "sync/atomic"

// Stats counts what became of each delivery to one subscription: a
// notification to a user with three subscriptions makes three deliveries,
// and each retry of one counts once more under Retried. An operator reads
// them as a push service's health (Retried, Failed), browsers that went
// away (Gone, Expired) and a misconfiguration (Refused).
type Stats struct {
	Delivered uint64 // the push service took it (2xx)
	Retried   uint64 // 429, 5xx or no answer: one more attempt later
	Gone      uint64 // 404 or 410: the subscription is removed
	Expired   uint64 // past the subscription's expiration time: removed, not sent
	Refused   uint64 // another 4xx, or an endpoint that is not a public address: dropped
	Failed    uint64 // given up: MaxAttempts reached, or no room to queue the retry
}

// senderStats are a Sender's counters behind Stats.
type senderStats struct {
	delivered, retried, gone, expired, refused, failed atomic.Uint64
}

// Stats returns the counts since the Sender started.
func (s *Sender) Stats() Stats {
	c := &s.stats
	return Stats{
		Delivered: c.delivered.Load(),
		Retried:   c.retried.Load(),
		Gone:      c.gone.Load(),
		Expired:   c.expired.Load(),
		Refused:   c.refused.Load(),
		Failed:    c.failed.Load(),
	}
}
