package browsertest

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// AddVirtualAuthenticator gives the page's tab a virtual passkey
// authenticator (CTAP 2.1, internal, with resident keys and user
// verification) that answers navigator.credentials.create() and get() at
// once, as a person touching it would.
func (p *Page) AddVirtualAuthenticator(t testing.TB) {
	t.Helper()
	p.Do(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, cdpwebauthn.Enable, cdpwebauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, cdpwebauthn.AddVirtualAuthenticator, cdpwebauthn.AddVirtualAuthenticatorParams{
			Options: &cdpwebauthn.VirtualAuthenticatorOptions{
				Protocol: cdpwebauthn.AuthenticatorProtocolCtap2, Ctap2version: cdpwebauthn.Ctap2versionCtap21,
				Transport: cdpwebauthn.AuthenticatorTransportInternal, HasResidentKey: true,
				HasUserVerification: true, IsUserVerified: true,
				AutomaticPresenceSimulation: true, // the zero value hangs create()
			},
		})
		return err
	}))
}
