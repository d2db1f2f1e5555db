package auth

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadOrCreateKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "keys")
	k1, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("dir mode = %v, want 0700", got)
	}
	for _, name := range []string{SigningKeysFile, SealKeyFile, MeetingNamesFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s mode = %v, want 0600", name, got)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("dir holds %d entries, want 3 (no temp files left)", len(entries))
	}

	ct, nonce := k1.sealTOTP("alice@x", []byte("JBSWY3DPEHPK3PXP"))

	// Second start: same keys.
	k2, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if k1.CurrentKeyID() != k2.CurrentKeyID() {
		t.Errorf("kid changed on reload: %s != %s", k1.CurrentKeyID(), k2.CurrentKeyID())
	}
	if p, err := k2.openTOTP("alice@x", ct, nonce); err != nil || string(p) != "JBSWY3DPEHPK3PXP" {
		t.Errorf("open after reload = %q, %v", p, err)
	}
	if _, err := k2.openTOTP("mallory@x", ct, nonce); err == nil {
		t.Error("sealed secret opened for another user")
	}
}

// TestResealTOTP: a secret moved to another user's key opens for that
// user only; one that does not open for its own user is not moved.
func TestResealTOTP(t *testing.T) {
	k, err := LoadOrCreateKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ct, nonce := k.sealTOTP("straße@x", []byte("JBSWY3DPEHPK3PXP"))
	sec := TOTPSecret{User: "straße@x", Ciphertext: ct, Nonce: nonce, Active: true}
	moved, err := k.ResealTOTP(sec, "strasse@x")
	if err != nil {
		t.Fatal(err)
	}
	if moved.User != "strasse@x" || !moved.Active {
		t.Errorf("ResealTOTP = %+v, want strasse@x, active", moved)
	}
	if p, err := k.openTOTP("strasse@x", moved.Ciphertext, moved.Nonce); err != nil || string(p) != "JBSWY3DPEHPK3PXP" {
		t.Errorf("open for the new user = %q, %v", p, err)
	}
	if _, err := k.openTOTP("straße@x", moved.Ciphertext, moved.Nonce); err == nil {
		t.Error("the resealed secret opens for the old user")
	}
	if _, err := k.ResealTOTP(TOTPSecret{User: "mallory@x", Ciphertext: ct, Nonce: nonce}, "strasse@x"); err == nil {
		t.Error("ResealTOTP moved a secret that does not open for its user")
	}
	if _, err := k.ResealTOTP(sec, ""); err == nil {
		t.Error("ResealTOTP to an empty user")
	}
}

func TestKeysTightenPermissions(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreateKeys(dir); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, SigningKeysFile)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKeys(dir); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("mode after reload = %v, want 0600", got)
	}
}

func TestKeysCorrupt(t *testing.T) {
	tests := []struct {
		name, file, content string
	}{
		{"bad-json", SigningKeysFile, "{"},
		{"no-keys", SigningKeysFile, `{"keys":[]}`},
		{"kid-mismatch", SigningKeysFile, `{"keys":[{"kid":"x","seed":"` + strings.Repeat("A", 43) + `="}]}`},
		{"short-seal-key", SealKeyFile, "short"},
		{"short-meeting-key", MeetingNamesFile, "short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadOrCreateKeys(dir); err == nil {
				t.Error("LoadOrCreateKeys succeeded")
			}
		})
	}
}

func TestRotatePersists(t *testing.T) {
	dir := t.TempDir()
	k, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	old := k.CurrentKeyID()
	if err := k.Rotate(t0, time.Hour); err != nil {
		t.Fatal(err)
	}
	if k.CurrentKeyID() == old {
		t.Fatal("Rotate kept the kid")
	}

	k2, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if k2.CurrentKeyID() != k.CurrentKeyID() {
		t.Error("rotated key not persisted")
	}
	if _, ok := k2.verifier(old, t0.Add(59*time.Minute)); !ok {
		t.Error("retired key does not verify within grace after reload")
	}
	if _, ok := k2.verifier(old, t0.Add(time.Hour)); ok {
		t.Error("retired key verifies after grace")
	}
	if got := len(k2.PublicKeys(t0)); got != 2 {
		t.Errorf("PublicKeys = %d keys, want 2", got)
	}

	// A later rotation drops keys whose grace is over.
	if err := k2.Rotate(t0.Add(2*time.Hour), time.Hour); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, SigningKeysFile))
	var f keyFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Keys) != 2 {
		t.Errorf("file holds %d keys after second rotation, want 2", len(f.Keys))
	}
}

func TestKeysLogValue(t *testing.T) {
	k := newKeys(t)
	var buf bytes.Buffer
	logTo(&buf).Info("keys", "keys", k)
	seed := k.signing[0].priv.Seed()
	if bytes.Contains(buf.Bytes(), seed) || !strings.Contains(buf.String(), k.CurrentKeyID()) {
		t.Errorf("log line: %s", buf.String())
	}
	if _, err := LoadOrCreateKeys(""); err == nil {
		t.Error("empty dir accepted")
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateKeys(dir) // another process
	if err != nil {
		t.Fatal(err)
	}
	old := a.CurrentKeyID()
	if err := b.Rotate(t0, time.Hour); err != nil {
		t.Fatal(err)
	}
	if a.CurrentKeyID() != old {
		t.Fatal("a changed before Reload")
	}
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if a.CurrentKeyID() != b.CurrentKeyID() {
		t.Error("Reload did not pick up the rotation")
	}
	if _, ok := a.verifier(old, t0.Add(time.Minute)); !ok {
		t.Error("retired key lost on Reload")
	}
	if err := os.WriteFile(filepath.Join(dir, SigningKeysFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(); err == nil {
		t.Error("Reload of a corrupt file succeeded")
	}
	if a.CurrentKeyID() != b.CurrentKeyID() {
		t.Error("failed Reload changed the keys")
	}
}
