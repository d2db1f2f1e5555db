// pins.js: conversations pinned to the top of Chats, the same on every
// device of the person.
//
// Contract:
// - The pins are a list of conversation ids ("chat:bob@x", "room:r@c"),
//   kept by the gateway as the user property sparkweb.pinned (a JSON
//   array; GET and POST /config/properties), at most MAX_PINS.
// - loadPins() reads them at sign-in, after a gap in the event stream and
//   whenever the page is shown again; onProperties(d) reads them when
//   chatapi.properties says another tab or device changed them. A
//   gateway without properties (501) hides Pin.
// - isPinned(c) tells whether c is pinned; state.js's recent() lists the
//   pinned conversations first (each group by activity), and a pinned
//   person's conversation is listed even before any message is loaded.
// - pin(c) and unpin(c) change the list here at once and store it; a
//   failed store puts the list back and throws. pin refuses a sixth with
//   an Error whose message says so.
// - withPin and withoutPin are the list changes, exported for their table
//   checks (view_test.js).

import { call, available } from './api.js';
import { model, changed, conv } from './state.js';

export const MAX_PINS = 5;
const PROPERTY = 'sparkweb.pinned';

// parse reads the property's value: ids of conversations, each once,
// anything else left out.
function parse(value) {
  let list;
  try { list = JSON.parse(value || '[]'); } catch { return []; }
  if (!Array.isArray(list)) return [];
  const ok = list.filter((id) => typeof id === 'string' && /^(chat|room):[^\s]+$/.test(id));
  return [...new Set(ok)].slice(0, MAX_PINS);
}

export function withPin(ids, id, max = MAX_PINS) {
  if (ids.includes(id)) return ids;
  if (ids.length >= max) throw new Error(`At most ${max} conversations can be pinned: unpin one first.`);
  return [...ids, id];
}

export function withoutPin(ids, id) { return ids.filter((x) => x !== id); }

export async function loadPins() {
  const res = await available(() => call('GET', '/config/properties', { feature: 'properties' }));
  if (!res) return;
  take(parse(res[PROPERTY]));
}

// take makes ids the pins: a pinned person gets a conversation to list.
function take(ids) {
  model.pinned = ids;
  for (const id of ids) {
    const [kind, jid] = [id.slice(0, id.indexOf(':')), id.slice(id.indexOf(':') + 1)];
    if (kind === 'chat') conv('chat', jid);
  }
  changed(['lists', 'header']);
}

export function onProperties(d) {
  if (d && Array.isArray(d.names) && d.names.includes(PROPERTY)) loadPins().catch(() => {});
}

export function isPinned(c) { return Boolean(c) && model.pinned.includes(c.id); }

async function store(ids) {
  const before = model.pinned;
  take(ids);
  try {
    await call('POST', '/config/properties', {
      json: [{ name: PROPERTY, value: JSON.stringify(ids) }], feature: 'properties',
    });
  } catch (e) {
    take(before);
    throw e;
  }
}

export async function pin(c) { if (c) await store(withPin(model.pinned, c.id)); }

export async function unpin(c) { if (c) await store(withoutPin(model.pinned, c.id)); }

// The page shown again: an event missed while it slept (a browser may
// freeze a hidden tab's stream) is made up for.
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && model.jid) loadPins().catch(() => {});
});
