package chatapi

// File is the file a message links to (XEP-0066 out-of-band data, as
// clients send an upload's URL): the "file" field of chatapi.chat and
// chatapi.muc, a sparkgate addition. The message's body holds the same URL
// for clients without XEP-0066.
type File struct {
	URL  string `json:"url"`
	Desc string `json:"desc,omitempty"`
}
