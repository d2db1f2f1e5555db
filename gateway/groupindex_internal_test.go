package gateway

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/xmppadmin"
)

// fakeGroups is a GroupDirectory of groups that counts its reads of the
// group list; a read waits for hold, when set.
type fakeGroups struct {
	xmppadmin.GroupDirectory // nil: the index calls nothing else

	mu      sync.Mutex
	members map[string][]string
	view    map[string][]string // members as the read in progress began
	fail    error

	reads    atomic.Int32
	returned atomic.Int32 // reads of the group list that have returned
	hold     chan struct{}
}

func (f *fakeGroups) Groups(ctx context.Context) ([]string, error) {
	// A read sees the groups as they were when it began, as a slow one
	// on a server would.
	f.mu.Lock()
	f.view = maps.Clone(f.members)
	f.mu.Unlock()
	f.reads.Add(1)
	defer f.returned.Add(1)
	if f.hold != nil {
		select {
		case <-f.hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for g := range f.view {
		out = append(out, g)
	}
	return out, nil
}

func (f *fakeGroups) GroupMembers(_ context.Context, g string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	return slices.Clone(f.view[g]), nil
}

func (f *fakeGroups) set(g string, members ...string) {
	f.mu.Lock()
	f.members[g] = members
	f.mu.Unlock()
}

func sortedGroupsOf(t *testing.T, x *groupIndex, gd xmppadmin.GroupDirectory, user string) []string {
	t.Helper()
	got, err := x.groupsOf(t.Context(), gd, user)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	return got
}

// TestGroupIndex: one read of the groups serves every user for the TTL
// (the spelling of a JID does not matter); a forget, or the TTL's end,
// reads again; a failed read is not kept.
func TestGroupIndex(t *testing.T) {
	now := time.Unix(1000, 0)
	x := newGroupIndex(10*time.Second, func() time.Time { return now }, testBackground(t))
	gd := &fakeGroups{members: map[string][]string{
		"staff": {"Alice@example.org", "bob@example.org"},
		"ops":   {"alice@example.org"},
		"empty": nil,
	}}
	if got := sortedGroupsOf(t, x, gd, "alice@example.org"); !slices.Equal(got, []string{"ops", "staff"}) {
		t.Fatalf("alice's groups %v", got)
	}
	if got := sortedGroupsOf(t, x, gd, "BOB@example.org"); !slices.Equal(got, []string{"staff"}) {
		t.Fatalf("bob's groups %v", got)
	}
	if got := sortedGroupsOf(t, x, gd, "carol@example.org"); len(got) != 0 || got == nil {
		t.Fatalf("carol's groups %#v, want empty, not nil (JSON [])", got)
	}
	if n := gd.reads.Load(); n != 1 {
		t.Fatalf("%d reads of the groups for three users within the TTL, want 1", n)
	}

	gd.set("ops", "alice@example.org", "bob@example.org")
	now = now.Add(9 * time.Second)
	if got := sortedGroupsOf(t, x, gd, "bob@example.org"); !slices.Equal(got, []string{"staff"}) {
		t.Fatalf("within the TTL, bob's groups %v: want the kept read", got)
	}
	x.forget()
	if got := sortedGroupsOf(t, x, gd, "bob@example.org"); !slices.Equal(got, []string{"ops", "staff"}) {
		t.Fatalf("after forget, bob's groups %v", got)
	}
	now = now.Add(10 * time.Second)
	sortedGroupsOf(t, x, gd, "bob@example.org")
	if n := gd.reads.Load(); n != 3 {
		t.Fatalf("%d reads after a forget and a TTL, want 3", n)
	}

	gd.fail = errors.New("admin API down")
	now = now.Add(10 * time.Second)
	if _, err := x.groupsOf(t.Context(), gd, "bob@example.org"); err == nil {
		t.Fatal("a failed read answered")
	}
	gd.fail = nil
	sortedGroupsOf(t, x, gd, "bob@example.org")
	if n := gd.reads.Load(); n != 5 {
		t.Fatalf("%d reads: the failed read was kept", n)
	}
}

// TestGroupIndexConcurrent: callers that come while a read runs wait for
// it rather than read again; one whose context ends stops waiting; a read
// that a forget overtook answers its callers and is not kept.
func TestGroupIndexConcurrent(t *testing.T) {
	x := newGroupIndex(time.Hour, time.Now, testBackground(t))
	gd := &fakeGroups{members: map[string][]string{"staff": {"alice@example.org"}}, hold: make(chan struct{})}
	waitReads := func(n int32) {
		for gd.reads.Load() < n {
			time.Sleep(time.Millisecond) // bounded by the test's timeout: a caller reads at once
		}
	}

	const callers = 5
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			if got, err := x.groupsOf(context.Background(), gd, "alice@example.org"); err != nil || !slices.Equal(got, []string{"staff"}) {
				t.Errorf("a waiting caller got %v, %v", got, err)
			}
		})
	}
	waitReads(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := x.groupsOf(ctx, gd, "alice@example.org"); !errors.Is(err, context.Canceled) {
		t.Fatalf("a caller whose context ended = %v, want context.Canceled", err)
	}
	close(gd.hold)
	wg.Wait()
	// A caller late for the read finds it kept: one read in all.
	if n := gd.reads.Load(); n != 1 {
		t.Fatalf("%d reads for %d callers at once, want 1", n, callers)
	}

	// Overtaken: the membership changes while a read runs.
	gd.hold = make(chan struct{})
	x.forget()
	done := make(chan []string)
	go func() {
		got, _ := x.groupsOf(context.Background(), gd, "alice@example.org")
		done <- got
	}()
	waitReads(2)
	x.forget()
	gd.set("ops", "alice@example.org")
	close(gd.hold)
	if got := <-done; !slices.Equal(got, []string{"staff"}) {
		t.Fatalf("the overtaken read's caller got %v", got)
	}
	if got := sortedGroupsOf(t, x, gd, "alice@example.org"); !slices.Equal(got, []string{"ops", "staff"}) {
		t.Fatalf("after the overtaken read, alice's groups %v: the read was kept", got)
	}
	if n := gd.reads.Load(); n != 3 {
		t.Fatalf("%d reads, want 3", n)
	}
}

// TestGroupIndexClose: a read whose callers have all left goes on (it is
// the index's), the background's close (in the Server's Close) ends it and
// returns only once it has, and a caller after close is told the gateway
// is shutting down.
func TestGroupIndexClose(t *testing.T) {
	bg := newBackground()
	x := newGroupIndex(time.Hour, time.Now, bg)
	gd := &fakeGroups{members: map[string][]string{"staff": {"alice@example.org"}}, hold: make(chan struct{})} // never released
	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan error)
	go func() {
		_, err := x.groupsOf(ctx, gd, "alice@example.org")
		left <- err
	}()
	for gd.reads.Load() < 1 {
		time.Sleep(time.Millisecond) // bounded by the test's timeout: the caller reads at once
	}
	cancel()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller that left got %v", err)
	}
	time.Sleep(20 * time.Millisecond)
	if gd.returned.Load() != 0 {
		t.Fatal("the read ended with its caller")
	}
	closed := make(chan struct{})
	go func() { bg.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second): // the read's own bound is 30 s
		t.Fatal("close did not end the read")
	}
	if gd.returned.Load() != 1 {
		t.Fatal("close returned before the read it ended")
	}
	var apiErr *Error
	if _, err := x.groupsOf(context.Background(), gd, "alice@example.org"); !errors.As(err, &apiErr) || apiErr.Status != 503 {
		t.Fatalf("a caller after close got %v, want 503", err)
	}
	if n := gd.reads.Load(); n != 1 {
		t.Fatalf("%d reads, want 1: none after close", n)
	}
}

// testBackground is a background closed with the test.
func testBackground(t *testing.T) *background {
	bg := newBackground()
	t.Cleanup(bg.close)
	return bg
}
