// errors_test.js: checks of errors.js (with api.js's error classes), run by
// TestBrowserErrors in a page of its own. It leaves window.moduleTest
// (check.js) when done.

import { check, finish } from './check.js';
import { explain, inWords, endedSentence } from '/errors.js';
import { ApiError, NetworkError } from '/api.js';

const api = (status, code, message, retryAfter = 0) => new ApiError(status, code === undefined ? null : { status, code, message }, retryAfter);
const regex = 'parameter "username" in path has an error: string doesn\'t match the regular expression "^[^\\s]+$"';

async function run() {
  check('seconds', inWords(30), '30 seconds');
  check('one second', inWords(0.2), 'a second');
  check('a minute', inWords(60), 'a minute');
  check('minutes round up', inWords(13 * 60 + 5), '14 minutes');
  check('an hour', inWords(3600), 'an hour');
  check('hours', inWords(2 * 3600 + 10), '2 hours');

  check('wrong password', explain(api(401, 'unauthorized', 'x'), 'login'), 'Wrong username or password.');
  check('wrong code', explain(api(401, 'unauthorized', 'x'), 'totp').startsWith('That code is not right'), true);
  check('no passkey', explain(api(401, 'unauthorized', 'no passkey login for this user'), 'passkey').startsWith('This user has no passkey'), true);
  check('session ended', explain(api(401, 'unauthorized', 'x')), 'Your session has ended. Sign in again.');
  check('locked', explain(api(403, 'forbidden', 'logins are locked', 14 * 60), 'login'),
    'Too many failed sign-ins: this account is locked for now. Try again in 14 minutes.');
  check('locked without a wait', explain(api(403, 'forbidden', 'x'), 'totp').endsWith('Try again later.'), true);
  check('turning the app off, refused', explain(api(403, 'forbidden', 'x'), 'totp-off').startsWith('The password or the code is not right'), true);
  check('turning the app off, locked', explain(api(403, 'forbidden', 'x', 60), 'totp-off').startsWith('Too many failed sign-ins'), true);
  check('registration off', explain(api(403, 'forbidden', 'x'), 'register'), 'This server does not take new accounts.');
  check('rate limited', explain(api(429, 'rate_limited', 'x', 30), 'login'), 'Too many attempts. Try again in 30 seconds.');
  check('validator on sign-in', explain(api(400, 'bad_request', regex), 'login').startsWith('That username cannot be used'), true);
  check('short password', explain(api(400, 'bad_request', 'x'), 'register', { password: 'short', minPasswordLength: 8 }),
    'Choose a longer password: at least 8 characters.');
  check('validator on registration', explain(api(400, 'bad_request', regex), 'register', { password: 'long enough', minPasswordLength: 8 })
    .startsWith('That username cannot be used'), true);
  check('taken', explain(api(409, 'conflict', 'the username is taken'), 'register'), 'That username is taken. Choose another one.');
  check('room name', explain(api(400, 'bad_request', regex), 'room').startsWith('That room name cannot be used'), true);
  check('not an owner', explain(api(403, 'forbidden', 'x'), 'room-admin').startsWith('You are not allowed to do that in this room'), true);
  check('a refused setting', explain(api(400, 'bad_request', regex), 'room-admin'), 'The room did not accept that setting.');
  check('gone from the room', explain(api(404, 'not_found', 'x'), 'room-admin'), 'That room, or that person in it, is not there any more.');
  check('xmpp unavailable', explain(api(502, 'xmpp_unavailable', 'x')), 'The chat server cannot be reached right now. Try again in a moment.');
  check('503 with a wait', explain(api(503, 'xmpp_unavailable', 'x', 120)), 'The chat server cannot be reached right now. Try again in 2 minutes.');
  check('a proxy page (no code)', explain(api(502)), 'The chat server cannot be reached right now. Try again in a moment.');
  check('over capacity', explain(api(503, 'over_capacity', 'x', 5)), 'The server is busy. Try again in 5 seconds.');
  check('fetch failed', explain(new NetworkError(new TypeError('Failed to fetch'))), 'Cannot reach the server. Check your connection and try again.');
  check('cancelled passkey', explain(new DOMException('x', 'NotAllowedError'), 'passkey'), 'The passkey request was cancelled or timed out.');
  check('push refused', explain(new DOMException('x', 'NotAllowedError'), 'push').startsWith('Notifications are blocked'), true);
  check('our own sentence', explain(new Error('Enter your username first.')), 'Enter your username first.');
  check('a bug is no sentence of ours', explain(new TypeError('x is undefined')), 'Something went wrong. Try again.');

  // Back at sign-in without signing out here.
  check('refresh refused', endedSentence('expired'), 'Your session expired. Sign in again.');
  check('signed out elsewhere', endedSentence('logout'), 'You were signed out. Sign in again.');
  check('stream ended', endedSentence('ended'), 'You were signed out.');
  check('signed out everywhere here', endedSentence('everywhere'), 'You are signed out on every device and browser.');

  // No sentence shows the server's message.
  for (const code of ['bad_request', 'unauthorized', 'forbidden', 'not_found', 'conflict', 'internal', 'timeout', 'store_full', 'something_new']) {
    for (const doing of ['', 'login', 'register', 'totp', 'totp-off', 'passkey', 'account', 'room']) {
      const s = explain(api(400, code, 'SERVER TEXT'), doing);
      if (s.includes('SERVER TEXT') || !s.endsWith('.')) check(`${code} ${doing}`, s, 'a sentence of our own');
    }
  }
}

finish(run);
