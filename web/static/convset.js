// convset.js: a set of conversations kept in one of the user's stored
// properties, the same on every tab and device of the person (pins.js,
// marks.js).
//
// Contract: convSet(name, {max, tooMany, get, apply}) answers {load, add,
// remove, onProperties}:
// - The set is a JSON array of conversation ids ("chat:bob@x",
//   "room:r@c"), oldest first, in the user property name (GET and POST
//   /config/properties), at most max of them.
// - load() reads it (at sign-in, after a gap in the event stream, when the
//   page is shown again); onProperties(d) reads it again when
//   chatapi.properties names it (another tab or device changed it). A
//   gateway without properties (501) leaves it empty, and view.js hides
//   the actions (feature 'properties').
// - The set lives in the model: get() answers it (state.js's clear()
//   empties it at sign-out), apply(ids) is told it each time it changes,
//   here or elsewhere, puts it in the model and announces the change.
// - add(id) and remove(id) change the set at once (apply) and store it; a
//   failed store puts the set back and throws. add past max throws an
//   Error whose message is tooMany(max).
// - withId and withoutId are those changes, exported for their table
//   checks (view_test.js).

import { call, available } from './api.js';
import { model } from './state.js';

export function withId(ids, id, max, tooMany = (n) => `At most ${n}.`) {
  if (ids.includes(id)) return ids;
  if (ids.length >= max) throw new Error(tooMany(max));
  return [...ids, id];
}

export function withoutId(ids, id) { return ids.filter((x) => x !== id); }

// parse reads a property's value: ids of conversations, each once, at most
// max; anything else left out.
function parse(value, max) {
  let list;
  try { list = JSON.parse(value || '[]'); } catch { return []; }
  if (!Array.isArray(list)) return [];
  const ok = list.filter((id) => typeof id === 'string' && /^(chat|room):[^\s]+$/.test(id));
  return [...new Set(ok)].slice(0, max);
}

// readProperties answers GET /config/properties (undefined without
// properties); preview.js reads it too. Sets that load in the same turn (sign-in, a gap, the page
// shown again, one chatapi.properties) share one request; a later load
// asks anew, so it never takes an answer from before a change it heard of.
let reading = null;
export function readProperties() {
  if (!reading) {
    reading = available(() => call('GET', '/config/properties', { feature: 'properties' }));
    queueMicrotask(() => { reading = null; });
  }
  return reading;
}

export function convSet(name, { max, tooMany, get, apply }) {
  const load = async () => {
    const res = await readProperties();
    if (res) apply(parse(res[name], max));
  };
  const store = async (next) => {
    const before = get();
    if (next === before) return;
    apply(next);
    try {
      await call('POST', '/config/properties', { json: [{ name, value: JSON.stringify(next) }], feature: 'properties' });
    } catch (e) {
      apply(before);
      throw e;
    }
  };
  // The page shown again: an event missed while it slept (a browser may
  // freeze a hidden tab's stream) is made up for.
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && model.jid) load().catch(() => {});
  });
  return {
    load,
    add: (id) => store(withId(get(), id, max, tooMany)),
    remove: (id) => store(withoutId(get(), id)),
    onProperties(d) {
      if (d && Array.isArray(d.names) && d.names.includes(name)) load().catch(() => {});
    },
  };
}
