// search.js: finding messages in the user's archives, from the sidebar's
// "Search messages" form.
//
// Contract:
// - searchMessages(text, from) asks the gateway's two archives at once for
//   the newest messages containing text (GET /chat/messages and GET
//   /groupchat/messages with `keywords`, an empty `before`: the last page,
//   at most MAX each) and answers {results, more, next}: the messages
//   newest first, whether either archive holds older matches than it gave
//   (its `complete` false), and where each archive's next page starts
//   ({chat, room}: the `before` of its older matches, its answer's
//   `first`; null once it has given all). from is an earlier answer's
//   next, to ask for the older matches: an archive whose next is null is
//   not asked again. Each result is {conv, kind, jid, body, stamp,
//   stanzaId, from, mine}: conv is the id of the
//   conversation it belongs to (a person, a room occupant written to
//   privately, or a room). An archive the gateway does not have (501)
//   adds nothing; a failure of one is thrown only when both fail. Words
//   are matched by the gateway, on the text as it is now (corrections
//   applied, retracted messages gone).
// - renderResults(list, text, results) draws them in list (a <ul>): one
//   button per message, with data-conv and data-stanza, naming the
//   conversation, when, and the text with each place it matches text
//   marked (<mark>, built as DOM nodes: the text is never HTML).
// - merged(shown, older) adds the results of an answer for older matches
//   to those shown, leaving out any shown already, newest first.
// - marked and excerpt are renderResults' pieces, exported for their
//   table checks (view_test.js).
// - reveal(c, stanzaId, older) brings a found message into c's loaded
//   history: while it is not there and older pages are left, older()
//   loads the next one, at most PAGES_MAX times. It answers whether the
//   message is there.

import { call, available } from './api.js';
import { model, bare, chatPeer, isRoom, resourceOf, conv, whenReady } from './state.js';
import { whenShort } from './view.js';

const MAX = 50; // messages asked of each archive
const PAGES_MAX = 20; // older pages read to reach a found message

export async function searchMessages(text, from = { chat: '', room: '' }) {
  await whenReady(); // our own address tells our messages
  const ask = (path, feature, before) => (before === null || before === undefined ? Promise.resolve(null)
    : available(() => call('GET', path, { query: { keywords: text, max: MAX, before }, keepEmpty: ['before'], feature })));
  const [chats, rooms] = await Promise.allSettled([
    ask('/chat/messages', 'archive', from.chat), ask('/groupchat/messages', 'rooms', from.room),
  ]);
  if (chats.status === 'rejected' && rooms.status === 'rejected') throw chats.reason;
  // Each archive's messages come oldest first: newest first within each,
  // the sort below keeps that order where two have the same time (a
  // burst within a millisecond, or a server that stamps seconds).
  const people = [];
  const roomMsgs = [];
  for (const group of (chats.status === 'fulfilled' && chats.value && chats.value.conversations) || []) {
    for (const m of group.messages || []) {
      if (!m.body || m.retracted) continue;
      const mine = bare(m.from) === model.jid;
      const peer = chatPeer(mine ? m.to : m.from);
      if (!peer || (isRoom(peer) && !resourceOf(peer))) continue;
      people.push({ conv: `chat:${peer}`, kind: 'chat', jid: peer, body: m.body, stamp: m.sentDate, stanzaId: m.stanzaId, from: m.from, mine });
    }
  }
  for (const group of (rooms.status === 'fulfilled' && rooms.value && rooms.value.conversations) || []) {
    for (const m of group.messages || []) {
      if (!m.body || m.retracted) continue;
      const room = bare(group.chatRoom || (group.room && group.room.jid) || m.from);
      if (!room) continue;
      roomMsgs.push({ conv: `room:${room}`, kind: 'room', jid: room, body: m.body, stamp: m.sentDate || m.delayStamp, stanzaId: m.stanzaId, from: m.from, mine: false });
    }
  }
  const t = (r) => Date.parse(r.stamp) || 0;
  // An archive that failed is not asked again: its older matches are
  // left out, as its newest were.
  const nextOf = (x) => (x.status === 'fulfilled' && x.value && x.value.complete === false && x.value.first ? x.value.first : null);
  const next = { chat: nextOf(chats), room: nextOf(rooms) };
  return {
    results: [...people.reverse(), ...roomMsgs.reverse()].sort((a, b) => t(b) - t(a)),
    more: next.chat !== null || next.room !== null,
    next,
  };
}

// merged is the results of two answers of one search, older ones added
// to those shown: none shown already (a guard: pages asked by `before`
// do not overlap), newest first (stable, so messages of one millisecond
// keep their order).
export function merged(shown, older) {
  const key = (r) => `${r.conv}\n${r.stanzaId || `${r.stamp}\n${r.from}\n${r.body}`}`;
  const seen = new Set(shown.map(key));
  const t = (r) => Date.parse(r.stamp) || 0;
  return [...shown, ...older.filter((r) => !seen.has(key(r)))].sort((a, b) => t(b) - t(a));
}

// marked appends text to el with every place it contains any of words
// (lower case; the text's case aside) inside a <mark>: the longest word
// where two start at one place.
export function marked(el, text, words) {
  const lower = text.toLowerCase();
  let at = 0;
  while (at < text.length) {
    let next = -1;
    let len = 0;
    for (const w of words) {
      const i = lower.indexOf(w, at);
      if (i >= 0 && (next < 0 || i < next || (i === next && w.length > len))) { next = i; len = w.length; }
    }
    if (next < 0) break;
    if (next > at) el.append(text.slice(at, next));
    const mark = document.createElement('mark');
    mark.textContent = text.slice(next, next + len);
    el.append(mark);
    at = next + len;
  }
  if (at < text.length) el.append(text.slice(at));
}

// excerpt cuts a long text (whitespace made single spaces) to 160
// characters around its first match, with "…" where it was cut, so that
// the match shows.
export function excerpt(text, words) {
  const one = text.replace(/\s+/g, ' ').trim();
  if (one.length <= 160) return one;
  const lower = one.toLowerCase();
  const first = Math.min(...words.map((w) => lower.indexOf(w)).filter((i) => i >= 0), one.length);
  const from = Math.max(0, Math.min(first - 60, one.length - 160));
  return (from > 0 ? '…' : '') + one.slice(from, from + 160) + (from + 160 < one.length ? '…' : '');
}

export function renderResults(list, text, results) {
  const words = String(text).toLowerCase().split(/\s+/).filter(Boolean);
  const items = results.map((r) => {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'found';
    b.dataset.conv = r.conv;
    if (r.stanzaId) b.dataset.stanza = r.stanzaId;
    const top = document.createElement('span');
    top.className = 'top';
    const name = document.createElement('span');
    name.className = 'name';
    const c = model.convs.get(r.conv);
    const who = r.kind === 'room' ? resourceOf(r.from) : (r.mine ? 'You' : '');
    name.textContent = (c ? c.title : (r.kind === 'room' ? r.jid.split('@')[0] : r.jid)) + (who ? ` · ${who}` : '');
    top.append(name);
    const at = Date.parse(r.stamp);
    if (at) {
      const when = document.createElement('time');
      when.className = 'when';
      when.dateTime = new Date(at).toISOString();
      when.textContent = whenShort(at);
      top.append(when);
    }
    const body = document.createElement('span');
    body.className = 'snippet';
    marked(body, excerpt(r.body, words), words);
    b.append(top, body);
    li.append(b);
    return li;
  });
  list.replaceChildren(...items);
}

export async function reveal(c, stanzaId, older) {
  const there = () => c.messages.some((m) => m.stanzaId === stanzaId);
  for (let i = 0; i < PAGES_MAX && !there(); i++) {
    if (!(await older(c))) break;
  }
  return there();
}

// convFor is the conversation whose id (a result's data-conv, "kind:jid")
// a result opens, made when the list does not hold it yet (an old chat).
export function convFor(id) {
  const at = id.indexOf(':');
  return model.convs.get(id) || conv(id.slice(0, at), id.slice(at + 1));
}
