// Package gateway serves the SparkWeb REST API and the event stream over
// HTTP: it routes every operation of openapi.yaml to its handler through the
// generated ServerInterface, validates each request against the spec before
// a handler runs, and writes every failure as the spec's JSON error.
package gateway

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
