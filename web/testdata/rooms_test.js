// rooms_test.js: checks of what rooms.js and roomadmin.js decide without
// a gateway: which moderation actions a role and an affiliation allow
// (may), the sentence said to someone a room made leave (removedWhy), and
// the model kept from an occupant snapshot and later presences (onMUC,
// onOccupant). Run by TestBrowserRoomRules; leaves window.moduleTest.

import { check, finish } from './check.js';
import { grants, may } from '/roomadmin.js';
import { removedWhy, onMUC, onOccupant, onRoomNotice } from '/rooms.js';
import { model, setIdentity, conv } from '/state.js';

const room = (role, affiliation, more = {}) => ({ kind: 'room', role, affiliation, ...more });

async function run() {
  // may: [name, conversation, action, target affiliation, want]
  const table = [
    ['owner configures', room('moderator', 'owner'), 'configure', '', true],
    ['admin does not configure', room('moderator', 'admin'), 'configure', '', false],
    ['moderator sets the subject', room('moderator', 'none'), 'subject', '', true],
    ['participant does not', room('participant', 'member'), 'subject', '', false],
    ['participant may when the room says', room('participant', 'none', { changeSubject: true }), 'subject', '', true],
    ['moderator kicks a participant', room('moderator', 'none'), 'kick', 'none', true],
    ['moderator kicks a member', room('moderator', 'owner'), 'kick', 'member', true],
    ['nobody kicks an admin', room('moderator', 'owner'), 'kick', 'admin', false],
    ['nobody kicks an owner', room('moderator', 'owner'), 'kick', 'owner', false],
    ['participant kicks nobody', room('participant', 'member'), 'kick', 'none', false],
    ['moderator voices', room('moderator', 'none'), 'voice', 'none', true],
    ['admin bans a member', room('moderator', 'admin'), 'ban', 'member', true],
    ['admin does not ban an admin', room('moderator', 'admin'), 'ban', 'admin', false],
    ['owner bans an admin', room('moderator', 'owner'), 'ban', 'admin', true],
    ['moderator without affiliation bans nobody', room('moderator', 'none'), 'ban', 'none', false],
    ['a chat is no room', { kind: 'chat', role: 'moderator', affiliation: 'owner' }, 'configure', '', false],
  ];
  for (const [name, c, what, target, want] of table) check(name, may(c, what, target), want);

  // grants: what an owner may make of someone from the member list.
  const offered = (c, target) => grants(c, target).map((g) => g.text + '>' + g.affiliation);
  check('owner makes a member admin or owner', offered(room('moderator', 'owner'), 'member'), ['Make admin>admin', 'Make owner>owner']);
  check('owner promotes or revokes an admin', offered(room('moderator', 'owner'), 'admin'), ['Make owner>owner', 'Revoke admin>member']);
  check('owner revokes an owner', offered(room('moderator', 'owner'), 'owner'), ['Revoke owner>member']);
  check('an admin grants nothing', offered(room('moderator', 'admin'), 'none'), []);
  check('a chat grants nothing', offered({ kind: 'chat', affiliation: 'owner' }, 'none'), []);

  check('kicked', removedWhy({ codes: [307, 110], reason: 'spam' }, 'tea'),
    'You were removed from the room tea by a moderator. The reason given: “spam”.');
  check('banned', removedWhy({ codes: ['301', '110'] }, 'tea'), 'You were banned from the room tea.');
  check('destroyed', removedWhy({ destroyed: true, reason: 'done' }, 'tea'), 'The room tea was closed by its owner. The reason given: “done”.');
  check('members only', removedWhy({ codes: ['321'] }, 'tea').startsWith('You are no longer a member'), true);
  check('a plain leave', removedWhy({ codes: ['110'] }, 'tea'), '');

  // The snapshot makes the room joined with its people and our own role;
  // presences change it; a kick of ourselves removes it with a notice.
  setIdentity('me@example.org');
  const jid = 'tea@conference.example.org';
  conv('room', jid).subject = ''; // known: the snapshot asks the gateway (none here) for nothing
  onMUC({
    type: 'occupants', room: jid, occupants: [
      { from: jid + '/me', role: 'moderator', affiliation: 'owner', codes: ['110'] },
      { from: jid + '/bob', role: 'participant', affiliation: 'none', jid: 'bob@example.org/web' },
    ],
  });
  const c = model.convs.get('room:' + jid);
  check('snapshot joins', Boolean(c && c.joined), true);
  check('snapshot people', c ? [...c.occupants.keys()].sort() : [], ['bob', 'me']);
  check('own role', c ? [c.nick, c.role, c.affiliation] : [], ['me', 'moderator', 'owner']);
  check('real address', c ? c.occupants.get('bob').jid : '', 'bob@example.org');
  onOccupant({ from: jid + '/bob', presenceType: 'available', role: 'visitor', affiliation: 'none' });
  check('voice taken', c.occupants.get('bob').role, 'visitor');
  onMUC({ type: 'groupchat', from: jid + '/bob', subject: 'News', body: '' });
  check('subject', c.subject, 'News');
  check('a subject is no message', c.messages.length, 0);
  onMUC({ type: 'groupchat', from: jid + '/bob', subject: '', body: '' });
  check('subject cleared', c.subject, '');
  let told = null;
  onRoomNotice((n) => { told = n; });
  onOccupant({ from: jid + '/me', presenceType: 'unavailable', codes: ['307', '110'], reason: 'bye' });
  check('kicked: the room is gone', model.convs.has('room:' + jid), false);
  check('kicked: told why', told && told.text, 'You were removed from the room tea by a moderator. The reason given: “bye”.');
}

finish(run);
