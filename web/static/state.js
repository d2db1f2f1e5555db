// state.js: the client's model and nothing else. It holds who we are, the
// conversations with their messages and unread counts, contact requests,
// room invitations and the public room directory, and it keeps this tab's
// conversations in sessionStorage so that a reload loses nothing. It uses
// no DOM and no network: chat.js, rooms.js and contacts.js change it;
// every change is announced with changed(region, …) to the subscribers
// (view.js), which render the region in the next animation frame. The
// regions are 'lists', 'requests', 'header', 'messages', 'occupants',
// 'directory', 'me' (our own name, picture and presence) and 'blocked'.
//
// A message is kept once whatever path it took (live event, another tab's
// sent copy, a replay after a reconnect, the cache, the archive): keysOf
// lists each of its identities, and addMessage drops a message when any of
// them is known, keeping the new identities it brings. Messages with a
// stamp (archived or delayed) are placed in time order; live messages are
// appended in arrival order, with the tab's clock as their time, until the
// archive gives them again: then they take its time and their place among
// the archived ones (retime). Each kept message gets a `key`, unique in the
// tab, that the view uses to find its element.
//
// Unread counts: a tab counts the live messages of others in a
// conversation not in view, until the gateway's read state answers
// (setUnreadAll, from GET /chat/unread): from then on the counts and the
// id read up to (lastRead) are the gateway's, changed by chatapi.unread
// (setUnread) and cleared on every tab when one reads; an answer of GET
// /chat/unread that comes after the stream told of a conversation's
// later state leaves that conversation as the stream told it. The
// conversation in view counts none: the tab marks it read.
//
// The recent conversations (recent()) are those with a message, a draft
// or on screen, newest activity first: a new last message moves its
// conversation up (a 'lists' change).
//
// Each conversation has its own draft (the composer's text not sent yet),
// kept with the conversations in sessionStorage: switching conversations
// swaps the draft, and a reload keeps it.
//
// A message this tab sends has a `state`: 'pending' until the gateway
// answers the send, 'sent' with the id it answered (or that the echo to
// our own stream carried first), then 'delivered' (a XEP-0184 receipt
// for its id) and 'read' (a XEP-0333 displayed marker for it or a later
// message); 'failed' when the send failed or the server bounced it, until
// a retry makes it 'pending' again. A state only moves forward, and a
// receipt that comes before the send's answer is kept until the id is
// known. Messages of the archive and of other tabs have no state, or
// 'sent' for a live echo.
//
// Changes to a message (issue 19): a correction (XEP-0308), a retraction
// (XEP-0424) and one sender's reactions (XEP-0444) are applied by one
// function, modify, whether they come live (chatapi.chat with replace or
// retract, chatapi.reaction) or as an archive page's `updates`; a folded
// archive message brings the same fields (edited, retracted, reactions)
// and they replace what the tab had (the archive is the later word). A
// message keeps: edited, editId (the latest correction's id, which a
// later correction may name), retracted (body '' then), reactions
// ({sender: [emoji]}, the sender a bare JID, or room@service/nick in a
// room), replyTo (the id of the message it answers) and rev, counted up
// on every change so the view redraws it. A change for a message not
// held yet waits (bounded) until the message comes.

const CACHE = 'sparkgate.convs';
const KEEP = 200; // messages kept per conversation in the tab's cache

export const model = {
  jid: '',           // own bare JID
  domain: '',
  muc: '',           // the MUC service
  config: null,      // GET /config/global, when available
  convs: new Map(),  // id -> conversation
  active: '',        // the open conversation's id
  visible: true,     // the page is seen (not a hidden tab)
  requests: new Map(),    // bare JID -> true: contacts asking to add us
  blocked: new Set(),     // bare JIDs the user blocks (XEP-0191)
  muted: new Map(),       // conversation JID (bare, or room/nick) -> when the mute ends ('' never): mute.js
  strangers: null,        // when the mute of strangers ends ('' never), null when they are not muted: mute.js
  preview: 'full',        // how much a notification shows: 'full', 'sender' or 'none' (preview.js)
  pinned: [],             // ids of the conversations pinned to the top of Chats: pins.js
  marked: [],             // ids of the conversations marked unread by hand: marks.js
  invitations: new Map(), // room JID -> the chatapi.muc invitation
  directory: [],          // public rooms: {name, title}
  drafts: new Map(),      // conversation id -> the text not sent yet
  // Read state: once the gateway answered GET /chat/unread, the counts
  // are the gateway's (the same on every tab and device), kept here by
  // conversation id even for a conversation not made yet.
  serverUnread: false,
  reads: new Map(),       // conversation id -> {count, lastRead}
  avatars: new Map(),     // bare JID -> blob: URL of the person's picture (ours too)
  nicks: new Map(),       // bare JID -> the nickname a contact published (XEP-0172)
  me: { show: '', status: '' }, // our own presence, as we set it
  filter: '',             // the sidebar's search text: the lists show the conversations it names
};

// ---- change notification ----------------------------------------------------

const subscribers = new Set();

// subscribe calls fn(region, detail) on every change; it answers the
// function that unsubscribes.
export function subscribe(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

// changed announces that regions changed; detail (a conversation, for
// 'messages' and 'occupants') says which.
export function changed(regions, detail) {
  for (const r of [].concat(regions)) {
    for (const fn of subscribers) fn(r, detail);
  }
}

// setFilter makes the lists show only the conversations whose name or
// address contains text (case aside); '' shows them all.
export function setFilter(text) {
  const f = String(text || '').trim().toLowerCase();
  if (f === model.filter) return;
  model.filter = f;
  changed('lists');
}

// named tells whether c's name or address contains the filter.
export function named(c) {
  const f = model.filter;
  return !f || c.title.toLowerCase().includes(f) || c.jid.toLowerCase().includes(f);
}

// onIncoming calls fn(conversation, message) for each new live message
// (notify.js's signals); it answers the function that unsubscribes.
const incoming = new Set();
export function onIncoming(fn) {
  incoming.add(fn);
  return () => incoming.delete(fn);
}

// ---- addresses ----------------------------------------------------------------

export function bare(jid) { return String(jid || '').split('/')[0].toLowerCase(); }
export function resourceOf(jid) { const s = String(jid || ''); const i = s.indexOf('/'); return i < 0 ? '' : s.slice(i + 1); }
export function local(jid) { return bare(jid).split('@')[0]; }
export function domainOf(jid) { return bare(jid).split('@')[1] || ''; }

// toJID makes a user's bare JID of a username or an address.
export function toJID(s) {
  s = String(s || '').trim();
  if (!s) return '';
  return s.includes('@') ? bare(s) : `${s.toLowerCase()}@${model.domain}`;
}

// toRoomJID makes a room's bare JID of a room name or an address.
export function toRoomJID(s) {
  s = String(s || '').trim().toLowerCase();
  if (!s) return '';
  return s.includes('@') ? bare(s) : `${s}@${model.muc}`;
}

// isRoom tells whether jid is a room (or the MUC service itself): a room
// we know of, one that invited us, or any address on the MUC service.
export function isRoom(jid) {
  const b = bare(jid);
  return model.convs.has('room:' + b) || model.invitations.has(b) ||
    (model.muc !== '' && (b === model.muc || domainOf(b) === model.muc));
}

// chatPeer is the one-to-one conversation a chat with jid belongs to: a
// person's bare JID, or for a room's occupant (a private message, as the
// gateway counts it) room/nick, the nick's case kept.
export function chatPeer(jid) {
  const r = resourceOf(jid);
  return r && isRoom(jid) ? `${bare(jid)}/${r}` : bare(jid);
}

// privateRoom is the room of a private conversation (room/nick), '' for
// any other.
export function privateRoom(c) {
  return c && c.kind === 'chat' && resourceOf(c.jid) ? bare(c.jid) : '';
}

// ---- identity -------------------------------------------------------------------

let readyResolve;
let ready = new Promise((r) => { readyResolve = r; });

// setIdentity records our own address (from the stream's onConnect) and
// releases whenReady.
export function setIdentity(jid) {
  const was = model.jid;
  model.jid = bare(jid) || model.jid;
  if (model.jid !== was) changed('lists'); // the empty list gives our address
  model.domain = domainOf(model.jid) || model.domain;
  if (!model.muc && model.domain) model.muc = 'conference.' + model.domain;
  readyResolve();
}

// whenReady resolves once our own address is known, which telling our
// archived messages from the peer's needs.
export function whenReady() { return ready; }

// ---- conversations ------------------------------------------------------------

// conv answers the conversation of kind 'chat' or 'room' with jid, made
// when new.
export function conv(kind, jid, title) {
  const id = `${kind}:${jid}`;
  let c = model.convs.get(id);
  if (!c) {
    const read = model.reads.get(id);
    c = {
      id, kind, jid, title: title || model.nicks.get(jid) || defaultTitle(jid),
      messages: [], keys: new Set(), unread: 0,
      presence: kind === 'chat' ? 'offline' : '', status: '', typing: '',
      // heard: the peer showed it exists (wrote to us, sent presence);
      // reachable: its server did not bounce our last message.
      inRoster: false, heard: false, reachable: true, joined: false, nick: '', occupants: new Map(),
      // archive paging: history is true once the newest page was asked
      // for; before is the archive id to page back from; complete says
      // nothing older is left.
      history: false, before: '', complete: false, loading: false,
      openedAt: 0, // when first opened in this tab (the activity of a chat with no message yet)
      lastRead: read ? read.lastRead : '', // the id read up to (the gateway's read state)
      named: false, // the title is the contact list's name (a published nickname does not replace it)
    };
    if (read) c.unread = read.count;
    model.convs.set(id, c);
    changed('lists');
  }
  return c;
}

// defaultTitle names a conversation before anything better is known: the
// user name, or a room occupant's nick and the room.
export function defaultTitle(jid) {
  const nick = resourceOf(jid);
  return nick ? `${nick} (in ${local(jid)})` : local(jid);
}

export function activeConv() { return model.convs.get(model.active) || null; }

// open makes id the open conversation and marks it read. What was unread
// is kept as c.readMark, {lastRead, count}, for the "New messages" divider
// (view.js) while the conversation stays open; null when nothing was.
export function open(id) {
  const c = model.convs.get(id);
  if (!c) return null;
  if (model.active !== id) c.readMark = c.unread > 0 ? { lastRead: c.lastRead || '', count: c.unread } : null;
  model.active = id;
  c.unread = 0;
  if (!c.openedAt) c.openedAt = Date.now();
  changed(['lists', 'header', 'messages', 'occupants'], c);
  saveSoon();
  return c;
}

// markSeen clears the open conversation's unread count (the page came
// back into view).
export function markSeen() {
  const c = activeConv();
  if (c && c.unread) {
    c.unread = 0;
    changed('lists');
    saveSoon();
  }
}

export function removeConv(id) {
  model.convs.delete(id);
  if (model.active === id) model.active = '';
  changed(['lists', 'header', 'messages', 'occupants']);
  saveSoon();
}

// draftOf answers the conversation's unsent text ('' when none).
export function draftOf(id) { return model.drafts.get(id) || ''; }

// setDraft keeps text as the conversation's unsent text (none when empty).
export function setDraft(id, text) {
  if (!id || draftOf(id) === text) return;
  const had = model.drafts.has(id);
  if (text) model.drafts.set(id, text);
  else model.drafts.delete(id);
  if (had !== Boolean(text)) changed('lists'); // listed among the recent ones, or not
  saveSoon();
}

// lastMessage answers the conversation's newest message, or null.
// mentions tells whether body names nick as a word of its own, case
// folded: "hi bob" and "@bob:" mention bob, "bobcat" does not (the
// gateway's push of a room message that mentions the user decides alike).
export function mentions(body, nick) {
  if (!nick || !body) return false;
  const b = body.toLowerCase(), n = nick.toLowerCase();
  const word = /[\p{L}\p{N}_]/u;
  for (let i = b.indexOf(n); i >= 0; i = b.indexOf(n, i + 1)) {
    const before = i > 0 ? [...b.slice(0, i)].pop() : '';
    const after = [...b.slice(i + n.length)][0] || '';
    if (!word.test(before) && !word.test(after)) return true;
  }
  return false;
}

export function lastMessage(c) { return c.messages[c.messages.length - 1] || null; }

// activity is when something last happened in c: its newest message, or
// its opening in this tab.
export function activity(c) {
  const m = lastMessage(c);
  return Math.max(m ? m.t : 0, c.openedAt);
}

// recent lists the conversations with a message, a draft, a pin or on
// screen: the pinned ones first (pins.js), then the rest, each group the
// newest activity first.
export function recent() {
  const pinned = (c) => (model.pinned.includes(c.id) ? 1 : 0);
  return [...model.convs.values()]
    .filter((c) => c.messages.length > 0 || model.drafts.has(c.id) || c.id === model.active || pinned(c))
    .sort((a, b) => pinned(b) - pinned(a) || activity(b) - activity(a) || a.title.localeCompare(b.title));
}

// inView tells whether c is the conversation on screen.
function inView(c) {
  return model.active === c.id && model.visible;
}

// setUnread takes the gateway's read state of one conversation from the
// event stream (chatapi.unread): room tells its kind. A person's
// conversation with messages unread is made if new; a room is listed only
// once joined.
export function setUnread(jid, room, count, lastRead) {
  const id = room ? 'room:' + bare(jid) : 'chat:' + chatPeer(jid);
  streamReads.set(id, ++readsTold);
  applyRead(id, jid, room, count, lastRead);
}

// readsTold counts the read states the event stream told; streamReads
// keeps, by conversation id, the count when it last told one. GET
// /chat/unread reads the gateway's store when it is asked, and its answer
// can come after the stream told of later changes (a message counted, a
// read on another tab): those are newer than the answer.
let readsTold = 0;
const streamReads = new Map();

// unreadMark is what setUnreadAll takes as since: call it just before
// asking GET /chat/unread.
export function unreadMark() { return readsTold; }

function applyRead(id, jid, room, count, lastRead) {
  model.reads.set(id, { count, lastRead: lastRead || '' });
  let c = model.convs.get(id);
  if (!c && count > 0 && !room) c = conv('chat', chatPeer(jid));
  if (!c) return;
  c.lastRead = lastRead || '';
  const n = inView(c) ? 0 : count;
  if (c.unread === n) return;
  c.unread = n;
  changed('lists');
  saveSoon();
}

// setUnreadAll takes GET /chat/unread's answer, asked for when
// unreadMark() was since: the gateway's counts replace the tab's, and a
// conversation it does not list has none, except where the event stream
// told a read state after since (newer than the answer).
export function setUnreadAll(list, since = readsTold) {
  model.serverUnread = true;
  const newer = (id) => (streamReads.get(id) || 0) > since;
  const listed = new Set();
  for (const u of list) {
    const id = u.room ? 'room:' + bare(u.jid) : 'chat:' + chatPeer(u.jid);
    listed.add(id);
    if (!newer(id)) applyRead(id, u.jid, u.room, u.count, u.lastRead);
  }
  for (const c of model.convs.values()) {
    if (!listed.has(c.id) && c.unread && !newer(c.id)) { c.unread = 0; changed('lists'); }
  }
}

// setAvatar shows url (a blob: URL, '' for none) as jid's picture.
export function setAvatar(jid, url) {
  const b = bare(jid);
  if ((model.avatars.get(b) || '') === url) return;
  if (url) model.avatars.set(b, url);
  else model.avatars.delete(b);
  changed(b === model.jid ? 'me' : ['lists', 'header']);
}

// setNick takes the nickname a contact published ('' withdrawn): it is
// the conversation's title unless the contact list names the person.
export function setNick(jid, nick) {
  const b = bare(jid);
  if (nick) model.nicks.set(b, nick);
  else model.nicks.delete(b);
  const c = model.convs.get('chat:' + b);
  if (!c || c.named) return;
  c.title = nick || local(b);
  changed(['lists', 'header']);
}

// ownNick records nick as ours in the room c. The room's messages under
// it are ours too: an archive page or the room's history can come before
// the room tells which nick is ours (a session the gateway entered the
// room with before this tab opened).
export function ownNick(c, nick) {
  if (!nick || c.nick === nick) return;
  c.nick = nick;
  let any = false;
  for (const m of c.messages) {
    if (!m.mine && m.nick === nick) {
      m.mine = true;
      m.rev = (m.rev || 0) + 1;
      any = true;
    }
  }
  if (any) changed(['messages', 'lists'], c);
  saveSoon();
}

// setMe records our own presence as we set it.
export function setMe(show, status) {
  model.me = { show: show || '', status: status || '' };
  changed('me');
}

export function totalUnread() {
  let n = 0;
  for (const c of model.convs.values()) n += c.unread || (model.marked.includes(c.id) ? 1 : 0);
  return n;
}

// clear forgets everything (sign-out); the cache is cleared with the
// session's storage.
export function clear() {
  model.jid = '';
  model.convs.clear();
  model.active = '';
  model.requests.clear();
  model.blocked.clear();
  model.muted.clear();
  model.strangers = null;
  model.preview = 'full';
  model.pinned = [];
  model.marked = [];
  model.invitations.clear();
  model.directory = [];
  model.drafts.clear();
  model.serverUnread = false;
  model.reads.clear();
  for (const url of model.avatars.values()) URL.revokeObjectURL(url);
  model.avatars.clear();
  model.nicks.clear();
  model.me = { show: '', status: '' };
  model.filter = '';
  early.clear();
  streamReads.clear();
  ready = new Promise((r) => { readyResolve = r; });
  changed(['lists', 'requests', 'header', 'messages', 'occupants', 'directory', 'me', 'blocked']);
}

// ---- messages ---------------------------------------------------------------------

// keysOf lists every identity of a message: its id, its archive id and, for
// a delayed message, sender + nick + body + time to the second.
export function keysOf(m) {
  const k = [];
  if (m.id) k.push('id:' + m.id);
  if (m.stanzaId) k.push('sid:' + m.stanzaId);
  if (m.stamp) k.push(`st:${bare(m.from)}|${m.nick || ''}|${m.body}|${String(m.stamp).slice(0, 19)}`);
  return k;
}

// sameMessage finds our own message shown before the archive gave it an
// archive id (the send answer carries only the message id): same body,
// sent within two minutes, no archive id yet.
export function sameMessage(c, m) {
  if (!m.mine || !m.stanzaId) return null;
  const t = Date.parse(m.ts || m.stamp);
  return c.messages.find((x) => x.mine && !x.stanzaId && x.body === m.body &&
    Math.abs(Date.parse(x.ts) - t) < 120000) || null;
}

let seq = 0;   // message keys
let low = 0;   // order of messages from older archive pages

// later tells whether a sorts after b: by time, then by arrival.
function later(a, b) {
  if (a.t !== b.t) return a.t > b.t;
  if ((a.sub || 0) !== (b.sub || 0)) return (a.sub || 0) > (b.sub || 0);
  return a.order > b.order;
}

// subMs answers the part of a time stamp finer than a millisecond, in
// nanoseconds (0 to 999,999), which Date.parse drops: the archive stamps
// messages to the microsecond, and two sent within one millisecond would
// otherwise be ordered by when this tab learnt of them.
export function subMs(ts) {
  const f = /\.(\d+)/.exec(ts || '');
  if (!f || f[1].length <= 3) return 0;
  return Number((f[1].slice(3) + '000000').slice(0, 6));
}

// addMessage keeps m in c unless it is known already; it answers whether m
// is new. live counts it as unread when the conversation is not in view
// and saves the cache at once (its event id is stored as seen already);
// older places it before every message of the same time (it comes from
// an older archive page, added newest first).
export function addMessage(c, m, { live = false, older = false } = {}) {
  const twin = sameMessage(c, m);
  if (twin) {
    twin.stanzaId = m.stanzaId;
    for (const k of keysOf(twin)) c.keys.add(k);
  }
  const keys = keysOf(m);
  if (keys.some((k) => c.keys.has(k))) {
    // Known; remember any new identity (e.g. the archive id).
    const old = c.messages.find((x) => keysOf(x).some((k) => keys.includes(k)));
    if (old) {
      if (!old.stanzaId && m.stanzaId) { old.stanzaId = m.stanzaId; changed('messages', c); }
      if (!old.id && m.id) old.id = m.id;
      if (m.stamp && !old.stamp) retime(c, old, m.stamp);
      if (m.folded && refold(old, m)) { changed(['messages', 'lists'], c); saveSoon(); }
    }
    for (const k of keys) c.keys.add(k);
    return false;
  }
  for (const k of keys) c.keys.add(k);
  if (!m.mine) c.heard = true;
  if (!m.ts) m.ts = m.stamp || new Date().toISOString();
  m.rev = 0;
  applyWaiting(c, m);
  m.t = Date.parse(m.ts) || 0;
  m.sub = subMs(m.ts);
  m.key = ++seq;
  m.order = older ? --low : seq;
  const list = c.messages;
  if (!m.stamp) {
    list.push(m);
  } else {
    let i = list.length;
    while (i > 0 && later(list[i - 1], m)) i--;
    list.splice(i, 0, m);
  }
  changed('messages', c);
  let lists = lastMessage(c) === m; // the conversation's activity and snippet
  if (live && !m.mine && !inView(c)) {
    if (!model.serverUnread) c.unread++; // else the gateway's chatapi.unread says
    lists = true;
  }
  if (lists) changed('lists');
  if (live) for (const fn of incoming) fn(c, m);
  if (live) {
    saveNow();
  } else {
    saveSoon();
  }
  return true;
}

// retime gives old, a message of c that came live, the time stamp the
// archive now gives it (m.stamp), and moves it to its place in time
// order. A live message is appended when it comes, with this tab's clock
// at its arrival; its live copy can come later than the archive's answer
// holding the next message (restore.js at sign-in, or the page a
// conversation opens on), which would then stand above it. The archive's
// time is the server's, the same clock as the other archived messages'.
function retime(c, old, stamp) {
  const t = Date.parse(stamp);
  if (!t) return;
  old.stamp = stamp;
  old.ts = stamp;
  old.t = t;
  old.sub = subMs(stamp);
  for (const k of keysOf(old)) c.keys.add(k);
  const list = c.messages;
  // The "New messages" divider's message (view.js keeps it in
  // c.readMark.key) and those after it were unread: it moves to the
  // first of them in the new order.
  const mark = c.readMark && c.readMark.key ? list.findIndex((x) => x.key === c.readMark.key) : -1;
  const unread = mark < 0 ? null : new Set(list.slice(mark).map((x) => x.key));
  // It moves back over the archived (stamped) messages later than it,
  // never over one that came live: a live message's time is the tab's
  // clock, not the server's, and between live messages arrival order is
  // the order (comparing the two clocks put a page of 100 messages out of
  // order when they came live a few milliseconds apart).
  let i = list.indexOf(old);
  list.splice(i, 1);
  while (i > 0 && list[i - 1].stamp && later(list[i - 1], old)) i--;
  list.splice(i, 0, old);
  if (unread) c.readMark.key = (list.find((x) => unread.has(x.key) && !x.mine) || {}).key || c.readMark.key;
  old.rev = (old.rev || 0) + 1; // its time is drawn again
  changed(['messages', 'lists'], c);
  saveSoon();
}

// ---- the states of sent messages ---------------------------------------------------

const RANK = { pending: 0, sent: 1, delivered: 2, read: 3 };
const EARLY_MAX = 256; // receipts kept for ids not known yet (a bound, not a cache)
const early = new Map(); // message id -> 'delivered', 'read' or 'failed' (a bounce)

// setSendState puts m, our message in c, in state s (see the top).
export function setSendState(c, m, s) {
  if (m.state === s) return;
  m.state = s;
  changed('messages', c);
  saveSoon();
}

// forward moves m on to s when s is further than its state; a message
// with no state, or failed, stays as it is.
function forward(m, s) {
  if (!m.mine || !(m.state in RANK) || RANK[s] <= RANK[m.state]) return false;
  m.state = s;
  return true;
}

// sentAs records that the gateway sent m with id: m is 'sent', or further
// if a receipt for id came first.
export function sentAs(c, m, id) {
  if (id && m.id !== id) {
    m.id = id;
    c.keys.add('id:' + id);
  }
  // Only a pending message becomes sent: a bounce may have failed it
  // already (our own echo named it before the send's answer came).
  if (m.state === 'pending') m.state = 'sent';
  const r = id && early.get(id);
  if (r) early.delete(id);
  if (r === 'failed') m.state = 'failed';
  else if (r) applyReceipt(c, id, r === 'read' ? 'displayed' : 'received');
  changed('messages', c);
  saveSoon();
}

// In a room a message is 'sent' only when the room reflects it back to
// us (XEP-0045: every occupant gets it, the sender too, with the same id):
// the send's answer only gives it its id (acceptedAs), and the
// reflection (reflected) makes it sent, even one that was failed meanwhile
// (the room took it after all).

// acceptedAs records the id the gateway sent our room message m with.
export function acceptedAs(c, m, id) {
  if (!id || m.id === id) return;
  m.id = id;
  c.keys.add('id:' + id);
  saveSoon();
}

// reflected takes the room's copy of one of our messages (id, body,
// stanzaId): the message shown is sent. It answers whether one was found.
export function reflected(c, { id, body, stanzaId }) {
  const m = c.messages.find((x) => x.mine && id && x.id === id) || pendingTwin(c, body);
  if (!m) return false;
  if (id && !m.id) { m.id = id; c.keys.add('id:' + id); }
  if (stanzaId && !m.stanzaId) { m.stanzaId = stanzaId; c.keys.add('sid:' + stanzaId); }
  if (m.state === 'pending' || m.state === 'failed') m.state = 'sent';
  changed('messages', c);
  saveSoon();
  return true;
}

// pendingTwin finds our message in c still waiting for the send's answer
// with this body: the echo of the send to our own stream may come first.
export function pendingTwin(c, body) {
  return c.messages.find((x) => x.mine && x.state === 'pending' && x.body === body) || null;
}

// applyReceipt takes a receipt (type 'received') or displayed marker
// (type 'displayed') for our message id in c: delivered, or read with
// every earlier message. It answers whether the message was known.
export function applyReceipt(c, id, type) {
  const s = type === 'displayed' ? 'read' : 'delivered';
  const i = c ? c.messages.findIndex((m) => m.mine && m.id === id) : -1;
  if (i < 0) {
    if (!early.has(id) || RANK[s] > RANK[early.get(id)]) early.set(id, s);
    if (early.size > EARLY_MAX) early.delete(early.keys().next().value);
    return false;
  }
  let moved = false;
  if (s === 'read') {
    for (let j = 0; j <= i; j++) moved = forward(c.messages[j], 'read') || moved;
  } else {
    moved = forward(c.messages[i], 'delivered');
  }
  if (moved) {
    changed('messages', c);
    saveSoon();
  }
  return true;
}

// bounced marks our message id in c failed (the server sent it back); it
// answers the message, or null.
export function bounced(c, id) {
  const m = c && id ? c.messages.find((x) => x.mine && x.id === id) : null;
  if (m) setSendState(c, m, 'failed');
  else if (id) {
    // The bounce came before the send's answer named the message: sentAs fails it.
    early.set(id, 'failed');
    if (early.size > EARLY_MAX) early.delete(early.keys().next().value);
  }
  return m || null;
}

// ---- changes to messages: corrections, retractions, reactions ---------------------

const WAIT_MAX = 256; // changes kept per conversation for messages not held yet

// senderKey names who sent m (or a change): the bare JID in a chat, the
// occupant (room@service/nick) in a room.
function senderKey(c, from) {
  return c.kind === 'room' ? String(from || '') : bare(from);
}

// targetOf finds the message of c that id names: its id, the id of its
// latest correction, its origin id or its archive id.
export function targetOf(c, id) {
  if (!c || !id) return null;
  return c.messages.find((m) => m.id === id) ||
    c.messages.find((m) => m.editId === id || m.originId === id || m.stanzaId === id) || null;
}

// modify applies one change to the message of c it names:
// {kind: 'correction'|'retraction'|'reactions', target, from, id, body,
// reactions, ts}. A correction or retraction counts only from the
// message's sender. It answers whether a message changed; a change for a
// message not held yet waits for it.
export function modify(c, mod) {
  const m = targetOf(c, mod.target);
  if (!m) {
    if (!c.waiting) c.waiting = [];
    c.waiting.push(mod);
    if (c.waiting.length > WAIT_MAX) c.waiting.shift();
    return false;
  }
  if (!change(c, m, mod)) return false;
  m.rev = (m.rev || 0) + 1;
  changed('messages', c);
  if (lastMessage(c) === m) changed('lists');
  saveSoon();
  return true;
}

// change does modify's work on m, without announcing it.
function change(c, m, mod) {
  const who = senderKey(c, mod.from);
  const sender = m.mine ? (c.kind === 'room' ? `${c.jid}/${c.nick}` : model.jid) : senderKey(c, m.from);
  switch (mod.kind) {
    case 'correction':
      if (m.retracted || !mod.body || (who !== sender && !(m.mine && mod.mine))) return false;
      if (m.edited && m.body === mod.body && (!mod.id || m.editId === mod.id)) return false; // seen already (our own echo)
      m.body = mod.body;
      m.edited = true;
      if (mod.id) m.editId = mod.id;
      if (m.file && m.body.trim() !== m.file.url) m.file = undefined;
      return true;
    case 'retraction':
      if (m.retracted || (who !== sender && !(m.mine && mod.mine))) return false;
      m.retracted = true;
      m.body = '';
      m.file = undefined;
      m.edited = false;
      m.reactions = undefined;
      return true;
    case 'reactions': {
      if (m.retracted) return false;
      const key = mod.mine ? (c.kind === 'room' ? `${c.jid}/${c.nick}` : model.jid) : who;
      const set = [...new Set((mod.reactions || []).filter((r) => typeof r === 'string' && r))];
      const all = { ...(m.reactions || {}) };
      if (set.length) all[key] = set;
      else delete all[key];
      m.reactions = Object.keys(all).length ? all : undefined;
      return true;
    }
    default:
      return false;
  }
}

// applyWaiting applies to m, a message just added to c, the changes that
// came before it.
function applyWaiting(c, m) {
  if (!c.waiting || !c.waiting.length) return;
  const ids = [m.id, m.originId, m.stanzaId].filter(Boolean);
  const rest = [];
  for (const mod of c.waiting) {
    if (ids.includes(mod.target) || (m.editId && mod.target === m.editId)) change(c, m, mod);
    else rest.push(mod);
  }
  c.waiting = rest;
}

// refold takes the archive's folded fields of a message shown already:
// they are the latest word. It answers whether anything changed.
function refold(old, m) {
  const next = { body: m.body, edited: Boolean(m.edited), retracted: Boolean(m.retracted), reactions: m.reactions, replyTo: m.replyTo || old.replyTo };
  const now = { body: old.body, edited: Boolean(old.edited), retracted: Boolean(old.retracted), reactions: old.reactions, replyTo: old.replyTo };
  if (JSON.stringify(next) === JSON.stringify(now) && (!m.editId || old.editId === m.editId)) return false;
  Object.assign(old, next);
  if (m.editId) old.editId = m.editId;
  if (old.retracted) old.file = undefined;
  old.rev = (old.rev || 0) + 1;
  return true;
}

// roomRef answers the id by which a room names m when it is retracted,
// reacted to or answered: the room's stanza-id (XEP-0359, as XEP-0424,
// XEP-0444 and XEP-0461 ask in groupchat); '' when the room has not
// given it (yet), or when the user is not in the room. A correction
// names m by its own id.
export function roomRef(c, m) {
  return c && c.kind === 'room' && c.joined && m.stanzaId ? m.stanzaId : '';
}

// editable tells whether m, a message of c, can be corrected or retracted:
// ours, sent (it has its id; in a room the room's stanza-id too) and not
// retracted.
export function editable(c, m) {
  return Boolean(c && m && m.mine && m.id && (c.kind === 'chat' || roomRef(c, m)) && !m.retracted && !m.file &&
    m.state !== 'pending' && m.state !== 'failed');
}

// reactable tells whether m can be reacted to or answered.
export function reactable(c, m) {
  return Boolean(c && m && (c.kind === 'chat' ? m.id : roomRef(c, m)) && !m.retracted && m.state !== 'pending' && m.state !== 'failed');
}

// reactionCounts lists m's reactions as {emoji, who: [sender], mine},
// in the order first given.
export function reactionCounts(c, m) {
  const me = c.kind === 'room' ? `${c.jid}/${c.nick}` : model.jid;
  const out = new Map();
  for (const [who, set] of Object.entries(m.reactions || {})) {
    for (const e of set) {
      if (!out.has(e)) out.set(e, { emoji: e, who: [], mine: false });
      const r = out.get(e);
      r.who.push(who);
      if (who === me) r.mine = true;
    }
  }
  return [...out.values()];
}

// myReactions answers our own reactions to m.
export function myReactions(c, m) {
  const me = c.kind === 'room' ? `${c.jid}/${c.nick}` : model.jid;
  return (m.reactions && m.reactions[me]) || [];
}

// ---- persistence of the tab's conversations (survives a reload) -----------

const storage = () => globalThis.sessionStorage;

let saveTimer = 0;
let savePending = false;

// saveNow saves once the current task is done, however many messages it adds.
function saveNow() {
  if (savePending) return;
  savePending = true;
  queueMicrotask(() => { savePending = false; save(); });
}

export function saveSoon() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(save, 200);
}

export function save() {
  clearTimeout(saveTimer);
  if (!model.jid && model.convs.size === 0 && model.drafts.size === 0) return;
  const out = [];
  for (const c of model.convs.values()) {
    out.push({
      kind: c.kind, jid: c.jid, title: c.title, named: c.named, unread: c.unread, joined: c.joined, nick: c.nick,
      messages: c.messages.slice(-KEEP).map(({ id, stanzaId, originId, stamp, ts, from, to, nick, body, mine, state, file, edited, editId, retracted, reactions, replyTo }) =>
        ({ id, stanzaId, originId, stamp, ts, from, to, nick, body, mine, state, file, edited, editId, retracted, reactions, replyTo })),
    });
  }
  try {
    storage().setItem(CACHE, JSON.stringify({ active: model.active, convs: out, drafts: [...model.drafts], me: model.me }));
  } catch { /* quota: the archive still has everything */ }
}

// restore loads the tab's conversations saved by save.
export function restore() {
  let saved;
  try { saved = JSON.parse(storage().getItem(CACHE) || 'null'); } catch { saved = null; }
  if (!saved) return;
  for (const s of saved.convs || []) {
    const c = conv(s.kind, s.jid, s.title);
    c.unread = s.unread || 0;
    c.joined = Boolean(s.joined);
    c.nick = s.nick || '';
    c.named = Boolean(s.named); // the title is the roster's (loadRoster checks it)
    for (const m of s.messages || []) {
      // A send the reload cut short: sent if the gateway gave it an id.
      if (m.state === 'pending') m.state = m.id ? 'sent' : 'failed';
      addMessage(c, m);
    }
  }
  for (const [id, text] of saved.drafts || []) if (typeof text === 'string' && text) model.drafts.set(id, text);
  model.active = model.convs.has(saved.active) ? saved.active : '';
  if (saved.me) model.me = { show: saved.me.show || '', status: saved.me.status || '' };
  changed(['lists', 'header', 'messages', 'me']);
}
