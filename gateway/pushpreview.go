package gateway

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Push previews. A push shows on a phone's lock screen, where anyone near
// it reads who wrote and what; a user may have pushes say less with the
// user property PushPreviewProperty (POST /config/properties, so every
// device shares it and hears chatapi.properties): "sender" shows who and
// not what, "none" neither. The gateway applies it as each push of a
// message, a room mention or an invitation is built (queuePush, and
// POST /webpush/message's), whichever path made it; the notification's
// data still names the conversation, so that a click opens it and a
// reply goes there (the payload is encrypted to the browser, RFC 8291,
// and not shown). A custom notification (POST /webpush/notify) is the
// sending app's and is left as it is.

// PushPreviewProperty is the user property that sets how much a push
// shows: PreviewFull (the default, and what an absent property means),
// PreviewSender or PreviewNone.
const PushPreviewProperty = "sparkgate.push.preview"

// The values of PushPreviewProperty.
const (
	PreviewFull   = "full"
	PreviewSender = "sender"
	PreviewNone   = "none"
)

// previewReadTimeout bounds the store read of one push's preview.
const previewReadTimeout = 2 * time.Second

// checkPushPreview refuses a value PushPreviewProperty cannot take ("" is
// the property's removal: full again).
func checkPushPreview(value string) error {
	switch value {
	case "", PreviewFull, PreviewSender, PreviewNone:
		return nil
	}
	return errorf(http.StatusBadRequest, fmt.Sprintf("%s must be %q, %q or %q", PushPreviewProperty, PreviewFull, PreviewSender, PreviewNone))
}

// pushPreview reads user's preview. A failed read says none: a push
// that says too little beats one that shows what the user hid.
func (s *Server) pushPreview(user string) string {
	st := s.cfg.Users.Properties
	if st == nil {
		return PreviewFull
	}
	ctx, cancel := context.WithTimeout(context.Background(), previewReadTimeout)
	defer cancel()
	props, err := st.UserProperties(ctx, user)
	if err != nil {
		s.log.Warn("push: read the preview setting; nothing shown", "user", user, "err", err)
		return PreviewNone
	}
	switch v := props[PushPreviewProperty]; v {
	case PreviewSender, PreviewNone:
		return v
	}
	return PreviewFull
}

// previewed is n as the preview level shows it: its subject names the
// sender (or the room) and its body the text at full; at sender the body
// only says what came; at none the subject too.
func previewed(n NotificationEntity, d pushData, level string) NotificationEntity {
	what := "New message"
	if d.Type == pushInvitation {
		what = "New invitation"
	}
	switch level {
	case PreviewSender:
		n.Body = ptr(what)
	case PreviewNone:
		n.Subject, n.Body = ptr(what), nil
	}
	return n
}
