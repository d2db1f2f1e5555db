package webpush

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// vapidFile is the name of the key file in the data directory.
const vapidFile = "vapid.json"

// VAPID is the gateway's application server key pair (RFC 8292): a P-256
// key, both halves base64url without padding. Public is the uncompressed
// point browsers take as applicationServerKey; Private is the 32-byte
// scalar and must never leave the server.
type VAPID struct {
	Public  string `json:"publicKey"`
	Private string `json:"privateKey"`
}

// LogValue hides the private key.
func (k VAPID) LogValue() slog.Value { return slog.StringValue(k.Public) }

// GenerateVAPID returns a new random key pair.
func GenerateVAPID() (VAPID, error) {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return VAPID{}, fmt.Errorf("webpush: generate vapid key: %w", err)
	}
	return VAPID{
		Public:  base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
		Private: base64.RawURLEncoding.EncodeToString(priv.Bytes()),
	}, nil
}

// Check reports whether the pair is a valid P-256 key pair whose halves
// belong together.
func (k VAPID) Check() error {
	d, err := base64.RawURLEncoding.DecodeString(k.Private)
	if err != nil {
		return fmt.Errorf("%w: private key is not base64url", ErrInvalidKey)
	}
	priv, err := ecdh.P256().NewPrivateKey(d)
	if err != nil {
		return fmt.Errorf("%w: private key: %v", ErrInvalidKey, err)
	}
	if base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()) != k.Public {
		return fmt.Errorf("%w: public key does not match the private key", ErrInvalidKey)
	}
	return nil
}

// LoadOrCreateVAPID returns the key pair kept in dir (file vapid.json,
// mode 0600), generating and saving one on first use. dir is created with
// mode 0700 if needed. Two processes starting at once end up with the same
// key: the file is created exclusively and the loser reads the winner's.
func LoadOrCreateVAPID(dir string) (VAPID, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return VAPID{}, fmt.Errorf("webpush: vapid directory: %w", err)
	}
	path := filepath.Join(dir, vapidFile)
	if k, err := readVAPID(path); !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	k, err := GenerateVAPID()
	if err != nil {
		return VAPID{}, err
	}
	data, err := json.Marshal(k)
	if err != nil {
		return VAPID{}, fmt.Errorf("webpush: encode vapid key: %w", err)
	}
	// Write a private temporary file, then link it into place: the key
	// file is never seen half-written, and an existing one wins.
	tmp, err := os.CreateTemp(dir, ".vapid-*")
	if err != nil {
		return VAPID{}, fmt.Errorf("webpush: save vapid key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return VAPID{}, fmt.Errorf("webpush: save vapid key: %w", err)
	}
	_, werr := tmp.Write(append(data, '\n'))
	serr := tmp.Sync()
	if err := errors.Join(werr, serr, tmp.Close()); err != nil {
		return VAPID{}, fmt.Errorf("webpush: save vapid key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return readVAPID(path)
		}
		return VAPID{}, fmt.Errorf("webpush: save vapid key: %w", err)
	}
	return k, nil
}

func readVAPID(path string) (VAPID, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return VAPID{}, err
		}
		return VAPID{}, fmt.Errorf("webpush: read vapid key: %w", err)
	}
	var k VAPID
	if err := json.Unmarshal(data, &k); err != nil {
		return VAPID{}, fmt.Errorf("webpush: read vapid key %s: %w", path, err)
	}
	if err := k.Check(); err != nil {
		return VAPID{}, fmt.Errorf("webpush: read vapid key %s: %w", path, err)
	}
	return k, nil
}
