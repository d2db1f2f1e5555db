// view_test.js: checks of view.js's scheduling and keyed message list, run
// by TestBrowserView in a page holding only the elements view.js draws
// into. It leaves window.moduleTest (check.js) when done.

import { check, finish } from './check.js';
import * as state from '/state.js';
import { flush, seenWhen, mutedWords } from '/view.js';
import { deviceName } from '/logins.js';
import { onMuted, isMuted, isStranger } from '/mute.js';
import { wordAt, candidates } from '/mentionpick.js';
import { marked, excerpt, merged } from '/search.js';
import { noPushReason } from '/push.js';
import { withId, withoutId } from '/convset.js';
import { noteText } from '/preview.js';

const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
const list = document.getElementById('messages');
const bodies = () => [...list.querySelectorAll('.body')].map((e) => e.textContent);
const msgs = () => [...list.querySelectorAll('.msg')];
const days = () => [...list.querySelectorAll('.day')].map((e) => e.textContent);

async function run() {
  sessionStorage.clear();
  state.setIdentity('me@example.org');
  const c = state.conv('chat', 'bob@example.org');
  state.addMessage(c, { id: 'm0', from: 'bob@example.org', body: 'first' }, { live: true });
  state.open(c.id);
  flush();
  check('the open conversation is drawn', bodies(), ['first']);
  const first = msgs()[0];
  check('a day starts with its name', days(), ['Today']);
  check('the day comes before its messages', list.firstElementChild.className, 'day');

  // A burst of messages: nothing is drawn in the task that adds them, one
  // animation frame is asked for, and the frame draws them all.
  const realRAF = window.requestAnimationFrame;
  let frames = 0;
  window.requestAnimationFrame = (fn) => { frames++; return realRAF.call(window, fn); };
  for (let i = 1; i <= 20; i++) {
    state.addMessage(c, { id: 'm' + i, from: 'bob@example.org', body: 'burst ' + i }, { live: true });
  }
  window.requestAnimationFrame = realRAF;
  check('nothing drawn during the burst', msgs().length, 1);
  check('one frame asked for the burst', frames, 1);
  await frame();
  check('the frame drew the burst', msgs().length, 21);
  check('the earlier message is the same element', msgs()[0] === first, true);
  check('one sender in a row is one group', msgs().map((li) => li.classList.contains('grouped')), [false].concat(Array(20).fill(true)));

  // Each message is one element: none is remade by what comes after.
  const items = msgs();
  state.addMessage(c, { id: 'late', stanzaId: 'L', from: 'bob@example.org', body: 'older, from the archive', stamp: '2000-01-01T00:00:00Z' });
  state.addMessage(c, { id: 'm20', stanzaId: 'S20', from: 'bob@example.org', body: 'burst 20' }, { live: true });
  await frame();
  check('an older message goes first', bodies()[0], 'older, from the archive');
  check('the others stay', items.every((li, i) => msgs()[i + 1] === li), true);
  check('a known message is not drawn again', msgs().length, 22);
  check('its archive id is added to its element', list.lastElementChild.dataset.stanzaId, 'S20');
  check('its day comes before it', days().length === 2 && days()[1] === 'Today' && list.firstElementChild.className === 'day', true);
  check('a message of another day starts no group', items[0].classList.contains('grouped'), false);

  // Another conversation replaces the list.
  const d = state.conv('chat', 'carol@example.org');
  state.addMessage(d, { id: 'c1', from: 'carol@example.org', body: 'carol' }, { live: true });
  await frame();
  check('a message elsewhere is not drawn here', msgs().length, 22);
  check('it is counted unread', document.title, '(1) sparkgate');
  state.open(d.id);
  await frame();
  check('the other conversation is drawn', bodies(), ['carol']);
  check('with its own day', days(), ['Today']);

  // Grouping: another sender, or a pause, starts a new group.
  const t0 = Date.parse('2026-03-02T10:00:00Z');
  const at = (min) => new Date(t0 + min * 60000).toISOString();
  const g = state.conv('room', 'team@conference.example.org');
  for (const [id, nick, min] of [['g1', 'ann', 0], ['g2', 'ann', 1], ['g3', 'ben', 2], ['g4', 'ben', 3], ['g5', 'ben', 20]]) {
    state.addMessage(g, { id, from: 'team@conference.example.org/' + nick, nick, body: id, stamp: at(min) });
  }
  state.open(g.id);
  await frame();
  check('groups by sender and time', msgs().map((li) => li.classList.contains('grouped')), [false, true, false, true, false]);
  // A message that names our nick stands out once the nick is known.
  state.addMessage(g, { id: 'g6', from: 'team@conference.example.org/ben', nick: 'ben', body: 'over to you, Me!', stamp: at(21) });
  state.addMessage(g, { id: 'g7', from: 'team@conference.example.org/ben', nick: 'ben', body: 'meet at noon', stamp: at(22) });
  await frame();
  check('no nick, no mention', list.querySelectorAll('.mention').length, 0);
  state.ownNick(g, 'me');
  state.changed('messages', g);
  await frame();
  check('the mention stands out and says so', [...list.querySelectorAll('.mention')].map((li) => [li.querySelector('.body').textContent, li.querySelector('.visually-hidden').textContent]),
    [['over to you, Me!', ', mentions you']]);
  check('an older day is named by its date', days().length === 1 && days()[0] !== 'Today' && days()[0] !== 'Yesterday', true);

  // Send states: drawn on the same element, said once in #msg-announce.
  const said = () => document.getElementById('msg-announce').textContent;
  const s = state.conv('chat', 'sam@example.org');
  state.open(s.id);
  const m = { from: 'me@example.org', to: 'sam@example.org', body: 'on its way', mine: true, state: 'pending' };
  state.addMessage(s, m, { live: true });
  await frame();
  const li = msgs()[0];
  check('pending is shown', [li.dataset.state, li.querySelector('.state .visually-hidden').textContent], ['pending', 'Sending']);
  state.sentAs(s, m, 'x1');
  state.applyReceipt(s, 'x1', 'received');
  await frame();
  check('delivered on the same element', [msgs()[0] === li, li.dataset.state, li.querySelector('.state .icon').textContent], [true, 'delivered', '✓✓']);
  check('delivered is said', said(), 'Your message “on its way”: Delivered.');
  state.applyReceipt(s, 'x1', 'received');
  state.applyReceipt(s, 'x0', 'displayed'); // another message's marker, before we know it
  await frame();
  check('a state never goes back', li.dataset.state, 'delivered');
  state.applyReceipt(s, 'x1', 'displayed');
  await frame();
  check('read', li.dataset.state, 'read');
  const n = { from: 'me@example.org', body: 'later', mine: true, state: 'pending' };
  state.addMessage(s, n, { live: true });
  state.setSendState(s, n, 'failed');
  await frame();
  const retry = msgs()[1].querySelector('button.retry');
  check('failed has Retry', [msgs()[1].dataset.state, retry && retry.dataset.action, retry && retry.getAttribute('aria-label')], ['failed', 'retry', 'Retry sending “later”']);
  check('a receipt does not undo a failure', (state.applyReceipt(s, n.id, 'displayed'), msgs()[1].dataset.state), 'failed');
  state.applyReceipt(null, 'y1', 'received'); // the receipt comes before the send's answer
  const o = { from: 'me@example.org', body: 'quick', mine: true, state: 'pending' };
  state.addMessage(s, o, { live: true });
  state.sentAs(s, o, 'y1');
  check('an early receipt is kept for its id', o.state, 'delivered');
  state.addMessage(s, { id: 'p1', from: 'sam@example.org', body: 'hi there' }, { live: true });
  await frame();
  check('a new message of another is said alone', said(), 'sam: hi there');

  // Changes (issue 19) are drawn in the message's own element.
  const r = state.conv('chat', 'rita@example.org');
  state.open(r.id);
  state.addMessage(r, { id: 'r1', from: 'rita@example.org', body: 'helo' }, { live: true });
  state.addMessage(r, { id: 'r2', from: 'me@example.org', body: 'bye', mine: true, state: 'sent', replyTo: 'r1' }, { live: true });
  await frame();
  const [rl, ml] = msgs();
  check('actions of another\'s message', [...rl.querySelectorAll('.msg-tools button')].map((b) => b.dataset.action), ['reply', 'copy', 'pick']);
  check('actions of ours', [...ml.querySelectorAll('.msg-tools button')].map((b) => b.dataset.action), ['reply', 'copy', 'pick', 'edit', 'delete']);
  check('a reply quotes what it answers', ml.querySelector('.quote').textContent, '↪ rita: helo');
  state.modify(r, { kind: 'correction', target: 'r1', from: 'rita@example.org', body: 'hello' });
  state.modify(r, { kind: 'reactions', target: 'r1', from: 'me@example.org', reactions: ['👍'], mine: true });
  state.modify(r, { kind: 'retraction', target: 'r2', from: 'me@example.org', mine: true });
  await frame();
  check('the same elements', msgs()[0] === rl && msgs()[1] === ml, true);
  check('the correction in place, marked', [bodies().slice(-2)[0], !!rl.querySelector('.edited')], ['hello', true]);
  const chip = rl.querySelector('.reactions .chip');
  check('a chip, ours pressed', [chip.textContent, chip.getAttribute('aria-pressed'), chip.title], ['👍 1', 'true', 'you']);
  check('a tombstone, no actions', [ml.querySelector('.tombstone').textContent, ml.querySelectorAll('.msg-tools button').length], ['Message deleted', 0]);

  // The "New messages" divider over two unread messages whose live and
  // archived copies came out of order: the second from the archive (at
  // sign-in) before the live first, stamped before the tab saw the first.
  // When the archive's newest page puts the first in its place, the
  // divider goes above it.
  const divided = () => { const d = list.querySelector('.new-divider'); return d && d.nextElementSibling ? d.nextElementSibling.querySelector('.body').textContent : ''; };
  const u = state.conv('chat', 'uma@example.org');
  const t1 = Date.now();
  state.addMessage(u, { id: 'u2', stanzaId: 'U2', from: 'uma@example.org', body: 'second unread', stamp: new Date(t1 - 1000).toISOString() });
  state.addMessage(u, { id: 'u1', from: 'uma@example.org', body: 'first unread' }, { live: true });
  u.unread = 2;
  state.open(u.id);
  await frame();
  check('out of order before the archive\'s page', bodies(), ['second unread', 'first unread']);
  state.addMessage(u, { id: 'u1', stanzaId: 'U1', from: 'uma@example.org', body: 'first unread', stamp: new Date(t1 - 2000).toISOString() });
  state.addMessage(u, { id: 'u2', stanzaId: 'U2', from: 'uma@example.org', body: 'second unread', stamp: new Date(t1 - 1000).toISOString() });
  await frame();
  check('in the archive\'s order', bodies(), ['first unread', 'second unread']);
  check('the divider above the first unread', [divided(), list.querySelectorAll('.new-divider').length], ['first unread', 1]);
  state.addMessage(u, { id: 'u3', from: 'uma@example.org', body: 'while open' }, { live: true });
  await frame();
  check('a message while open moves no divider', divided(), 'first unread');

  // When an offline contact was last seen, in words (view.js seenWhen).
  const noon = new Date(2026, 5, 15, 12, 0, 0).getTime();
  const ago = (ms) => seenWhen(new Date(noon - ms).toISOString(), noon);
  check('seen seconds ago', ago(10e3), 'just now');
  check('seen in the future (clocks)', ago(-5e3), 'just now');
  check('seen a minute ago', ago(61e3), '1 minute ago');
  check('seen minutes ago', [ago(5 * 60e3), ago(59 * 60e3)], ['5 minutes ago', '59 minutes ago']);
  check('seen earlier today', ago(3 * 3600e3).startsWith('today at '), true);
  check('seen yesterday', ago(20 * 3600e3).startsWith('yesterday at '), true);
  check('seen days ago', ago(4 * 86400e3).startsWith('on '), true);

  // How long a conversation stays muted, in words (view.js mutedWords).
  const later = (ms) => mutedWords(new Date(noon + ms), noon);
  check('muted until unmuted', mutedWords(null, noon), 'Muted until you unmute it');
  check('muted for an hour', /^Muted until \d/.test(later(3600e3)), true);
  check('muted until tomorrow', later(20 * 3600e3).startsWith('Muted until tomorrow at '), true);
  check('muted for a week', /^Muted until .+ at /.test(later(7 * 86400e3)) && !later(7 * 86400e3).includes('tomorrow'), true);

  // A mute with an end stops counting then, and the lists and header are
  // drawn again when it does (mute.js's timer), with nothing else changing.
  const carol = state.conv('chat', 'carol@example.org');
  onMuted({ jid: carol.jid, muted: true, until: new Date(Date.now() + 300).toISOString() });
  const redrawn = [];
  const unsubscribe = state.subscribe((region) => redrawn.push(region));
  check('muted before its end', isMuted(carol), true);
  await new Promise((r) => setTimeout(r, 600));
  unsubscribe();
  check('unmuted after its end, lists drawn again', [isMuted(carol), redrawn.includes('lists')], [false, true]);

  // @-mention completion (mentionpick.js): the word at the caret, and the
  // nicks offered for it.
  check('mention words', [
    wordAt('hi @bo', 6), wordAt('@', 1), wordAt('mail a@b', 8), wordAt('hi @bob there', 13), wordAt('hi @bo', 3),
  ], [{ start: 3, typed: 'bo' }, { start: 0, typed: '' }, null, null, null]);
  check('mention candidates', [
    candidates(['Bob', 'bobby', 'alice', 'me', 'Bea'], 'b', 'me'),
    candidates(['me', 'mel'], '', 'me'),
    candidates(Array.from({ length: 20 }, (_, i) => `n${String(i).padStart(2, '0')}`), 'n', '').length,
  ], [['Bea', 'Bob', 'bobby'], ['mel'], 8]);

  // Search results: the words marked (case aside, as DOM nodes: HTML in a
  // message stays text), and a long message cut around its first match.
  const marks = (text, words) => {
    const el = document.createElement('span');
    marked(el, text, words);
    return [...el.childNodes].map((n) => (n.nodeName === 'MARK' ? `[${n.textContent}]` : n.textContent)).join('');
  };
  check('search marks', [
    marks('Pineapple pie and PINE cones', ['pine']),
    marks('history 200', ['history', '00']),
    marks('<b>bold</b> words', ['bold']),
    marks('no match here', ['zzz']),
    marks('abcabc', ['abc', 'abcab']),
  ], ['[Pine]apple pie and [PINE] cones', '[history] 2[00]', '<b>[bold]</b> words', 'no match here', '[abcab]c']);
  const long = `${'a '.repeat(200)}needle ${'b '.repeat(200)}`;
  const cut = excerpt(long, ['needle']);
  check('search excerpt', [cut.length <= 162, cut.startsWith('…'), cut.endsWith('…'), cut.includes('needle'), excerpt('short\n\ntext', ['x'])],
    [true, true, true, true, 'short text']);
  // Older matches join those shown: a message shown already is not
  // added again (the same conversation and stanza id, or time, sender and
  // text without one), newest first, messages of one millisecond in the
  // order they came; two alike in one answer are two messages.
  const found = (conv, stanzaId, stamp, body) => ({ conv, stanzaId, stamp, from: 'a@x', body });
  check('search merged', merged(
    [found('chat:a@x', 's3', '2026-12-06T10:03:00Z', 'three'), found('room:r@c', 's2b', '2026-12-06T10:02:00Z', 'two b'), found('chat:a@x', 's2', '2026-12-06T10:02:00Z', 'two')],
    [found('chat:a@x', 's2', '2026-12-06T10:02:00Z', 'two'), found('chat:b@x', 's2', '2026-12-06T10:02:30Z', 'other conv'), found('chat:a@x', '', '2026-12-06T10:01:00Z', 'one'),
      found('chat:a@x', '', '2026-12-06T10:01:00Z', 'one'), found('room:r@c', 's4', '2026-12-06T10:04:00Z', 'four')],
  ).map((m) => m.body), ['four', 'three', 'other conv', 'two b', 'two', 'one', 'one']);

  // Without Web Push, the page says why: an iPhone's or iPad's Safari
  // tab needs the app on the Home Screen (push.js noPushReason).
  const home = (r) => r.includes('Home Screen');
  check('no push, why', [
    { userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1', touchPoints: 5, standalone: false },
    { userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15', touchPoints: 5, standalone: false },
    { userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15', touchPoints: 0, standalone: false },
    { userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 15_8 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6 Mobile/15E148 Safari/604.1', touchPoints: 5, standalone: true },
    { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', touchPoints: 0, standalone: false },
  ].map((b) => home(noPushReason(b))), [true, true, false, false, false]);

  // A set of conversations (pins, marks): added at the end, once; past
  // its bound refused with the set's words; removed.
  const tooMany = (() => { try { withId(['a', 'b'], 'c', 2, (n) => `At most ${n} pinned`); return ''; } catch (e) { return e.message; } })();
  check('conversation sets', [withId([], 'chat:a@x', 5), withId(['chat:a@x'], 'chat:a@x', 5), withId(['chat:a@x'], 'room:r@c', 5),
    withoutId(['chat:a@x', 'room:r@c'], 'chat:a@x'), withoutId(['chat:a@x'], 'chat:b@x'), tooMany],
  [['chat:a@x'], ['chat:a@x'], ['chat:a@x', 'room:r@c'], ['room:r@c'], ['chat:a@x'], 'At most 2 pinned']);

  // A notification as the preview setting shows it (preview.js).
  check('previews', ['full', 'sender', 'none', 'other'].map((l) => noteText(l, 'bob', 'the code is 1234')), [
    { title: 'bob', body: 'the code is 1234' }, { title: 'bob', body: 'New message' },
    { title: 'New message', body: '' }, { title: 'bob', body: 'the code is 1234' }]);

  // Strangers (mute.js isStranger): a person's chat outside the roster,
  // not a contact, a room, a room's occupant or oneself.
  state.model.muc = 'conference.example.org';
  const chatWith = (jid, inRoster) => ({ kind: 'chat', jid, inRoster });
  check('strangers', [chatWith('eve@example.org', false), chatWith('bob@example.org', true),
    chatWith('room@conference.example.org/eve', false), { kind: 'room', jid: 'room@conference.example.org', inRoster: false },
    chatWith('me@example.org', false), chatWith('example.org', false)].map(isStranger), [true, false, false, false, false, false]);

  // Signed-in devices named as a person would (logins.js deviceName).
  check('devices named', [
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 Edg/156.0.0.0',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:128.0) Gecko/20100101 Firefox/128.0',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36',
    'curl/8.5.0', '', 'x'.repeat(60),
  ].map(deviceName), ['Chrome on Android', 'Safari on iOS', 'Edge on Windows', 'Firefox on macOS', 'Chrome on Linux',
    'curl/8.5.0', 'Unknown device', 'x'.repeat(39) + '…']);
}

finish(run);
