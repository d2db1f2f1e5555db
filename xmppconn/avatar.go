package xmppconn

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // DecodeConfig of GIF avatars
	_ "image/jpeg" // and JPEG
	_ "image/png"  // and PNG
	"strconv"

	"github.com/sparkgate/sparkgate/chatapi"
)

// User avatars (XEP-0084): the image is an item of the owner's PEP node
// urn:xmpp:avatar:data, its id the SHA-1 of the bytes (hex); the node
// urn:xmpp:avatar:metadata says which id is current and its type. Both
// nodes keep the server's default access model (presence: contacts may
// read them). Notifications of the metadata are profile.go's.

const nsAvatarData = "urn:xmpp:avatar:data"

// ErrNoAvatar: the contact has published no avatar, or removed it.
var ErrNoAvatar = errors.New("xmppconn: no avatar")

// AvatarImage is an avatar as stored in PEP.
type AvatarImage struct {
	ID   string // SHA-1 of Data, hex
	Type string // MIME type, from the metadata
	Data []byte
}

type avatarDataXML struct {
	XMLName xml.Name `xml:"urn:xmpp:avatar:data data"`
	Text    string   `xml:",chardata"`
}

// Avatar returns the current avatar of jid (a bare JID, the user's own
// included): the metadata's first PEP-hosted image, then its data item.
// ErrNoAvatar when there is none; a stanza error (item-not-found,
// forbidden for a non-contact) as the server says it.
func (s *Session) Avatar(ctx context.Context, jid string) (AvatarImage, error) {
	items, err := s.Items(ctx, jid, nsAvatarMetadata, 1)
	if errors.Is(err, ErrItemNotFound) {
		return AvatarImage{}, fmt.Errorf("%w: %w", ErrNoAvatar, err)
	}
	if err != nil {
		return AvatarImage{}, err
	}
	if len(items) == 0 {
		return AvatarImage{}, ErrNoAvatar
	}
	meta, ok := profileEvent(nsAvatarMetadata, jid, items[len(items)-1].Payload).(chatapi.Avatar)
	if !ok || meta.ID == "" || meta.URL != "" {
		return AvatarImage{}, ErrNoAvatar
	}
	data, err := s.itemByID(ctx, jid, nsAvatarData, meta.ID)
	if errors.Is(err, ErrItemNotFound) {
		return AvatarImage{}, fmt.Errorf("%w: %w", ErrNoAvatar, err)
	}
	if err != nil {
		return AvatarImage{}, err
	}
	var d avatarDataXML
	if err := xml.Unmarshal(data, &d); err != nil {
		return AvatarImage{}, protoErr("avatar data of %s: %v", jid, err)
	}
	raw, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields([]byte(d.Text)), nil)))
	if err != nil {
		return AvatarImage{}, protoErr("avatar data of %s: %v", jid, err)
	}
	return AvatarImage{ID: meta.ID, Type: meta.Type, Data: raw}, nil
}

// itemByID returns the payload of item id of node (XEP-0060 section
// 6.5.8), ErrItemNotFound when the node does not hold it.
func (s *Session) itemByID(ctx context.Context, service, node, id string) ([]byte, error) {
	items, err := s.items(ctx, service, &itemsReq{Node: node, Items: []Item{{ID: id}}})
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if it.ID == id {
			return it.Payload, nil
		}
	}
	return nil, ErrItemNotFound
}

// SetAvatar publishes data, an image of MIME type typ, as the user's
// avatar (data first, then the metadata that points at it, as XEP-0084
// section 4.1 orders) and returns its id. The bytes must be an image of
// that type (PNG, JPEG and GIF are decoded far enough to read their size;
// WebP is only checked for its signature, and sent without a size, which
// the XEP allows): else ErrInvalidStanza.
func (s *Session) SetAvatar(ctx context.Context, typ string, data []byte) (string, error) {
	w, h, err := imageSize(typ, data)
	if err != nil {
		return "", err
	}
	sum := sha1.Sum(data)
	id := hex.EncodeToString(sum[:])
	payload := make([]byte, 0, base64.StdEncoding.EncodedLen(len(data))+64)
	payload = append(payload, "<data xmlns='"+nsAvatarData+"'>"...)
	payload = base64.StdEncoding.AppendEncode(payload, data)
	payload = append(payload, "</data>"...)
	if _, err := s.Publish(ctx, "", nsAvatarData, Item{ID: id, Payload: payload}, nil); err != nil {
		return "", err
	}
	var info bytes.Buffer
	info.WriteString("<metadata xmlns='" + nsAvatarMetadata + "'><info id='" + id + "' bytes='" + strconv.Itoa(len(data)) + "' type='")
	xml.EscapeText(&info, []byte(typ))
	info.WriteString("'")
	if w > 0 && h > 0 {
		info.WriteString(" width='" + strconv.Itoa(w) + "' height='" + strconv.Itoa(h) + "'")
	}
	info.WriteString("/></metadata>")
	if _, err := s.Publish(ctx, "", nsAvatarMetadata, Item{ID: id, Payload: info.Bytes()}, nil); err != nil {
		return "", err
	}
	return id, nil
}

// RemoveAvatar publishes empty metadata, which tells contacts the user
// shows no avatar (XEP-0084 section 4.3), then deletes the data node with
// every image it held: a contact that still knows an old id cannot read
// the image any more. A data node that is already gone is no error; the
// next SetAvatar creates it again.
func (s *Session) RemoveAvatar(ctx context.Context) error {
	if _, err := s.Publish(ctx, "", nsAvatarMetadata, Item{ID: "current", Payload: []byte("<metadata xmlns='" + nsAvatarMetadata + "'/>")}, nil); err != nil {
		return err
	}
	if err := s.DeleteNode(ctx, "", nsAvatarData); err != nil && !errors.Is(err, ErrItemNotFound) {
		return fmt.Errorf("xmppconn: delete the avatar data: %w", err)
	}
	return nil
}

// imageSize checks that data is an image of type typ and returns its
// width and height (zero when not read).
func imageSize(typ string, data []byte) (int, int, error) {
	formats := map[string]string{"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif"}
	if typ == "image/webp" {
		if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
			return 0, 0, fmt.Errorf("%w: the data is not a WebP image", ErrInvalidStanza)
		}
		return 0, 0, nil
	}
	want, ok := formats[typ]
	if !ok {
		return 0, 0, fmt.Errorf("%w: avatar type %q is not one of image/png, image/jpeg, image/webp, image/gif", ErrInvalidStanza, typ)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || format != want {
		return 0, 0, fmt.Errorf("%w: the data is not a %s image", ErrInvalidStanza, typ)
	}
	return cfg.Width, cfg.Height, nil
}
