package auth_test

import (
	"testing"

	"github.com/sparkgate/sparkgate/internal/depstest"
)

// TestDeps keeps auth a leaf among our packages (it imports none of them)
// and the only home of golang-jwt, pquerna/otp and go-webauthn; it must not
// reach an HTTP framework, the XMPP library or the store's engine either.
func TestDeps(t *testing.T) {
	depstest.None(t, "auth", depstest.Deps(t, "."),
		depstest.Module, "github.com/labstack", "gosrc.io", "modernc.org/sqlite", "github.com/pressly")
}
