package xmppconn

import (
	"encoding/json"
	"fmt"
)

// An archived message crosses between gateway nodes as JSON (the gateway's
// remote session): the forwarded message travels as its raw XML and is
// decoded again on arrival, with the limits of the stream reader, so that
// the receiver gets what its own session would have parsed.

type mamResultJSON struct {
	QueryID string `json:"queryId,omitempty"`
	ID      string `json:"id"`
	Delay   *Delay `json:"delay,omitempty"`
	Message []byte `json:"message,omitempty"` // the forwarded <message/>
}

// MarshalJSON encodes r with its forwarded message as raw XML.
func (r MAMResult) MarshalJSON() ([]byte, error) {
	j := mamResultJSON{QueryID: r.QueryID, ID: r.ID, Delay: r.Forwarded.Delay}
	if m := r.Forwarded.Message; m != nil {
		j.Message = m.Raw
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes what MarshalJSON made; a forwarded message that is
// not exactly one well-formed message stanza is an error.
func (r *MAMResult) UnmarshalJSON(b []byte) error {
	var j mamResultJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = MAMResult{QueryID: j.QueryID, ID: j.ID, Forwarded: Forwarded{Delay: j.Delay}}
	if len(j.Message) == 0 {
		return nil
	}
	st, err := decodeStanza(j.Message)
	if err != nil {
		return err
	}
	if st.Name != "message" {
		return fmt.Errorf("%w: a forwarded %s, not a message", ErrProtocol, st.Name)
	}
	st.Raw = j.Message
	r.Forwarded.Message = &st
	return nil
}
