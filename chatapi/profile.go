package chatapi

// Avatar is chatapi.avatar, a sparkgate addition: a contact published
// avatar metadata (XEP-0084, through PEP). ID is the SHA-1 of the image
// (hex), the item to fetch its bytes by; an empty ID means the contact
// removed their avatar.
type Avatar struct {
	JID    string `json:"jid"`
	ID     string `json:"id"`
	Type   string `json:"type,omitempty"`
	Size   int    `json:"size,omitempty"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
	URL    string `json:"url,omitempty"`
}

// EventName returns "chatapi.avatar".
func (Avatar) EventName() string { return EventAvatar }

// Nick is chatapi.nick, a sparkgate addition: the nickname a contact
// published (XEP-0172, through PEP); empty when withdrawn.
type Nick struct {
	JID  string `json:"jid"`
	Nick string `json:"nick"`
}

// EventName returns "chatapi.nick".
func (Nick) EventName() string { return EventNick }
