package gateway_test

import (
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/gateway"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
)

// TestIntegrationTOTPRecovery: the journey of a person who lost the
// phone. GET /totp tells off, pending and on with the codes left; a
// password-only token may not make recovery codes, nor a wrong password;
// the codes made are shown once and work once in the code's place at
// sign-in (with the ticket), in capitals too; a new set retires the old;
// and a recovery code turns TOTP off, taking the rest with it.
func TestIntegrationTOTPRecovery(t *testing.T) {
	t.Parallel()
	e := newAuthGateway(t, nil)
	u := ejabberdtest.NewUser(t)
	status := func(tok string) gateway.TOTPStatus {
		t.Helper()
		r := e.Do(t, "GET", api+"/totp", tok, "", "")
		if r.Status != 200 {
			t.Fatalf("GET /totp: %d %s", r.Status, r.Body)
		}
		var st gateway.TOTPStatus
		r.JSON(t, &st)
		return st
	}
	pwd := e.Login(t, u.Name, u.Password)
	if st := status(pwd); st != (gateway.TOTPStatus{}) {
		t.Fatalf("before any enrolment: %+v, want off", st)
	}
	if r := e.Do(t, "POST", api+"/totp/recovery", pwd, "text/plain", u.Password); r.Status != 404 {
		t.Fatalf("codes without TOTP: %d %s, want 404", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", api+"/totp/register/"+u.Name, pwd, "text/plain", u.Password); r.Status != 200 {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	if st := status(pwd); st != (gateway.TOTPStatus{Pending: true}) {
		t.Fatalf("enrolment started: %+v, want pending", st)
	}
	app := e.enrolTOTP(t, u) // enrols again, the first code turning it on
	full := authToken(t, e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+app.next(t), "", "text/plain", u.Password))
	if st := status(full); st != (gateway.TOTPStatus{Active: true}) {
		t.Fatalf("TOTP on: %+v, want active with no codes", st)
	}

	// Making codes is a change of the account's factors.
	if r := e.Do(t, "POST", api+"/totp/recovery", pwd, "text/plain", u.Password); r.Status != 403 {
		t.Fatalf("codes with a token from before TOTP: %d %s, want 403", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", api+"/totp/recovery", full, "text/plain", "not the password"); r.Status != 403 {
		t.Fatalf("codes with a wrong password: %d %s, want 403", r.Status, r.Body)
	}
	makeCodes := func() []string {
		t.Helper()
		r := e.Do(t, "POST", api+"/totp/recovery", full, "text/plain", u.Password)
		if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("POST /totp/recovery: %d %s (Cache-Control %q)", r.Status, r.Body, r.Header.Get("Cache-Control"))
		}
		var rc gateway.RecoveryCodes
		r.JSON(t, &rc)
		if len(rc.Codes) != 10 {
			t.Fatalf("%d codes, want 10", len(rc.Codes))
		}
		return rc.Codes
	}
	old := makeCodes()
	codes := makeCodes()
	if st := status(full); st.RecoveryCodes != 10 {
		t.Fatalf("after two sets: %+v, want 10 codes left", st)
	}

	signIn := func(code string) int {
		t.Helper()
		return e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+code, "", "text/plain", e.ticket(t, u)).Status
	}
	if got := signIn(old[0]); got != 401 {
		t.Fatalf("a code of the retired set: %d, want 401", got)
	}
	if got := signIn(strings.ToUpper(codes[0])); got != 200 {
		t.Fatalf("a recovery code in capitals: %d, want 200", got)
	}
	if got := signIn(codes[0]); got != 401 {
		t.Fatalf("the same recovery code again: %d, want 401", got)
	}
	if r := e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+codes[1], "", "text/plain", "wrong password"); r.Status != 401 {
		t.Fatalf("a recovery code with a wrong password: %d, want 401", r.Status)
	}
	recovered := authToken(t, e.Do(t, "POST", api+"/totp/authenticate/"+u.Name+"/"+codes[1], "", "text/plain", u.Password))
	if st := status(recovered); st.RecoveryCodes != 8 {
		t.Fatalf("after two sign-ins with codes: %+v, want 8 left", st)
	}
	if r := e.Do(t, "DELETE", api+"/totp/"+codes[1], recovered, "text/plain", u.Password); r.Status != 403 {
		t.Fatalf("turning off with a spent code: %d %s, want 403", r.Status, r.Body)
	}
	if r := e.Do(t, "DELETE", api+"/totp/"+codes[2], recovered, "text/plain", u.Password); r.Status != 200 {
		t.Fatalf("turning off with a recovery code: %d %s", r.Status, r.Body)
	}
	if st := status(recovered); st != (gateway.TOTPStatus{}) {
		t.Fatalf("after turning off: %+v, want off", st)
	}
	if r := e.Do(t, "POST", api+"/login/"+u.Name, "", "text/plain", u.Password); r.Status != 200 {
		t.Fatalf("password sign-in after TOTP is off: %d %s", r.Status, r.Body)
	}
}
