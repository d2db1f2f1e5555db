// preview.js: how much a notification shows, the same on every device of
// the person (a lock screen or a shared screen is read by anyone near it).
//
// Contract:
// - The user property sparkgate.push.preview (GET and POST
//   /config/properties) says it: 'full' (also when absent), 'sender' (who
//   wrote, not what) or 'none' (neither). The gateway applies it to the
//   pushes it sends; notify.js asks previewLevel() for this tab's own
//   notifications, and noteText(level, who, body) words them.
// - loadPreview() reads it at sign-in and after a gap;
//   onPreviewProperties(d) reads it again when chatapi.properties names it
//   (another tab or device changed it).
// - setPreview(level) stores it; the model changes at once, and a failed
//   store puts it back and throws. A gateway without properties (501)
//   hides the choice (feature 'properties').

import { call } from './api.js';
import { model, changed } from './state.js';
import { readProperties } from './convset.js';

export const PREVIEW = 'sparkgate.push.preview';
const LEVELS = ['full', 'sender', 'none'];

export function previewLevel() { return LEVELS.includes(model.preview) ? model.preview : 'full'; }

function apply(level) {
  model.preview = LEVELS.includes(level) ? level : 'full';
  changed('preview');
}

export async function loadPreview() {
  const res = await readProperties();
  if (res) apply(res[PREVIEW]);
}

export function onPreviewProperties(d) {
  if (d && Array.isArray(d.names) && d.names.includes(PREVIEW)) loadPreview().catch(() => {});
}

export async function setPreview(level) {
  const before = previewLevel();
  apply(level);
  try {
    // full is the property's absence: removing it says so.
    await call('POST', '/config/properties', { json: [{ name: PREVIEW, value: level === 'full' ? '' : level }], feature: 'properties' });
  } catch (e) {
    apply(before);
    throw e;
  }
}

// noteText answers a notification's title and body as level shows them:
// at full who and body, at sender who and "New message", at none only
// "New message".
export function noteText(level, who, body) {
  if (level === 'none') return { title: 'New message', body: '' };
  if (level === 'sender') return { title: who, body: 'New message' };
  return { title: who, body };
}
