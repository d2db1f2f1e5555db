package gateway

// AuthConfig configures the second factors and the brute-force limits of
// the login operations.
type AuthConfig struct{}

// authState is the Server's state for AuthConfig.
type authState struct{}

func (s *Server) initAuth() error { return nil }
