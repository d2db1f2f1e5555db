package xmppadmin_test

import (
	"errors"
	"slices"
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
