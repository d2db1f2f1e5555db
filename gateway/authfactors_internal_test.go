package gateway

import (
	"testing"

	"github.com/sparkgate/sparkgate/auth"
)

// TestFactorsCovered: which login methods may change an account's
// factors, with and without an active TOTP secret or a passkey.
func TestFactorsCovered(t *testing.T) {
	tests := []struct {
		method        string
		totp, passkey bool
		want          bool
	}{
		{auth.MethodPassword, false, false, true},
		// A password token from before TOTP was switched on.
		{auth.MethodPassword, true, false, false},
		// An account whose owner signs in with a passkey.
		{auth.MethodPassword, false, true, false},
		{auth.MethodTOTP, true, false, true},
		{auth.MethodTOTP, false, false, true},
		{auth.MethodTOTP, true, true, true},
		{auth.MethodWebAuthn, true, false, true},
		{auth.MethodWebAuthn, false, true, true},
		{"", false, false, false},
		{"sms", true, false, false},
	}
	for _, tt := range tests {
		if got := factorsCovered(tt.method, tt.totp, tt.passkey); got != tt.want {
			t.Errorf("factorsCovered(%q, totp %v, passkey %v) = %v, want %v", tt.method, tt.totp, tt.passkey, got, tt.want)
		}
	}
}
