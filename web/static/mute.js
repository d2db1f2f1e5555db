// mute.js: muted conversations, the same on every tab and device.
//
// Contract:
// - loadMuted() takes the user's muted conversations from the gateway
//   (GET /chat/muted) at sign-in and after a gap; onMuted(d) takes
//   chatapi.muted, a mute or unmute made on any tab or device.
// - isMuted(c) tells whether the conversation c is muted now: a mute with
//   an end counts only until then, and the lists and the header are drawn
//   again when the first end comes (one timer, for the earliest).
//   mutedUntil(c) is that end as a Date, or null for a mute until unmuted
//   (or none). A muted conversation's messages still arrive, show and
//   count as unread; notify.js makes no sound and no notification for
//   them, and the gateway pushes none.
// - muteFor(c, seconds) mutes c for that long, or until unmuted when
//   seconds is 0 (PUT /chat/muted/{jid}?until=); unmute(c) ends its mute
//   (DELETE; one that ran out meanwhile is fine). The model changes at
//   once here, and on the other tabs when the gateway's event comes.
// - Strangers: strangersMuted() tells whether messages from people
//   outside the roster are muted now (GET /chat/muted's strangers,
//   chatapi.strangers: onStrangers(d)); isStranger(c) whether c is such a
//   person's chat (not a contact, not a room or one of its occupants);
//   setStrangersMuted(on) mutes them until unmuted, or unmutes them
//   (PUT or DELETE /chat/strangers/muted). notify.js announces nothing of
//   a stranger while they are muted, and the gateway pushes nothing.
// - Settings lists the muted conversations, each with Unmute (view.js
//   renderMuted, region 'muted').
// A gateway without mutes (501) hides the header's Mute button and the
// Settings' strangers choice and list.

import { call, seg, available } from './api.js';
import { model, changed } from './state.js';

export async function loadMuted() {
  const res = await available(() => call('GET', '/chat/muted', { feature: 'mute' }));
  if (!res) return;
  model.muted.clear();
  for (const m of res.muted || []) model.muted.set(m.jid, m.until || '');
  model.strangers = res.strangers ? (res.strangers.until || '') : null;
  redraw();
}

export function onStrangers(d) {
  if (!d) return;
  model.strangers = d.muted ? (d.until || '') : null;
  redraw();
}

export function strangersMuted() {
  const until = model.strangers;
  return until !== null && (!until || Date.parse(until) > Date.now());
}

export function isStranger(c) {
  if (!c || c.kind !== 'chat' || c.inRoster || c.jid === model.jid) return false;
  const at = c.jid.indexOf('@');
  const domain = c.jid.slice(at + 1).split('/')[0];
  return at > 0 && domain !== model.muc; // a room's occupant is the room's business
}

export async function setStrangersMuted(on) {
  if (on) {
    await call('PUT', '/chat/strangers/muted', { feature: 'mute' });
  } else {
    try {
      await call('DELETE', '/chat/strangers/muted', { feature: 'mute' });
    } catch (e) {
      if (!(e && e.status === 404)) throw e; // it ran out meanwhile
    }
  }
  onStrangers({ muted: on });
}

export function onMuted(d) {
  if (!d || !d.jid) return;
  if (d.muted) model.muted.set(d.jid, d.until || '');
  else model.muted.delete(d.jid);
  redraw();
}

export function isMuted(c) {
  if (!c || !model.muted.has(c.jid)) return false;
  const until = model.muted.get(c.jid);
  return !until || Date.parse(until) > Date.now();
}

export function mutedUntil(c) {
  if (!isMuted(c)) return null;
  const until = model.muted.get(c.jid);
  return until ? new Date(until) : null;
}

export async function muteFor(c, seconds) {
  if (!c) return;
  const query = {};
  if (seconds > 0) query.until = new Date(Date.now() + seconds * 1000).toISOString();
  await call('PUT', `/chat/muted/${seg(c.jid)}`, { query, feature: 'mute' });
  onMuted({ jid: c.jid, muted: true, until: query.until || '' });
}

export async function unmute(c) {
  if (!c) return;
  try {
    await call('DELETE', `/chat/muted/${seg(c.jid)}`, { feature: 'mute' });
  } catch (e) {
    if (!(e && e.status === 404)) throw e; // it ran out meanwhile
  }
  onMuted({ jid: c.jid, muted: false });
}

// The timer that redraws when the earliest mute with an end runs out.
let endTimer = 0;

// redraw draws the lists and the header again, and sets the timer for the
// next mute to run out. A timer's delay is at most 2^31-1 ms (about 24.8
// days); a mute ending later is looked at again then.
function redraw() {
  clearTimeout(endTimer);
  endTimer = 0;
  const now = Date.now();
  let next = Infinity;
  for (const until of [...model.muted.values(), model.strangers]) {
    const t = until ? Date.parse(until) : NaN;
    if (t > now && t < next) next = t;
  }
  if (next !== Infinity) endTimer = setTimeout(redraw, Math.min(next - now + 50, 0x7fffffff));
  changed(['lists', 'header', 'strangers', 'muted']);
}
