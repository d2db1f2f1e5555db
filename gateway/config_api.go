package gateway

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/chatapi"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// Limits of the configuration operations (the spec says the same).
const (
	maxPropertiesBody  = 256 << 10               // a POST /config/properties body
	maxPropertiesItems = 256                     // pairs in one POST /config/properties
	maxStanzaLength    = xmppconn.MaxStanzaChars // what POST /xmpp accepts, reported by /config/global
)

// GetGlobalConfig serves GET /config/global without a token: only what a
// client may know before logging in.
func (s *Server) GetGlobalConfig(c echo.Context) error {
	g := s.cfg.Users.Global
	gc := GlobalConfig{
		Version:             s.users.version,
		About:               "sparkgate",
		Domain:              s.cfg.Domain,
		MucService:          &s.cfg.MUCService,
		RegistrationEnabled: &s.cfg.Registration,
		MinPasswordLength:   &s.cfg.MinPasswordLength,
		MaxMessageLength:    ptr(maxMessage),
		MaxStanzaLength:     ptr(maxStanzaLength),
		MeetingServices:     ptr(append([]string{}, g.MeetingServices...)),
	}
	if hb := s.cfg.Events.Heartbeat; hb >= 0 {
		if hb == 0 {
			hb = 15 * time.Second
		}
		gc.HeartbeatSeconds = ptr(int(hb / time.Second))
	}
	if g.PubSubService != "" {
		gc.PubsubService = ptr(g.PubSubService)
	}
	if g.UploadService != "" {
		gc.UploadService = ptr(g.UploadService)
		gc.UploadMaxSize = ptr(g.UploadMaxSize)
	}
	vapid := g.VAPIDPublicKey
	if vapid == nil {
		vapid = s.VAPIDPublicKey // the push area's key ("" with Web Push off)
	}
	switch key, err := vapid(c.Request().Context()); {
	case err != nil:
		// The rest of the configuration is still useful.
		s.log.Warn("global config: vapid key", "err", err)
	case key != "":
		gc.VapidPublicKey = &key
	}
	return c.JSON(http.StatusOK, gc)
}

// GetUserProperties serves GET /config/properties: the caller's domain,
// username, name, email and vCard, and the caller's stored properties as
// further keys. Nothing of any other user.
func (s *Server) GetUserProperties(c echo.Context) error {
	cl := claimsOf(c)
	ctx := c.Request().Context()
	local, _, _ := cutJID(cl.Subject)
	sess, err := s.session(c)
	if err != nil {
		return err
	}
	v, err := sess.VCard(ctx, "")
	if err != nil {
		return err
	}
	props, err := s.userProperties(ctx, cl.Subject)
	if err != nil {
		return err
	}
	uc := UserConfig{Domain: &s.cfg.Domain, Username: &local, AdditionalProperties: props}
	if v.FN != "" {
		uc.Name = &v.FN
	}
	if e := v.Email(); e != "" {
		uc.Email = &e
	}
	if raw, err := v.Marshal(); err == nil {
		b64 := base64.StdEncoding.EncodeToString(raw)
		uc.Vcard = &b64
	}
	return c.JSON(http.StatusOK, uc)
}

// SetUserProperties serves POST /config/properties: a JSON array of
// {name, value} (as application/json or text/plain). name, email and
// vcard change the vCard; reserved names are 400; other names are stored,
// an empty or missing value removing the property. Everything is checked
// before anything changes.
func (s *Server) SetUserProperties(c echo.Context) error {
	cl := claimsOf(c)
	ctx := c.Request().Context()
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, maxPropertiesBody+1))
	if err != nil {
		return errorf(http.StatusBadRequest, "the request body could not be read")
	}
	if len(raw) > maxPropertiesBody {
		return errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", maxPropertiesBody))
	}
	if ct := c.Request().Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "text/plain") {
			return errorf(http.StatusUnsupportedMediaType, "the body must be a JSON array, as application/json or text/plain")
		}
	}
	var pairs []NameValue
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return errorf(http.StatusBadRequest, "the body must be a JSON array of {name, value}")
	}
	if len(pairs) > maxPropertiesItems {
		return errorf(http.StatusBadRequest, fmt.Sprintf("at most %d properties at once", maxPropertiesItems))
	}
	var ch profileChange
	props := map[string]string{}
	for _, p := range pairs {
		val := ""
		if p.Value != nil {
			val = *p.Value
		}
		switch p.Name {
		case "name":
			if err := checkProfileField("name", &val); err != nil {
				return err
			}
			ch.name = &val
		case "email":
			if err := checkProfileField("email", &val); err != nil {
				return err
			}
			ch.email = &val
		case "vcard":
			v, err := parseVCardField(val)
			if err != nil {
				return err
			}
			ch.vcard = v
		default:
			if err := checkProperty(p.Name, val); err != nil {
				return err
			}
			if p.Name == PushPreviewProperty {
				if err := checkPushPreview(val); err != nil { // pushpreview.go
					return err
				}
			}
			props[p.Name] = val
		}
	}
	if len(props) > 0 && s.cfg.Users.Properties == nil {
		return errorf(http.StatusNotImplemented, "this gateway keeps no user properties")
	}
	if !ch.empty() {
		sess, err := s.session(c)
		if err != nil {
			return err
		}
		if err := applyProfile(ctx, sess, ch); err != nil {
			return err
		}
	}
	if err := s.setProperties(ctx, cl.Subject, props); err != nil {
		return err
	}
	if len(props) > 0 {
		// Every tab and device of the user learns which changed.
		s.tell(cl.Subject, chatapi.Properties{Names: slices.Sorted(maps.Keys(props))})
	}
	return c.NoContent(http.StatusOK)
}
