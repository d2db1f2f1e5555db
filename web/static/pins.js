// pins.js: conversations pinned to the top of Chats, the same on every
// device of the person.
//
// Contract:
// - The pins are a set of conversations (convset.js) in the user property
//   sparkweb.pinned, at most MAX_PINS; loadPins and onPinProperties are
//   the set's load and onProperties.
// - isPinned(c) tells whether c is pinned; state.js's recent() lists the
//   pinned conversations first (each group by activity), and a pinned
//   person's conversation is listed even before any message is loaded.
// - pin(c) and unpin(c) change the pins here at once and store them; a
//   failed store puts them back and throws. pin refuses a sixth with an
//   Error whose message says so.

import { model, changed, conv } from './state.js';
import { convSet } from './convset.js';

export const MAX_PINS = 5;

const pins = convSet('sparkweb.pinned', {
  max: MAX_PINS,
  tooMany: (n) => `At most ${n} conversations can be pinned: unpin one first.`,
  get: () => model.pinned,
  apply(ids) {
    model.pinned = ids;
    // A pinned person gets a conversation to list.
    for (const id of ids) {
      if (id.startsWith('chat:')) conv('chat', id.slice('chat:'.length));
    }
    changed(['lists', 'header']);
  },
});

export const loadPins = () => pins.load();
export const onPinProperties = (d) => pins.onProperties(d);
export function isPinned(c) { return Boolean(c) && model.pinned.includes(c.id); }
export async function pin(c) { if (c) await pins.add(c.id); }
export async function unpin(c) { if (c) await pins.remove(c.id); }
