package webpush_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sparkgate/sparkgate/webpush"
)

func TestLoadOrCreateVAPID(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k1, err := webpush.LoadOrCreateVAPID(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := k1.Check(); err != nil {
		t.Fatal(err)
	}
	if len(k1.Public) != 87 || len(k1.Private) != 43 {
		t.Errorf("key lengths %d/%d, want 87/43 base64url characters", len(k1.Public), len(k1.Private))
	}
	fi, err := os.Stat(filepath.Join(dir, "vapid.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	k2, err := webpush.LoadOrCreateVAPID(dir)
	if err != nil {
		t.Fatal(err)
	}
	if k1 != k2 {
		t.Error("second start made a new key pair")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data directory has %d entries, want only vapid.json", len(entries))
	}

	t.Run("mismatched-halves", func(t *testing.T) {
		other, _ := webpush.GenerateVAPID()
		bad := webpush.VAPID{Public: other.Public, Private: k1.Private}
		if err := bad.Check(); !errors.Is(err, webpush.ErrInvalidKey) {
			t.Errorf("Check = %v, want ErrInvalidKey", err)
		}
	})
	t.Run("corrupt-file", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "vapid.json"), []byte(`{"publicKey":"x","privateKey":"y"}`), 0o600)
		if _, err := webpush.LoadOrCreateVAPID(dir); !errors.Is(err, webpush.ErrInvalidKey) {
			t.Errorf("LoadOrCreateVAPID = %v, want ErrInvalidKey", err)
		}
	})
}
