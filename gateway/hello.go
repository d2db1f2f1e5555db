package gateway

import (
	"context"
	"encoding/json"
	"time"

	"github.com/sparkgate/sparkgate/chatapi"
)

// helloTimeout bounds the wait for the user's name and email before a
// stream's first event: a slow XMPP server delays the stream by at most
// this, and the username and JID then stand in.
const helloTimeout = 2 * time.Second

// hello is the first event of user's stream, onConnect: SparkWeb's
// username, name and email, the name and email from the user's vCard (FN
// and the preferred EMAIL; the session reads it once, see
// xmppconn.Session.OwnProfile), as the reference's came from the user's
// Openfire profile. Without them the username is the name and the bare
// JID the address, as before; a failed read does not keep the stream
// from opening.
func (s *Server) hello(ctx context.Context, sess Session, user string, resumed bool) ([]byte, error) {
	local := localPart(user)
	name, email := local, user
	pctx, cancel := context.WithTimeout(ctx, helloTimeout)
	defer cancel()
	if n, e, err := sess.OwnProfile(pctx); err != nil {
		s.log.Debug("onConnect without the vCard's name and email", "user", user, "err", err)
	} else {
		if n != "" {
			name = n
		}
		if e != "" {
			email = e
		}
	}
	return json.Marshal(chatapi.Connect{Username: local, Name: name, Email: email, JID: user, Resumed: resumed})
}
