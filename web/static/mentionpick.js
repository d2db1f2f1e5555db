// mentionpick.js: @-mention completion in a room's composer.
//
// Contract:
// - wireMentions(input, list, room) makes the textarea input offer the
//   listbox list as it is typed: aria-autocomplete="list", aria-controls
//   and aria-activedescendant (a textarea may not be a combobox, so no
//   aria-expanded: the list is hidden when closed). room() is the open
//   conversation when it is a room, else null.
// - While the word before the caret is "@" and up to 32 more characters
//   (after a space or at the start), the list offers the room's present
//   occupants whose nick starts with them (case aside), the user's own
//   nick left out, at most MAX, in the order of the nicks.
// - ArrowDown and ArrowUp move among them (round), Enter or Tab puts the
//   chosen one in place of the typed word as "@nick " (the gateway's
//   push and state.js's mentions() both take "@nick" as naming them), a
//   click does the same, Escape closes the list; while it is open Enter
//   does not send. The list closes when the caret leaves such a word,
//   and when the function wireMentions answers is called (another
//   conversation opens).
// - candidates(nicks, typed, own) is the choice, pure (tested alone).

const MAX = 8;

// wordAt finds the "@…" word that ends at the caret of text: {start,
// typed} or null.
export function wordAt(text, caret) {
  const before = text.slice(0, caret);
  const m = /(^|\s)@([^\s@]{0,32})$/u.exec(before);
  if (!m) return null;
  return { start: before.length - m[2].length - 1, typed: m[2] };
}

export function candidates(nicks, typed, own) {
  const t = String(typed || '').toLowerCase();
  return [...nicks]
    .filter((n) => n && n !== own && n.toLowerCase().startsWith(t))
    .sort((a, b) => a.localeCompare(b))
    .slice(0, MAX);
}

export function wireMentions(input, list, room) {
  let shown = []; // the nicks offered
  let active = -1;
  let word = null; // {start, typed} being completed

  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-controls', list.id);

  const close = () => {
    shown = [];
    active = -1;
    word = null;
    list.hidden = true;
    list.replaceChildren();
    input.removeAttribute('aria-activedescendant');
  };

  const draw = () => {
    list.replaceChildren(...shown.map((nick, i) => {
      const li = document.createElement('li');
      li.id = `${list.id}-${i}`;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', String(i === active));
      li.dataset.nick = nick;
      li.textContent = nick;
      return li;
    }));
    list.hidden = shown.length === 0;
    if (active >= 0) input.setAttribute('aria-activedescendant', `${list.id}-${active}`);
    else input.removeAttribute('aria-activedescendant');
  };

  const update = () => {
    const c = room();
    const w = c && input.selectionStart === input.selectionEnd ? wordAt(input.value, input.selectionStart) : null;
    if (!w) { close(); return; }
    const present = [...c.occupants.keys()];
    const next = candidates(present, w.typed, c.nick);
    if (!next.length) { close(); return; }
    word = w;
    const keep = active >= 0 ? shown[active] : '';
    shown = next;
    active = Math.max(0, shown.indexOf(keep));
    draw();
  };

  const choose = (nick) => {
    if (!word) return;
    const end = word.start + 1 + word.typed.length;
    const text = `@${nick} `;
    input.setRangeText(text, word.start, end, 'end');
    close();
    // The draft and the typing state follow the composer's input event.
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.focus();
  };

  input.addEventListener('input', update);
  input.addEventListener('click', update);
  input.addEventListener('blur', () => setTimeout(() => { if (document.activeElement !== input) close(); }, 150));
  // Capture: before the composer's own Enter, which sends.
  input.addEventListener('keydown', (e) => {
    if (list.hidden || !shown.length) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      active = (active + (e.key === 'ArrowDown' ? 1 : shown.length - 1)) % shown.length;
      draw();
    } else if ((e.key === 'Enter' && !e.shiftKey && !e.isComposing) || e.key === 'Tab') {
      e.preventDefault();
      e.stopImmediatePropagation();
      choose(shown[Math.max(active, 0)]);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  }, true);
  // pointerdown, not click: the textarea keeps the focus.
  list.addEventListener('pointerdown', (e) => {
    const li = e.target.closest('li[data-nick]');
    if (!li) return;
    e.preventDefault();
    choose(li.dataset.nick);
  });
  return close;
}
