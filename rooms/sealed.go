package rooms

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Sealer encrypts and decrypts small secrets, binding each to a purpose
// and a subject (auth.Keys is one: the gateway's secret-encryption key).
type Sealer interface {
	SealData(purpose, subject string, plaintext []byte) (ciphertext, nonce []byte)
	OpenData(purpose, subject string, ciphertext, nonce []byte) ([]byte, error)
}

// sealPurpose is the additional data's purpose of a room password.
const sealPurpose = "room-password"

// sealedPrefix starts a sealed password as the store keeps it:
// "sealed1:" nonce ":" ciphertext, both base64url without padding. A
// password without it is one stored before passwords were sealed.
const sealedPrefix = "sealed1:"

// Sealed returns a Store that keeps room passwords in st sealed by s: the
// store never holds one in plain text (see SealExisting for those it
// held before), and a sealed password opens only for the user and room it
// was stored for.
func Sealed(st Store, s Sealer) Store { return sealed{st, s} }

type sealed struct {
	Store
	s Sealer
}

func subject(user, room string) string { return user + "\x00" + room }

func (x sealed) seal(user, room, password string) string {
	if password == "" {
		return ""
	}
	ct, nonce := x.s.SealData(sealPurpose, subject(user, room), []byte(password))
	enc := base64.RawURLEncoding
	return sealedPrefix + enc.EncodeToString(nonce) + ":" + enc.EncodeToString(ct)
}

// open returns the password a stored value holds; a plain one (stored
// before sealing) is returned as it is.
func (x sealed) open(user, room, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	n, c, ok := strings.Cut(rest, ":")
	enc := base64.RawURLEncoding
	nonce, err1 := enc.DecodeString(n)
	ct, err2 := enc.DecodeString(c)
	if !ok || err1 != nil || err2 != nil {
		return "", errors.New("rooms: sealed password is malformed")
	}
	p, err := x.s.OpenData(sealPurpose, subject(user, room), ct, nonce)
	if err != nil {
		return "", fmt.Errorf("rooms: room password: %w", err)
	}
	return string(p), nil
}

func (x sealed) PutJoined(ctx context.Context, j Joined) error {
	j.Password = x.seal(j.User, j.Room, j.Password)
	return x.Store.PutJoined(ctx, j)
}

// Joined opens each password; when one does not open (the key changed),
// the list comes with an error matching ErrUnsealed, that room listed
// without its password (entering it fails as a wrong password does).
func (x sealed) Joined(ctx context.Context, user string) ([]Joined, error) {
	list, err := x.Store.Joined(ctx, user)
	if err != nil {
		return nil, err
	}
	var bad error
	for i := range list {
		p, err := x.open(user, list[i].Room, list[i].Password)
		if err != nil {
			bad = errors.Join(bad, err)
		}
		list[i].Password = p
	}
	if bad != nil {
		return list, fmt.Errorf("%w: %w", ErrUnsealed, bad)
	}
	return list, nil
}

// ErrUnsealed is returned with the list by a Sealed store's Joined when a
// password did not open.
var ErrUnsealed = errors.New("rooms: a room password did not open")

// PasswordRewriter is a store that rewrites every stored room password
// through f, in one transaction (store.SQLite is one).
type PasswordRewriter interface {
	RewriteRoomPasswords(ctx context.Context, f func(user, room, stored string) (string, error)) (int, error)
}

// SealExisting seals the passwords st holds in plain text (stored before
// passwords were sealed), in one transaction, and returns how many it
// sealed; it is the migration of those rows, run at every start (it finds
// none after the first). Sealed passwords are left as they are.
func SealExisting(ctx context.Context, st PasswordRewriter, s Sealer) (int, error) {
	x := sealed{nil, s}
	return st.RewriteRoomPasswords(ctx, func(user, room, stored string) (string, error) {
		if stored == "" || strings.HasPrefix(stored, sealedPrefix) {
			return stored, nil
		}
		return x.seal(user, room, stored), nil
	})
}
