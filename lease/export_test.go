package lease

import "github.com/nats-io/nats.go/jetstream"

// Key is key, for the tests.
var Key = key

// KV returns the bucket, for tests that write to it behind the leases.
func (ls *Leases) KV() jetstream.KeyValue { return ls.kv }
