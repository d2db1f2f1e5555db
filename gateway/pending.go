package gateway

import "net/http"

// Operations whose issue has not landed answer 501 with the JSON error
// body. They live in pending_<area>.go; none may remain once the issue
// lands (TestPendingOperations lists what is left).
func notImplemented() error {
	return errorf(http.StatusNotImplemented, "this operation is not implemented yet")
}
