// menu.js: the account menu of the top bar (#menu-toggle opens #menu, a
// disclosure: aria-expanded on the button, Escape or a click elsewhere
// closes it and Escape gives the focus back to the button). It says the
// user's own address (shown nowhere else on a phone) and holds the
// user's own status (available, away, do not disturb, and a status
// message: POST /presence, kept in the model by setMe, and read at sign-in
// by loadMe: it is the same on every device), the theme (the
// device's, light or dark: data-theme on <html>, kept in localStorage as
// a preference of this browser), Settings and Sign out. On a phone it is
// the top bar's only control; on a desktop Settings and Sign out are also
// buttons of their own. Opening the menu focuses no text box (a phone's
// keyboard would cover it).

import { call, seg } from './api.js';
import { model, setMe, whenReady } from './state.js';
import { $, notice, fail } from './view.js';

const THEME = 'sparkgate.theme';

// applyTheme shows the page in theme ('' follows the device).
export function applyTheme(theme) {
  const t = theme === 'light' || theme === 'dark' ? theme : '';
  if (t) document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
}

function savedTheme() {
  try { return localStorage.getItem(THEME) || ''; } catch { return ''; }
}

applyTheme(savedTheme()); // before the first paint of the app

// setPresence sets the user's own presence (show: '' available, away,
// dnd, …) and status message.
export async function setPresence(show, status) {
  await call('POST', '/presence', { query: { show, status } });
  setMe(show, status);
}

// loadMe reads the status the user set on any tab or device (GET
// /presence/{own JID}), so that a device signing in shows what contacts
// see, not "Available" from a storage of its own.
export async function loadMe() {
  await whenReady();
  const p = await call('GET', `/presence/${seg(model.jid)}`);
  if (p && p.show) setMe(p.show === 'available' ? '' : p.show, p.status || '');
}

// wireMenu wires the menu; settings() opens the settings, signOut() signs out.
export function wireMenu({ settings, signOut }) {
  const toggle = $('menu-toggle');
  const menu = $('menu');
  const close = (focus) => {
    if (menu.hidden) return;
    menu.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
    if (focus) toggle.focus();
  };
  const open = () => {
    const me = model.me;
    for (const r of document.querySelectorAll('input[name="status-show"]')) r.checked = r.value === me.show;
    if (!document.querySelector('input[name="status-show"]:checked')) $('status-available').checked = true;
    $('status-text').value = me.status;
    $('theme-choice').value = savedTheme();
    menu.hidden = false;
    toggle.setAttribute('aria-expanded', 'true');
  };
  toggle.addEventListener('click', () => (menu.hidden ? open() : close(false)));
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !menu.hidden) close(true); });
  document.addEventListener('click', (e) => {
    if (!menu.hidden && !menu.contains(e.target) && !toggle.contains(e.target)) close(false);
  });

  $('status-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const show = (document.querySelector('input[name="status-show"]:checked') || {}).value || '';
    try {
      await setPresence(show, $('status-text').value.trim());
      close(true);
      notice('Your status is set.');
    } catch (err) { fail(err); }
  });
  $('theme-choice').addEventListener('change', () => {
    const t = $('theme-choice').value;
    try {
      if (t) localStorage.setItem(THEME, t);
      else localStorage.removeItem(THEME);
    } catch { /* private mode: this page only */ }
    applyTheme(t);
  });
  $('menu-settings').addEventListener('click', () => { close(false); settings(); });
  $('menu-signout').addEventListener('click', () => { close(false); signOut(); });
}

// closeMenu closes the menu (sign-out, screen changes).
export function closeMenu() {
  $('menu').hidden = true;
  $('menu-toggle').setAttribute('aria-expanded', 'false');
}
