// state_test.js: checks of state.js without the app's DOM, run by
// TestBrowserState in a page that loads only state.js. It leaves
// window.moduleTest (check.js) when done.

import { check, finish } from './check.js';
import * as state from '/state.js';

const { model } = state;

const bodies = (c) => c.messages.map((m) => m.body);
const tick = () => new Promise((r) => setTimeout(r, 0));

function fresh() {
  sessionStorage.clear();
  state.clear();
  state.setIdentity('me@example.org');
  model.visible = true;
}

async function run() {
  // Addresses.
  fresh();
  check('bare', state.bare('Bob@Example.org/phone'), 'bob@example.org');
  check('resourceOf', state.resourceOf('room@conference.example.org/Nick/x'), 'Nick/x');
  check('toJID', state.toJID(' Bob '), 'bob@example.org');
  check('toRoomJID', state.toRoomJID('Team'), 'team@conference.example.org');
  check('isRoom on the MUC service', state.isRoom('team@conference.example.org'), true);
  check('isRoom for a user', state.isRoom('bob@example.org'), false);
  model.invitations.set('club@rooms.elsewhere.net', {});
  check('isRoom for a room that invited us', state.isRoom('club@rooms.elsewhere.net'), true);

  // De-duplication: by id, by archive id, by sender + body + time of a
  // delayed message, and our own message once the archive names it.
  fresh();
  const c = state.conv('chat', 'bob@example.org');
  check('conv is made once', state.conv('chat', 'bob@example.org') === c, true);
  check('new message', state.addMessage(c, { id: 'a1', from: 'bob@example.org/x', body: 'one' }, { live: true }), true);
  check('same id again', state.addMessage(c, { id: 'a1', from: 'bob@example.org/x', body: 'one' }, { live: true }), false);
  check('the archive copy adds its archive id', state.addMessage(c, {
    id: 'a1', stanzaId: 'S1', from: 'bob@example.org', body: 'one', stamp: '2026-01-01T10:00:00Z',
  }), false);
  check('archive id kept', c.messages[0].stanzaId, 'S1');
  check('same archive id, no message id', state.addMessage(c, { stanzaId: 'S1', from: 'bob@example.org', body: 'one' }), false);
  check('delayed, same sender, body and second', state.addMessage(c, { stamp: '2026-01-01T10:00:00.5Z', from: 'bob@example.org/y', body: 'one' }), false);
  state.addMessage(c, { id: 'mine-1', from: 'me@example.org', body: 'reply', mine: true }, { live: true });
  const sentAt = c.messages[1].ts;
  check('our message from the archive', state.addMessage(c, {
    stanzaId: 'S2', from: 'me@example.org', body: 'reply', stamp: sentAt, mine: true,
  }), false);
  check('our message took the archive id', c.messages[1].stanzaId, 'S2');
  check('each message once', bodies(c), ['one', 'reply']);
  check('keys are unique', new Set(c.messages.map((m) => m.key)).size, 2);

  // Stamps finer than a millisecond: two messages archived within one
  // millisecond keep the archive's order, whichever this tab learnt of
  // first (restore.js adds a conversation's last message before its page).
  check('subMs of microseconds', state.subMs('2026-01-01T10:00:00.204123Z'), 123000);
  check('subMs of nanoseconds', state.subMs('2026-01-01T10:00:00.204123456Z'), 123456);
  check('subMs of milliseconds', state.subMs('2026-01-01T10:00:00.204Z'), 0);
  check('subMs without a fraction', state.subMs('2026-01-01T10:00:00Z'), 0);
  fresh();
  const us = state.conv('chat', 'fast@example.org');
  state.addMessage(us, { stanzaId: 'F2', from: 'fast@example.org', body: 'second', stamp: '2026-01-01T10:00:00.204901Z' });
  state.addMessage(us, { stanzaId: 'F1', from: 'fast@example.org', body: 'first', stamp: '2026-01-01T10:00:00.2041Z' });
  state.addMessage(us, { stanzaId: 'F2', from: 'fast@example.org', body: 'second', stamp: '2026-01-01T10:00:00.204901Z' });
  check('within one millisecond, in the archive order', bodies(us), ['first', 'second']);

  // A live message takes the archive's time and place when the archive
  // gives it again: its live copy may come after the archive's answer
  // holding the next message, or the archive's answer after it with the
  // next message stamped before the tab's clock saw the first.
  fresh();
  const lv = state.conv('chat', 'liv@example.org');
  const now = Date.now();
  const iso = (ms) => new Date(ms).toISOString();
  state.addMessage(lv, { id: 'l1', from: 'liv@example.org/x', body: 'first' }, { live: true });
  state.addMessage(lv, { id: 'l2', stanzaId: 'A2', from: 'liv@example.org', body: 'second', stamp: iso(now - 1000) });
  check('the next one, archived before the tab saw the first, goes above it', bodies(lv), ['second', 'first']);
  state.addMessage(lv, { id: 'l1', stanzaId: 'A1', from: 'liv@example.org', body: 'first', stamp: iso(now - 2000) });
  check('the first one, archived, takes its place', bodies(lv), ['first', 'second']);
  check('and the archive\'s time', [lv.messages[0].stamp, lv.messages[0].t], [iso(now - 2000), now - 2000]);
  state.addMessage(lv, { id: 'l3', from: 'liv@example.org/x', body: 'third' }, { live: true });
  state.addMessage(lv, { id: 'l3', stanzaId: 'A3', from: 'liv@example.org', body: 'third', stamp: iso(now + 60000) });
  check('a live message at its place stays', bodies(lv), ['first', 'second', 'third']);
  check('each once', lv.messages.length, 3);

  // A room's messages under our nick become ours once the room names it
  // (its history or archive may come first).
  fresh();
  const hall = state.conv('room', 'hall@conference.example.org');
  state.addMessage(hall, { stanzaId: 'H1', from: 'hall@conference.example.org/me2', nick: 'me2', body: 'said before', stamp: '2026-01-01T10:00:00Z' });
  state.addMessage(hall, { stanzaId: 'H2', from: 'hall@conference.example.org/ann', nick: 'ann', body: 'hers', stamp: '2026-01-01T10:01:00Z' });
  state.ownNick(hall, 'me2');
  check('our nick makes our messages ours', [hall.nick, hall.messages.map((m) => Boolean(m.mine))], ['me2', [true, false]]);

  // Ordering: stamped messages by time, live ones appended, older pages
  // (added newest first) before everything of the same time.
  fresh();
  const o = state.conv('chat', 'carol@example.org');
  for (const [s, b] of [['2026-01-01T10:00:02Z', 'n3'], ['2026-01-01T10:00:00Z', 'n1'], ['2026-01-01T10:00:01Z', 'n2']]) {
    state.addMessage(o, { stanzaId: b, stamp: s, from: 'carol@example.org', body: b });
  }
  check('stamped in time order', bodies(o), ['n1', 'n2', 'n3']);
  state.addMessage(o, { id: 'live', from: 'carol@example.org', body: 'live' }, { live: true });
  check('live appended', bodies(o), ['n1', 'n2', 'n3', 'live']);
  for (const b of ['o3', 'o2', 'o1']) { // an older page, all in one second
    state.addMessage(o, { stanzaId: b, stamp: '2026-01-01T10:00:00Z', from: 'carol@example.org', body: b }, { older: true });
  }
  check('an older page goes first', bodies(o), ['o1', 'o2', 'o3', 'n1', 'n2', 'n3', 'live']);
  for (const b of ['p2', 'p1']) {
    state.addMessage(o, { stanzaId: b, stamp: '2025-12-31T09:00:00Z', from: 'carol@example.org', body: b }, { older: true });
  }
  check('and the page before it before that', bodies(o).slice(0, 3), ['p1', 'p2', 'o1']);

  // Unread counts: live messages of others in a conversation not in view.
  fresh();
  const u = state.conv('chat', 'dave@example.org');
  const v = state.conv('chat', 'erin@example.org');
  state.open(v.id);
  state.addMessage(u, { id: 'u1', from: 'dave@example.org', body: 'hi' }, { live: true });
  state.addMessage(u, { id: 'u2', from: 'dave@example.org', body: 'there' }, { live: true });
  state.addMessage(u, { stanzaId: 'U0', from: 'dave@example.org', body: 'old', stamp: '2020-01-01T00:00:00Z' });
  state.addMessage(u, { id: 'u3', from: 'me@example.org', body: 'mine', mine: true }, { live: true });
  state.addMessage(v, { id: 'v1', from: 'erin@example.org', body: 'seen' }, { live: true });
  check('unread: others\' live messages elsewhere', [u.unread, v.unread], [2, 0]);
  model.visible = false;
  state.addMessage(v, { id: 'v2', from: 'erin@example.org', body: 'hidden tab' }, { live: true });
  check('unread while the page is hidden', v.unread, 1);
  model.visible = true;
  state.markSeen();
  check('seen again', v.unread, 0);
  state.open(u.id);
  check('opened: read', [u.unread, state.totalUnread()], [0, 0]);
  check('the peer is known to exist', u.heard, true);
  check('a new peer is not', state.conv('chat', 'nobody@example.org').heard, false);

  // Change notices name the region, and the conversation for messages.
  fresh();
  const seen = [];
  const off = state.subscribe((region, d) => seen.push(region + (d && d.id ? ' ' + d.id : '')));
  const w = state.conv('room', 'team@conference.example.org');
  state.addMessage(w, { id: 'w1', from: 'team@conference.example.org/bob', nick: 'bob', body: 'hey' }, { live: true });
  off();
  state.addMessage(w, { id: 'w2', from: 'team@conference.example.org/bob', nick: 'bob', body: 'unheard' }, { live: true });
  check('notices', seen, ['lists', 'messages room:team@conference.example.org', 'lists']);

  // Persistence: save, forget, restore.
  fresh();
  const p = state.conv('chat', 'frank@example.org', 'Frank');
  const r = state.conv('room', 'club@conference.example.org');
  r.nick = 'me';
  r.joined = true;
  state.addMessage(p, { id: 'f1', stanzaId: 'F1', from: 'frank@example.org', body: 'first', stamp: '2026-01-02T08:00:00Z' });
  state.addMessage(p, { id: 'f2', from: 'frank@example.org', body: 'second' }, { live: true });
  state.open(r.id);
  state.addMessage(p, { id: 'f3', from: 'frank@example.org', body: 'third' }, { live: true });
  state.setDraft(p.id, 'half a thought');
  state.setDraft(r.id, 'gone');
  state.setDraft(r.id, '');
  check('a draft per conversation', [state.draftOf(p.id), state.draftOf(r.id)], ['half a thought', '']);
  state.save();
  const saved = sessionStorage.getItem('sparkgate.convs');
  state.clear();
  check('cleared', [model.convs.size, state.draftOf(p.id)], [0, '']);
  sessionStorage.setItem('sparkgate.convs', saved);
  state.restore();
  const p2 = model.convs.get('chat:frank@example.org');
  const r2 = model.convs.get('room:club@conference.example.org');
  check('restored conversations', [...model.convs.keys()].sort(), ['chat:frank@example.org', 'room:club@conference.example.org']);
  check('restored messages', p2 && bodies(p2), ['first', 'second', 'third']);
  check('restored identities', p2 && p2.messages.map((m) => [m.id, m.stanzaId || '']), [['f1', 'F1'], ['f2', ''], ['f3', '']]);
  check('restored unread, title, room', p2 && r2 && [p2.unread, p2.title, r2.nick, r2.joined], [2, 'Frank', 'me', true]);
  check('restored open conversation', model.active, r.id);
  check('restored messages are known', p2 && state.addMessage(p2, { id: 'f2', from: 'frank@example.org', body: 'second' }, { live: true }), false);
  check('restored drafts', [state.draftOf(p.id), model.drafts.size], ['half a thought', 1]);
  check('no history is assumed', p2 && [p2.history, p2.before], [false, '']);

  // The open conversation is forgotten with it.
  state.removeConv(r.id);
  check('removed', [model.convs.has(r.id), model.active], [false, '']);

  // The gateway's read state: its counts replace the tab's; then a live
  // message of others counts nothing by itself (chatapi.unread does).
  state.setUnreadAll([
    { jid: 'frank@example.org', room: false, count: 1, lastRead: 'f2' },
    { jid: 'gina@example.org', room: false, count: 3, lastRead: '' },
    { jid: 'gone@conference.example.org', room: true, count: 4, lastRead: '' },
  ]);
  const gina = model.convs.get('chat:gina@example.org');
  check('the gateway counts', [p2.unread, p2.lastRead, gina && gina.unread], [1, 'f2', 3]);
  check('a room not joined is not listed for its count', model.convs.has('room:gone@conference.example.org'), false);
  state.addMessage(p2, { id: 'f4', from: 'frank@example.org', body: 'fourth' }, { live: true });
  check('a live message waits for the gateway to count it', p2.unread, 1);
  state.setUnread('frank@example.org', false, 2, 'f2');
  check('chatapi.unread counts it', p2.unread, 2);
  const later = state.conv('room', 'gone@conference.example.org');
  check('a room made later takes its count', later.unread, 4);
  state.open(p2.id);
  state.setUnread('frank@example.org', false, 3, 'f2');
  check('the conversation in view counts none', p2.unread, 0);
  state.setUnreadAll([]);
  check('a conversation the gateway does not list has none', [gina.unread, later.unread], [0, 0]);
  // An answer of GET /chat/unread read before the stream's later news
  // leaves those as the stream told them.
  const asked = state.unreadMark();
  state.setUnread('gina@example.org', false, 2, '');
  state.setUnread('hugo@example.org', false, 1, '');
  const hugo = model.convs.get('chat:hugo@example.org');
  state.setUnreadAll([{ jid: 'hugo@example.org', room: false, count: 0, lastRead: 'h0' }], asked);
  check('a late answer undoes no later count', [gina.unread, hugo && hugo.unread, hugo && hugo.lastRead], [2, 1, '']);
  state.setUnreadAll([{ jid: 'hugo@example.org', room: false, count: 0, lastRead: 'h1' }]);
  check('a fresh answer counts', [gina.unread, hugo && hugo.unread, hugo && hugo.lastRead], [0, 0, 'h1']);

  // A room message is sent when the room reflects it (by its id, or by
  // its text before the send answered), even after it failed.
  const mine = { from: 'gone@conference.example.org/me', nick: 'me', body: 'to the room', mine: true, state: 'pending' };
  state.addMessage(later, mine, { live: true });
  state.acceptedAs(later, mine, 'r1');
  check('accepted is still pending', mine.state, 'pending');
  state.setSendState(later, mine, 'failed');
  check('reflected by id', [state.reflected(later, { id: 'r1', body: 'to the room', stanzaId: 'R1' }), mine.state, mine.stanzaId], [true, 'sent', 'R1']);
  const early = { from: 'gone@conference.example.org/me', nick: 'me', body: 'quick', mine: true, state: 'pending' };
  state.addMessage(later, early, { live: true });
  check('reflected before the answer', [state.reflected(later, { id: 'r2', body: 'quick' }), early.state, early.id], [true, 'sent', 'r2']);
  check('another text is no reflection', state.reflected(later, { id: 'r3', body: 'someone else' }), false);

  // Changes to messages (issue 19): one function for live events and the
  // archive's updates; the archive's folded fields say the same.
  fresh();
  const e = state.conv('chat', 'bob@example.org');
  state.addMessage(e, { id: 'm1', from: 'bob@example.org/x', body: 'helo' }, { live: true });
  state.addMessage(e, { id: 'm2', from: 'me@example.org', body: 'mine', mine: true, state: 'sent' }, { live: true });
  const m1 = e.messages[0], m2 = e.messages[1];
  check('a correction from the sender', state.modify(e, { kind: 'correction', target: 'm1', from: 'bob@example.org/y', id: 'c1', body: 'hello' }), true);
  check('the text is the correction', [m1.body, m1.edited, m1.editId, e.messages.length], ['hello', true, 'c1', 2]);
  check('a correction naming the last correction', state.modify(e, { kind: 'correction', target: 'c1', from: 'bob@example.org', id: 'c2', body: 'hello!' }), true);
  check('its text', m1.body, 'hello!');
  check('a correction from someone else', state.modify(e, { kind: 'correction', target: 'm1', from: 'eve@example.org', body: 'evil' }), false);
  check('the same correction again (our echo) changes nothing', state.modify(e, { kind: 'correction', target: 'm1', from: 'bob@example.org', id: 'c2', body: 'hello!' }), false);
  state.modify(e, { kind: 'reactions', target: 'm1', from: 'me@example.org', reactions: ['👍'], mine: true });
  state.modify(e, { kind: 'reactions', target: 'm1', from: 'carol@example.org/z', reactions: ['👍', '😂'] });
  check('reactions counted', state.reactionCounts(e, m1), [
    { emoji: '👍', who: ['me@example.org', 'carol@example.org'], mine: true }, { emoji: '😂', who: ['carol@example.org'], mine: false }]);
  state.modify(e, { kind: 'reactions', target: 'm1', from: 'carol@example.org', reactions: [] });
  check('an empty set withdraws the sender\'s', state.reactionCounts(e, m1).map((r) => r.who.length), [1]);
  check('our own retraction', state.modify(e, { kind: 'retraction', target: 'm2', from: 'me@example.org', mine: true }), true);
  check('retracted: no text', [m2.retracted, m2.body, state.editable(e, m2)], [true, '', false]);
  check('no correction after a retraction', state.modify(e, { kind: 'correction', target: 'm2', from: 'me@example.org', body: 'back', mine: true }), false);
  // A change before its message waits for it.
  check('a change for a message not held', state.modify(e, { kind: 'correction', target: 'm3', from: 'bob@example.org', body: 'later text' }), false);
  state.addMessage(e, { id: 'm3', from: 'bob@example.org', body: 'first text', stanzaId: 'S3', stamp: '2026-01-01T10:00:00Z' });
  check('applied when it comes', [state.targetOf(e, 'm3').body, state.targetOf(e, 'm3').edited], ['later text', true]);
  // The archive's folded copy is the later word for a message shown.
  state.addMessage(e, { id: 'm1', stanzaId: 'S1', from: 'bob@example.org', body: 'hello!!', edited: true, editId: 'c3', folded: true, stamp: '2026-01-01T09:00:00Z' });
  check('the folded copy', [m1.body, m1.editId, m1.reactions, e.messages.length], ['hello!!', 'c3', undefined, 3]);
  check('reply kept and saved', (state.addMessage(e, { id: 'm4', from: 'bob@example.org', body: 're', replyTo: 'm1' }, { live: true }), state.targetOf(e, 'm4').replyTo), 'm1');
  state.save();
  const cached = JSON.parse(sessionStorage.getItem('sparkgate.convs')).convs[0].messages;
  // (m1, live, took the archive's time: before m3.)
  check('the cache keeps the changes', cached.map((m) => [m.body, Boolean(m.edited), Boolean(m.retracted), m.replyTo || '']), [
    ['hello!!', true, false, ''], ['later text', true, false, ''], ['', false, true, ''], ['re', false, false, 'm1']]);

  // In a room: a change comes from the occupant, a retraction, reactions
  // and a reply name the room's stanza-id, and nothing is offered before
  // the room gave it or once the user is out of the room.
  const rm = state.conv('room', 'den@conference.example.org');
  rm.nick = 'me';
  rm.joined = true;
  state.addMessage(rm, { id: 'o1', from: 'den@conference.example.org/me', nick: 'me', body: 'mine', mine: true, state: 'pending' }, { live: true });
  state.addMessage(rm, { id: 'b1', stanzaId: 'RB1', from: 'den@conference.example.org/bob', nick: 'bob', body: 'hi' }, { live: true });
  const o1 = state.targetOf(rm, 'o1'), b1 = state.targetOf(rm, 'b1');
  check('no edit or reaction before the reflection', [state.editable(rm, o1), state.reactable(rm, o1)], [false, false]);
  state.reflected(rm, { id: 'o1', body: 'mine', stanzaId: 'RO1' });
  check('reflected: ours to edit, named by the stanza-id', [state.editable(rm, o1), state.reactable(rm, o1), state.roomRef(rm, o1)], [true, true, 'RO1']);
  check('another\'s: react and reply, no edit', [state.editable(rm, b1), state.reactable(rm, b1)], [false, true]);
  check('a correction from another occupant', state.modify(rm, { kind: 'correction', target: 'b1', from: 'den@conference.example.org/eve', body: 'evil' }), false);
  check('a correction from the occupant', state.modify(rm, { kind: 'correction', target: 'b1', from: 'den@conference.example.org/bob', id: 'b2', body: 'hi all' }), true);
  check('our retraction by the stanza-id', [state.modify(rm, { kind: 'retraction', target: 'RO1', from: 'den@conference.example.org/me', mine: true }), o1.retracted], [true, true]);
  rm.joined = false;
  check('out of the room: nothing offered', state.reactable(rm, b1), false);

  // mentions: [body, nick, want], as the gateway's push decides.
  for (const [body, nick, want] of [
    ['hi bob', 'bob', true], ['@Bob: look', 'bob', true], ['bobcat', 'bob', false], ['a bob_b', 'bob', false],
    ['bob.', 'bob', true], ['élodie!', 'Élodie', true], ['xbob bob', 'bob', true], ['', 'bob', false], ['bob', '', false],
  ]) check(`mentions(${JSON.stringify(body)}, ${nick})`, state.mentions(body, nick), want);
}

finish(run);
