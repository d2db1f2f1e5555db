package main

import (
	"strings"
	"testing"
)

// TestStoreSpec: -store takes empty, sqlite or a PostgreSQL URL; a refused
// value is never repeated (it may hold a password).
func TestStoreSpec(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"sqlite", "", true},
		{"postgres://gw:pw@db.example/sparkgate", "postgres://gw:pw@db.example/sparkgate", true},
		{"postgresql://db/sg", "postgresql://db/sg", true},
		{"mysql://gw:hunter2@db/x", "", false},
		{"./data/other.db", "", false},
	} {
		var c config
		err := storeSpec(&c, tc.in)
		if (err == nil) != tc.ok || c.Store != tc.want {
			t.Errorf("storeSpec(%q) = %q, %v", tc.in, c.Store, err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error %q repeats the value", err)
		}
	}
}
