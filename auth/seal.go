package auth

import "errors"

// SealData encrypts plaintext with the key that seals TOTP secrets
// (SealKeyFile, AES-GCM), for secrets other packages keep in the store (a
// joined room's password). purpose and subject are bound as additional
// data: a sealed value opens only with the same two (subject names what
// the value belongs to, such as a user and a room).
func (k *Keys) SealData(purpose, subject string, plaintext []byte) (ciphertext, nonce []byte) {
	nonce = randomBytes(k.seal.NonceSize())
	return k.seal.Seal(nil, nonce, plaintext, []byte(purpose+"\x00"+subject)), nonce
}

// OpenData reverses SealData.
func (k *Keys) OpenData(purpose, subject string, ciphertext, nonce []byte) ([]byte, error) {
	if len(nonce) != k.seal.NonceSize() {
		return nil, errors.New("auth: open sealed data: bad nonce")
	}
	p, err := k.seal.Open(nil, nonce, ciphertext, []byte(purpose+"\x00"+subject))
	if err != nil {
		return nil, errors.New("auth: open sealed data: authentication failed")
	}
	return p, nil
}
