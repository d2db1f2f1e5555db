// convmenu.js: the open conversation's actions on a phone. On a wide
// screen the actions (Add contact, Block, Start meeting, Room settings,
// Leave room, …) sit in the conversation's header; at 640 px and less
// they would wrap the header onto several lines, so app.css hides them
// behind one "More" button (#conv-more) and this module makes that button
// a disclosure of .conv-actions: aria-expanded on the button, the panel
// shown while open, closed by Escape (the focus goes back to the button),
// a click elsewhere, or a click on an action (the action runs as on a wide
// screen: its own handler is untouched). Nothing here draws or knows which
// actions a conversation has; view.js decides that as before.

import { $ } from './view.js';

// wireConvMenu wires #conv-more to the header's actions.
export function wireConvMenu() {
  const toggle = $('conv-more');
  const actions = document.querySelector('.conv-actions');
  if (!toggle || !actions) return;
  const isOpen = () => actions.classList.contains('open');
  const close = (focus) => {
    if (!isOpen()) return;
    actions.classList.remove('open');
    toggle.setAttribute('aria-expanded', 'false');
    if (focus) toggle.focus();
  };
  toggle.addEventListener('click', () => {
    if (isOpen()) { close(false); return; }
    actions.classList.add('open');
    toggle.setAttribute('aria-expanded', 'true');
  });
  actions.addEventListener('click', (e) => { if (e.target.closest('button')) close(false); });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && isOpen()) close(true); });
  document.addEventListener('click', (e) => {
    if (isOpen() && !actions.contains(e.target) && !toggle.contains(e.target)) close(false);
  });
}
