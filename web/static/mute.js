// mute.js: muted conversations, the same on every tab and device.
//
// Contract:
// - loadMuted() takes the user's muted conversations from the gateway
//   (GET /chat/muted) at sign-in and after a gap; onMuted(d) takes
//   chatapi.muted, a mute or unmute made on any tab or device.
// - isMuted(c) tells whether the conversation c is muted now: a mute with
//   an end counts only until then. A muted conversation's messages still
//   arrive, show and count as unread; notify.js makes no sound and no
//   notification for them, and the gateway pushes none.
// - toggleMute(c) mutes c until unmuted (PUT /chat/muted/{jid}), or
//   unmutes it (DELETE); the model changes when the gateway's event comes
//   back, and at once here.
// A gateway without mutes (501) hides the header's Mute button.

import { call, seg, available } from './api.js';
import { model, changed } from './state.js';

export async function loadMuted() {
  const res = await available(() => call('GET', '/chat/muted', { feature: 'mute' }));
  if (!res) return;
  model.muted.clear();
  for (const m of res.muted || []) model.muted.set(m.jid, m.until || '');
  changed(['lists', 'header']);
}

export function onMuted(d) {
  if (!d || !d.jid) return;
  if (d.muted) model.muted.set(d.jid, d.until || '');
  else model.muted.delete(d.jid);
  changed(['lists', 'header']);
}

export function isMuted(c) {
  if (!c || !model.muted.has(c.jid)) return false;
  const until = model.muted.get(c.jid);
  return !until || Date.parse(until) > Date.now();
}

export async function toggleMute(c) {
  if (!c) return;
  if (isMuted(c)) {
    try {
      await call('DELETE', `/chat/muted/${seg(c.jid)}`, { feature: 'mute' });
    } catch (e) {
      if (!(e && e.status === 404)) throw e; // it ran out meanwhile
    }
    onMuted({ jid: c.jid, muted: false });
  } else {
    await call('PUT', `/chat/muted/${seg(c.jid)}`, { feature: 'mute' });
    onMuted({ jid: c.jid, muted: true });
  }
}
