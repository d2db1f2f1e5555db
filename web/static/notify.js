// notify.js: telling the person of new messages while this tab is open
// but not seen (a hidden tab, a minimised window). Three signals:
//
//   - a system notification (the Notification API) for each new message
//     from someone else, when the page is hidden and the person granted
//     the permission; clicking it brings the tab forward and opens the
//     conversation. One notification per conversation is kept (the tag):
//     the next message replaces it rather than piling up.
//   - a short sound with each of those messages, off unless the person
//     turned it on in Settings (kept in localStorage, per browser).
//   - the total unread count drawn on the favicon (the page title's "(n)"
//     is view.js's), whether the tab is hidden or not.
//
// Web Push (push.js, sw.js) is for no tab at all: the gateway pushes a
// message only when the user has no event stream open, and a tab that
// sees the message has its stream open, so one message never gets both.
// Messages from the archive, a replay or a room's history on joining
// carry a stamp and are never announced: only live ones are.

import { model, onIncoming, subscribe, totalUnread } from './state.js';
import { isMuted, isStranger, strangersMuted } from './mute.js';
import { previewLevel, noteText } from './preview.js';

const SOUND = 'sparkgate.sound';
const BODY_MAX = 160; // characters of the message shown in the notification

let openConversation = () => {};

// startNotifying wires the signals; open(id) shows a conversation on
// screen (main.js's), for a clicked notification.
export function startNotifying(open) {
  openConversation = open;
  onIncoming(announce);
  subscribe((region) => { if (region === 'lists') drawBadge(); });
}

// soundOn tells whether new messages play a sound (off by default).
export function soundOn() { return localStorage.getItem(SOUND) === 'on'; }

export function setSound(on) {
  if (on) localStorage.setItem(SOUND, 'on');
  else localStorage.removeItem(SOUND);
}

// canNotify tells whether the browser may show notifications now.
export function canNotify() {
  return 'Notification' in window && window.Notification.permission === 'granted';
}

// askPermission asks for the notification permission (from a click) and
// answers the browser's word: 'granted', 'denied' or 'default'.
export async function askPermission() {
  if (!('Notification' in window)) return 'unsupported';
  if (window.Notification.permission !== 'default') return window.Notification.permission;
  return window.Notification.requestPermission();
}

function announce(c, m) {
  if (m.mine || m.stamp || !document.hidden || isMuted(c)) return;
  if (strangersMuted() && isStranger(c)) return;
  if (soundOn()) beep();
  if (!canNotify()) return;
  const who = c.kind === 'room' ? `${m.nick || 'someone'} in ${c.title}` : c.title;
  const cut = m.body.length > BODY_MAX ? m.body.slice(0, BODY_MAX - 1) + '…' : m.body;
  const { title, body } = noteText(previewLevel(), who, cut); // preview.js: as the pushes show it
  let n;
  try {
    n = new window.Notification(title, { body, tag: c.id, icon: '/icon.svg', renotify: true });
  } catch {
    return; // a browser that shows notifications only from a service worker
  }
  n.onclick = () => {
    window.focus();
    n.close();
    if (model.convs.has(c.id)) openConversation(c.id);
  };
}

// ---- the sound -------------------------------------------------------------------

let audio = null;

// beep plays a short soft tone, made here (no sound file to fetch).
function beep() {
  try {
    audio = audio || new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    const now = audio.currentTime;
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, now);
    gain.gain.exponentialRampToValueAtTime(0.15, now + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start(now);
    osc.stop(now + 0.3);
  } catch { /* no audio: the notification still says it */ }
}

// ---- the favicon badge -------------------------------------------------------------

let shownCount = -1;

// drawBadge puts the unread count on the favicon: icon.svg's drawing with
// a red disc and the number (9+ above nine) over its corner; the plain
// icon when nothing is unread. (An SVG shown as an image loads nothing
// else, so the drawing is repeated here rather than referenced.)
function drawBadge() {
  const n = totalUnread();
  if (n === shownCount) return;
  shownCount = n;
  const link = document.querySelector('link[rel="icon"]');
  if (!link) return;
  if (n === 0) {
    link.href = '/icon.svg';
    delete link.dataset.unread;
    return;
  }
  const label = n > 9 ? '9+' : String(n);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">` +
    `<rect width="64" height="64" rx="14" fill="#0b57d0"/>` +
    `<path d="M16 20h32a4 4 0 0 1 4 4v14a4 4 0 0 1-4 4H30l-10 8v-8h-4a4 4 0 0 1-4-4V24a4 4 0 0 1 4-4z" fill="#fff"/>` +
    `<circle cx="44" cy="20" r="20" fill="#b3261e"/>` +
    `<text x="44" y="28" font-family="sans-serif" font-size="${label.length > 1 ? 20 : 26}" font-weight="700" fill="#fff" text-anchor="middle">${label}</text></svg>`;
  link.href = 'data:image/svg+xml,' + encodeURIComponent(svg);
  link.dataset.unread = label;
}
