// contacts.js: the roster, contact requests, presence and the blocklist.
// Actions call api.js and change the model (state.js); view.js draws the
// result. The events handled here are chatapi.presence (of contacts; a
// room's occupants go to rooms.js), chatapi.roster, the gateway's word
// that an item of the roster changed (added, updated or removed, here or
// on another device), chatapi.request (a request declined on some tab;
// the requests waiting come from GET /contact-requests)
// and chatapi.blocklist (someone blocked or unblocked, anywhere).

import { call, seg, available, features, ApiError } from './api.js';
import { model, conv, changed, bare, local, defaultTitle } from './state.js';
import { fail } from './view.js';

const SHOW = { unavailable: 'offline', available: 'online' };

// changes remembers when each jid last changed, as a count of changes, so
// that a list read from the gateway can tell a change made while it was
// on its way (loadRoster, loadRequests): the list was read before it and
// must not undo it. now() before the call, after(jid, seen) on the answer.
function changes() {
  let n = 0;
  const at = new Map();
  return {
    mark: (jid) => { at.set(jid, ++n); },
    now: () => n,
    after: (jid, seen) => (at.get(jid) || 0) > seen,
  };
}

// removed marks the contacts removed from the roster (onRoster, here or on
// another device); answered the requests answered (dismissContact).
const removed = changes();
const answered = changes();

// sharing records whether the contact c shares their presence with the
// user (sees: a subscription to or both) and, when not, whether the user's
// request waits for their answer (asked): the view then says so instead of
// "Offline", which a contact who never accepted is not known to be.
function sharing(c, sees, asked) {
  c.sees = sees;
  c.asked = !sees && asked;
}

// loadRoster takes the roster with each contact's presence. A contact
// removed while the list was on its way stays removed, listed or not.
export async function loadRoster() {
  const seen = removed.now();
  const res = await available(() => call('GET', '/presence/roster', { feature: 'roster' }));
  if (!res) return;
  for (const item of res.roster || []) {
    if (removed.after(bare(item.jid), seen)) continue;
    const c = conv('chat', bare(item.jid), item.nickname || undefined);
    // A conversation known before (the archive, this tab's cache) takes
    // the roster's name, or loses one the roster no longer has.
    if (item.nickname) c.title = item.nickname;
    else if (c.named) c.title = model.nicks.get(c.jid) || defaultTitle(c.jid);
    c.inRoster = true;
    sharing(c, item.subscriptionType === 1 || item.subscriptionType === 3, item.ask === 'subscribe');
    c.named = Boolean(item.nickname); // else a published nickname may name them (avatars.js)
    if (item.show) c.presence = SHOW[item.show] || item.show;
    if (item.show && item.show !== 'unavailable') c.heard = true;
    c.status = item.status || '';
  }
  changed(['lists', 'header']);
}

// renameContact gives the contact c the name the user chose (PUT
// /roster/{jid} with the nickname only: groups and subscription stay), ''
// to go back to their own; every tab and device takes it from the roster
// push (onRoster).
export async function renameContact(c, name) {
  const nickname = String(name || '').trim();
  await call('PUT', `/roster/${seg(c.jid)}`, { json: { jid: c.jid, nickname }, feature: 'roster' });
  // At once here; the roster push says the same a moment later.
  c.title = nickname || model.nicks.get(c.jid) || defaultTitle(c.jid);
  c.named = Boolean(nickname);
  changed(['lists', 'header']);
}

// loadLastSeen asks when the contact of the chat c, offline, was last
// signed in (GET /presence/{jid}: lastSeen, the gateway's XEP-0012
// question), once per conversation opened, and shows it in the header
// with the status they left with. Only a contact who shares their
// presence has one; anything else keeps "Offline".
export async function loadLastSeen(c) {
  if (!c || c.kind !== 'chat' || !c.inRoster || c.sees === false || c.presence !== 'offline' || c.lastSeen !== undefined) return;
  c.lastSeen = null; // asked: not again while this answer is on its way
  let res;
  try {
    res = await available(() => call('GET', `/presence/${seg(c.jid)}`, { feature: 'roster' }));
  } catch { return; }
  if (!res || res.show !== 'unavailable' || c.presence !== 'offline') return;
  if (res.lastSeen) c.lastSeen = res.lastSeen;
  if (res.status && !c.status) c.status = res.status;
  changed('header');
}

// addContact adds jid to the roster (or updates the item) asking for a
// subscription both ways, which also approves the contact's request.
export async function addContact(jid) {
  const item = { jid, subscriptionType: 3 };
  try {
    await available(() => call('POST', '/roster', { json: item, feature: 'roster' }));
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 409)) throw e;
    await call('PUT', `/roster/${seg(jid)}`, { json: item, feature: 'roster' });
  }
}

// requestContact adds the peer of the chat c to the roster and asks to
// see its presence: only when the person asks ("Add contact"); opening a
// chat never does.
export async function requestContact(c) {
  await addContact(c.jid);
  c.inRoster = true;
  if (c.sees !== true) sharing(c, false, true);
  changed(['lists', 'header']);
}

// removeContact takes c's person off the contact list, ending the
// presence subscriptions both ways; the conversation stays.
export async function removeContact(c) {
  await call('DELETE', `/roster/${seg(c.jid)}`, { feature: 'roster' });
  c.inRoster = false;
  c.presence = 'offline';
  changed(['lists', 'header']);
}

export async function acceptContact(jid) {
  dismissContact(jid);
  const c = conv('chat', jid);
  try {
    await addContact(jid);
    c.inRoster = true; // a contact now, listed before any roster push
    changed(['lists', 'header']);
  } catch (e) { fail(e); }
}

export function dismissContact(jid) {
  answered.mark(jid);
  model.requests.delete(jid);
  changed('requests');
}

// declineContact refuses jid's request to see our presence: the person is
// told, and the server forgets the request. Every tab drops it when the
// gateway's chatapi.request comes; this one does at once.
export async function declineContact(jid) {
  dismissContact(jid);
  try {
    await call('POST', `/roster/${seg(jid)}/decline`, { feature: 'roster' });
  } catch (e) { fail(e); }
}

// loadRequests takes the contact requests still waiting for an answer
// from the gateway (GET /contact-requests), which keeps them for every tab
// and device: the XMPP server tells only the session that is open when a
// request comes. A request heard while the list was on its way stays; one
// known before and no longer listed was answered elsewhere; one answered
// while the list was on its way stays answered, listed or not.
export async function loadRequests() {
  const before = new Set(model.requests.keys());
  const seen = answered.now();
  let res;
  try {
    res = await available(() => call('GET', '/contact-requests', { feature: 'requests' }));
  } catch { return; }
  if (!res) return;
  const listed = new Set(res.map((r) => bare(r.jid || '')).filter(Boolean));
  for (const jid of before) if (!listed.has(jid)) model.requests.delete(jid);
  for (const jid of listed) {
    if (!model.blocked.has(jid) && !answered.after(jid, seen)) model.requests.set(jid, true);
  }
  changed('requests');
}

// onRequest takes chatapi.request: a request answered on some tab.
export function onRequest(d) {
  const jid = bare(d.jid || '');
  if (jid && model.requests.has(jid)) dismissContact(jid);
}

// ---- the blocklist (XEP-0191) ----

// blockChanges counts the changes to model.blocked made since the page
// loaded; loadBlocklist uses it to tell a stale answer.
let blockChanges = 0;

// loadBlocklist reads who the user blocks; a server without blocking
// leaves the list empty and the Block buttons hidden.
//
// A change made while the list is on its way (a block or unblock here, or
// one pushed by chatapi.blocklist) makes the answer stale: it is read
// again, so an unblock clicked just after settings opened stays done.
export async function loadBlocklist() {
  let res;
  for (let tries = 0; tries < 3; tries++) {
    const seen = blockChanges;
    try {
      res = await available(() => call('GET', '/blocklist', { feature: 'blocking' }));
    } catch { res = undefined; }
    if (seen === blockChanges) break;
  }
  if (!res) {
    features.set('blocking', false);
    changed(['header', 'blocked']);
    return;
  }
  model.blocked = new Set((res.jids || []).map(bare));
  changed(['header', 'blocked']);
}

// blockContact blocks jid: the server drops whatever the person sends and
// shows them the user offline. A pending request of theirs goes too.
export async function blockContact(jid) {
  await call('PUT', `/blocklist/${seg(jid)}`, { feature: 'blocking' });
  if (model.requests.has(jid)) dismissContact(jid);
  model.blocked.add(jid);
  blockChanges++;
  changed(['header', 'blocked']);
}

export async function unblockContact(jid) {
  await call('DELETE', `/blocklist/${seg(jid)}`, { feature: 'blocking' });
  model.blocked.delete(jid);
  blockChanges++;
  changed(['header', 'blocked']);
}

// onBlocklist takes chatapi.blocklist: the list changed on the server (on
// this tab, another one, or another client); an unblock naming nobody
// unblocked everyone.
export function onBlocklist(d) {
  const jids = (d.jids || []).map(bare);
  if (d.action === 'block') {
    for (const j of jids) {
      model.blocked.add(j);
      if (model.requests.has(j)) dismissContact(j);
    }
  } else if (d.action === 'unblock') {
    if (!jids.length) model.blocked.clear();
    for (const j of jids) model.blocked.delete(j);
  } else return;
  blockChanges++;
  changed(['header', 'blocked']);
}

// onPresence takes a contact's chatapi.presence (not a room occupant's).
export function onPresence(d) {
  const from = bare(d.from);
  const type = d.presenceType || 'available';
  if (from === model.jid) return;
  if (type === 'subscribe') {
    const known = model.convs.get(`chat:${from}`);
    if (known && known.inRoster) {
      // We asked for this contact ourselves: approve the request back.
      call('PUT', `/roster/${seg(from)}`, { json: { jid: from, subscriptionType: 3 }, feature: 'roster' }).catch(fail);
      return;
    }
    model.requests.set(from, true);
    changed('requests');
    return;
  }
  if (type === 'unsubscribe') { // the person withdrew the request
    if (model.requests.has(from)) dismissContact(from);
    return;
  }
  if (type !== 'available' && type !== 'unavailable') return;
  const c = conv('chat', from);
  if (type === 'available') c.heard = true;
  // Gone just now: last seen now; back: not "last seen" any more.
  if (type === 'unavailable' && c.presence !== 'offline') c.lastSeen = new Date().toISOString();
  if (type === 'available') c.lastSeen = undefined;
  c.presence = type === 'unavailable' ? 'offline' : (d.show && d.show !== 'available' ? d.show : 'online');
  c.status = type === 'unavailable' ? '' : (d.status || '');
  changed('lists');
  if (c.id === model.active) changed('header');
}

// onRoster takes chatapi.roster: one roster item changed on the server.
// A removed contact leaves the list unless there is a conversation to keep.
export function onRoster(d) {
  const jid = bare(d.jid || '');
  if (!jid || jid === model.jid) return;
  const id = `chat:${jid}`;
  if (d.removed) {
    removed.mark(jid);
    const c = model.convs.get(id);
    if (!c) return;
    c.inRoster = false;
    if (!c.messages.length && model.active !== id) model.convs.delete(id);
    changed(['lists', 'header']);
    return;
  }
  const c = conv('chat', jid, d.name || undefined);
  c.inRoster = true;
  sharing(c, d.subscription === 'to' || d.subscription === 'both', d.ask === 'subscribe');
  if (d.name) {
    c.title = d.name;
    c.named = true;
  } else if (c.named) { // the name was taken away (renameContact with '')
    c.title = model.nicks.get(jid) || defaultTitle(jid);
    c.named = false;
  }
  // Their request was accepted (here or on another tab or device).
  if ((d.subscription === 'from' || d.subscription === 'both') && model.requests.has(jid)) dismissContact(jid);
  changed(['lists', 'header']);
}
