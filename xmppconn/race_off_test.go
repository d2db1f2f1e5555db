//go:build !race

package xmppconn

// raceEnabled: see race_on_test.go.
const raceEnabled = false
