package gateway

import (
	"testing"

	"github.com/sparkgate/sparkgate/auth"
)

// TestFactorsCovered: which login methods may add a passkey, with and
// without an active TOTP secret on the account.
func TestFactorsCovered(t *testing.T) {
	tests := []struct {
		method string
		totp   bool
		want   bool
	}{
		{auth.MethodPassword, false, true},
		// A password token from before TOTP was switched on.
		{auth.MethodPassword, true, false},
		{auth.MethodTOTP, true, true},
		{auth.MethodTOTP, false, true},
		{auth.MethodWebAuthn, true, true},
		{auth.MethodWebAuthn, false, true},
		{"", false, false},
		{"sms", true, false},
	}
	for _, tt := range tests {
		if got := factorsCovered(tt.method, tt.totp); got != tt.want {
			t.Errorf("factorsCovered(%q, %v) = %v, want %v", tt.method, tt.totp, got, tt.want)
		}
	}
}
