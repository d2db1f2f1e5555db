package gateway

import (
	"mime"
	"net/http"
	"strconv"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
)

// maxAvatar bounds an avatar image set through the API. The image travels
// base64-encoded (4/3 larger) in one stanza, and ejabberd's default
// c2s stanza limit is 256 KiB: 128 KiB of image leaves room for the rest.
const maxAvatar = 128 << 10

// avatarTypes are the image types an avatar may have: those every
// browser shows.
var avatarTypes = []string{"image/png", "image/jpeg", "image/webp", "image/gif"}

// The request validator reads the avatar body as bytes; it knows no image
// decoder of its own.
func init() {
	for _, t := range avatarTypes {
		openapi3filter.RegisterBodyDecoder(t, openapi3filter.FileBodyDecoder)
	}
}

// GetAvatar serves GET /avatar/{jid}: the image bytes of the contact's
// current avatar.
func (s *Server) GetAvatar(c echo.Context, jidParam JIDString) error {
	jid, err := s.bareContact(string(jidParam))
	if err != nil {
		return err
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	av, err := sess.Avatar(ctx, jid)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("ETag", strconv.Quote(av.ID))
	h.Set("Cache-Control", "private")
	typ := av.Type
	if mt, _, err := mime.ParseMediaType(typ); err != nil || !isImageType(mt) {
		// The contact's metadata named no image type a browser can
		// be trusted with: the bytes go out as opaque data.
		typ = "application/octet-stream"
	}
	return c.Blob(http.StatusOK, typ, av.Data)
}

// SetOwnAvatar serves PUT /avatar: the body is the image.
func (s *Server) SetOwnAvatar(c echo.Context) error {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get("Content-Type"))
	if err != nil || !isAvatarType(mt) {
		return errorf(http.StatusBadRequest, "the Content-Type must be one of image/png, image/jpeg, image/webp, image/gif")
	}
	data, err := readBody(c.Request(), maxAvatar)
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return errorf(http.StatusBadRequest, "the image is empty")
	}
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	id, err := sess.SetAvatar(ctx, mt, data)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, AvatarEntity{Id: id, Type: mt, Size: len(data)})
}

// RemoveOwnAvatar serves DELETE /avatar.
func (s *Server) RemoveOwnAvatar(c echo.Context) error {
	sess, ctx, cancel, err := s.xmppSession(c)
	if err != nil {
		return err
	}
	defer cancel()
	if err := sess.RemoveAvatar(ctx); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

func isAvatarType(mt string) bool {
	for _, t := range avatarTypes {
		if mt == t {
			return true
		}
	}
	return false
}

// isImageType says whether a contact's avatar may be served with its own
// type: a raster image (never SVG, which can carry script).
func isImageType(mt string) bool {
	return isAvatarType(mt) || mt == "image/bmp" || mt == "image/avif"
}
