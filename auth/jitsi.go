package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JitsiClaims are the claims of a token for a Jitsi Meet deployment with
// token authentication (prosody's mod_auth_token): the app id as issuer,
// audience "jitsi", the room, and the user in context.user.
type JitsiClaims struct {
	jwt.RegisteredClaims
	Room    string       `json:"room"`
	Context JitsiContext `json:"context"`
}

// JitsiContext is the context claim of a Jitsi token.
type JitsiContext struct {
	User JitsiUser `json:"user"`
}

// JitsiUser is who the token is for, as Jitsi shows them.
type JitsiUser struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// errJitsiConfig is returned for an app id or secret that cannot sign.
var errJitsiConfig = errors.New("auth: jitsi token needs an app id and a secret")

// JitsiToken signs (HS256 with secret) a Jitsi Meet token that admits the
// user called name with email to room until now+ttl. The issuer is appID,
// the audience "jitsi" and the subject "*" (any of the deployment's
// domains), as Jitsi's token authentication expects.
func JitsiToken(appID string, secret []byte, room, name, email string, ttl time.Duration, now time.Time) (string, error) {
	if appID == "" || len(secret) == 0 {
		return "", errJitsiConfig
	}
	if room == "" || ttl <= 0 {
		return "", errors.New("auth: jitsi token needs a room and a positive lifetime")
	}
	c := JitsiClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    appID,
			Audience:  jwt.ClaimStrings{"jitsi"},
			Subject:   "*",
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-30 * time.Second)),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Room:    room,
		Context: JitsiContext{User: JitsiUser{Name: name, Email: email}},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign jitsi token: %w", err)
	}
	return s, nil
}

// GaleneClaims are the claims of a Galene group token: the user name as
// subject, the group's URL as audience and the permissions granted.
type GaleneClaims struct {
	jwt.RegisteredClaims
	Permissions []string `json:"permissions"`
}

// GaleneToken signs (HS256 with secret, which the group lists among its
// authKeys as an "oct" key, with kid when kid is not empty) a Galene token
// that lets user join the group at groupURL with permissions (e.g.
// "present") until now+ttl. issuer names the gateway.
func GaleneToken(secret []byte, kid, issuer, groupURL, user string, permissions []string, ttl time.Duration, now time.Time) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("auth: galene token needs a secret")
	}
	if groupURL == "" || ttl <= 0 {
		return "", errors.New("auth: galene token needs a group and a positive lifetime")
	}
	if permissions == nil {
		permissions = []string{}
	}
	c := GaleneClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   user,
			Audience:  jwt.ClaimStrings{groupURL},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-30 * time.Second)),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Permissions: permissions,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign galene token: %w", err)
	}
	return s, nil
}
