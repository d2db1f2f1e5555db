// api.js: the REST calls of the SparkWeb API (see /sparkweb/api/openapi.yaml)
// and the tokens they carry.
//
// Calls go through the SDK (@sparkgate/client, its ESM build served by the
// gateway as /sparkgate-client.js, built from sdk/typescript by make sdk):
// its openapi-fetch client sends them, and this file adapts it to what
// the rest of the client expects (call, ApiError, NetworkError, features).
// The login stays this file's (the SDK's auth option): the tokens live in
// this browser's storage, shared with the other tabs, and the refresh
// takes turns with them, which a client of one page cannot know of.
//
// Tokens: the access token and the username live in sessionStorage (this
// tab). A login or a refresh also answers a refresh token (openapi.yaml,
// TokenEntity): it is kept, with the access token it came with, as one
// record under sparkgate.refresh, in localStorage when the person chose
// "stay signed in" (every tab of the browser shares it, and it outlives
// the browser) and in sessionStorage otherwise (this tab only, gone with
// the browser session). Tokens never go into a cookie, never into a URL
// (the event stream sends its token in a header too), and are never
// logged.
//
// Refreshing (POST /token/refresh) spends the refresh token: showing it
// again revokes its whole family, so tabs take turns (the Web Lock
// sparkgate-refresh) and each re-reads the record inside the lock: when
// another tab refreshed already, its newer access token is used instead of
// spending the spent refresh token again. A tab refreshes shortly before
// the earlier of its access token's and its refresh token's expiry, and
// once on a 401 of a call (then retries the call once). Tabs without
// "stay signed in" share their record over the BroadcastChannel
// sparkgate-tokens instead: a new tab asks the open ones for it
// (askOpenTabs), and a tab that refreshed tells the others which refresh
// token it spent and the new record, which a tab holding the spent one
// takes (it stays in each tab's sessionStorage). Tabs that stay signed in
// hear it too: localStorage reaches the other tabs a moment after the lock
// does, and the record they read must not be the spent one. A refresh the
// gateway refuses (401) ends the session: the handler given to
// onSessionEnded is told once.

import { Sparkgate, SparkgateError, retryAfterSeconds } from './sparkgate-client.js';

export const API = '/sparkweb/api';
export const REST = API + '/rest';

const TOKEN = 'sparkgate.token';
const USER = 'sparkgate.user';
const REFRESH = 'sparkgate.refresh';
const LOCK = 'sparkgate-refresh';
const LEAD = 60000; // refresh this long before an expiry (at most a fifth of the lifetime)

// claimsOf decodes a JWT's payload (iat and exp: the server's clock).
function claimsOf(jwt) {
  try {
    const p = String(jwt).split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(p)) || {};
  } catch {
    return {};
  }
}

// recordOf makes the stored record of a login's or a refresh's answer t.
// Lifetimes are measured on the server's clock (the token's iat) and
// counted from `at` on ours, so a skewed clock does not matter.
function recordOf(user, t, remember) {
  const now = Date.now();
  const c = claimsOf(t.token);
  const issued = c.iat ? c.iat * 1000 : now;
  const life = c.exp && c.iat ? (c.exp - c.iat) * 1000 : Date.parse(t.expiresAt) - now;
  const rlife = t.refreshExpiresAt ? Date.parse(t.refreshExpiresAt) - issued : life;
  return {
    user, token: t.token, refreshToken: t.refreshToken,
    remember: typeof t.remember === 'boolean' ? t.remember : Boolean(remember),
    at: now, life: life > 0 ? life : 0, rlife: rlife > 0 ? rlife : 0,
  };
}

// replaced is the last refresh another tab told of ({spent, record}):
// localStorage reaches the other tabs a moment later than the lock does,
// and a record still holding the spent refresh token must not be spent.
let replaced = null;

function readRecord() {
  for (const s of [globalThis.sessionStorage, globalThis.localStorage]) {
    try {
      const r = JSON.parse(s.getItem(REFRESH) || 'null');
      if (r && r.refreshToken && r.token) return replaced && replaced.spent === r.refreshToken ? replaced.record : r;
    } catch { /* none */ }
  }
  return null;
}

// due is when the record's tokens should be refreshed: a little before
// the earlier expiry (never, when the lifetimes are unknown).
export function due(r) {
  const before = (life) => life - Math.min(LEAD, life / 5);
  if (!r || !(r.life > 0)) return Infinity;
  return r.at + Math.min(before(r.life), r.rlife > 0 ? before(r.rlife) : Infinity);
}

export const session = {
  get token() { return sessionStorage.getItem(TOKEN) || ''; },
  get user() { return sessionStorage.getItem(USER) || ''; },
  // record is the stored refresh token with its access token, or null.
  get record() { return readRecord(); },
  save(user, token) {
    sessionStorage.setItem(USER, user);
    sessionStorage.setItem(TOKEN, token);
  },
  // keep saves a login's or a refresh's answer t (TokenEntity) for user,
  // with the refresh token where remember says.
  keep(user, t, remember = false) {
    this.save(user, t.token);
    ended = false;
    if (!t.refreshToken) {
      forgetRecord();
      return;
    }
    const r = recordOf(user, t, remember);
    const [here, there] = r.remember ? [localStorage, sessionStorage] : [sessionStorage, localStorage];
    here.setItem(REFRESH, JSON.stringify(r));
    there.removeItem(REFRESH);
    schedule();
  },
  // adopt takes another tab's newer access token from the record r.
  adopt(r) {
    this.save(r.user, r.token);
    ended = false;
    schedule();
  },
  clear() {
    clearTimeout(timer);
    for (const k of Object.keys(sessionStorage)) {
      if (k.startsWith('sparkgate.')) sessionStorage.removeItem(k);
    }
    forgetRecord();
  },
};

// familyOf is the login (refresh token family) a JWT belongs to, '' for
// none (the payload is read, not verified: the gateway verifies).
function familyOf(jwt) { return String(claimsOf(jwt).fam || ''); }

// newerLogin is for a stream ended because its login was signed out
// (chatapi.close 'logout'): when this browser keeps another login than
// stale's (signed in again meanwhile: a TOTP setup replaces the tab's
// login, totp.js), this tab takes its access token and answers it, so the
// stream goes on; otherwise ''.
export function newerLogin(stale) {
  const r = readRecord();
  const fam = r ? familyOf(r.token) : '';
  if (!fam || fam === familyOf(stale)) return '';
  session.adopt(r);
  return r.token;
}

function forgetRecord() {
  sessionStorage.removeItem(REFRESH);
  localStorage.removeItem(REFRESH);
}

// ---- refreshing ---------------------------------------------------------------

let ended = false;
let endedHandler = () => {};
let inflight = null;
let timer = 0;

// onSessionEnded sets what happens when the gateway refuses to refresh
// (sign in again): told once per session.
export function onSessionEnded(fn) { endedHandler = fn; }

function sessionEnded() {
  if (ended) return;
  ended = true;
  clearTimeout(timer);
  endedHandler();
}

// refresh answers a newer access token than stale (the one this tab
// holds, or the one a call or the stream was refused with): another tab's,
// when it refreshed already, else a new pair from the gateway. Refreshes
// of this tab share one request; tabs take turns. It rejects with an
// ApiError (401: sign in again; the ended handler was told) or a
// NetworkError.
export function refresh(stale = session.token) {
  if (!inflight) {
    const run = () => rotate(stale);
    const p = (globalThis.navigator && navigator.locks) ? navigator.locks.request(LOCK, run) : run();
    inflight = p.finally(() => { inflight = null; });
  }
  return inflight;
}

async function rotate(stale) {
  const r = readRecord(); // inside the lock: another tab may have refreshed
  const user = session.user;
  if (!r || (user && String(r.user || '').toLowerCase() !== user.toLowerCase())) {
    sessionEnded();
    throw new ApiError(401, { code: 'unauthorized' });
  }
  if (r.token !== stale && Date.now() < due(r)) {
    session.adopt(r);
    return r.token;
  }
  let t;
  try {
    t = await call('POST', '/token/refresh', { json: { refreshToken: r.refreshToken }, token: '' });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) sessionEnded();
    throw e;
  }
  session.keep(r.user, t, r.remember);
  // Tell the other tabs, and give them a moment to hear it before the
  // next one gets the lock.
  await replacedLogin(r.refreshToken);
  return t.token;
}

// replacedLogin tells the other tabs that this tab's record now replaces
// the one holding the refresh token spent: a tab without "stay signed in"
// that holds it takes the new record (it has no other way to learn of
// it), one that stays signed in keeps it in mind until localStorage has
// it too. After a refresh, and when a new login replaces this tab's (a
// TOTP setup, totp.js) before the old one is signed out: the tabs this
// tab handed its login to follow it instead of being signed out. Resolves
// a moment after telling.
export async function replacedLogin(spent) {
  const now = readRecord();
  if (!channel || !now || !spent) return;
  channel.postMessage({ spent, record: now });
  await new Promise((done) => setTimeout(done, 150));
}

// ---- tabs without "stay signed in" --------------------------------------------

const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('sparkgate-tokens') : null;
const asks = new Map(); // id of a question of this tab -> its answer's resolve

// ownRecord is the record this tab keeps in sessionStorage, or null.
function ownRecord() {
  try {
    const r = JSON.parse(sessionStorage.getItem(REFRESH) || 'null');
    return r && r.refreshToken && r.token ? r : null;
  } catch {
    return null;
  }
}

if (channel) {
  channel.onmessage = (e) => {
    const m = e.data || {};
    const mine = ownRecord();
    if (m.ask && mine && session.token) {
      channel.postMessage({ answer: m.ask, record: mine });
    } else if (m.answer && asks.has(m.answer)) {
      asks.get(m.answer)(m.record);
    } else if (m.spent && m.record && mine && mine.refreshToken === m.spent) {
      sessionStorage.setItem(REFRESH, JSON.stringify(m.record));
      if (session.token) session.adopt(m.record);
    } else if (m.spent && m.record && m.record.remember) {
      replaced = { spent: m.spent, record: m.record };
    }
  };
}

// askOpenTabs asks the open tabs signed in without "stay signed in" for
// their record and keeps the first answer in this tab's sessionStorage; it
// answers whether one came within wait ms. The page cannot wait long (a
// lone tab never gets an answer), but an open tab may answer later (a busy
// machine, a background tab the browser throttles): an answer within
// LATE_ANSWER ms after giving up is handed to late(take), whose take()
// keeps it, as above, and answers whether it could; late decides whether
// the page still wants it (nobody has begun to sign in by hand).
const LATE_ANSWER = 10000;
export function askOpenTabs(wait = 250, late = null) {
  if (!channel) return Promise.resolve(false);
  const id = Math.random().toString(36).slice(2) + Date.now().toString(36);
  const take = (r) => {
    const ok = Boolean(r && r.refreshToken && r.token && !readRecord());
    if (ok) sessionStorage.setItem(REFRESH, JSON.stringify(r));
    return ok;
  };
  return new Promise((resolve) => {
    let waiting = true;
    const timeout = setTimeout(() => {
      waiting = false;
      resolve(false);
      if (late) setTimeout(() => asks.delete(id), LATE_ANSWER);
      else asks.delete(id);
    }, wait);
    asks.set(id, (r) => {
      asks.delete(id);
      if (waiting) {
        clearTimeout(timeout);
        waiting = false;
        resolve(take(r));
      } else if (late) {
        late(() => take(r));
      }
    });
    channel.postMessage({ ask: id });
  });
}

// freshToken answers this tab's access token when it is newer than stale
// and not due for a refresh, else refresh(stale)'s.
export async function freshToken(stale = '') {
  const cur = session.token;
  const r = readRecord();
  if (cur && cur !== stale && (!r || (r.token === cur && Date.now() < due(r)))) return cur;
  return refresh(cur || stale);
}

// schedule sets the timer of the next refresh from the stored record.
function schedule() {
  clearTimeout(timer);
  const r = readRecord();
  if (!r || !session.token) return;
  const wait = due(r) - Date.now();
  if (!Number.isFinite(wait)) return;
  timer = setTimeout(tick, Math.min(Math.max(0, wait), 2 ** 31 - 1));
}

function tick() {
  refresh(session.token).catch((e) => {
    // Refused: the ended handler was told. Else (no network, rate
    // limited) try again a little later.
    if (e instanceof ApiError && e.status === 401) return;
    clearTimeout(timer);
    timer = setTimeout(tick, Math.max(5000, (e.retryAfter || 0) * 1000));
  });
}

// startRefreshing schedules the refreshes of a session this tab resumed.
export function startRefreshing() {
  ended = false;
  schedule();
}

// client is the SDK client of this tab's login: every call carries the
// token of this tab (read at that moment: another tab may have refreshed
// it), and what needs a newer one asks refresh below.
export const client = new Sparkgate({
  auth: { token: () => session.token || null, refresh: (stale) => refresh(stale) },
});

// clientFor answers an SDK client whose calls carry token and no other
// (none when it is ''): a sign-in's, or a sign-out's while the session is
// going. It never refreshes.
export function clientFor(token) {
  return new Sparkgate({
    auth: { token: () => token || null, refresh: () => Promise.reject(new ApiError(401, { code: 'unauthorized' })) },
  });
}

// viaSDK runs one of the SDK's helpers (a login, the push subscription)
// with withClient and answers its result; what it throws is turned into
// this file's errors (ApiError, NetworkError), and feature is marked as
// for call.
export async function viaSDK(fn, feature = '', withClient = client) {
  try {
    const r = await fn(withClient);
    if (feature) features.set(feature, true);
    return r;
  } catch (e) {
    if (e instanceof SparkgateError) {
      if (e.status === 501 && feature) features.set(feature, false);
      throw new ApiError(e.status, e.body, e.retryAfter);
    }
    if (e instanceof TypeError) throw new NetworkError(e); // fetch found no server
    throw e;
  }
}

// ApiError is a failed call: status, the stable code of the Error body and
// the seconds of its Retry-After (0 without). Its message is the server's,
// for the console: errors.js says it to people.
export class ApiError extends Error {
  constructor(status, body, retryAfter = 0) {
    super((body && body.message) || `request failed (${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.code = (body && body.code) || '';
    this.body = (body && typeof body === 'object') ? body : {};
    this.retryAfter = retryAfter;
  }
  get notImplemented() { return this.status === 501; }
}

// NetworkError is a call that got no answer: no network, or the server
// cannot be reached.
export class NetworkError extends Error {
  constructor(cause) {
    super('the server cannot be reached', { cause });
    this.name = 'NetworkError';
  }
}

// Features answer false once an operation said 501, so the UI hides it.
export const features = new Map();

// seg encodes one path segment ('/' becomes %2F, as the API wants).
export const seg = (s) => encodeURIComponent(s);

// call sends one request. body (a string) goes as text/plain, json as
// application/json, blob (a Blob or File) as its own type; with as:
// 'blob' a successful answer is resolved as a Blob (an image). query parameters that are undefined, null or '' are
// left out, except the '' of those named in keepEmpty (an empty `before`
// asks the archive for its newest page). It resolves with the decoded JSON
// (or null) and rejects with an ApiError, or a NetworkError when no answer
// came. A call with this tab's token (no `token` given) that answers 401
// refreshes the token once and is sent again once; one that answers 429
// (the gateway's limit of requests per user: nothing was done) waits as
// Retry-After says and is sent again, up to RATE_RETRIES times while the
// wait is at most RATE_WAIT_MAX seconds. So a burst of background loads
// (the contacts' pictures at sign-in) finishes at the limit's pace instead
// of failing; a longer wait is the caller's to show.
export async function call(method, path, opts = {}) {
  const own = opts.token === undefined;
  for (let tries = 0; ; tries++) {
    try {
      return await callOnce(method, path, opts, own);
    } catch (e) {
      // Only the limit of a signed-in user's requests: a login's own
      // limits say how long to wait to the person.
      const limited = own && session.token && e instanceof ApiError && e.status === 429 && e.code === 'rate_limited';
      if (!limited || tries >= RATE_RETRIES || e.retryAfter > RATE_WAIT_MAX) throw e;
      // A little spread, so that the calls refused together come back apart.
      await new Promise((r) => setTimeout(r, Math.max(e.retryAfter, 1) * 1000 + Math.random() * 500));
    }
  }
}

export const RATE_RETRIES = 3;
export const RATE_WAIT_MAX = 10;

async function callOnce(method, path, opts, own) {
  const token = own ? session.token : opts.token;
  try {
    return await send(method, path, opts, token);
  } catch (e) {
    if (!own || !token || !(e instanceof ApiError) || e.status !== 401 || !readRecord()) throw e;
    return send(method, path, opts, await refresh(token));
  }
}

// bearer is the middleware of one request through the SDK client: it
// carries token (which may be another than the tab's: a refreshed one, a
// sign-out's), or no token at all when token is ''.
function bearer(token) {
  return {
    onRequest({ request }) {
      if (token) request.headers.set('Authorization', 'Bearer ' + token);
      else request.headers.delete('Authorization');
      return request;
    },
  };
}

async function send(method, path, { body, json, blob, as, query, keepEmpty = [], feature } = {}, token = '') {
  const headers = {};
  let payload;
  if (blob !== undefined) {
    headers['Content-Type'] = blob.type || 'application/octet-stream';
    payload = blob;
  } else if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(json);
  } else if (body !== undefined) {
    headers['Content-Type'] = 'text/plain;charset=utf-8';
    payload = body;
  }
  let url = REST + path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && (v !== '' || keepEmpty.includes(k))) q.set(k, String(v));
    }
    const s = q.toString();
    if (s) url += '?' + s;
  }
  // The SDK's client sends it; the answer is read as text (or a blob) and
  // decoded here, since not every answer is JSON.
  let r;
  try {
    r = await client.api.request(method, url, {
      headers, body: payload, bodySerializer: (b) => b, parseAs: as === 'blob' ? 'blob' : 'text',
      middleware: [bearer(token)], cache: 'no-store', credentials: 'omit',
    });
  } catch (e) {
    throw new NetworkError(e);
  }
  const { response } = r;
  if (response.ok && as === 'blob') return r.data ?? null;
  const text = response.ok ? r.data : r.error;
  let data = null;
  if (typeof text === 'string' && text) {
    try { data = JSON.parse(text); } catch { data = text; }
  } else if (text && typeof text === 'object') {
    data = text; // openapi-fetch decoded the error's JSON already
  }
  if (!response.ok) {
    if (response.status === 501 && feature) features.set(feature, false);
    throw new ApiError(response.status, data, retryAfterSeconds(response.headers.get('Retry-After')));
  }
  if (feature) features.set(feature, true);
  return data;
}

// available calls fn and answers its result, or undefined when the
// operation is not implemented by this gateway (yet).
export async function available(fn) {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError && e.notImplemented) return undefined;
    throw e;
  }
}
