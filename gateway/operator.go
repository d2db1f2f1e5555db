package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/auth"
)

// The operator API (/sparkweb/api/operator/, operator_ops.go) is for the
// people who run the deployment: who is online, end a user's sessions,
// tell every online user something, lock a user out and let them back in.
// It lives under a prefix of its own, beside the SparkWeb API's /rest/,
// so that a reverse proxy can keep it from the public with one rule, and
// stays in openapi.yaml so that the validator, the generated routes and
// the auth matrix cover it like any other operation.
//
// It is off unless configured: with neither a token nor admins every
// operation answers 401, whatever the Authorization header holds. 401
// rather than 404 because the spec (public anyway) describes it, and so
// that the same auth tests hold whether it is on or off.

// OperatorPrefix is where the operator API lives.
const OperatorPrefix = "/sparkweb/api/operator"

// OperatorConfig configures the operator API. The zero value switches it
// off.
type OperatorConfig struct {
	// Token is the operator token, sent as "Authorization: Bearer
	// <token>". Empty means none. It is compared in constant time and
	// never logged.
	Token string
	// Admins are the bare JIDs (or usernames of Domain) whose own API
	// tokens may use the operator API. Any other user's token is 403.
	Admins []string
	// Lockouts keeps the users an operator locked out; nil keeps them in
	// this process's memory (lost on restart, not shared by nodes).
	Lockouts LockoutStore
}

// operatorState is the Server's state for OperatorConfig.
type operatorState struct {
	tokenSum [sha256.Size]byte // of Token; zero when hasToken is false
	hasToken bool
	admins   map[string]bool
	lockouts LockoutStore
}

// operatorKey is where authenticateOperator leaves who called: "token"
// for the operator token, the admin's bare JID otherwise.
const operatorKey = "sparkgate.operator"

func (s *Server) initOperator() error {
	oc := s.cfg.Operator
	st := &s.op
	if oc.Token != "" {
		if len(oc.Token) < 16 || strings.ContainsAny(oc.Token, " \t\r\n") {
			return fmt.Errorf("operator: the token must be at least 16 characters without spaces")
		}
		st.tokenSum, st.hasToken = sha256.Sum256([]byte(oc.Token)), true
	}
	st.admins = make(map[string]bool, len(oc.Admins))
	for _, a := range oc.Admins {
		jid, err := toJID(strings.TrimSpace(a), s.cfg.Domain)
		if err != nil || strings.Contains(jid, "/") {
			return fmt.Errorf("operator: admin %q is not a bare JID", a)
		}
		st.admins[jid] = true
	}
	st.lockouts = oc.Lockouts
	if st.lockouts == nil {
		st.lockouts = newMemoryLockouts()
	}
	return nil
}

// operatorOn reports whether the operator API is configured.
func (s *Server) operatorOn() bool { return s.op.hasToken || len(s.op.admins) > 0 }

// authenticateOperator is the check of the security scheme "operator":
// the operator token, or the API token of an operator admin. Both come
// in the Authorization header, bare or after "Bearer ".
func (s *Server) authenticateOperator(c echo.Context) error {
	if !s.operatorOn() {
		return unauthorized()
	}
	h := strings.TrimSpace(c.Request().Header.Get("Authorization"))
	if scheme, rest, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		h = strings.TrimLeft(rest, " ")
	}
	if h == "" {
		return unauthorized()
	}
	// Hashing first makes the comparison's time independent of the
	// token's length as well as of its content.
	if sum := sha256.Sum256([]byte(h)); s.op.hasToken && subtle.ConstantTimeCompare(sum[:], s.op.tokenSum[:]) == 1 {
		c.Set(operatorKey, "token")
		return nil
	}
	raw, ok := auth.ParseAuthorization(h)
	if !ok || len(s.op.admins) == 0 {
		return unauthorized()
	}
	if err := s.verifyToken(c, raw); err != nil {
		return err
	}
	user := strings.ToLower(claimsOf(c).Subject)
	if !s.op.admins[user] {
		return echo.NewHTTPError(http.StatusForbidden, "only operators may use the operator API")
	}
	c.Set(operatorKey, user)
	return nil
}

// operatorOf names who called an operator operation, for the log.
func operatorOf(c echo.Context) string {
	who, _ := c.Get(operatorKey).(string)
	return who
}
