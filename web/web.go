// Package web holds the browser client that the gateway serves at /.
package web

import "embed"

// FS holds the static files of the browser client.
//
//go:embed static
var FS embed.FS

// APIDocs holds the API reference page under apidocs/: a vendored viewer
// that renders ./openapi.yaml. The gateway serves it at /sparkweb/api/docs/.
//
//go:embed apidocs
var APIDocs embed.FS
