package gateway

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

// TestUndoListRunDetached: on a detached stream's goroutine a step that
// panics is logged, and the steps before it in the list (run after it)
// still run; nothing panics out.
func TestUndoListRunDetached(t *testing.T) {
	var ran []int
	var l undoList
	l.add(func() { ran = append(ran, 1) })
	l.add(func() { panic("broken release") })
	l.add(func() { ran = append(ran, 3) })
	var logs bytes.Buffer
	l.runDetached(slog.New(slog.NewTextHandler(&logs, nil)))
	if !slices.Equal(ran, []int{3, 1}) {
		t.Errorf("ran %v; want [3 1]", ran)
	}
	if out := logs.String(); !strings.Contains(out, "panic as a stream ended") || !strings.Contains(out, "broken release") {
		t.Errorf("log: %q", out)
	}
}
