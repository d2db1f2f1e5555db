// Package passkeytest makes virtual passkey credentials for tests.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"testing"

	"github.com/descope/virtualwebauthn"
)

// Credential makes a virtual P-256 credential (a passkey of
// virtualwebauthn's authenticator). virtualwebauthn v1.0.3 writes the
// public key's x and y without their leading zero bytes, which go-webauthn
// rightly refuses (about one key in 128): such keys are skipped here, the
// one place that works around it.
func Credential(t testing.TB) virtualwebauthn.Credential {
	t.Helper()
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pt, err := k.PublicKey.Bytes() // 0x04 || x (32) || y (32)
		if err != nil {
			t.Fatal(err)
		}
		if pt[1] == 0 || pt[33] == 0 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, der)
	}
}
