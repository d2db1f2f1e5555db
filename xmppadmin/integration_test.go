package xmppadmin_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"github.com/sparkgate/sparkgate/xmppadmin"
)

func TestMain(m *testing.M) { ejabberdtest.Main(m) }

func TestIntegrationAccounts(t *testing.T) {
	t.Parallel()
	admin := ejabberdtest.Admin(t)
	ctx := t.Context()
	const name, password = "xmppadmin-accounts", "first-pass"
	t.Cleanup(func() { admin.Unregister(t.Context(), name) })

	if err := admin.Status(ctx); err != nil {
		t.Fatalf("Status: %v", err)
	}
	if ok, err := admin.Exists(ctx, name); err != nil || ok {
		t.Fatalf("Exists before Register = %v, %v", ok, err)
	}
	if err := admin.Register(ctx, name, password); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if err := admin.Register(ctx, name, password); !errors.Is(err, xmppadmin.ErrUserExists) {
		t.Errorf("second Register = %v, want ErrUserExists", err)
	}
	if ok, err := admin.Exists(ctx, name); err != nil || !ok {
		t.Errorf("Exists after Register = %v, %v", ok, err)
	}
	if users, err := admin.Users(ctx); err != nil || !slices.Contains(users, name) {
		t.Errorf("Users = %v, %v; want it to list %s", users, err, name)
	}
	if err := admin.ChangePassword(ctx, name, "second-pass"); err != nil {
		t.Errorf("ChangePassword: %v", err)
	}
	token, err := admin.IssueToken(ctx, name, time.Minute)
	if err != nil || len(token) < 16 {
		t.Errorf("IssueToken = %d characters, %v", len(token), err)
	}
	if err := admin.Unregister(ctx, name); err != nil {
		t.Errorf("Unregister: %v", err)
	}
	if err := admin.Unregister(ctx, name); !errors.Is(err, xmppadmin.ErrUserNotFound) {
		t.Errorf("second Unregister = %v, want ErrUserNotFound", err)
	}
	if ok, err := admin.Exists(ctx, "not a valid name"); err != nil || ok {
		t.Errorf("Exists(malformed) = %v, %v; want false, nil", ok, err)
	}
	if err := admin.Register(ctx, "not a valid name", password); !errors.Is(err, xmppadmin.ErrInvalidUser) {
		t.Errorf("Register(malformed) = %v, want ErrInvalidUser", err)
	}
	if _, err := admin.IssueToken(ctx, name, time.Minute); !errors.Is(err, xmppadmin.ErrUserNotFound) {
		t.Errorf("IssueToken(missing) = %v, want ErrUserNotFound", err)
	}
	if err := admin.ChangePassword(ctx, name, "x"); !errors.Is(err, xmppadmin.ErrUserNotFound) {
		t.Errorf("ChangePassword(missing) = %v, want ErrUserNotFound", err)
	}
}

func TestIntegrationGroups(t *testing.T) {
	t.Parallel()
	admin := ejabberdtest.Admin(t)
	ctx := t.Context()
	alice, bob := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	const group = "xmppadmin-team"
	t.Cleanup(func() { admin.DeleteGroup(t.Context(), group) })

	if err := admin.CreateGroup(ctx, group, "Team", "integration test", nil); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if groups, err := admin.Groups(ctx); err != nil || !slices.Contains(groups, group) {
		t.Errorf("Groups = %v, %v; want it to list %s", groups, err, group)
	}
	for _, u := range []ejabberdtest.User{alice, bob} {
		if err := admin.AddGroupMember(ctx, group, u.Name); err != nil {
			t.Fatalf("AddGroupMember(%s): %v", u.Name, err)
		}
	}
	members, err := admin.GroupMembers(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(members)
	want := []string{alice.JID, bob.JID}
	slices.Sort(want)
	if diff := cmp.Diff(want, members); diff != "" {
		t.Errorf("GroupMembers (-want +got):\n%s", diff)
	}
	if err := admin.RemoveGroupMember(ctx, group, alice.Name); err != nil {
		t.Errorf("RemoveGroupMember: %v", err)
	}
	if members, err := admin.GroupMembers(ctx, group); err != nil || !slices.Equal(members, []string{bob.JID}) {
		t.Errorf("GroupMembers after removal = %v, %v; want [%s]", members, err, bob.JID)
	}
	if err := admin.DeleteGroup(ctx, group); err != nil {
		t.Errorf("DeleteGroup: %v", err)
	}
	if groups, err := admin.Groups(ctx); err != nil || slices.Contains(groups, group) {
		t.Errorf("Groups after DeleteGroup = %v, %v", groups, err)
	}
}

// TestIntegrationRosterEntries reads a roster that holds a contact the
// admin added and a shared roster group's member, as the user's client
// would see it. (A contact in two groups is TestEjabberd's: add_rosteritem
// sets one.)
func TestIntegrationRosterEntries(t *testing.T) {
	t.Parallel()
	s := ejabberdtest.Shared(t)
	admin := ejabberdtest.Admin(t)
	ctx := t.Context()
	alice, bob, carol, dave := ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t), ejabberdtest.NewUser(t)
	for _, group := range []string{"Work", "Friends"} { // the second replaces the first
		body := fmt.Sprintf(`{"localuser":%q,"localhost":%q,"user":%q,"host":%q,"nick":"Bob","group":%q,"subs":"both"}`,
			alice.Name, alice.Domain, bob.Name, bob.Domain, group)
		res, err := http.Post(s.AdminURL()+"/add_rosteritem", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("add_rosteritem: %s", res.Status)
		}
	}
	group := "xmppadmin-roster-" + alice.Name
	if err := admin.CreateGroup(ctx, group, "Team", "", nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.DeleteGroup(context.Background(), group) })
	for _, u := range []ejabberdtest.User{alice, dave} {
		if err := admin.AddGroupMember(ctx, group, u.Name); err != nil {
			t.Fatal(err)
		}
	}
	got, err := admin.RosterEntries(ctx, alice.Name)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b xmppadmin.RosterEntry) int { return strings.Compare(a.JID, b.JID) })
	for i := range got {
		slices.Sort(got[i].Groups)
	}
	want := []xmppadmin.RosterEntry{
		{JID: bob.JID, Nickname: "Bob", Subscription: "both", Groups: []string{"Friends"}},
		{JID: dave.JID, Subscription: "both", Groups: []string{"Team"}},
	}
	slices.SortFunc(want, func(a, b xmppadmin.RosterEntry) int { return strings.Compare(a.JID, b.JID) })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RosterEntries (-want +got):\n%s", diff)
	}
	if got, err := admin.RosterEntries(ctx, carol.Name); err != nil || len(got) != 0 {
		t.Errorf("RosterEntries(carol) = %v, %v; want none", got, err)
	}
}
