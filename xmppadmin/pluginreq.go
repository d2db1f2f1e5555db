package xmppadmin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Both Openfire plugins (the REST API and the User Service) take requests
// of one shape: a body in one media type, answers asked for in it, and
// either the plugin's shared secret as the whole Authorization header or
// an Openfire admin's basic auth, the secret winning when both are set.

// pluginRequest builds such a request: body (nil for none) of mediaType
// to base+path, authenticated by secret, else by user and password.
func pluginRequest(ctx context.Context, op, method, base, path, mediaType string, body []byte, secret, user, password string) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+path, r)
	if err != nil {
		return nil, fmt.Errorf("xmppadmin: %s: %w", op, err)
	}
	req.Header.Set("Accept", mediaType)
	if body != nil {
		req.Header.Set("Content-Type", mediaType)
	}
	switch {
	case secret != "":
		req.Header.Set("Authorization", secret)
	case user != "":
		req.SetBasicAuth(user, password)
	}
	return req, nil
}
