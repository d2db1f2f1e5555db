package main

import (
	"encoding/json"
	"testing"
)

// TestSetSection: the big-room section goes into a results file without
// moving or touching the other sections.
func TestSetSection(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"added last", `{"b": 1, "a": {"x": [1, 2]}}`, "{\n  \"b\": 1,\n  \"a\": {\n    \"x\": [\n      1,\n      2\n    ]\n  },\n  \"k\": {\n    \"v\": 3\n  }\n}\n"},
		{"replaced in place", `{"k": 0, "z": "<&>"}`, "{\n  \"k\": {\n    \"v\": 3\n  },\n  \"z\": \"<&>\"\n}\n"},
		{"empty", `{}`, "{\n  \"k\": {\n    \"v\": 3\n  }\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := setSection([]byte(tt.doc), "k", json.RawMessage(`{"v":3}`))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{`[]`, `{"a":`, ``} {
		if _, err := setSection([]byte(bad), "k", json.RawMessage(`1`)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
