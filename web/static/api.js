// api.js: the REST calls of the SparkWeb API (see /sparkweb/api/openapi.yaml).
// The token lives in sessionStorage only: never a cookie, never
// localStorage, never a URL (except the event stream's ?token=).

export const API = '/sparkweb/api';
export const REST = API + '/rest';

const TOKEN = 'sparkgate.token';
const USER = 'sparkgate.user';

export const session = {
  get token() { return sessionStorage.getItem(TOKEN) || ''; },
  get user() { return sessionStorage.getItem(USER) || ''; },
  save(user, token) {
    sessionStorage.setItem(USER, user);
    sessionStorage.setItem(TOKEN, token);
  },
  clear() {
    for (const k of Object.keys(sessionStorage)) {
      if (k.startsWith('sparkgate.')) sessionStorage.removeItem(k);
    }
  },
};

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

// retryAfter reads a Retry-After header (seconds, or an HTTP date) as
// seconds from now.
function retryAfter(h) {
  if (!h) return 0;
  if (/^\d+$/.test(h.trim())) return Number(h);
  const t = Date.parse(h);
  return Number.isNaN(t) ? 0 : Math.max(0, Math.ceil((t - Date.now()) / 1000));
}

// Features answer false once an operation said 501, so the UI hides it.
export const features = new Map();

// seg encodes one path segment ('/' becomes %2F, as the API wants).
export const seg = (s) => encodeURIComponent(s);

// call sends one request. body (a string) goes as text/plain, json as
// application/json. query parameters that are undefined, null or '' are
// left out, except the '' of those named in keepEmpty (an empty `before`
// asks the archive for its newest page). It resolves with the decoded JSON
// (or null) and rejects with an ApiError, or a NetworkError when no answer
// came.
export async function call(method, path, { body, json, query, keepEmpty = [], token = session.token, feature } = {}) {
  const headers = {};
  if (token) headers.Authorization = 'Bearer ' + token;
  let payload;
  if (json !== undefined) {
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
  let res, text;
  try {
    res = await fetch(url, { method, headers, body: payload, cache: 'no-store', credentials: 'omit' });
    text = await res.text();
  } catch (e) {
    throw new NetworkError(e);
  }
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!res.ok) {
    if (res.status === 501 && feature) features.set(feature, false);
    throw new ApiError(res.status, data, retryAfter(res.headers.get('Retry-After')));
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
