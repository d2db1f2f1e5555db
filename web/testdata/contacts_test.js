// contacts_test.js: checks of contacts.js's lists against stand-ins for
// GET /contact-requests and GET /presence/roster that answer after a
// second (served by TestBrowserContactLists). A request answered while its
// list is on its way stays answered though the list still names it; one
// the list names and nobody answered is added; one answered before the
// list was asked for and named again is a new request. A contact removed
// while the roster is on its way stays removed; the others are listed.
// Leaves window.moduleTest.

import { check, finish } from './check.js';
import { loadRequests, onRequest, dismissContact, loadRoster, onRoster } from '/contacts.js';
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

  // The roster: erin and frank listed; erin removed on another device
  // while the list is on its way.
  const roster = loadRoster();
  await sleep(50);
  onRoster({ jid: 'erin@example.org', removed: true });
  await roster;
  check('erin stays removed', Boolean(model.convs.get('chat:erin@example.org')?.inRoster), false);
  check('frank listed', Boolean(model.convs.get('chat:frank@example.org')?.inRoster), true);
  await loadRoster();
  check('erin listed by a roster read after the removal', Boolean(model.convs.get('chat:erin@example.org')?.inRoster), true);
}

finish(run);
