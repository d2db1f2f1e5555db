//go:build race

package xmppconn

// raceEnabled reports a -race build, where sync.Pool drops a quarter of
// what it is given (on purpose), so counts of allocations that rely on a
// pool are not exact.
const raceEnabled = true
