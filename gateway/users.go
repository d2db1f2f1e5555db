package gateway

// UsersConfig configures user management, groups, user and global
// settings, and link previews.
type UsersConfig struct{}

// usersState is the Server's state for UsersConfig.
type usersState struct{}

func (s *Server) initUsers() error { return nil }
