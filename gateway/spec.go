package gateway

import (
	"fmt"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/sparkgate/sparkgate"
)

// loadSpec parses and validates openapi.yaml once per process. The
// document is embedded, so every Server would parse the same bytes: about
// 0.2 s of CPU each (0.7 s under the race detector), which the tests paid
// for every gateway they started.
//
// The result is shared read-only by every Server's request validator. Its
// Servers list is cleared here, before anyone shares it: the validator
// would otherwise check the Host header against it, and its own option to
// skip that check writes the field on every call.
var loadSpec = sync.OnceValues(func() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromData(sparkgate.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := spec.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi.yaml is invalid: %w", err)
	}
	spec.Servers = nil
	return spec, nil
})
