package gateway

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/xmppadmin"
)

// Limits of the group operations.
const (
	maxGroupBody  = 300 << 10 // a UserGroupsEntity body
	maxGroupName  = 1023
	groupLookups  = 8 // concurrent member lookups of a read of every group (groupindex.go)
	maxGroupsRead = 4096
)

// groupDirectory returns the directory's shared roster groups, or 501.
func (s *Server) groupDirectory() (xmppadmin.GroupDirectory, error) {
	gd, ok := s.dir.(xmppadmin.GroupDirectory)
	if !ok {
		return nil, errorf(http.StatusNotImplemented, "the XMPP server's directory has no shared roster groups")
	}
	return gd, nil
}

func checkGroupName(g string) error {
	if g == "" || len(g) > maxGroupName || strings.ContainsFunc(g, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return errorf(http.StatusBadRequest, "a group name must have 1 to 1023 bytes and no control characters")
	}
	return nil
}

// GetUserGroups serves GET /user/groups: the shared roster groups whose
// members include the caller.
func (s *Server) GetUserGroups(c echo.Context) error {
	gd, err := s.groupDirectory()
	if err != nil {
		return err
	}
	groups, err := s.userGroups(c.Request().Context(), gd, claimsOf(c).Subject)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, UserGroupsEntity{Groupnames: groups})
}

// userGroups lists the groups user (a bare JID) is a member of, sorted,
// from the index of every group's members (groupindex.go).
func (s *Server) userGroups(ctx context.Context, gd xmppadmin.GroupDirectory, user string) ([]string, error) {
	mine, err := s.users.groups.groupsOf(ctx, gd, user)
	if err != nil {
		return nil, err
	}
	slices.Sort(mine)
	return mine, nil
}

// AddUserToGroups serves POST /user/groups.
func (s *Server) AddUserToGroups(c echo.Context) error {
	var body UserGroupsEntity
	if err := decodeUsersJSON(c, maxGroupBody, &body); err != nil {
		return err
	}
	return s.changeGroups(c, body.Groupnames, true)
}

// RemoveUserFromGroups serves DELETE /user/groups.
func (s *Server) RemoveUserFromGroups(c echo.Context) error {
	var body UserGroupsEntity
	if err := decodeUsersJSON(c, maxGroupBody, &body); err != nil {
		return err
	}
	return s.changeGroups(c, body.Groupnames, false)
}

// AddUserToGroup serves POST /user/groups/{groupName}.
func (s *Server) AddUserToGroup(c echo.Context, groupName string) error {
	return s.changeGroups(c, []string{groupName}, true)
}

// RemoveUserFromGroup serves DELETE /user/groups/{groupName}.
func (s *Server) RemoveUserFromGroup(c echo.Context, groupName string) error {
	return s.changeGroups(c, []string{groupName}, false)
}

// changeGroups adds the caller to (join) or removes the caller from the
// groups. Every name is checked first (400 malformed, 403 not allowed, 404
// missing unless an admin may create it); only then does anything change.
// Joining a group one is in, or leaving one one is not in, is a success.
func (s *Server) changeGroups(c echo.Context, names []string, join bool) error {
	gd, err := s.groupDirectory()
	if err != nil {
		return err
	}
	cl := claimsOf(c)
	ctx := c.Request().Context()
	local, _, _ := cutJID(cl.Subject)
	if len(names) == 0 {
		return errorf(http.StatusBadRequest, "no group named")
	}
	for _, g := range names {
		if err := checkGroupName(g); err != nil {
			return err
		}
		if !s.mayJoin(cl.Subject, g) {
			return errorf(http.StatusForbidden, fmt.Sprintf("you may not join or leave the group %q", g))
		}
	}
	existing, err := gd.Groups(ctx)
	if err != nil {
		return err
	}
	var create []string
	for _, g := range names {
		if slices.Contains(existing, g) {
			continue
		}
		if !join || !s.cfg.Users.CreateGroups || !s.isUsersAdmin(cl.Subject) {
			return errorf(http.StatusNotFound, fmt.Sprintf("no group %q", g))
		}
		if !slices.Contains(create, g) {
			create = append(create, g)
		}
	}
	// Whatever changes, even in part, the index of groups shows it next.
	defer s.users.groups.forget()
	for _, g := range create {
		if err := gd.CreateGroup(ctx, g, g, "", nil); err != nil {
			return err
		}
		s.log.Info("group created", "group", g, "user", cl.Subject)
	}
	for _, g := range names {
		if err := s.setMembership(ctx, gd, g, cl.Subject, local, join); err != nil {
			return err
		}
	}
	return c.NoContent(http.StatusOK)
}

// setMembership adds user (bare JID user, localpart local) to group g or
// removes it. A member is not added twice: ejabberd would log a failed
// insert.
func (s *Server) setMembership(ctx context.Context, gd xmppadmin.GroupDirectory, g, user, local string, join bool) error {
	if !join {
		return gd.RemoveGroupMember(ctx, g, local)
	}
	members, err := gd.GroupMembers(ctx, g)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(members, func(m string) bool { return strings.EqualFold(m, user) }) {
		return nil
	}
	return gd.AddGroupMember(ctx, g, local)
}
