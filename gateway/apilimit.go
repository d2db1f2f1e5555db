package gateway

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// Requests per user. Every request a user makes with their token spends
// from the user's bucket (LimitsConfig.UserRequests: a burst at once, then
// one back every interval); one over it answers 429 rate_limited with
// Retry-After. Without it a single token could keep the gateway, the XMPP
// server behind it and the sites it fetches previews from as busy as its
// client cared to: a message loop, or an operation that makes the gateway
// do many calls of its own for one request (heavyCost).
//
// Not counted: the event stream, which has its own limits and which a
// browser gives up reconnecting for good after a refusal; logging out,
// which must always work; and what carries no user token (the logins,
// passkey sign-ins among them, and the token refresh have their own rate
// limits; an operator token is the operator's).
//
// The buckets are this node's memory: each node of a cluster keeps its
// own, so a user whose requests spread over n nodes gets up to n times the
// rate. The check is on the path of every message, where a round trip to a
// shared store would cost more than the request.

// Defaults of LimitsConfig.UserRequests: enough for a web client's start
// (its roster, rooms and unread counts, a picture per contact for a few
// hundred contacts; the web client waits out a refusal and asks again),
// and a steady 20 requests a second.
var DefaultUserRequestLimit = RateLimit{Every: 50 * time.Millisecond, Burst: 300}

// limitUserRequests is the name of the limit in the log and the metric,
// after the options of cmd/sparkgate (-api-user-burst, -api-user-interval).
const limitUserRequests = "api-user"

// heavyCost is what an operation in heavyOperations spends: each makes
// the gateway work on for one request in proportion to data the client
// does not see, one call to the XMPP server's admin API per shared roster
// group or a fetch from another site.
const heavyCost = 10

var heavyOperations = map[string]bool{
	"getUserGroups":     true, // every group's members, one admin call each, kept 10 s (groupindex.go)
	"listUsers":         true, // a search over the server's accounts
	"previewLink":       true, // a fetch of the page from its site
	"previewImage":      true, // a fetch of the image from its site
	"operatorBroadcast": true, // a message to every user
}

// unmetered are the operations no user's rate limit refuses.
var unmetered = map[string]bool{
	"streamEvents": true,
	"logout":       true,
	"logoutAll":    true,
}

// requestCost is what one call of the operation spends from its user's
// bucket; zero means it is not counted.
func requestCost(operationID string) int {
	switch {
	case unmetered[operationID]:
		return 0
	case heavyOperations[operationID]:
		return heavyCost
	}
	return 1
}

// userRequestLimits returns, for RegisterHandlersWithOptions, the
// middleware of each operation of spec that the per-user rate limit
// counts; nil when the limit is off.
func (s *Server) userRequestLimits(spec *openapi3.T) map[string][]echo.MiddlewareFunc {
	lim := newKeyedLimiter(s.limits.cfg.UserRequests.orDefault(DefaultUserRequestLimit), time.Now)
	if lim == nil {
		return nil
	}
	out := make(map[string][]echo.MiddlewareFunc)
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			if cost := min(requestCost(op.OperationID), lim.burst); cost > 0 {
				out[op.OperationID] = []echo.MiddlewareFunc{s.spendUserRequest(lim, op.OperationID, cost)}
			}
		}
	}
	return out
}

// spendUserRequest is the middleware that spends cost of the caller's
// bucket before the handler runs. It runs after the request's validation,
// which has authenticated the token.
func (s *Server) spendUserRequest(lim *keyedLimiter, operationID string, cost int) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			user := claimsOf(c).Subject
			if user == "" {
				return next(c)
			}
			if ok, wait := lim.takeN(strings.ToLower(user), cost); !ok {
				s.limits.hit(limitUserRequests, "user", user, "operation", operationID)
				setRetryAfter(c, wait)
				return &Error{Status: http.StatusTooManyRequests, Code: codeRateLimited,
					Message: fmt.Sprintf("too many requests from this user (%s); retry after Retry-After seconds", s.userRequestRate()),
					Err:     &limitError{name: limitUserRequests}}
			}
			return next(c)
		}
	}
}

// userRequestRate says the per-user limit in words, for its 429.
func (s *Server) userRequestRate() string {
	l := s.limits.cfg.UserRequests.orDefault(DefaultUserRequestLimit)
	return fmt.Sprintf("at most %d at once, then one every %v", l.Burst, l.Every)
}
