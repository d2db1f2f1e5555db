package gateway

import (
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"
	oapimw "github.com/oapi-codegen/echo-middleware"
)

// validateRequests is oapimw.OapiRequestValidatorWithOptions (which it
// replaces) over the spec's router with a routeCache in front: each
// request under the API prefix is checked against its operation in
// openapi.yaml (security included), and a refusal goes to
// opts.ErrorHandler.
func (s *Server) validateRequests(opts *oapimw.Options) echo.MiddlewareFunc {
	inner, err := gorillamux.NewRouter(s.spec)
	if err != nil {
		panic(err) // the embedded spec is checked by the tests
	}
	router := newRouteCache(inner)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !isAPIPath(c.Request().URL.Path) {
				return next(c)
			}
			if err := oapimw.ValidateRequestFromContext(c, router, opts); err != nil {
				return opts.ErrorHandler(c, err)
			}
			return next(c)
		}
	}
}
