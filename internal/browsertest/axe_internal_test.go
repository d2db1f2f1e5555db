package browsertest

import (
	"errors"
	"testing"
)

// TestAxeWithoutNPM: with nothing installed yet and no npm on the PATH,
// the accessibility check fails naming the install step (never skips).
func TestAxeWithoutNPM(t *testing.T) {
	t.Setenv(AxeCacheEnv, t.TempDir())
	t.Setenv("PATH", t.TempDir())
	if _, err := installAxe(); !errors.Is(err, ErrNoNPM) {
		t.Fatalf("installAxe without npm: %v, want ErrNoNPM", err)
	}
}
