package prosody

import "testing"

// TestStoreName: names as Prosody's datamanager writes them to disk.
func TestStoreName(t *testing.T) {
	for in, want := range map[string]string{
		"alice":              "alice",
		"u3f9A0":             "u3f9A0",
		"conference.example": "conference%2eexample",
		"a b/c":              "a%20b%2fc",
		"é":                  "%c3%a9",
		"":                   "",
	} {
		if got := storeName(in); got != want {
			t.Errorf("storeName(%q) = %q, want %q", in, got, want)
		}
	}
}
