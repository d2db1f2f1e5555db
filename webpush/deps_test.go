package webpush

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps: webpush delivers to push services and knows none of our other
// packages; its one third-party dependency is webpush-go (encryption and
// VAPID), and the SSRF-safe dialer where it dials.
func TestDeps(t *testing.T) {
	depstest.Only(t, "webpush", depstest.Imports(t, "."), "github.com/SherClockHolmes/webpush-go", "code.dny.dev/ssrf")
}
