// totp.js: the authenticator app (TOTP) in Settings, and what a code is.
//
// Contract:
// - refreshTOTP() reads the user's state (GET /totp) and shows only what
//   fits it: off or waiting for a first code, the Set up form; on, how many
//   recovery codes are left, New recovery codes and Turn off.
// - Confirming a new setup signs this tab in again with the code (a TOTP
//   sign-in, "stay signed in" as the tab's login was: the tab's token then
//   covers the second factor, which turning it off and making recovery
//   codes ask for), signs out the login it replaces (one entry for this
//   browser among the signed-in devices) and makes the first recovery
//   codes with the password just typed, shown once.
// - readCode(typed) answers what is typed as the gateway takes it: a code
//   from the app (6 to 8 digits) or a recovery code (two groups of five
//   letters a–z and digits 2–7; case, spaces and a hyphen do not matter),
//   or '' for neither.

import { call, seg, session, available, ApiError, replacedLogin } from './api.js';
import { currentLogin } from './logins.js';
import * as auth from './auth.js';
import { $ } from './view.js';
import { explain } from './errors.js';
import { refreshPush } from './push.js';

export function readCode(typed) {
  const s = String(typed || '').replace(/[\s-]/g, '');
  if (/^[0-9]{6,8}$/.test(s)) return s;
  if (/^[a-z2-7]{10}$/i.test(s)) return `${s.slice(0, 5)}-${s.slice(5)}`.toLowerCase();
  return '';
}

const say = (text) => { $('totp-state').textContent = text; };

// refreshTOTP shows the state the gateway has.
export async function refreshTOTP() {
  let st;
  try {
    st = await available(() => call('GET', '/totp', { feature: 'totp' }));
  } catch { st = null; }
  if (st === undefined) { // 501: no TOTP on this server
    $('totp-status').textContent = 'Authenticator apps are not available on this server.';
    for (const id of ['totp-enrol-form', 'totp-enrolment', 'recovery', 'totp-remove']) $(id).hidden = true;
    return;
  }
  if (!st) return; // unknown: leave the forms as they are
  show(st);
}

function show(st) {
  $('totp-status').textContent = st.active
    ? `The authenticator app is on: signing in asks for a code. ${left(st.recoveryCodes)}`
    : (st.pending ? 'Setup was started but not confirmed with a code: set it up again.' : 'Off: signing in asks for your password only.');
  $('totp-enrol-form').hidden = st.active;
  if (st.active) $('totp-enrolment').hidden = true;
  $('recovery').hidden = !st.active;
  $('totp-remove').hidden = !st.active;
}

function left(n) {
  if (!n) return 'You have no recovery codes: make some, in case you lose your phone.';
  return n === 1 ? '1 recovery code is left.' : `${n} recovery codes are left.`;
}

// showCodes lists new recovery codes (the only time they are seen).
function showCodes(codes) {
  const items = codes.map((c) => {
    const li = document.createElement('li');
    const code = document.createElement('code');
    code.textContent = c;
    li.append(code);
    return li;
  });
  $('recovery-codes').replaceChildren(...items);
  $('recovery-shown').hidden = false;
  $('recovery-download').onclick = () => download(codes);
}

function download(codes) {
  const text = `Recovery codes for ${session.user}: each signs you in once in place of a code from the authenticator app.\n\n${codes.join('\n')}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = 'recovery-codes.txt';
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

async function newCodes(password) {
  const res = await call('POST', '/totp/recovery', { body: password, feature: 'totp' });
  showCodes((res && res.codes) || []);
}

// wireTOTP wires Settings' TOTP forms; username() is the user's name.
export function wireTOTP(username) {
  $('totp-enrol-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    say('');
    try {
      const res = await auth.totpEnrol(username(), $('totp-enrol-password').value);
      if (res.qr && res.qr.startsWith('data:image/')) $('totp-qr').src = res.qr;
      $('totp-qr').hidden = !res.qr;
      $('totp-url').textContent = res.url;
      $('totp-enrolment').hidden = false;
      $('totp-confirm-code').focus();
    } catch (err) { say(explain(err, 'account')); }
  });
  $('totp-confirm-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const password = $('totp-enrol-password').value;
    try {
      const replaced = await currentLogin().catch(() => '');
      const kept = session.record;
      const remember = kept ? kept.remember : false;
      const t = await auth.totpLogin(username(), $('totp-confirm-code').value.trim(), password, remember);
      session.keep(session.user, t, remember);
      // The tabs this one handed its login to take the new one too;
      // this browser's push subscription goes with the new login (signed
      // out from another device, that login takes it along); then the
      // login it replaces is signed out, so that the devices list shows
      // this browser once. The streams opened with the old login end and
      // go on with the new one (main.js, api.js newerLogin).
      if (kept) await replacedLogin(kept.refreshToken);
      await refreshPush().catch(() => {});
      if (replaced) call('DELETE', `/logins/${seg(replaced)}`, { feature: 'logins' }).catch(() => {});
      $('totp-enrolment').hidden = true;
      $('totp-enrol-password').value = '';
      $('totp-confirm-code').value = '';
      say('The authenticator app is set up. Sign-ins now ask for a code.');
      await newCodes(password).catch(() => {});
      await refreshTOTP();
    } catch (err) { say(explain(err, 'totp')); }
  });
  $('recovery-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    say('');
    try {
      await newCodes($('recovery-password').value);
      $('recovery-password').value = '';
      await refreshTOTP();
    } catch (err) { say(explain(err, 'account')); }
  });
  $('totp-remove-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    say('');
    const code = readCode($('totp-remove-code').value);
    if (!code) { say(explain(new ApiError(400, {}), 'totp')); return; }
    try {
      await auth.totpRemove(code, $('totp-remove-password').value);
      $('totp-remove-password').value = '';
      $('totp-remove-code').value = '';
      $('totp-remove').open = false;
      $('recovery-shown').hidden = true;
      $('recovery-codes').replaceChildren();
      say('The authenticator app is off. Sign-ins ask for your password only.');
      await refreshTOTP();
    } catch (err) {
      say(err instanceof ApiError && err.status === 404
        ? 'No authenticator app is set up for this account.' : explain(err, 'totp-off'));
    }
  });
}
