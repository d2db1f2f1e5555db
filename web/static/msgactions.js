// msgactions.js: what a person does to a message (issue 19): edit and
// delete their own (XEP-0308, XEP-0424), react (XEP-0444) and reply
// (XEP-0461) to any, and copy any one's text, in a chat or a room. It keeps the composer's mode, the one
// piece of state it owns: writing a new message, editing one of ours
// (the composer holds its text; Send corrects it) or replying to one
// ("Replying to …" above the composer; Send answers it). A mode belongs
// to its conversation and ends with Send, Cancel, Escape or a switch to
// another conversation. Up-arrow in an empty composer edits our last
// message. The actions are chat.js's; view.js draws the buttons (with
// data-action and data-key) that msglist.js routes here, and the picker
// and the delete confirmation, which open on one message at a time.

import { activeConv, model, subscribe, editable, reactable, roomRef, local, setDraft } from './state.js';
import { correct, retract, react, send } from './chat.js';
import { $, fail, openPicker, confirmDelete, focusMessage, scrollToMessage, announce } from './view.js';

// mode: {conv, kind: 'edit'|'reply', key}, or null for a new message.
let mode = null;

const byKey = (c, key) => (c ? c.messages.find((m) => String(m.key) === String(key)) || null : null);

// short is a message's text cut for the composer's line about it.
function short(text, n = 60) {
  const t = String(text || '').replace(/\s+/g, ' ').trim();
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
}

// setMode shows mode (null: none) above the composer; leaving an edit
// puts back the draft it replaced, unless restore is false (another
// conversation's draft is in the composer then).
function setMode(next, restore = true) {
  const was = mode;
  mode = next;
  const bar = $('compose-mode');
  const input = $('composer-input');
  if (!mode) {
    bar.hidden = true;
    $('compose-mode-text').textContent = '';
    if (restore && was && was.kind === 'edit') {
      input.value = was.draft || '';
      setDraft(was.conv, input.value);
    }
    return;
  }
  const c = activeConv();
  const m = byKey(c, mode.key);
  const name = m && !m.mine ? (m.nick || local(m.from)) : 'yourself';
  $('compose-mode-text').textContent = mode.kind === 'edit'
    ? 'Editing your message'
    : `Replying to ${name}: “${short(m ? m.body : '', 50)}”`;
  $('compose-cancel').setAttribute('aria-label', mode.kind === 'edit' ? 'Cancel editing' : 'Cancel the reply');
  bar.hidden = false;
}

// startEdit puts our message m of c in the composer to correct it.
export function startEdit(c, m) {
  if (!editable(c, m)) return;
  const input = $('composer-input');
  setMode({ conv: c.id, kind: 'edit', key: m.key, draft: mode && mode.kind === 'edit' ? mode.draft : input.value });
  input.value = m.body;
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}

// startReply makes the next message sent answer m of c.
export function startReply(c, m) {
  if (!reactable(c, m)) return;
  setMode({ conv: c.id, kind: 'reply', key: m.key });
  $('composer-input').focus();
}

// cancelMode goes back to writing a new message.
export function cancelMode() {
  if (mode) setMode(null);
}

// submitText is Send: it corrects, answers or sends text in c as the
// mode says, and answers true when text left the composer as a new message
// (main.js then clears the draft) or a correction.
export async function submitText(text, c) {
  const now = mode && mode.conv === c.id ? mode : null;
  const m = now && byKey(c, now.key);
  if (now && now.kind === 'edit') {
    if (!m || !editable(c, m)) { setMode(null); return; }
    try {
      await correct(c, m, text);
      setMode(null);
      focusMessage(m.key, 'edit');
      $('composer-input').focus();
    } catch (e) { fail(e); }
    return;
  }
  if (now) setMode(null);
  await send(text, c, undefined, m && now.kind === 'reply' ? (c.kind === 'room' ? roomRef(c, m) : m.id) : undefined);
}

// editing tells whether the composer holds a message being corrected
// (its text is no draft).
export function editing() { return Boolean(mode && mode.kind === 'edit'); }

// onMessageClick handles a click on a message's control b.
export async function onMessageClick(b) {
  const c = activeConv();
  const m = byKey(c, b.dataset.key);
  const action = b.dataset.action;
  if (action === 'quote') { scrollToMessage(b.dataset.target); return; }
  if (!m) return;
  try {
    switch (action) {
      case 'reply': startReply(c, m); break;
      case 'copy':
        // The text as written (styling markers included), not as drawn.
        await navigator.clipboard.writeText(m.body);
        announce(['Copied.']);
        b.textContent = 'Copied';
        setTimeout(() => { if (b.isConnected) b.textContent = 'Copy'; }, 1500);
        break;
      case 'edit': startEdit(c, m); break;
      case 'pick': {
        const open = b.getAttribute('aria-expanded') === 'true';
        openPicker(open ? 0 : m.key);
        if (open) focusMessage(m.key, 'pick');
        break;
      }
      case 'react':
        b.disabled = true;
        if (b.closest('.picker')) {
          openPicker(0);
          focusMessage(m.key, 'pick');
        }
        await react(c, m, b.dataset.emoji);
        break;
      case 'delete': confirmDelete(m.key); break;
      case 'delete-no': confirmDelete(0); focusMessage(m.key, 'delete'); break;
      case 'delete-yes':
        b.disabled = true;
        await retract(c, m);
        confirmDelete(0);
        if (mode && mode.key === m.key) setMode(null);
        $('messages').focus({ preventScroll: true });
        break;
      default:
    }
  } catch (e) {
    b.disabled = false;
    fail(e);
  }
}

// wireComposerModes wires Cancel, Escape and Up-arrow.
export function wireComposerModes() {
  const input = $('composer-input');
  $('compose-cancel').addEventListener('click', () => { cancelMode(); input.focus(); });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && mode) {
      e.preventDefault();
      cancelMode();
      return;
    }
    if (e.key === 'ArrowUp' && !input.value && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
      const c = activeConv();
      const m = c && [...c.messages].reverse().find((x) => x.mine);
      if (m && editable(c, m)) {
        e.preventDefault();
        startEdit(c, m);
      }
    }
  });
  $('messages').addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    const b = e.target.closest && e.target.closest('li.msg');
    if (!b) return;
    openPicker(0);
    confirmDelete(0);
    focusMessage(Number(b.dataset.key), 'pick');
  });
  // Another conversation: the mode was this one's.
  subscribe((region) => {
    if (region === 'header' && mode && mode.conv !== model.active) setMode(null, false);
  });
}
