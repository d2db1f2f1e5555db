package gateway_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/store"
)

// mountSmallFS mounts a tmpfs of size bytes on a new directory of the test
// and unmounts it at cleanup. It skips the test where mounting is not
// allowed (not root, or a container without the capability).
func mountSmallFS(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Skipf("cannot mount a size-limited tmpfs here (%v); store.TestFull covers SQLITE_FULL through max_page_count", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillFS writes path until the file system holding it is full and returns
// how many bytes it took.
func fillFS(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var n int64
	for _, chunk := range []int{64 << 10, 4 << 10, 512} {
		buf := make([]byte, chunk)
		for {
			k, err := f.Write(buf)
			n += int64(k)
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			if err != nil {
				t.Fatalf("fill: %v", err)
			}
		}
	}
	return n
}

// TestIntegrationFaultStoreFull: the disk under the gateway's store (and
// keys) fills up while it runs — a real file system, a tmpfs of 4 MiB,
// filled by another file. Writes get 507 with code store_full and save
// nothing; reads, logins and one-to-one messages (which need no store)
// keep working; once space returns, writes work again.
func TestIntegrationFaultStoreFull(t *testing.T) {
	dir := mountSmallFS(t, 4<<20)
	n := startNodeStore(t, dir, func(c *gateway.Config, st *store.SQLite) {
		c.Collab.Bookmarks = st
		c.Users.Properties = st
	})
	a, b := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	ta, tb := n.Login(t, a.Name, a.Password), n.Login(t, b.Name, b.Password)
	s, _ := n.Open(t, tb, "")
	s.NextNamed(t, chatapi.EventConnect, 5*time.Second, nil)
	const bm = `{"type":"url","name":"%s","value":"https://x.example.org/"}`
	if r := n.Do(t, "POST", api+"/bookmark", ta, "application/json", fmt.Sprintf(bm, "before")); r.Status != 200 {
		t.Fatalf("bookmark before the disk filled: %d %s", r.Status, r.Body)
	}

	filler := filepath.Join(dir, "filler")
	t.Logf("filled the file system with %d KiB", fillFS(t, filler)>>10)

	// The first write may still fit in space SQLite holds already (a
	// page with room, the write-ahead log's free frames): write until the
	// disk refuses, within a bound.
	big := strings.Repeat("x", 1000) // the longest name is 1,024 characters
	accepted, full := 0, false
	for i := range 100 {
		r := n.Do(t, "POST", api+"/bookmark", ta, "application/json", fmt.Sprintf(bm, fmt.Sprintf("%d-%s", i, big)))
		if r.Status == 200 {
			accepted++
			continue
		}
		eb := r.Error(t)
		if r.Status != 507 || eb.Code != "store_full" || eb.Status != 507 || eb.Message == "" {
			t.Fatalf("bookmark on a full disk: %d %s", r.Status, r.Body)
		}
		t.Logf("bookmark on a full disk = %d %s: %s (after %d accepted in what SQLite held)", r.Status, eb.Code, eb.Message, accepted)
		full = true
		break
	}
	if !full {
		t.Fatalf("%d large bookmarks fitted on a full file system", accepted)
	}

	chatWhileStoreFails(t, n.env, ta, b.Name, s, "store disk full")

	runStoreCalls(t, n.env, []storeCall{
		{"bookmark-create", "POST", api + "/bookmark", "application/json", fmt.Sprintf(bm, big), ta, []int{507}},
		{"properties-set", "POST", api + "/config/properties", "application/json", `[{"name":"color","value":"` + big + `"}]`, ta, []int{507}},
		{"bookmark-list", "GET", api + "/bookmarks", "", "", ta, []int{200}},
		{"properties-get", "GET", api + "/config/properties", "", "", ta, []int{200}},
		{"roster", "GET", api + "/roster", "", "", ta, []int{200}},
		{"login", "POST", api + "/login/" + a.Name, "text/plain", a.Password, "", []int{200}},
		{"logout", "POST", api + "/logout", "", "", ta, []int{507}},
		// The logout saved nothing, so the token was not revoked: it still works.
		{"token-after-failed-logout", "GET", api + "/roster", "", "", ta, []int{200}},
		{"readyz", "GET", "/readyz", "", "", "", []int{200}},
	})

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	runStoreCalls(t, n.env, []storeCall{
		{"bookmark-create-with-space", "POST", api + "/bookmark", "application/json", fmt.Sprintf(bm, big), ta, []int{200}},
		{"properties-set-with-space", "POST", api + "/config/properties", "application/json", `[{"name":"color","value":"blue"}]`, ta, []int{200}},
		{"logout-with-space", "POST", api + "/logout", "", "", ta, []int{200}},
		{"token-after-logout", "GET", api + "/roster", "", "", ta, []int{401}},
	})
}
