// contacts.js: the roster, contact requests and presence. Actions call
// api.js and change the model (state.js); view.js draws the result. The
// events handled here are chatapi.presence (of contacts; a room's
// occupants go to rooms.js) and chatapi.roster, the gateway's word that
// an item of the roster changed (added, updated or removed, here or on
// another device).

import { call, seg, available, ApiError } from './api.js';
import { model, conv, changed, bare, local } from './state.js';
import { fail } from './view.js';

const SHOW = { unavailable: 'offline', available: 'online' };

export async function loadRoster() {
  const res = await available(() => call('GET', '/presence/roster', { feature: 'roster' }));
  if (!res) return;
  for (const item of res.roster || []) {
    const c = conv('chat', bare(item.jid), item.nickname || undefined);
    c.inRoster = true;
    c.named = Boolean(item.nickname); // else a published nickname may name them (avatars.js)
    if (item.show) c.presence = SHOW[item.show] || item.show;
    if (item.show && item.show !== 'unavailable') c.heard = true;
    c.status = item.status || '';
  }
  changed(['lists', 'header']);
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
  model.requests.delete(jid);
  changed('requests');
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
  if (type !== 'available' && type !== 'unavailable') return;
  const c = conv('chat', from);
  if (type === 'available') c.heard = true;
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
    const c = model.convs.get(id);
    if (!c) return;
    c.inRoster = false;
    if (!c.messages.length && model.active !== id) model.convs.delete(id);
    changed(['lists', 'header']);
    return;
  }
  const c = conv('chat', jid, d.name || undefined);
  c.inRoster = true;
  if (d.name) { c.title = d.name; c.named = true; }
  changed(['lists', 'header']);
}
