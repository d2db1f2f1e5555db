package gateway

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate"
)

// GetOpenAPISpec serves GET /sparkweb/api/openapi.yaml: the contract
// itself, byte for byte as it is kept in the repository.
func (s *Server) GetOpenAPISpec(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", sparkgate.OpenAPI)
}
