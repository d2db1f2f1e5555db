// contacts_test.js: checks of contacts.js's contact requests against a
// stand-in for GET /contact-requests that answers after a second (served by
// TestBrowserContactRequests): a request answered while the list is on its
// way stays answered though the list still names it; one the list names
// and nobody answered is added; one answered before the list was asked for
// and named again is a new request. Leaves window.moduleTest.

import { check, finish } from './check.js';
import { loadRequests, onRequest, dismissContact } from '/contacts.js';
import { model, setIdentity } from '/state.js';

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

async function run() {
  setIdentity('alice@example.org');
  // The stand-in lists bob, carol and dave.
  dismissContact('dave@example.org'); // answered long before: dave asked again since
  model.requests.set('bob@example.org', true); // heard as a subscribe presence
  const loading = loadRequests();
  await sleep(50); // the list is on its way (the stand-in waits a second)
  onRequest({ jid: 'bob@example.org', answer: 'declined' }); // declined on another tab
  check('bob gone at once', model.requests.has('bob@example.org'), false);
  await loading;
  check('bob stays declined', model.requests.has('bob@example.org'), false);
  check('carol listed', model.requests.has('carol@example.org'), true);
  check('dave asked again', model.requests.has('dave@example.org'), true);

  // A later list, asked for after the answer, is the truth again.
  await loadRequests();
  check('bob listed by a list read after the answer', model.requests.has('bob@example.org'), true);
}

finish(run);
