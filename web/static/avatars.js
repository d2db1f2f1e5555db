// avatars.js: people's pictures and published nicknames. A contact's
// avatar (XEP-0084, read by the gateway from their PEP) is announced by
// chatapi.avatar (its id, the image's SHA-1; an empty id: removed) and its
// bytes come from GET /avatar/{jid}, which needs the token: the image is
// fetched and shown from a blob: URL (the page's img-src allows blob:),
// one per person, the previous one revoked. A contact's nickname
// (XEP-0172) comes as chatapi.nick. The user's own picture is set with
// PUT /avatar (an image of at most MAX_BYTES) and removed with DELETE.
//
// Contract: a person's picture is fetched once per avatar id (and once
// per session for the contacts and ourselves, whose avatars may have been
// announced before this tab opened); 404 (no avatar) and 403 (no presence
// subscription) mean no picture, without a notice. The model (state.js's
// setAvatar, setNick) keeps the URLs and names; view.js draws them.

import { call, seg, available, ApiError } from './api.js';
import { model, setAvatar, setNick, bare } from './state.js';

export const MAX_BYTES = 131072;
export const TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'];

const ids = new Map(); // bare JID -> the avatar id shown (or asked for)

// loadAvatar fetches jid's picture (id: the avatar id, when known) and
// shows it; no avatar shows none.
export async function loadAvatar(jid, id = '') {
  const b = bare(jid);
  if (id && ids.get(b) === id) return;
  ids.set(b, id);
  let blob = null;
  try {
    blob = await available(() => call('GET', `/avatar/${seg(b)}`, { as: 'blob', feature: 'avatar' }));
  } catch (e) {
    if (!(e instanceof ApiError)) ids.delete(b); // no answer: ask again next time
    blob = null;
  }
  if (ids.get(b) !== id) return; // a newer avatar was announced meanwhile
  show(b, blob && blob.size ? blob : null);
}

function show(jid, blob) {
  const old = model.avatars.get(jid);
  setAvatar(jid, blob ? URL.createObjectURL(blob) : '');
  if (old) URL.revokeObjectURL(old);
}

// loadAvatars fetches the pictures of the people listed (the contacts),
// a few at a time.
export async function loadAvatars(jids) {
  const queue = [...jids].filter((j) => !ids.has(bare(j)));
  const worker = async () => {
    while (queue.length) await loadAvatar(queue.shift());
  };
  await Promise.all([worker(), worker(), worker()]);
}

// onAvatar takes chatapi.avatar: a contact's avatar changed.
export function onAvatar(d) {
  const b = bare(d.jid);
  if (!b) return;
  if (!d.id) {
    ids.set(b, '');
    show(b, null);
    return;
  }
  loadAvatar(b, d.id).catch(() => {});
}

// onNick takes chatapi.nick: a contact's published nickname.
export function onNick(d) {
  if (d.jid) setNick(d.jid, typeof d.nick === 'string' ? d.nick.trim() : '');
}

// setOwnAvatar publishes file as the user's picture; it answers a
// sentence saying what is wrong with the file, or '' when it is set.
export async function setOwnAvatar(file) {
  if (!TYPES.includes(file.type)) return 'Choose a PNG, JPEG, WebP or GIF image.';
  if (file.size > MAX_BYTES) return `Choose a smaller image: at most ${MAX_BYTES / 1024} KB (this one is ${Math.ceil(file.size / 1024)} KB).`;
  const res = await call('PUT', '/avatar', { blob: file, feature: 'avatar' });
  ids.set(model.jid, (res && res.id) || '');
  show(model.jid, file);
  return '';
}

// removeOwnAvatar withdraws the user's picture.
export async function removeOwnAvatar() {
  await call('DELETE', '/avatar', { feature: 'avatar' });
  ids.set(model.jid, '');
  show(model.jid, null);
}

// forgetAvatars forgets the ids seen (sign-out; state.js revokes the URLs).
export function forgetAvatars() { ids.clear(); }
