// msglist.js: the message list's own controls, wired once by main.js: the
// Retry button of a failed message (view.js draws it with data-action
// "retry" and data-key; chat.js sends the same message again), a
// message's actions (reply, react, edit, delete, the quote of the message
// a reply answers: msgactions.js), and the jump to the newest messages
// (#jump-latest, view.js keeps its count). Nothing here draws or keeps
// state of its own.

import { activeConv } from './state.js';
import { retry } from './chat.js';
import { onMessageClick, wireComposerModes } from './msgactions.js';
import { $, jumpToLatest, updateJump } from './view.js';

export function wireMessageList() {
  const list = $('messages');
  wireComposerModes();
  list.addEventListener('click', (e) => {
    const act = e.target.closest('button[data-action]:not([data-action="retry"])');
    if (act && !act.disabled) { onMessageClick(act); return; }
    const b = e.target.closest('button[data-action="retry"]');
    if (!b || b.disabled) return;
    b.disabled = true; // once: the message goes back to pending and the button away
    retry(activeConv(), b.dataset.key);
  });
  list.addEventListener('scroll', updateJump, { passive: true });
  $('jump-latest').addEventListener('click', () => {
    jumpToLatest();
    list.focus({ preventScroll: true });
  });
}
