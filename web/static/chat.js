// chat.js: one-to-one conversations and what every conversation shares:
// opening one, its archived history, sending (text, files, meeting links),
// chat states, and the chatapi.chat events. Actions call api.js and change
// the model (state.js); they never draw (view.js does, from the model's
// change notices) except for notices of what went wrong.
//
// History opens on the archive's newest page (an empty `before`) and
// pages back with the `first` id of the oldest page shown, PAGE messages at
// a time, until the archive says the history is complete. Chat states
// (XEP-0085) are sent only to a peer that has shown it exists (wrote to
// us, or sent presence), and a peer whose server bounced our message is
// never shown as typing: a bounce echoes our own chat state back.
//
// Changes to messages (issue 19): the archive's folded fields and its
// `updates`, the live corrections and retractions (chatapi.chat with
// replace or retract) and reactions (chatapi.reaction) all go to
// state.js's modify; correct, retract and react ask the gateway, then
// change the model the same way (the echo changes nothing again).

import { call, seg, features, available, ApiError } from './api.js';
import {
  model, conv, open, addMessage, activeConv, changed, whenReady, bare, local, resourceOf, isRoom, subscribe, chatPeer,
  setSendState, sentAs, pendingTwin, applyReceipt, bounced, acceptedAs, setUnreadAll, unreadMark, modify, myReactions, editable, reactable, roomRef,
} from './state.js';
import { notice, fail, applyFeatures, setHistoryBusy } from './view.js';
import { onRoomChatState } from './rooms.js';

export const PAGE = 100;

// openConv makes id the open conversation and loads its newest history
// the first time. It answers the conversation (null when unknown) and a
// promise of that first page.
export function openConv(id) {
  const c = open(id);
  const loaded = c && !c.history ? loadHistory(c).catch(() => {}) : Promise.resolve();
  return { c, loaded };
}

// ---- history ------------------------------------------------------------------

// loadHistory asks the archive for the newest page of c (again after a
// gap in the stream).
export async function loadHistory(c) {
  c.history = true;
  c.complete = false;
  await loadPage(c, '');
}

// loadOlder asks for the page before the oldest one shown, if any is left
// and none is on its way.
export async function loadOlder(c) {
  if (!c || !c.history || c.complete || c.loading || !c.before) return false;
  await loadPage(c, c.before);
  return true;
}

async function fetchPage(c, before) {
  const opts = { keepEmpty: ['before'] };
  if (c.kind === 'chat') {
    const res = await available(() => call('GET', '/chat/messages', {
      ...opts, query: { to: c.jid, max: PAGE, before }, feature: 'archive',
    }));
    if (!res) return null;
    const msgs = [], updates = [];
    for (const conversation of res.conversations || []) {
      for (const m of conversation.messages || []) {
        if (!m.body && !m.retracted) continue;
        msgs.push({
          id: m.id || undefined,
          from: m.from, to: m.to, body: m.body || '', stanzaId: m.stanzaId, stamp: m.sentDate,
          mine: bare(m.from) === model.jid, file: m.retracted ? undefined : oobOf(m), ...folded(m, bare),
        });
      }
      updates.push(...(conversation.updates || []));
    }
    return { msgs, updates, first: res.first, complete: res.complete };
  }
  const res = await available(() => call('GET', `/groupchat/room/${seg(local(c.jid))}/chathistory`, {
    ...opts, query: { max: PAGE, serviceName: c.jid.split('@')[1], before }, feature: 'rooms',
  }));
  if (!res) return null;
  const msgs = [];
  for (const m of res.messages || []) {
    if (!m.body && !m.retracted) continue;
    const nick = resourceOf(m.from);
    msgs.push({
      id: m.id || undefined, from: m.from, body: m.body || '', stanzaId: m.stanzaId, stamp: m.delayStamp, nick,
      mine: nick === c.nick, ...folded(m, String),
    });
  }
  return { msgs, updates: res.updates || [], first: res.first, complete: res.complete };
}

// folded reads the fields of a folded archive message (edited,
// retracted, reactions, replyTo; see openapi.yaml's ArchivedMessage):
// who names a reaction's sender as the model keeps it.
function folded(m, who) {
  const out = { folded: true, originId: m.originId || undefined, replyTo: m.replyTo || undefined };
  if (m.retracted) return { ...out, retracted: true, body: '' };
  if (m.edited) { out.edited = true; out.editId = m.editId || undefined; }
  if (Array.isArray(m.reactions) && m.reactions.length) {
    out.reactions = {};
    for (const r of m.reactions) if (r && r.from && Array.isArray(r.reactions) && r.reactions.length) out.reactions[who(r.from)] = r.reactions;
  }
  return out;
}

// updateOf is the model's change (state.js modify) for an archive page's
// update (ArchiveUpdate).
function updateOf(u) {
  return {
    kind: u.kind, target: u.target, from: u.from, id: u.id, body: u.body, reactions: u.reactions || [],
    mine: bare(u.from) === model.jid,
  };
}

async function loadPage(c, before) {
  await whenReady(); // our own address tells our messages
  c.loading = true;
  if (before) setHistoryBusy(true);
  try {
    const page = await fetchPage(c, before);
    if (!page) { c.complete = true; return; }
    const older = before !== '';
    // An older page goes in newest first, each before what is shown.
    for (const m of older ? page.msgs.reverse() : page.msgs) addMessage(c, m, { older });
    // Changes on this page to messages of older pages, oldest first.
    for (const u of page.updates) modify(c, updateOf(u));
    if (page.first && (older || !c.before)) c.before = page.first;
    // A gateway that does not page says nothing of completeness.
    if (page.complete !== false || !page.first) c.complete = true;
  } finally {
    c.loading = false;
    if (before) setHistoryBusy(false);
  }
}

// reloadHistory is for a gap in the stream: the open conversation asks the
// archive again, the others when next opened.
export function reloadHistory() {
  for (const c of model.convs.values()) {
    c.history = false;
    if (c.id === model.active) loadHistory(c).catch(() => {});
  }
}

// ---- chat states -----------------------------------------------------------------

let composing = false, composingAt = 0, pauseTimer = 0;

// typed tells the peer, or the room's occupants, we are composing (at most
// every 10 s), and that we paused after 4 s without a key.
export function typed() {
  const c = activeConv();
  if (!c || (c.kind === 'chat' ? !c.heard || !c.reachable : !c.joined)) return;
  const now = Date.now();
  if (!composing || now - composingAt > 10000) {
    composing = true;
    composingAt = now;
    chatState(c, 'composing');
  }
  clearTimeout(pauseTimer);
  pauseTimer = setTimeout(() => {
    if (composing) { composing = false; chatState(c, 'paused'); }
  }, 4000);
}

function chatState(c, s) {
  call('POST', `/chat/chatstate/${s}/${seg(c.jid)}`).catch(() => {});
}

// ---- sending ----------------------------------------------------------------------

// send sends text to c, the open conversation unless named; file
// ({url, desc}, an upload) sends it as a file (XEP-0066 out-of-band data
// in a chat; its URL as the text in a room). The message is shown at once
// as pending and then follows its state (see state.js): in a room, sent
// once the room reflects it. A send that fails leaves it failed, with
// Retry, and is said in a notice, but does not throw: the text is in the
// list, not lost.
export async function send(text, c = activeConv(), file = undefined, replyTo = undefined) {
  if (!c || !text) return;
  clearTimeout(pauseTimer);
  composing = false;
  const m = c.kind === 'chat'
    ? { from: model.jid, to: c.jid, body: text, mine: true, state: 'pending', file, replyTo: replyTo || undefined }
    : { from: `${c.jid}/${c.nick}`, nick: c.nick, body: text, mine: true, state: 'pending', replyTo: replyTo || undefined };
  addMessage(c, m, { live: true });
  await post(c, m);
}

// replyNick is the nickname of who wrote the message of room c that a
// reply names (the room's stanza-id), when the tab holds it.
function replyNick(c, ref) {
  const t = c.messages.find((x) => x.stanzaId === ref);
  return t ? (t.mine ? c.nick : t.nick) || undefined : undefined;
}

// ROOM_WAIT is how long a room message waits for its reflection before it
// is shown failed (the room took the send but never passed it on).
export const ROOM_WAIT = 20000;

// post sends m, our pending message in c, and records the answer.
async function post(c, m) {
  let res;
  try {
    res = c.kind === 'chat'
      ? await call('POST', `/chat/message/${seg(c.jid)}`, m.file
        ? { body: m.file.desc || m.file.url, query: { file: m.file.url } }
        : { body: m.body, query: { replyTo: m.replyTo } })
      : await call('POST', roomPath(c), roomOpts(c, { body: m.body, query: { replyTo: m.replyTo, replyToNick: m.replyTo ? replyNick(c, m.replyTo) : undefined } }));
  } catch (e) {
    setSendState(c, m, 'failed');
    fail(e);
    return;
  }
  if (c.kind === 'chat') {
    sentAs(c, m, res && res.id);
    return;
  }
  acceptedAs(c, m, res && res.id);
  setTimeout(() => { if (m.state === 'pending') setSendState(c, m, 'failed'); }, ROOM_WAIT);
}

// retry sends again, once, the failed message with key in c: the same
// message goes back to pending (no second copy is shown); a retry of a
// message not failed (a second click) does nothing.
export async function retry(c, key) {
  const m = c && c.messages.find((x) => String(x.key) === String(key));
  if (!m || m.state !== 'failed') return;
  setSendState(c, m, 'pending');
  await post(c, m);
}

// ---- changing messages: corrections, retractions, reactions ---------------------
//
// In a chat and in a room. Each asks the gateway first and changes the
// model once it answered, the same way the echo to our other tabs (in a
// room, the room's reflection to every tab) changes it again, which does
// nothing the second time. A failure is said in a notice. A room names a
// message by its id for a correction and by the room's stanza-id for the
// rest (state.js roomRef).

// roomPath is the REST path of room c, then rest; roomOpts the options
// every room call has.
const roomPath = (c, rest = '') => `/groupchat/room/${seg(local(c.jid))}${rest}`;
const roomOpts = (c, o = {}) => ({ ...o, query: { ...(o.query || {}), serviceName: c.jid.split('@')[1] }, feature: 'rooms' });

// correct replaces the text of our message m in c (XEP-0308).
export async function correct(c, m, text) {
  if (!editable(c, m) || !text || text === m.body) return;
  const res = c.kind === 'room'
    ? await call('PUT', roomPath(c, `/message/${seg(m.id)}`), roomOpts(c, { body: text }))
    : await call('PUT', `/chat/message/${seg(c.jid)}/${seg(m.id)}`, { body: text });
  modify(c, { kind: 'correction', target: m.id, from: model.jid, id: res && res.id, body: text, mine: true });
}

// retract withdraws our message m in c (XEP-0424).
export async function retract(c, m) {
  if (!editable(c, m)) return;
  if (c.kind === 'room') await call('DELETE', roomPath(c, `/message/${seg(roomRef(c, m))}`), roomOpts(c));
  else await call('DELETE', `/chat/message/${seg(c.jid)}/${seg(m.id)}`);
  modify(c, { kind: 'retraction', target: m.id, from: model.jid, mine: true });
}

// react adds emoji to our reactions to m in c, or takes it away when it
// is there (XEP-0444: the whole set is sent).
export async function react(c, m, emoji) {
  if (!reactable(c, m) || !emoji) return;
  const mine = myReactions(c, m);
  const set = mine.includes(emoji) ? mine.filter((e) => e !== emoji) : [...mine, emoji];
  if (c.kind === 'room') await call('PUT', roomPath(c, `/reactions/${seg(roomRef(c, m))}`), roomOpts(c, { json: set }));
  else await call('PUT', `/chat/reactions/${seg(c.jid)}/${seg(m.id)}`, { json: set });
  modify(c, { kind: 'reactions', target: roomRef(c, m) || m.id, from: model.jid, reactions: set, mine: true });
}

// onChange takes a chatapi.chat that corrects or retracts an earlier
// message (replace, retract).
function onChange(d) {
  const mine = Boolean(d.sent) || bare(d.from) === model.jid;
  const c = conv('chat', chatPeer(mine ? d.to : d.from));
  if (!mine) { c.typing = ''; c.reachable = true; }
  if (d.retract) modify(c, { kind: 'retraction', target: d.retract, from: d.from, mine });
  else modify(c, { kind: 'correction', target: d.replace, from: d.from, id: d.id, body: d.body, mine });
  if (c.id === model.active) changed('header');
}

// onReaction takes chatapi.reaction: one sender's whole set of reactions
// to a message, in a chat (or a room, where the sender is the occupant).
export function onReaction(d) {
  if (!d.id) return;
  // From an occupant: a reaction in the room, or in a private
  // conversation with them, to a message of theirs or ours there.
  const priv = resourceOf(d.from) && model.convs.get(`chat:${chatPeer(d.from)}`);
  if (isRoom(d.from) && !(priv && priv.keys.has('id:' + d.id))) {
    const c = model.convs.get(`room:${bare(d.from)}`);
    if (c) modify(c, { kind: 'reactions', target: d.id, from: d.from, reactions: d.reactions, mine: resourceOf(d.from) === c.nick });
    return;
  }
  const mine = Boolean(d.sent) || bare(d.from) === model.jid;
  const c = conv('chat', chatPeer(mine ? d.to : d.from));
  modify(c, { kind: 'reactions', target: d.id, from: d.from, reactions: d.reactions, mine });
}

// ---- read markers -------------------------------------------------------------------

// The newest message of others in the open conversation, once the page
// is seen, is marked displayed (POST /chat/displayed: in a chat an
// XEP-0333 marker for it and every earlier one; in a room only the read
// state), once per message id, and not when the gateway's read state has
// it read already (lastRead: another tab, device or an earlier visit
// read it). The gateway then clears the conversation's unread count on
// every tab. Checked a moment after any change, so a burst sends one; a
// conversation left before its moment is up (a glance, then another
// chat) is marked as it is left, since what it showed was seen.
const marked = new Map(); // conversation id -> the message id last marked
let markTimer = 0;
let markFor = null; // the conversation the pending check is for

function markSoon() {
  const c = activeConv();
  if (markFor !== c) markLeaving();
  markFor = c;
  clearTimeout(markTimer);
  markTimer = setTimeout(() => { markTimer = 0; markDisplayed(activeConv()); }, 300);
}

// markLeaving runs the pending check at once, for the conversation it was
// for: call it while that conversation is still seen, as it stops being
// (another one opens, a phone's back to the lists).
export function markLeaving() {
  if (!markTimer) return;
  clearTimeout(markTimer);
  markTimer = 0;
  markDisplayed(markFor);
}

function markDisplayed(c) {
  // c may be gone since the check was set (signed out, removed).
  if (!c || model.convs.get(c.id) !== c || !model.visible || document.hidden) return;
  let last = null;
  for (let i = c.messages.length - 1; i >= 0 && !last; i--) if (!c.messages[i].mine) last = c.messages[i];
  // A room's archive gives only the archive id, which a room's read state takes too.
  const id = last && (last.id || (c.kind === 'room' ? last.stanzaId : ''));
  if (!id || marked.get(c.id) === id || (id === c.lastRead && !(model.reads.get(c.id) || {}).count)) return;
  marked.set(c.id, id);
  call('POST', `/chat/displayed/${seg(c.jid)}`, { query: { id } }).catch(() => marked.delete(c.id));
}

// loadUnread takes the gateway's read state (GET /chat/unread): from then
// on the counts are the gateway's (state.js). A gateway without one
// leaves the tab counting.
export async function loadUnread() {
  const since = unreadMark(); // what the stream tells from now on is newer than the answer
  const list = await available(() => call('GET', '/chat/unread', { feature: 'unread' })).catch(() => undefined);
  if (Array.isArray(list)) setUnreadAll(list, since);
}

subscribe((region) => { if (region === 'messages' || region === 'lists') markSoon(); });
document.addEventListener('visibilitychange', markSoon);

export async function upload(file) {
  const c = activeConv();
  if (!c || !file) return;
  notice(`Uploading ${file.name}…`);
  const slot = await call('GET', `/upload/${seg(file.name)}/${file.size}`, {
    query: { contentType: /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+$/.test(file.type) ? file.type : undefined }, feature: 'upload',
  });
  const headers = {};
  for (const [k, v] of Object.entries(slot.headers || {})) headers[k] = v;
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type') && file.type) headers['Content-Type'] = file.type;
  let put;
  try {
    put = await fetch(slot.putUrl, { method: 'PUT', headers, body: file, credentials: 'omit' });
  } catch {
    // A network error, or an upload service on another origin that this
    // page's Content-Security-Policy (connect-src) or CORS refuses.
    throw new Error(`The upload service at ${new URL(slot.putUrl, location.href).origin} could not be reached from this page.`);
  }
  if (!put.ok) throw new Error(`The upload failed (${put.status}).`);
  notice('');
  await send(slot.getUrl, c, { url: slot.getUrl, desc: file.name });
}

// meeting asks the gateway for the conversation's meeting (the person's
// address, or the room's: the gateway names the meeting of the two, or of
// the room's occupants, the same for each of them), opens it and shares its
// link without the token, which is this user's own: the others press
// Meeting in the same conversation to join with theirs.
export async function meeting() {
  const c = activeConv();
  if (!c) return;
  const listed = model.config && model.config.meetingServices;
  const services = listed && listed.length ? listed : ['jitsi', 'galene'];
  let lastErr;
  for (const svc of services) {
    try {
      const res = await call('GET', `/meet/${seg(svc)}/${seg(c.jid)}`, { feature: 'meet' });
      window.open(res.url, '_blank', 'noopener,noreferrer');
      const shared = new URL(res.url);
      shared.search = '';
      await send(`Join the meeting: ${shared.href} (press Meeting in this conversation to join)`);
      return;
    } catch (e) { lastErr = e; }
  }
  if (lastErr instanceof ApiError && lastErr.notImplemented) {
    features.set('meet', false);
    applyFeatures();
    notice('Meetings are not available on this server.');
  } else if (lastErr) fail(lastErr);
}

// ---- events -------------------------------------------------------------------------

// onChat takes a chatapi.chat event: a message, or a chat state.
export function onChat(d) {
  // An occupant typing in a room (rooms.js).
  if (d.type === 'chatstate' && d.room && isRoom(d.from)) { onRoomChatState(d); return; }
  // A room itself writes to us only to invite us (the invitation is its
  // own chatapi.muc event, just before); it is no contact. An occupant
  // writes privately: a conversation with room/nick (chatPeer).
  if (isRoom(d.from) && !resourceOf(d.from)) return;
  if (d.type === 'chatstate') {
    const c = model.convs.get(`chat:${chatPeer(d.from)}`);
    if (!c || !c.reachable) return;
    c.heard = true;
    c.typing = d.state === 'composing' ? 'composing' : '';
    if (c.id === model.active) changed('header');
    return;
  }
  if ((d.replace || d.retract) && d.type !== 'error') { onChange(d); return; }
  if (!d.body) return;
  if (d.type === 'error') {
    // Our message came back: the address does not exist or cannot be
    // reached. Whatever chat state it bounces is ours, not theirs.
    const c = model.convs.get(`chat:${chatPeer(d.from)}`);
    if (c) {
      c.reachable = false;
      c.typing = '';
      changed('header');
      bounced(c, d.id);
    }
    notice(`${local(d.from)} could not be reached: “${d.body}” was not delivered.`);
    return;
  }
  const mine = Boolean(d.sent) || bare(d.from) === model.jid;
  const c = conv('chat', chatPeer(mine ? d.to : d.from));
  if (!mine) {
    c.typing = '';
    c.reachable = true;
  }
  const live = !d.stamp;
  if (mine && live && d.id && !c.keys.has('id:' + d.id)) {
    // Our own send's echo before the send's answer: the same message.
    const twin = pendingTwin(c, d.body);
    if (twin) {
      sentAs(c, twin, d.id);
      return;
    }
  }
  addMessage(c, {
    id: d.id, stanzaId: d.stanzaId, stamp: d.stamp || '', from: d.from, to: d.to, body: d.body, mine,
    state: mine && live ? 'sent' : undefined, file: oobOf(d), replyTo: d.replyTo || undefined,
  }, { live: true });
  if (c.id === model.active) changed('header');
}

// oobOf answers the file a message carries (XEP-0066 out-of-band data:
// {url, desc}) when its url is http(s), or undefined.
export function oobOf(d) {
  const f = d && d.file;
  if (!f || typeof f.url !== 'string' || !/^https?:\/\//i.test(f.url)) return undefined;
  return { url: f.url, desc: typeof f.desc === 'string' ? f.desc : '' };
}

// onReceipt takes chatapi.receipt: a delivery receipt or displayed marker
// from the peer for one of our messages.
export function onReceipt(d) {
  if (!d.id || bare(d.from) === model.jid) return; // our own markers, from another client of ours
  applyReceipt(model.convs.get(`chat:${chatPeer(d.from)}`) || null, d.id, d.type);
}

// onError takes chatapi.error: an error reply to one of our messages marks
// it failed. It answers whether it was taken care of: a message marked, or
// in a conversation with a person, anything else of ours that bounced (a
// chat state while typing to an address that does not exist), which makes
// the conversation unreachable without a notice per keystroke; the
// message's own bounce (chatapi.chat of type error) says the rest.
export function onError(d) {
  const from = bare(d.from);
  const chat = model.convs.get(`chat:${chatPeer(d.from)}`);
  if (bounced(chat || model.convs.get(`room:${from}`), d.id)) return true;
  if (!chat) return false;
  if (chat.reachable !== false) {
    chat.reachable = false;
    chat.typing = '';
    changed('header');
  }
  return true;
}
