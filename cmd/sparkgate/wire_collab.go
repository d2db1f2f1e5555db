package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sparkgate/sparkgate/auth"
	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/store"
)

// collabSettings are the settings of the collab area (config.Collab).
type collabSettings struct {
	BookmarkAdmins   string
	UploadService    string
	JitsiURL         string
	JitsiAppID       string
	JitsiSecret      string
	JitsiSecretFile  string
	GaleneURL        string
	GaleneGroup      string
	GaleneKeyID      string
	GaleneSecret     string
	GaleneSecretFile string
	MeetingTokenTTL  time.Duration
}

// collabOptions are the collab area's settings; each sets a field of
// config.Collab.
var collabOptions = []option{
	{name: "bookmark-admins", def: "", usage: "comma-separated bare JIDs (or usernames) that may create global bookmarks and change or delete anyone's",
		set: str(func(c *config) *string { return &c.Collab.BookmarkAdmins })},
	{name: "upload-service", def: "", usage: "HTTP upload (XEP-0363) service (empty: found by service discovery on the XMPP domain)",
		set: str(func(c *config) *string { return &c.Collab.UploadService })},
	{name: "jitsi-url", def: "", usage: "base URL of a Jitsi Meet server for GET /meet/jitsi/{id} (empty: jitsi answers 501)",
		set: str(func(c *config) *string { return &c.Collab.JitsiURL })},
	{name: "jitsi-app-id", def: "", usage: "Jitsi token authentication app id (iss of the meeting JWT); with a secret, meeting URLs carry a signed JWT",
		set: str(func(c *config) *string { return &c.Collab.JitsiAppID })},
	{name: "jitsi-secret", def: "", usage: "Jitsi token authentication secret (HS256); prefer jitsi-secret-file", secret: true,
		set: str(func(c *config) *string { return &c.Collab.JitsiSecret })},
	{name: "jitsi-secret-file", def: "", usage: "file holding the Jitsi token secret (trailing newline ignored)",
		set: str(func(c *config) *string { return &c.Collab.JitsiSecretFile })},
	{name: "galene-url", def: "", usage: "base URL of a Galene server for GET /meet/galene/{id} (empty: galene answers 501)",
		set: str(func(c *config) *string { return &c.Collab.GaleneURL })},
	{name: "galene-group", def: "sparkgate", usage: "the Galene group whose subgroups the meetings are; it must allow subgroups (\"allow-subgroups\": true)",
		set: str(func(c *config) *string { return &c.Collab.GaleneGroup })},
	{name: "galene-key-id", def: "", usage: "kid of the Galene group key (an oct HS256 key in the group's authKeys)",
		set: str(func(c *config) *string { return &c.Collab.GaleneKeyID })},
	{name: "galene-secret", def: "", usage: "Galene group key (HS256) that signs meeting tokens; prefer galene-secret-file", secret: true,
		set: str(func(c *config) *string { return &c.Collab.GaleneSecret })},
	{name: "galene-secret-file", def: "", usage: "file holding the Galene group key (trailing newline ignored)",
		set: str(func(c *config) *string { return &c.Collab.GaleneSecretFile })},
	{name: "meeting-token-ttl", def: "1h", usage: "lifetime of the tokens in meeting URLs",
		set: duration(func(c *config) *time.Duration { return &c.Collab.MeetingTokenTTL })},
}

// wireCollab fills gc.Collab from the settings, building what the gateway
// needs on top of the store and the keys.
func wireCollab(ctx context.Context, c *config, st *store.SQLite, keys *auth.Keys, gc *gateway.Config) error {
	s := c.Collab
	jitsiSecret, err := secretSetting("jitsi-secret", s.JitsiSecret, s.JitsiSecretFile)
	if err != nil {
		return err
	}
	galeneSecret, err := secretSetting("galene-secret", s.GaleneSecret, s.GaleneSecretFile)
	if err != nil {
		return err
	}
	if len(jitsiSecret) > 0 && s.JitsiAppID == "" {
		return errors.New("jitsi-secret is set but jitsi-app-id is empty")
	}
	var admins []string
	for _, a := range strings.Split(s.BookmarkAdmins, ",") {
		if a = strings.TrimSpace(a); a != "" {
			admins = append(admins, a)
		}
	}
	gc.Collab = gateway.CollabConfig{
		PubSubService: c.PubSubService,
		UploadService: s.UploadService,
		Admins:        admins,
		Meetings: gateway.MeetingsConfig{
			JitsiURL:     s.JitsiURL,
			JitsiAppID:   s.JitsiAppID,
			JitsiSecret:  jitsiSecret,
			GaleneURL:    s.GaleneURL,
			GaleneGroup:  s.GaleneGroup,
			GaleneSecret: galeneSecret,
			GaleneKeyID:  s.GaleneKeyID,
			TokenTTL:     s.MeetingTokenTTL,
			Issuer:       c.PublicURL,
		},
	}
	if keys != nil { // the meetings' names, the same on every node with these keys
		gc.Collab.Meetings.Names = keys.MeetingName
	}
	if st != nil {
		gc.Collab.Bookmarks = st
	}
	return nil
}

// secretSetting returns a secret given directly or in a file (not both).
func secretSetting(name, value, file string) ([]byte, error) {
	switch {
	case value != "" && file != "":
		return nil, fmt.Errorf("set %s or %s-file, not both", name, name)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s-file: %w", name, err)
		}
		b = []byte(strings.TrimRight(string(b), "\r\n"))
		if len(b) == 0 {
			return nil, fmt.Errorf("%s-file %s is empty", name, file)
		}
		return b, nil
	}
	if value == "" {
		return nil, nil
	}
	return []byte(value), nil
}
