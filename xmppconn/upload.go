package xmppconn

import (
	"context"
	"encoding/xml"
	"strconv"
	"strings"

	"gosrc.io/xmpp/stanza"
)

// NSUpload is HTTP File Upload (XEP-0363).
const NSUpload = "urn:xmpp:http:upload:0"

// uploadRequest is the XEP-0363 (version 0.3 and later) slot request: the
// file's properties as attributes.
type uploadRequest struct {
	XMLName     xml.Name `xml:"urn:xmpp:http:upload:0 request"`
	Filename    string   `xml:"filename,attr"`
	Size        int64    `xml:"size,attr"`
	ContentType string   `xml:"content-type,attr,omitempty"`
}

func (*uploadRequest) Namespace() string         { return NSUpload }
func (*uploadRequest) GetSet() *stanza.ResultSet { return nil }

// UploadSlot is where to PUT a file and where it can then be fetched.
// Headers are the ones XEP-0363 section 5 lets the service ask for
// (Authorization, Cookie, Expires); the client must send them with the PUT.
type UploadSlot struct {
	PutURL, GetURL string
	Headers        map[string]string
}

type slotXML struct {
	Slot *struct {
		Put struct {
			URL     string `xml:"url,attr"`
			Headers []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:",chardata"`
			} `xml:"header"`
		} `xml:"put"`
		Get struct {
			URL string `xml:"url,attr"`
		} `xml:"get"`
	} `xml:"urn:xmpp:http:upload:0 slot"`
}

// allowedUploadHeaders are the only headers XEP-0363 section 5 allows in a
// slot; any other must be ignored.
var allowedUploadHeaders = map[string]string{"authorization": "Authorization", "cookie": "Cookie", "expires": "Expires"}

// ParseUploadSlot reads the slot of an upload service's IQ result.
func ParseUploadSlot(raw []byte) (UploadSlot, error) {
	var x slotXML
	if err := xml.Unmarshal(raw, &x); err != nil || x.Slot == nil || x.Slot.Put.URL == "" || x.Slot.Get.URL == "" {
		return UploadSlot{}, protoErr("no upload slot in the reply")
	}
	slot := UploadSlot{PutURL: x.Slot.Put.URL, GetURL: x.Slot.Get.URL}
	for _, h := range x.Slot.Put.Headers {
		name, ok := allowedUploadHeaders[strings.ToLower(strings.TrimSpace(h.Name))]
		v := strings.TrimSpace(h.Value)
		if !ok || strings.ContainsAny(v, "\r\n") {
			continue
		}
		if slot.Headers == nil {
			slot.Headers = make(map[string]string)
		}
		slot.Headers[name] = v
	}
	return slot, nil
}

// RequestUploadSlot asks the upload service for a slot for a file (XEP-0363
// section 4). A file the service will not take is ErrFileNotAccepted.
func (s *Session) RequestUploadSlot(ctx context.Context, service, filename string, size int64, contentType string) (UploadSlot, error) {
	req := &uploadRequest{Filename: filename, Size: size, ContentType: contentType}
	reply, err := s.iq(ctx, newIQ(stanza.IQTypeGet, service, req))
	if err != nil {
		return UploadSlot{}, meaning(err, "not-acceptable", ErrFileNotAccepted)
	}
	return ParseUploadSlot(reply.Raw)
}

// UploadMaxSize reads the max-file-size an upload service announces in
// its disco#info (XEP-0363 section 3); 0 means no limit announced.
func UploadMaxSize(info *DiscoInfo) int64 {
	if info == nil {
		return 0
	}
	n, err := strconv.ParseInt(info.Form(NSUpload).Value("max-file-size"), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
