package gateway

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/xmppconn"
)

// errNoUploadService is returned when the XMPP server offers no HTTP
// upload service.
var errNoUploadService = errors.New("gateway: no http upload service")

// RequestUploadSlot serves GET /upload/{fileName}/{fileSize}: a slot from
// the server's XEP-0363 service, found by disco, with the headers the PUT
// must carry.
func (s *Server) RequestUploadSlot(c echo.Context, fileName string, fileSize int64, params RequestUploadSlotParams) error {
	if err := validFileName(fileName); err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	if fileSize < 1 {
		return errorf(http.StatusBadRequest, "the file size must be at least one byte")
	}
	ctype := ""
	if params.ContentType != nil {
		ctype = *params.ContentType
		if _, _, err := mime.ParseMediaType(ctype); err != nil {
			return errorf(http.StatusBadRequest, "the content type is malformed")
		}
	}
	if ctype == "" {
		ctype = guessContentType(fileName)
	}
	sess, err := s.session(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	service, max, err := s.uploadService(ctx, sess)
	if errors.Is(err, errNoUploadService) {
		return wrap(http.StatusNotImplemented, "the XMPP server offers no HTTP upload service", err)
	}
	if err != nil {
		return ofGatewayService(err)
	}
	if max > 0 && fileSize > max {
		return errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("the upload service accepts files of at most %d bytes", max))
	}
	slot, err := sess.RequestUploadSlot(ctx, service, fileName, fileSize, ctype)
	if err != nil {
		return ofGatewayService(err)
	}
	// The PUT must carry the content type the slot was asked for
	// (XEP-0363 section 5), which the client may not know when the
	// gateway guessed it: it is listed with the service's headers.
	headers := map[string]string{"Content-Type": ctype}
	for k, v := range slot.Headers {
		headers[k] = v
	}
	out := UploadSlot{PutUrl: slot.PutURL, GetUrl: slot.GetURL, Put: &slot.PutURL, Get: &slot.GetURL, Headers: &headers}
	return c.JSON(http.StatusOK, out)
}

// validFileName refuses names the upload service would take as paths or
// that cannot travel in a header: empty, . and .., separators, control
// characters, invalid UTF-8, more than 255 bytes.
func validFileName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return errors.New("the file name is empty or a dot name")
	case len(name) > 255:
		return errors.New("the file name is longer than 255 bytes")
	case !utf8.ValidString(name):
		return errors.New("the file name is not valid UTF-8")
	case strings.ContainsAny(name, "/\\") || strings.ContainsFunc(name, unicode.IsControl):
		return errors.New("the file name may not contain slashes or control characters")
	}
	return nil
}

// guessContentType picks the media type from the file's extension.
func guessContentType(name string) string {
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(name))); t != "" {
		if mt, _, err := mime.ParseMediaType(t); err == nil {
			return mt
		}
	}
	return "application/octet-stream"
}

// uploadService returns the upload service and its size limit (0: none
// announced): the configured one, else the first item of the domain whose
// disco#info announces XEP-0363. A found service is remembered; a failed
// search is retried on the next request.
func (s *Server) uploadService(ctx context.Context, sess Session) (string, int64, error) {
	st := &s.collab
	st.uploadMu.Lock()
	service, max, known := st.upload, st.uploadMax, st.uploadKnown
	st.uploadMu.Unlock()
	if known {
		return service, max, nil
	}
	var candidates []string
	if service != "" {
		candidates = []string{service}
	} else {
		items, err := sess.DiscoItems(ctx, s.cfg.Domain, "")
		if err != nil {
			return "", 0, err
		}
		for _, it := range items {
			if it.Node == "" && it.JID != "" {
				candidates = append(candidates, it.JID)
			}
		}
	}
	for _, jid := range candidates {
		info, err := sess.DiscoInfo(ctx, jid, "")
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return "", 0, err
			}
			s.log.Debug("disco#info of a server item", "jid", jid, "err", err)
			continue
		}
		if !info.Has(xmppconn.NSUpload) {
			continue
		}
		max := xmppconn.UploadMaxSize(info)
		st.uploadMu.Lock()
		st.upload, st.uploadMax, st.uploadKnown = jid, max, true
		st.uploadMu.Unlock()
		return jid, max, nil
	}
	if service != "" {
		// A configured service that does not answer disco is used
		// without a known limit.
		return service, 0, nil
	}
	return "", 0, errNoUploadService
}
