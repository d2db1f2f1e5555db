package jidtest_test

import (
	"testing"

	"github.com/sparkgate/sparkgate/jid"
	"github.com/sparkgate/sparkgate/jid/jidtest"
)

func TestSpellingsPrepareToName(t *testing.T) {
	want := jidtest.Name("c0ffee")
	if got, err := jid.Localpart(want); err != nil || got != want {
		t.Fatalf("Name is not canonical: Localpart(%q) = %q, %v", want, got, err)
	}
	seen := map[string]bool{want: true}
	for _, sp := range jidtest.Spellings("c0ffee") {
		if seen[sp.Text] {
			t.Errorf("%s: %q is not a new spelling", sp.Kind, sp.Text)
		}
		seen[sp.Text] = true
		if got, err := jid.Localpart(sp.Text); err != nil || got != want {
			t.Errorf("%s: Localpart(%q) = %q, %v; want %q", sp.Kind, sp.Text, got, err, want)
		}
	}
	for _, o := range jidtest.Others("c0ffee") {
		if got, err := jid.Localpart(o.Text); err != nil || got == want {
			t.Errorf("%s: Localpart(%q) = %q, %v; want another valid name", o.Kind, o.Text, got, err)
		}
	}
}
