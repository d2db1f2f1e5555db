package lease

import "github.com/nats-io/nats.go/jetstream"

// Key is key, for the tests.
var Key = key

// KV returns the bucket, for tests that write to it behind the leases.
func (ls *Leases) KV() jetstream.KeyValue { return ls.kv }

// WrapKV changes the bucket the leases use, for tests that put faults
// between the leases and NATS.
func (ls *Leases) WrapKV(f func(jetstream.KeyValue) jetstream.KeyValue) { ls.kv = f(ls.kv) }
