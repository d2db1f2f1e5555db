// Package web holds the browser client that the gateway serves at /.
package web

import "embed"

// FS holds the static files of the browser client.
//
//go:embed static
var FS embed.FS
