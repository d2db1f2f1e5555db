// restore.js: the Chats list on a tab or device that has seen nothing yet.
// A tab's conversations live in its sessionStorage (state.js), so a new
// tab, another browser or another device would start with an empty list.
// At each sign-in the list is rebuilt from what the server keeps:
//
//   - the people: the archive's newest RECENT one-to-one messages (GET
//     /chat/messages with no peer and an empty `before`), grouped into
//     their conversations: each gets its last message, hence its snippet,
//     its time and its place in the list. Opening one loads its own
//     newest page, where that message is met again and kept once
//     (state.js's identities).
//   - the rooms: the group-chat bookmarks marked autojoin, with their
//     newest page of history. The gateway enters the person's joined rooms
//     itself when their session opens, so a room the session is in already
//     is taken as it is (rooms.js's resumeRoom), never joined twice; only
//     one it is not in is joined.
//     Joining a room from this client bookmarks it that way (and leaving
//     removes the bookmark), so the rooms follow the person; the gateway
//     offers the same bookmarks to their other XMPP clients (XEP-0402).
//
// Unread counts are not rebuilt from the archive, which does not say what
// another device showed: they are the gateway's read state (chat.js's
// loadUnread, GET /chat/unread).

import { call, seg, available } from './api.js';
import { model, conv, addMessage, whenReady, bare, local, isRoom, chatPeer, resourceOf } from './state.js';
import { resumeRoom } from './rooms.js';
import { loadHistory } from './chat.js';

const RECENT = 200; // archived messages asked for: enough for a screenful of conversations
const AUTOJOIN = 'autojoin';

// marks maps a room's JID to the id of the bookmark that brings it back.
const marks = new Map();

// restoreChats rebuilds the people's conversations and rejoins the
// bookmarked rooms; failures leave the list as it was.
export async function restoreChats() {
  await whenReady();
  await Promise.all([fromArchive().catch(() => {}), fromBookmarks().catch(() => {})]);
}

async function fromArchive() {
  const res = await available(() => call('GET', '/chat/messages', {
    query: { max: RECENT, before: '' }, keepEmpty: ['before'], feature: 'archive',
  }));
  // Each peer's newest message: the rest comes with the conversation's
  // own first page when it is opened.
  const newest = new Map();
  for (const group of (res && res.conversations) || []) {
    for (const m of group.messages || []) {
      if (!m.body) continue;
      const mine = bare(m.from) === model.jid;
      // A person, or a room's occupant written to privately; not a room.
      const peer = chatPeer(mine ? m.to : m.from);
      if (!peer || peer === model.jid || (isRoom(peer) && !resourceOf(peer))) continue;
      const seen = newest.get(peer);
      if (!seen || Date.parse(seen.sentDate) <= Date.parse(m.sentDate)) newest.set(peer, { ...m, mine });
    }
  }
  for (const [peer, m] of newest) {
    addMessage(conv('chat', peer), {
      id: m.id || undefined, stanzaId: m.stanzaId, stamp: m.sentDate, from: m.from, to: m.to, body: m.body, mine: m.mine,
    });
  }
}

const autojoins = (b) => b.type === 'group_chat' && b.value &&
  (b.properties || []).some((p) => p.key === AUTOJOIN && p.value === 'true');

async function fromBookmarks() {
  const res = await available(() => call('GET', '/bookmarks', { feature: 'bookmarks' }));
  const joins = [];
  for (const b of (res && res.bookmarks) || []) {
    if (!autojoins(b)) continue;
    const room = bare(b.value);
    marks.set(room, b.bookmarkID);
    // The room's newest page gives it its place in the list: the join
    // itself brings no history when the person's XMPP session is in the
    // room already (another tab or device). A room the stream told of
    // already (its subject or history, from the gateway's own entry) but
    // not of our nick in it is resumed too: the nick says which of its
    // messages are ours, and our role what we may do there.
    const known = model.convs.get('room:' + room);
    if (!known || !known.nick) joins.push(resumeRoom(room).then(loadHistory).catch(() => {}));
  }
  await Promise.all(joins);
}

// bookmarkRoom keeps the joined room c among the person's bookmarks (once).
export async function bookmarkRoom(c) {
  if (marks.has(c.jid)) return;
  marks.set(c.jid, 0); // asked for: a second join does not ask again
  try {
    const b = await call('POST', '/bookmark', {
      json: { type: 'group_chat', name: local(c.jid), value: c.jid, users: [local(model.jid)], properties: [{ key: AUTOJOIN, value: 'true' }] },
      feature: 'bookmarks',
    });
    marks.set(c.jid, b.bookmarkID);
  } catch {
    marks.delete(c.jid);
  }
}

// forgetRoom removes the bookmark of the room c was, after leaving it.
export async function forgetRoom(c) {
  const id = marks.get(c.jid);
  marks.delete(c.jid);
  if (id) await call('DELETE', `/bookmark/${seg(String(id))}`, { feature: 'bookmarks' }).catch(() => {});
}

// forgetMarks forgets the bookmarks seen (sign-out).
export function forgetMarks() { marks.clear(); }
