// autofill.js: passkey autofill on the sign-in form (WebAuthn conditional
// mediation). The username field is marked `autocomplete="username
// webauthn"`; while a conditional request waits, the browser lists the
// site's passkeys in that field's autofill beside saved usernames, and
// picking one signs in: the passkey names the account, nothing is typed.
//
// Contract:
// - startAutofill(signedIn) starts such a request when the browser has
//   conditional mediation (and none is waiting already); signedIn(tokens)
//   is called with the answer of a passkey picked from the autofill, or
//   failed(error) with what went wrong with a picked one; after any
//   failure the request is started again (the person may pick again), a
//   second later, doubling up to a minute while failures follow. The gateway's ceremony
//   expires (its options' timeout): the request is renewed before that,
//   so a pick after a long wait still counts.
// - stopAutofill() aborts the waiting request, silently: a page has at
//   most one credentials.get() pending, so the passkey button's modal
//   sign-in stops it first, and so do a password sign-in and leaving the
//   sign-in screen.
// A gateway without passkeys (501) is asked once. Nothing here shows
// anything: main.js says the errors and starts the session.

import { clientFor, viaSDK, features } from './api.js';

// The arguments of the latest startAutofill, until stopAutofill: a
// request that waits answers to them, whichever call started it.
let wanted = null;
let waiting = null; // {abort, timer} of the request that waits, or null
let failures = 0; // in a row, for the pause before the next start

// supported answers whether the browser can list passkeys in the autofill.
async function supported() {
  const pkc = window.PublicKeyCredential;
  if (typeof pkc !== 'function' || typeof pkc.isConditionalMediationAvailable !== 'function') return false;
  try { return await pkc.isConditionalMediationAvailable(); } catch { return false; }
}

// renewAfter is how long a request waits before it is started again: a
// little under the ceremony's timeout, which the gateway enforces; 2
// minutes when the options say none.
function renewAfter(timeoutMs) {
  const ms = Number(timeoutMs) > 0 ? Number(timeoutMs) : 120000;
  return Math.max(10000, ms - 5000);
}

export function startAutofill(args) {
  wanted = args;
  run();
}

export function stopAutofill() {
  wanted = null;
  end();
}

// end aborts the waiting request, if any.
function end() {
  const w = waiting;
  if (!w) return;
  waiting = null;
  clearTimeout(w.timer);
  w.abort.abort();
}

// again starts a new request after pause ms, if one is still wanted.
function again(pause) {
  setTimeout(run, pause);
}

async function run() {
  if (waiting || !wanted || !(await supported()) || waiting || !wanted) return;
  if (features.get('passkeys') === false) return; // the gateway has none (501)
  const abort = new AbortController();
  const me = { abort, timer: 0 };
  waiting = me;
  // The request's timeout is the ceremony's on the gateway: renew the
  // request before the gateway forgets the ceremony.
  let requested = false; // the start was answered
  const onRequest = (req) => {
    requested = true;
    clearTimeout(me.timer);
    me.timer = setTimeout(() => {
      if (waiting !== me) return;
      end();
      run();
    }, renewAfter(req && req.publicKey && req.publicKey.timeout));
  };
  try {
    const tokens = await viaSDK((sg) => sg.loginWithPasskey('', {
      remember: wanted.remember(), mediation: 'conditional', signal: abort.signal, onRequest,
    }), 'passkeys', clientFor(''));
    if (waiting !== me) return; // stopped meanwhile: not this page's sign-in any more
    waiting = null;
    clearTimeout(me.timer);
    failures = 0;
    if (wanted) wanted.signedIn(tokens);
  } catch (e) {
    if (waiting !== me) return; // stopped or renewed
    waiting = null;
    clearTimeout(me.timer);
    // A pick that failed is said (an answer of the gateway's finish, or
    // the network then); a start that failed or a dismissed list (a
    // DOMException of the browser's) is not: nobody asked for anything.
    if (requested && !(e instanceof DOMException) && wanted) wanted.failed(e);
    // Refused each time: the browser cannot, or the gateway has no passkeys.
    if ((e && e.name === 'NotSupportedError') || features.get('passkeys') === false) return;
    failures++;
    again(Math.min(60000, 1000 * 2 ** Math.min(failures - 1, 6)));
  }
}
