// marks.js: conversations the person marked unread, to come back to, the
// same on every device.
//
// Contract:
// - The marks are a set of conversations (convset.js) in the user property
//   sparkweb.marked, at most MAX_MARKS; loadMarks and onMarkProperties are
//   the set's load and onProperties.
// - isMarked(c) tells whether c is marked. A marked conversation shows a
//   dot in the lists (view.js) while it has no unread count of its own,
//   and counts in the page title's number like one unread message.
// - markUnread(c) marks it; opening the conversation again (main.js's
//   enter, on any tab or device) calls unmark(c), which takes the mark
//   away. Both change the marks here at once and store them; a failed
//   store puts them back and throws.

import { model, changed } from './state.js';
import { convSet } from './convset.js';

// MAX_MARKS bounds the set: more than anyone marks by hand, and with
// everyday addresses within the 4,096 bytes a property's value may hold.
export const MAX_MARKS = 40;

const marks = convSet('sparkweb.marked', {
  max: MAX_MARKS,
  tooMany: (n) => `At most ${n} conversations can be marked unread: open some of them first.`,
  get: () => model.marked,
  apply(ids) {
    model.marked = ids;
    changed(['lists', 'header', 'title']);
  },
});

export const loadMarks = () => marks.load();
export const onMarkProperties = (d) => marks.onProperties(d);
export function isMarked(c) { return Boolean(c) && model.marked.includes(c.id); }
export async function markUnread(c) { if (c) await marks.add(c.id); }
export async function unmark(c) { if (c && isMarked(c)) await marks.remove(c.id); }
