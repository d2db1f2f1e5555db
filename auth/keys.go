package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Files kept in the key directory, each with mode 0600.
const (
	// SigningKeysFile holds the Ed25519 token signing keys as JSON.
	SigningKeysFile = "jwt-keys.json"
	// SealKeyFile holds the 32-byte AES-256-GCM key for TOTP secrets.
	SealKeyFile = "totp-seal.key"
)

// Keys holds the key material of the gateway: the Ed25519 keys that sign
// tokens (one current key, plus retired keys that still verify), the
// AES-256-GCM key that seals TOTP secrets and the key that names online
// meetings. It is safe for concurrent use.
type Keys struct {
	dir string

	mu      sync.RWMutex
	signing []signingKey // oldest first; the last one is current

	seal     cipher.AEAD
	recovery []byte // keys the MACs of TOTP recovery codes (recovery.go), derived from the seal key
	// challenge keys the MACs of discoverable passkey logins' challenges
	// (discoverable.go), derived from the seal key
	challenge []byte

	meeting []byte // MeetingNamesFile: names online meetings (meetname.go)
}

type signingKey struct {
	id          string
	priv        ed25519.PrivateKey
	created     time.Time
	retired     time.Time // zero for the current key
	verifyUntil time.Time // zero for the current key
}

// keyFile is the JSON form of SigningKeysFile.
type keyFile struct {
	Keys []keyRecord `json:"keys"`
}

type keyRecord struct {
	ID          string    `json:"kid"`
	Seed        []byte    `json:"seed"` // ed25519 seed, base64 in JSON
	Created     time.Time `json:"created"`
	Retired     time.Time `json:"retired,omitzero"`
	VerifyUntil time.Time `json:"verify_until,omitzero"`
}

// LoadOrCreateKeys loads the keys kept in dir, creating the directory
// (0700) and any missing key file (0600) on first start. Files found with
// looser permissions are tightened to 0600. Retired signing keys whose
// verification grace has passed are dropped.
func LoadOrCreateKeys(dir string) (*Keys, error) {
	if dir == "" {
		return nil, errors.New("auth: empty key directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: key directory: %w", err)
	}
	k := &Keys{dir: dir}

	sealKey, err := loadKey32(dir, SealKeyFile)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, fmt.Errorf("auth: seal key: %w", err)
	}
	if k.seal, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("auth: seal key: %w", err)
	}
	k.recovery = recoveryKey(sealKey)
	k.challenge = derivedKey(sealKey, "sparkgate webauthn discoverable challenges")

	if k.meeting, err = loadKey32(dir, MeetingNamesFile); err != nil {
		return nil, err
	}

	data, err := loadOrCreate(filepath.Join(dir, SigningKeysFile), func() ([]byte, error) {
		return json.Marshal(keyFile{Keys: []keyRecord{newKeyRecord(time.Now())}})
	})
	if err != nil {
		return nil, err
	}
	if err := k.decode(data); err != nil {
		return nil, err
	}
	return k, nil
}

func newKeyRecord(now time.Time) keyRecord {
	seed := randomBytes(ed25519.SeedSize)
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	return keyRecord{ID: keyID(pub), Seed: seed, Created: now.UTC().Truncate(time.Second)}
}

// keyID is a thumbprint of the public key: stable, and free of secrets.
func keyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

func (k *Keys) decode(data []byte) error {
	var f keyFile
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("auth: %s: %w", SigningKeysFile, err)
	}
	if len(f.Keys) == 0 {
		return fmt.Errorf("auth: %s: no keys", SigningKeysFile)
	}
	var keys []signingKey
	for i, r := range f.Keys {
		if len(r.Seed) != ed25519.SeedSize {
			return fmt.Errorf("auth: %s: key %d: bad seed length", SigningKeysFile, i)
		}
		priv := ed25519.NewKeyFromSeed(r.Seed)
		if id := keyID(priv.Public().(ed25519.PublicKey)); id != r.ID {
			return fmt.Errorf("auth: %s: key %d: kid does not match the key", SigningKeysFile, i)
		}
		keys = append(keys, signingKey{id: r.ID, priv: priv, created: r.Created, retired: r.Retired, verifyUntil: r.VerifyUntil})
	}
	if !keys[len(keys)-1].retired.IsZero() {
		return fmt.Errorf("auth: %s: the last key is retired", SigningKeysFile)
	}
	k.signing = keys
	return nil
}

func (k *Keys) encodeLocked() ([]byte, error) {
	var f keyFile
	for _, s := range k.signing {
		f.Keys = append(f.Keys, keyRecord{ID: s.id, Seed: s.priv.Seed(), Created: s.created, Retired: s.retired, VerifyUntil: s.verifyUntil})
	}
	return json.MarshalIndent(f, "", "  ")
}

// Rotate makes a new signing key current. The previous current key is
// retired at now and keeps verifying tokens until now+grace, which should be
// at least the longest token lifetime (Tokens.RotateKey passes its
// Lifetime). Retired keys whose grace has passed are dropped. The new set is
// written to the key directory before it is used.
func (k *Keys) Rotate(now time.Time, grace time.Duration) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	next := make([]signingKey, 0, len(k.signing)+1)
	for _, s := range k.signing {
		if s.retired.IsZero() {
			s.retired = now.UTC()
			s.verifyUntil = now.Add(grace).UTC()
		}
		if now.Before(s.verifyUntil) {
			next = append(next, s)
		}
	}
	r := newKeyRecord(now)
	next = append(next, signingKey{id: r.ID, priv: ed25519.NewKeyFromSeed(r.Seed), created: r.Created})
	old := k.signing
	k.signing = next
	data, err := k.encodeLocked()
	if err == nil {
		err = writeFileAtomic(filepath.Join(k.dir, SigningKeysFile), data)
	}
	if err != nil {
		k.signing = old
		return fmt.Errorf("auth: rotate: %w", err)
	}
	return nil
}

// Reload rereads the signing keys from the key directory, to pick up a
// rotation made by another process (an admin command, another node sharing
// the directory). The seal key is not reloaded: it never changes.
func (k *Keys) Reload() error {
	data, err := readPrivate(filepath.Join(k.dir, SigningKeysFile))
	if err != nil {
		return fmt.Errorf("auth: reload keys: %w", err)
	}
	fresh := &Keys{}
	if err := fresh.decode(data); err != nil {
		return err
	}
	k.mu.Lock()
	k.signing = fresh.signing
	k.mu.Unlock()
	return nil
}

// CurrentKeyID returns the kid of the key that signs new tokens.
func (k *Keys) CurrentKeyID() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.signing[len(k.signing)-1].id
}

// current returns the kid and private key that sign new tokens.
func (k *Keys) current() (string, ed25519.PrivateKey) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	s := k.signing[len(k.signing)-1]
	return s.id, s.priv
}

// verifier returns the public key with the given kid if it may verify a
// token at now: the current key always, a retired key until its grace ends.
func (k *Keys) verifier(kid string, now time.Time) (ed25519.PublicKey, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	for _, s := range k.signing {
		if s.id != kid {
			continue
		}
		if !s.verifyUntil.IsZero() && !now.Before(s.verifyUntil) {
			return nil, false
		}
		return s.priv.Public().(ed25519.PublicKey), true
	}
	return nil, false
}

// PublicKeys returns the public keys that currently verify tokens, by kid
// (for publishing a JWKS, for example).
func (k *Keys) PublicKeys(now time.Time) map[string]ed25519.PublicKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	m := make(map[string]ed25519.PublicKey, len(k.signing))
	for _, s := range k.signing {
		if s.verifyUntil.IsZero() || now.Before(s.verifyUntil) {
			m[s.id] = s.priv.Public().(ed25519.PublicKey)
		}
	}
	return m
}

// sealTOTP encrypts a TOTP secret for user; the user is bound as
// additional data so a sealed secret only opens for the same user.
func (k *Keys) sealTOTP(user string, secret []byte) (ciphertext, nonce []byte) {
	nonce = randomBytes(k.seal.NonceSize())
	return k.seal.Seal(nil, nonce, secret, []byte("totp\x00"+user)), nonce
}

// openTOTP reverses sealTOTP.
func (k *Keys) openTOTP(user string, ciphertext, nonce []byte) ([]byte, error) {
	if len(nonce) != k.seal.NonceSize() {
		return nil, errors.New("auth: open totp secret: bad nonce")
	}
	p, err := k.seal.Open(nil, nonce, ciphertext, []byte("totp\x00"+user))
	if err != nil {
		return nil, errors.New("auth: open totp secret: authentication failed")
	}
	return p, nil
}

// ResealTOTP returns sec, sealed for user instead of sec.User: a sealed
// secret opens only for the user it was sealed for, so a secret that moves
// to another key (a user's key made canonical) must be sealed again. It
// fails when sec does not open for sec.User.
func (k *Keys) ResealTOTP(sec TOTPSecret, user string) (TOTPSecret, error) {
	if user == "" {
		return TOTPSecret{}, errors.New("auth: reseal totp secret: empty user")
	}
	secret, err := k.openTOTP(sec.User, sec.Ciphertext, sec.Nonce)
	if err != nil {
		return TOTPSecret{}, err
	}
	sec.User = user
	sec.Ciphertext, sec.Nonce = k.sealTOTP(user, secret)
	clear(secret)
	return sec, nil
}

// LogValue shows the key ids, never key material.
func (k *Keys) LogValue() slog.Value {
	k.mu.RLock()
	defer k.mu.RUnlock()
	ids := make([]string, len(k.signing))
	for i, s := range k.signing {
		ids[i] = s.id
	}
	return slog.GroupValue(slog.String("dir", k.dir), slog.Any("kids", ids), slog.String("secrets", "REDACTED"))
}

// String keeps key material out of fmt output as well.
func (k *Keys) String() string { return "auth.Keys{" + k.dir + "}" }

// loadKey32 loads the 32-byte random key kept in dir/name, making it on
// first start.
func loadKey32(dir, name string) ([]byte, error) {
	key, err := loadOrCreate(filepath.Join(dir, name), func() ([]byte, error) {
		return randomBytes(32), nil
	})
	if err != nil {
		return nil, err
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("auth: %s: want 32 bytes, have %d", name, len(key))
	}
	return key, nil
}

// loadOrCreate reads path, or creates it with the bytes from mk when it
// does not exist. Creation is exclusive, so two processes starting at once
// end up with the same file.
func loadOrCreate(path string, mk func() ([]byte, error)) ([]byte, error) {
	data, err := readPrivate(path)
	if err == nil {
		return data, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	data, err = mk()
	if err != nil {
		return nil, fmt.Errorf("auth: create %s: %w", filepath.Base(path), err)
	}
	tmp, err := writeTemp(path, data)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readPrivate(path)
		}
		return nil, fmt.Errorf("auth: create %s: %w", filepath.Base(path), err)
	}
	return data, nil
}

// readPrivate reads a key file, tightening its permissions to 0600.
func readPrivate(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("auth: tighten %s: %w", filepath.Base(path), err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: read %s: %w", filepath.Base(path), err)
	}
	return data, nil
}

// writeTemp writes data to a new 0600 file beside path and syncs it.
func writeTemp(path string, data []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return "", fmt.Errorf("auth: write %s: %w", filepath.Base(path), err)
	}
	// CreateTemp already uses 0600; Chmod guards against odd umasks.
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("auth: write %s: %w", filepath.Base(path), err)
	}
	return f.Name(), nil
}

// writeFileAtomic replaces path with data (0600) by rename.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// randomBytes returns n bytes from crypto/rand, which never fails.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
