// logins.js: the account's signed-in devices, in Settings.
//
// Contract:
// - refreshLogins() lists the user's logins that are still signed in
//   (GET /logins), the most recently used first: what browser on what
//   system (deviceName, from the User-Agent the gateway kept at the
//   sign-in), how it signed in, when it was last active. This browser's
//   is marked and has no button (the menu's Sign out is for it); each
//   other has "Sign out" (DELETE /logins/{id}), which ends it there, its
//   notifications included, and leaves the others. A gateway without
//   refresh tokens (501) hides the section.
// - deviceName(userAgent) names a device as a person would: "Chrome on
//   Android", else the label cut short, else "Unknown device". Pure.

import { call, seg, available } from './api.js';
import { $ } from './view.js';
import { keepChildren } from './keep.js';
import { explain } from './errors.js';

const browsers = [
  [/Edg(e|A|iOS)?\//, 'Edge'], [/OPR\/|Opera/, 'Opera'], [/SamsungBrowser\//, 'Samsung Internet'],
  [/Firefox\/|FxiOS\//, 'Firefox'], [/Chrom(e|ium)\/|CriOS\//, 'Chrome'], [/Safari\//, 'Safari'],
];
const systems = [
  [/Android/, 'Android'], [/iPhone|iPad|iPod/, 'iOS'], [/CrOS/, 'ChromeOS'], [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'], [/Linux|X11/, 'Linux'],
];

// currentLogin answers the id of this tab's login (GET /logins, the one
// marked current), or '' when the gateway keeps no logins (501) or does
// not list it.
export async function currentLogin() {
  const res = await available(() => call('GET', '/logins', { feature: 'logins' }));
  const mine = ((res && res.logins) || []).find((l) => l.current);
  return mine ? mine.id : '';
}

export function deviceName(userAgent) {
  const ua = String(userAgent || '').trim();
  if (!ua) return 'Unknown device';
  const find = (list) => (list.find(([re]) => re.test(ua)) || [])[1];
  const browser = find(browsers);
  const system = find(systems);
  if (browser && system) return `${browser} on ${system}`;
  if (browser || system) return browser || system;
  return ua.length > 40 ? `${ua.slice(0, 39)}…` : ua;
}

const methods = { pwd: 'password', totp: 'password and authenticator app', webauthn: 'passkey' };

// ago says how long ago t was, roughly, as a person would.
function ago(t) {
  const s = Math.max(0, (Date.now() - Date.parse(t)) / 1000);
  if (s < 90) return 'active now';
  if (s < 90 * 60) return `active ${Math.round(s / 60)} minutes ago`;
  if (s < 36 * 3600) return `active ${Math.round(s / 3600)} hours ago`;
  return `active ${new Date(t).toLocaleDateString()}`;
}

const say = (text) => { $('logins-state').textContent = text; };

function item(l) {
  const li = document.createElement('li');
  const name = deviceName(l.device);
  const label = document.createElement('span');
  label.textContent = name;
  if (l.device) label.title = l.device;
  li.dataset.login = l.id;
  li.append(label, ` — signed in with ${methods[l.method] || l.method}, `);
  if (l.current) {
    li.append('this browser');
    li.classList.add('current');
    return li;
  }
  li.append(`${ago(l.lastUsedAt)} `);
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = 'Sign out';
  b.dataset.action = 'end-login';
  b.dataset.id = l.id;
  b.dataset.name = name;
  b.setAttribute('aria-label', `Sign out ${name}, ${ago(l.lastUsedAt)}`);
  li.append(b);
  return li;
}

export async function refreshLogins() {
  let res;
  try {
    res = await available(() => call('GET', '/logins', { feature: 'logins' }));
  } catch (err) {
    say(explain(err));
    return;
  }
  $('logins-section').hidden = res === undefined;
  if (!res) return;
  keepChildren($('logins'), (res.logins || []).map(item));
}

// wireLogins wires the list's Sign out buttons.
export function wireLogins() {
  $('logins').addEventListener('click', async (e) => {
    const b = e.target.closest('button[data-action="end-login"]');
    if (!b) return;
    say('');
    b.disabled = true;
    try {
      await call('DELETE', `/logins/${seg(b.dataset.id)}`);
      say(`${b.dataset.name} is signed out.`);
    } catch (err) {
      // 404: it had signed out, or expired, meanwhile; the list is redrawn.
      if (!(err && err.status === 404)) say(explain(err));
      b.disabled = false;
    }
    await refreshLogins();
  });
}
