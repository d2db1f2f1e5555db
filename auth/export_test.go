package auth

// FakeClock and NewClock lend the package's test clock to the external
// tests.
type FakeClock = fakeClock

var NewClock = newClock
