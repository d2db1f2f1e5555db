// auth.js: password, TOTP and passkey (WebAuthn) ceremonies, through the
// SDK's login helpers (a client of their own: the sign-ins answer the
// TokenEntity, which main.js keeps, and no other call sees it before).
// Failures are thrown as they come (api.js's errors); errors.js words them.
// remember asks for "stay signed in" (?remember=true).

import { call, seg, client, clientFor, viaSDK, ApiError } from './api.js';

// signingIn runs fn with a client that carries no token, so that a
// sign-in sends no stale one and leaves api.js's login alone.
function signingIn(fn, feature = '') {
  return viaSDK(fn, feature, clientFor(''));
}

// ourWords gives the SDK's plain errors of a passkey ceremony the
// sentence people read (errors.js shows a plain Error's message).
function ourWords(e, sentence) {
  if (e && e.name === 'Error' && /^sparkgate: no passkey/.test(e.message)) throw new Error(sentence);
  throw e;
}

const remembered = (remember) => (remember ? { remember: 'true' } : undefined);

// login answers the tokens, or rejects with an ApiError whose code is
// mfa_required and whose body holds the ticket for totpLogin.
export async function login(username, password, remember = false) {
  const r = await signingIn((sg) => sg.loginWithPassword(username, password, { remember }));
  if (r.tokens) return r.tokens;
  throw new ApiError(401, { code: 'mfa_required', ticket: r.ticket });
}

export async function register(username, password, remember = false) {
  return call('POST', `/register/${seg(username)}`, { body: password, token: '', query: remembered(remember) });
}

// totpLogin completes a login that answered mfa_required, with its ticket
// (and the choice of the login's step).
export async function totpLogin(username, code, ticketOrPassword, remember = false) {
  return signingIn((sg) => sg.loginWithTOTP(username, code, ticketOrPassword, { remember }), 'totp');
}

// totpEnrol starts TOTP enrolment on the signed-in account: the request
// carries the session's token (the gateway wants a login that passed every
// factor) and the password again.
export async function totpEnrol(username, password) {
  return call('POST', `/totp/register/${seg(username)}`, { body: password, feature: 'totp' });
}

// totpRemove turns the user's TOTP off: a current code and the password
// (DELETE /totp/{code}), with a token from a sign-in that passed it.
export async function totpRemove(code, password) {
  return call('DELETE', `/totp/${seg(code)}`, { body: password, feature: 'totp' });
}

export function passkeysSupported() {
  return typeof window.PublicKeyCredential === 'function' &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function' &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function';
}

// passkeyLogin runs the assertion ceremony (the SDK's, around
// navigator.credentials.get) and answers the tokens.
export async function passkeyLogin(username, remember = false) {
  if (!passkeysSupported()) throw new Error('This browser does not support passkeys.');
  return signingIn((sg) => sg.loginWithPasskey(username, { remember }), 'passkeys')
    .catch((e) => ourWords(e, 'No passkey was chosen.'));
}

// passkeyRegister runs the creation ceremony that adds a passkey to the
// signed-in account: both steps carry the session's token (the gateway
// wants a login that passed every factor) and the start the password again.
export async function passkeyRegister(username, password, name) {
  if (!passkeysSupported()) throw new Error('This browser does not support passkeys.');
  return viaSDK((sg) => sg.registerPasskey(username, password, { name: name || undefined }), 'passkeys', client)
    .catch((e) => ourWords(e, 'No passkey was created.'));
}
