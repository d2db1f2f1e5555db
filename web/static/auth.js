// auth.js: password, TOTP and passkey (WebAuthn) ceremonies. Failures are
// thrown as they come (api.js's errors); errors.js words them. The sign-ins
// answer the TokenEntity (token, refresh token, expiries); remember asks
// for "stay signed in" (?remember=true).

import { call, seg } from './api.js';

const remembered = (remember) => (remember ? { remember: 'true' } : undefined);

export async function login(username, password, remember = false) {
  return call('POST', `/login/${seg(username)}`, { body: password, token: '', query: remembered(remember) });
}

export async function register(username, password, remember = false) {
  return call('POST', `/register/${seg(username)}`, { body: password, token: '', query: remembered(remember) });
}

// totpLogin completes a login that answered mfa_required, with its ticket
// (and the choice of the login's step).
export async function totpLogin(username, code, ticketOrPassword, remember = false) {
  return call('POST', `/totp/authenticate/${seg(username)}/${seg(code)}`, { body: ticketOrPassword, token: '', feature: 'totp', query: remembered(remember) });
}

// totpEnrol starts TOTP enrolment on the signed-in account: the request
// carries the session's token (the gateway wants a login that passed every
// factor) and the password again.
export async function totpEnrol(username, password) {
  return call('POST', `/totp/register/${seg(username)}`, { body: password, feature: 'totp' });
}

export function passkeysSupported() {
  return typeof window.PublicKeyCredential === 'function' &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function' &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function';
}

function unwrap(opts) {
  return (opts && opts.publicKey) ? opts.publicKey : opts;
}

// passkeyLogin runs the assertion ceremony and answers the token.
export async function passkeyLogin(username, remember = false) {
  if (!passkeysSupported()) throw new Error('This browser does not support passkeys.');
  const start = await call('POST', `/webauthn/authenticate/start/${seg(username)}`, { token: '', feature: 'passkeys' });
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(unwrap(start.assertion));
  const cred = await navigator.credentials.get({ publicKey });
  if (!cred) throw new Error('No passkey was chosen.');
  return call('POST', `/webauthn/authenticate/finish/${seg(username)}`, {
    json: cred.toJSON(), token: '', query: { ceremony: start.ceremony, ...remembered(remember) },
  });
}

// passkeyRegister runs the creation ceremony that adds a passkey to the
// signed-in account: both steps carry the session's token (the gateway
// wants a login that passed every factor) and the start the password again.
export async function passkeyRegister(username, password, name) {
  if (!passkeysSupported()) throw new Error('This browser does not support passkeys.');
  const start = await call('POST', `/webauthn/register/start/${seg(username)}`, { body: password, feature: 'passkeys' });
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(unwrap(start.credentials));
  const cred = await navigator.credentials.create({ publicKey });
  if (!cred) throw new Error('No passkey was created.');
  return call('POST', `/webauthn/register/finish/${seg(username)}`, {
    json: cred.toJSON(), query: { ceremony: start.ceremony, name: name || undefined },
  });
}
