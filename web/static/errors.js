// errors.js: the one place where a failure becomes a sentence for people.
//
// Contract: explain(err, doing, facts) answers one plain sentence, ending
// with a full stop, that says what went wrong and what to do next. It never
// shows the server's message (written for developers: validator output can
// hold a regular expression) nor the browser's ("Failed to fetch").
//
//   - The error's `code` (openapi.yaml, schema Error) picks the sentence,
//     never its `message`; where the server sent no code (a proxy's page,
//     an empty body) the HTTP status stands in for it.
//   - `doing` tells what one code means in this place: 'login',
//     'register', 'totp' (the code step of a sign-in, or confirming an
//     enrolment), 'totp-off' (turning the app off with the password and
//     a code), 'passkey' (a passkey sign-in), 'account' (a settings
//     change that asks for the current password), 'room' (joining a room),
//     'room-admin' (what owners and moderators do: subject, roles, bans,
//     settings, destroying),
//     'push' (turning notifications on), or '' for anything else. A 401 is a wrong password at sign-in, a
//     wrong code in the TOTP step, no passkey on a passkey sign-in, and an
//     ended session elsewhere.
//   - A wait the server asked for (Retry-After, in err.retryAfter seconds)
//     is said in words: "try again in 14 minutes".
//   - Where one code has two causes that only the request tells apart, the
//     caller passes what it sent in `facts` (a registration's 400 is the
//     password when it is shorter than facts.minPasswordLength, else the
//     username).
//   - A request that never got an answer (api.js's NetworkError) is "cannot
//     reach the server"; our own Errors (thrown with a sentence of this
//     client's) keep their message; a cancelled WebAuthn ceremony
//     (NotAllowedError) says so.

const USERNAME_RULE = 'a username has no spaces and none of @ / : " & \' < >';

// inWords says a wait of s seconds: "30 seconds", "a minute", "14 minutes",
// "2 hours".
export function inWords(s) {
  s = Math.max(1, Math.ceil(Number(s) || 0));
  if (s < 60) return s === 1 ? 'a second' : `${s} seconds`;
  const m = Math.ceil(s / 60);
  if (m < 60) return m === 1 ? 'a minute' : `${m} minutes`;
  const h = Math.round(m / 60);
  return h === 1 ? 'an hour' : `${h} hours`;
}

// later is the end of a sentence that asks to try again, with the wait
// when the server named one.
function later(err, fallback = 'in a moment') {
  return err.retryAfter > 0 ? `Try again in ${inWords(err.retryAfter)}.` : `Try again ${fallback}.`;
}

// codeOf is the error's code, or the one its status stands for.
function codeOf(err) {
  if (err.code) return err.code;
  const byStatus = {
    400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'conflict',
    413: 'payload_too_large', 429: 'rate_limited', 500: 'internal', 501: 'not_implemented',
    502: 'xmpp_unavailable', 503: 'xmpp_unavailable', 504: 'timeout', 507: 'store_full',
  };
  return byStatus[err.status] || (err.status >= 500 ? 'internal' : 'bad_request');
}

function apiSentence(err, doing, facts) {
  const code = codeOf(err);
  switch (code) {
    case 'unauthorized':
      if (doing === 'login') return 'Wrong username or password.';
      if (doing === 'totp') return 'That code is not right, or it was used already. Enter the code your authenticator app shows now.';
      if (doing === 'passkey') return 'This user has no passkey, or not this one. Sign in with the password instead.';
      if (doing === 'register') return 'This server did not let the new account sign in. Try signing in.';
      return 'Your session has ended. Sign in again.';
    case 'mfa_required':
      return 'This account also asks for the code from your authenticator app.';
    case 'forbidden':
      if (err.retryAfter > 0 || doing === 'login' || doing === 'totp') {
        return `Too many failed sign-ins: this account is locked for now. ${later(err, 'later')}`;
      }
      if (doing === 'totp-off') return 'The password or the code is not right (each code works once), or this sign-in may not turn the app off: sign in again with a code from the app, or a recovery code, first.';
      if (doing === 'register') return 'This server does not take new accounts.';
      if (doing === 'account') return 'Wrong password, or this sign-in may not change how you sign in: sign in again with a passkey, or with the password and code, first.';
      if (doing === 'room') return 'You may not enter this room.';
      if (doing === 'room-admin') return 'You are not allowed to do that in this room: only its owners (or moderators, for some things) may.';
      return 'You are not allowed to do that.';
    case 'rate_limited':
      return `Too many attempts. ${later(err)}`;
    case 'bad_request':
      if (doing === 'register' && facts.minPasswordLength > 0 && (facts.password || '').length < facts.minPasswordLength) {
        return `Choose a longer password: at least ${facts.minPasswordLength} characters.`;
      }
      if (doing === 'login' || doing === 'register' || doing === 'passkey') return `That username cannot be used: ${USERNAME_RULE}.`;
      if (doing === 'totp') return 'A code from the app has 6 to 8 digits; a recovery code looks like k3mqa-7xwe2.';
      if (doing === 'room') return 'That room name cannot be used: a room name has no spaces and none of @ / : " & \' < >.';
      if (doing === 'room-admin') return 'The room did not accept that setting.';
      return 'The server did not accept that.';
    case 'conflict':
      if (doing === 'register') return 'That username is taken. Choose another one.';
      return 'That exists already.';
    case 'not_found':
      if (doing === 'room') return 'That room does not exist.';
      if (doing === 'room-admin') return 'That room, or that person in it, is not there any more.';
      return 'That does not exist (any more).';
    case 'payload_too_large':
      return 'That is too large for the server.';
    case 'not_implemented':
      return 'This server does not offer this.';
    case 'xmpp_unavailable':
      return `The chat server cannot be reached right now. ${later(err)}`;
    case 'over_capacity':
      return `The server is busy. ${later(err)}`;
    case 'timeout':
      return 'The chat server took too long to answer. Try again.';
    case 'store_full':
      return 'The server\'s storage is full, so nothing was saved. Messages still work.';
    default:
      return 'Something went wrong on the server. Try again.';
  }
}

// explain answers the sentence for err (see the contract above).
export function explain(err, doing = '', facts = {}) {
  if (!err) return 'Something went wrong. Try again.';
  if (err.name === 'ApiError') return apiSentence(err, doing, facts);
  if (err.name === 'NetworkError') return 'Cannot reach the server. Check your connection and try again.';
  if (doing === 'push') {
    if (err.name === 'NotAllowedError') return 'Notifications are blocked for this site: allow them in the browser\'s site settings.';
    if (err.name !== 'Error') return 'This browser cannot show notifications from here (a private window, or no push service).';
  }
  if (err.name === 'NotAllowedError') return 'The passkey request was cancelled or timed out.';
  if (err.name === 'Error' && err.message) return err.message;
  return 'Something went wrong. Try again.';
}

// endedSentence says why the page is back at sign-in without the person
// signing out here: 'expired' (the session could not be renewed: the
// refresh token expired or was revoked, or the account's password
// changed), 'logout' (signed out in another tab or elsewhere),
// 'everywhere' (this tab signed out everywhere), anything else (the
// session ended).
export function endedSentence(reason) {
  if (reason === 'everywhere') return 'You are signed out on every device and browser.';
  if (reason === 'expired') return 'Your session expired. Sign in again.';
  if (reason === 'logout') return 'You were signed out. Sign in again.';
  return 'You were signed out.';
}
