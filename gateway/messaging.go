package gateway

// MessagingConfig configures group chat, roster, presence and archive
// operations.
type MessagingConfig struct{}

// messagingState is the Server's state for MessagingConfig.
type messagingState struct{}

func (s *Server) initMessaging() error { return nil }
