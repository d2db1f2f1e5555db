// Package sparkgate holds the gateway's public contract: the SparkWeb REST API
// as an OpenAPI 3.0 document. The code lives in the packages below it; see
// README.md for the layout.
package sparkgate

import _ "embed"

// OpenAPI is openapi.yaml, the contract every route and request is checked
// against, byte for byte as it is kept in the repository.
//
//go:embed openapi.yaml
var OpenAPI []byte
