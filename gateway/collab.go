package gateway

// CollabConfig configures pubsub, bookmarks, upload, meetings, link
// previews, users and groups.
type CollabConfig struct{}

// collabState is the Server's state for CollabConfig.
type collabState struct{}

func (s *Server) initCollab() error { return nil }
