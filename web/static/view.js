// view.js: draws the model (state.js) into index.html's regions, and
// nothing else: it never calls the API and never changes the model. There
// is one render function per region; a change in the model marks its
// region dirty and all dirty regions are drawn together in one
// requestAnimationFrame (a timer while the page is hidden, where frames
// stop), so a burst of events costs one render. Messages are keyed: a new
// message inserts its own <li> and the others stay as they are, so
// selections, previews and the screen reader's place survive; when older
// messages are inserted above, the scroll position is kept. Each day starts
// with its own element (<li class="day">, keyed by the day) naming it, and
// a message that follows its sender's previous one within GROUP_MS is
// grouped with it (its name and time only for screen readers); both are
// re-decided on every draw, the elements staying the same.
//
// Our own messages show their state (state.js: pending, sent, delivered,
// read, failed) as a small icon with words for screen readers, and a
// failed one a Retry button (data-action="retry", data-key). The list
// itself is not a live region: what is new is said once in #msg-announce
// (another person's new messages, and a state that changed to delivered,
// read or failed), so the list can change without being read again.
// A message that changed (state.js modify: a correction, a retraction,
// reactions) or whose picker or delete confirmation opened is drawn again
// in its own element (fillMessage), focus kept on the same control: its
// latest text with an "edited" mark, a tombstone for a retracted one,
// reaction chips, the quote of the message a reply answers, and its
// actions (data-action reply, pick, react, edit, delete, delete-yes,
// delete-no, quote; msgactions.js handles them).
// When new messages arrive while the person has scrolled up, the list
// stays where it is and #jump-latest says how many are new below;
// clicked, or scrolled down to, it goes away.
//
// The sidebar lists the recent conversations (people and rooms, by last
// activity, with the last message, its time and the unread count), the
// contacts (A–Z, with presence) and the joined rooms; each person is
// shown with their picture (avatars.js) or their initial, which are
// decoration (the name says who). The 'me' region is the top bar's own
// name, picture and presence (the account menu's button, menu.js).
//
// Buttons drawn here carry data-action (and data-jid or data-room); main.js
// handles their clicks. Elements are made with createElement and
// textContent only. The lists (sidebar, requests, directory, occupants,
// settings' lists) are drawn anew from the model and put in place by
// keep.js, so an item drawn as before stays the same element: a press, a
// focus or a screen reader's place on it survives a redraw.

import { call, seg, features } from './api.js';
import { explain } from './errors.js';
import {
  model, subscribe, activeConv, local, bare, totalUnread, recent, lastMessage, targetOf, reactionCounts, myReactions, editable, reactable, mentions,
  privateRoom, resourceOf, named,
} from './state.js';
import { fileOf } from './files.js';
import { styled } from './styling.js';
import { grants, may } from './roomadmin.js';
import { keepChildren } from './keep.js';
import { isMuted, mutedUntil } from './mute.js';
import { isPinned } from './pins.js';
import { isMarked } from './marks.js';

export const $ = (id) => document.getElementById(id);

// ---- scheduling --------------------------------------------------------------

const ORDER = ['lists', 'requests', 'directory', 'header', 'occupants', 'messages', 'me', 'blocked', 'muted'];
const dirty = new Set();
let pending = false;

function schedule(region) {
  dirty.add(region);
  if (pending) return;
  pending = true;
  if (document.hidden) setTimeout(flush, 50);
  else requestAnimationFrame(flush);
}

// flush draws every dirty region now.
export function flush() {
  pending = false;
  const regions = new Set(dirty);
  dirty.clear();
  for (const r of ORDER) if (regions.has(r)) RENDER[r]();
}

subscribe((region, c) => {
  // A conversation's messages or occupants matter only when it is open.
  if ((region === 'messages' || region === 'occupants') && c && c.id !== model.active) return;
  schedule(region);
});
document.addEventListener('visibilitychange', () => { if (pending && document.hidden) setTimeout(flush, 0); });

// ---- messages -------------------------------------------------------------------

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;

function textWithLinks(parent, text) {
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    if (m.index > last) parent.append(text.slice(last, m.index));
    const a = document.createElement('a');
    a.href = m[0];
    a.textContent = m[0];
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    parent.append(a);
    last = m.index + m[0].length;
  }
  if (last < text.length) parent.append(text.slice(last));
}

function fmtTime(ts) {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

const DAY_MS = 86400000;

// dayStart is the local midnight that starts t's day.
function dayStart(t) {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

// daysAgo counts the calendar days from t to now (0: today).
function daysAgo(t, now = Date.now()) {
  return Math.round((dayStart(now) - dayStart(t)) / DAY_MS);
}

// dayLabel names t's day: Today, Yesterday, a weekday this week, or the
// date (with the year when another year).
export function dayLabel(t, now = Date.now()) {
  const n = daysAgo(t, now);
  if (n === 0) return 'Today';
  if (n === 1) return 'Yesterday';
  const d = new Date(t);
  if (n > 1 && n < 7) return d.toLocaleDateString([], { weekday: 'long' });
  const sameYear = d.getFullYear() === new Date(now).getFullYear();
  return d.toLocaleDateString([], sameYear ? { weekday: 'short', day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short', year: 'numeric' });
}

// whenShort is a list's time of t: the time today, else the day.
export function whenShort(t, now = Date.now()) {
  const n = daysAgo(t, now);
  if (n === 0) return fmtTime(t);
  if (n === 1) return 'Yesterday';
  const d = new Date(t);
  if (n > 1 && n < 7) return d.toLocaleDateString([], { weekday: 'short' });
  return d.toLocaleDateString([], { day: 'numeric', month: 'short' });
}

export const GROUP_MS = 5 * 60000;

const senderOf = (m) => (m.mine ? '' : (m.nick ? 'nick:' + m.nick : bare(m.from)));

// grouped tells whether m follows prev closely enough, from the same
// sender on the same day, to be shown as one group with it.
function grouped(m, prev) {
  return Boolean(prev) && dayStart(prev.t) === dayStart(m.t) && senderOf(prev) === senderOf(m) && m.t - prev.t < GROUP_MS;
}

// dayItem answers the element that starts t's day in the list, labelled
// for today.
function dayItem(t) {
  const key = 'day:' + dayStart(t);
  let li = shown.items.get(key);
  if (!li) {
    li = document.createElement('li');
    li.className = 'day';
    li.dataset.key = key;
    shown.items.set(key, li);
  }
  const label = dayLabel(t);
  if (li.textContent !== label) li.textContent = label;
  return li;
}

// newFrom answers the first message of c the person has not read, where
// the "New messages" divider goes, or null: the message after the one read
// up to (c.readMark.lastRead: a chat message's id, a room's archive id)
// when it is loaded, else the count-th last message from others. Once
// found it stays (c.readMark.key), so messages coming while the
// conversation is open move nothing (state.js's retime moves it when the
// archive reorders the messages it stood over); while fewer are loaded
// than were unread, the first loaded one from others stands in until
// older pages come.
function newFrom(c) {
  const mark = c.readMark;
  if (!mark || !mark.count) return null;
  const msgs = c.messages;
  if (mark.key) {
    const m = msgs.find((x) => x.key === mark.key);
    if (m) return m;
  }
  let found = null;
  if (mark.lastRead) {
    const i = msgs.findIndex((m) => m.id === mark.lastRead || m.stanzaId === mark.lastRead);
    if (i >= 0) found = msgs.slice(i + 1).find((m) => !m.mine) || null;
  }
  for (let i = msgs.length - 1, n = 0; i >= 0 && !found; i--) {
    if (!msgs[i].mine && ++n === mark.count) found = msgs[i];
  }
  if (found) {
    mark.key = found.key;
    return found;
  }
  return msgs.find((m) => !m.mine) || null;
}

// dividerItem is the "New messages" divider, an item of the list like a
// day's; the announcement is made once, by renderMessages.
function dividerItem() {
  let li = shown.items.get('new');
  if (!li) {
    li = document.createElement('li');
    li.className = 'new-divider';
    li.dataset.key = 'new';
    li.textContent = 'New messages';
    shown.items.set('new', li);
  }
  return li;
}

function messageItem(m, c) {
  const li = document.createElement('li');
  li.className = 'msg' + (m.mine ? ' mine' : '');
  li.dataset.key = String(m.key);
  fillMessage(li, m, c);
  return li;
}

// fillMessage draws m's content into its element li (again when m
// changed: a correction, a retraction, reactions, or the picker or the
// delete confirmation opened or closed on it). Focus inside li stays on
// the same control when it is still there.
function fillMessage(li, m, c) {
  const had = li.contains(document.activeElement) ? document.activeElement.dataset : null;
  const focusWas = had ? { action: had.action || '', emoji: had.emoji || '' } : null;
  if (m.id) li.dataset.id = m.id;
  li.dataset.rev = revOf(m, c);
  li.classList.toggle('retracted', Boolean(m.retracted));
  // A room message that names the user's nick stands out, and says so.
  const mention = c.kind === 'room' && !m.mine && !m.retracted && mentions(m.body, c.nick);
  li.classList.toggle('mention', mention);
  delete li.dataset.state;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = m.mine ? 'You' : (m.nick || local(m.from));
  const time = document.createElement('time');
  time.dateTime = m.ts;
  time.textContent = fmtTime(m.ts);
  if (m.t) time.title = new Date(m.t).toLocaleString();
  const parts = [who, ' ', time];
  if (mention) {
    const said = document.createElement('span');
    said.className = 'visually-hidden';
    said.textContent = ', mentions you';
    parts.push(said);
  }
  if (m.edited && !m.retracted) {
    const e = document.createElement('span');
    e.className = 'edited';
    e.textContent = 'edited';
    e.title = 'This message was corrected';
    parts.push(' ', e);
  }
  if (m.replyTo && !m.retracted) parts.push(quoteOf(c, m));
  const body = document.createElement('div');
  body.className = 'body';
  const file = m.retracted ? null : fileOf(m);
  if (m.retracted) {
    const p = document.createElement('p');
    p.className = 'tombstone';
    p.textContent = 'Message deleted';
    body.append(p);
  } else if (file) {
    // The text too when it says more than the file's address.
    if (m.body && m.body.trim() !== file.url) {
      const text = document.createElement('div');
      text.className = 'text';
      text.append(styled(m.body, textWithLinks));
      body.append(text);
    }
    body.append(file.image ? imageOf(file) : fileCard(file));
  } else {
    body.append(styled(m.body, textWithLinks)); // styling.js: DOM nodes, never HTML
  }
  parts.push(body);
  const chips = reactionsOf(c, m);
  if (chips) parts.push(chips);
  const tools = toolsOf(c, m);
  if (tools) parts.push(tools);
  li.replaceChildren(...parts);
  const url = m.retracted ? '' : (m.body.match(URL_RE) || [])[0];
  if (url && !file) preview(li, url);
  drawState(li, m);
  const want = shown.focus && shown.focus.key === m.key ? shown.focus : focusWas;
  if (shown.focus && shown.focus.key === m.key) shown.focus = null;
  if (want) {
    const sel = want.emoji ? `button[data-action="${want.action}"][data-emoji="${CSS.escape(want.emoji)}"]` : `button[data-action="${want.action}"]`;
    const b = li.querySelector(sel) || li.querySelector('.msg-tools button');
    if (b) b.focus({ preventScroll: true });
    else $('messages').focus({ preventScroll: true });
  }
}

// revOf is what fillMessage drew m as: its changes, those of the message
// it answers, and the controls open on it.
function revOf(m, c) {
  const to = m.replyTo ? targetOf(c, m.replyTo) : null;
  const named = c.kind === 'room' && !m.mine && mentions(m.body, c.nick); // the nick may come after the message
  return `${m.rev || 0}|${to ? `${to.key}.${to.rev || 0}` : ''}|${shown.picking === m.key ? 'p' : ''}|${shown.confirming === m.key ? 'c' : ''}|${m.id ? 'i' : ''}|${m.state === 'pending' || m.state === 'failed' ? 'w' : ''}|${named ? 'm' : ''}`;
}

export const REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

// quoteOf shows the message m answers: who and the start of its text, a
// button that scrolls to it when it is in the list.
function quoteOf(c, m) {
  const target = targetOf(c, m.replyTo);
  if (!target) {
    const p = document.createElement('p');
    p.className = 'quote';
    p.textContent = 'Reply to an earlier message';
    return p;
  }
  const name = target.mine ? 'You' : (target.nick || local(target.from));
  const text = target.retracted ? 'Message deleted' : short(target.body, 80);
  const b = button(`↪ ${name}: ${text}`, 'quote', { target: String(target.key) }, `In reply to ${name}: “${text}”. Show that message`);
  b.className = 'quote';
  return b;
}

// reactionsOf shows m's reactions as chips (emoji and count, who in the
// title), ours pressed; where we may react (state.js reactable) each chip
// toggles ours.
function reactionsOf(c, m) {
  const list = reactionCounts(c, m);
  if (!list.length) return null;
  const box = group('reactions', 'Reactions');
  const may = reactable(c, m);
  for (const r of list) {
    const names = r.who.map((w) => (r.mine && (w === model.jid || w === `${c.jid}/${c.nick}`)) ? 'you' : (c.kind === 'room' ? w.split('/').slice(1).join('/') : local(w)));
    const label = `${r.emoji} ${r.who.length}: ${names.join(', ')}`;
    const chip = may ? button('', 'react', { key: String(m.key), emoji: r.emoji }, label) : document.createElement('span');
    chip.className = 'chip' + (r.mine ? ' own' : '');
    chip.title = names.join(', ');
    if (may) chip.setAttribute('aria-pressed', String(r.mine));
    else { chip.setAttribute('role', 'img'); chip.setAttribute('aria-label', label); }
    chip.textContent = `${r.emoji} ${r.who.length}`;
    box.append(chip);
  }
  return box;
}

// group is a labelled group of controls.
function group(className, label) {
  const g = document.createElement('div');
  g.className = className;
  g.setAttribute('role', 'group');
  g.setAttribute('aria-label', label);
  return g;
}

// toolsOf draws the message's actions: Reply and React on any message of
// a chat or a room (state.js reactable), Edit and Delete on our own; the reaction picker or the delete
// confirmation when open on it.
function toolsOf(c, m) {
  const may = reactable(c, m);
  const own = editable(c, m);
  if (!may && !own) return null;
  const box = document.createElement('div');
  box.className = 'msg-tools';
  const key = { key: String(m.key) };
  const about = short(m.body, 40);
  if (shown.confirming === m.key) {
    box.classList.add('open');
    const q = document.createElement('span');
    q.textContent = 'Delete this message for everyone?';
    const yes = button('Delete', 'delete-yes', key, `Delete “${about}” for everyone`);
    yes.className = 'danger';
    box.append(q, ' ', yes, ' ', button('Keep', 'delete-no', key, 'Keep the message'));
    return box;
  }
  if (may) {
    box.append(button('Reply', 'reply', key, `Reply to “${about}”`));
    if (m.body && navigator.clipboard) box.append(button('Copy', 'copy', key, `Copy “${about}”`));
    const r = button('React', 'pick', key, `React to “${about}”`);
    r.setAttribute('aria-expanded', String(shown.picking === m.key));
    box.append(r);
  }
  if (own) box.append(button('Edit', 'edit', key, `Edit “${about}”`), button('Delete', 'delete', key, `Delete “${about}”`));
  if (may && shown.picking === m.key) {
    box.classList.add('open');
    const pick = group('picker', 'Pick a reaction');
    const mine = myReactions(c, m);
    for (const e of REACTIONS) {
      const b = button(e, 'react', { key: String(m.key), emoji: e }, `React with ${e}`);
      b.setAttribute('aria-pressed', String(mine.includes(e)));
      pick.append(b);
    }
    box.append(pick);
  }
  return box;
}

// openPicker shows the reaction picker on the message with key (none
// when 0), focus on its first emoji; confirmDelete asks on it whether to
// delete. Each closes the other.
export function openPicker(key) {
  shown.picking = key;
  shown.confirming = 0;
  if (key) shown.focus = { key, action: 'react', emoji: REACTIONS[0] };
  schedule('messages');
}

export function confirmDelete(key) {
  shown.confirming = key;
  shown.picking = 0;
  if (key) shown.focus = { key, action: 'delete-no' };
  schedule('messages');
}

// focusMessage moves focus to the control action of the message with key at
// its next draw (or now, when it is drawn already).
export function focusMessage(key, action) {
  shown.focus = { key, action };
  const li = shown.items.get(key);
  const b = li && li.querySelector(`button[data-action="${action}"]`);
  if (b) { shown.focus = null; b.focus({ preventScroll: true }); }
}

// scrollToMessage brings the message with key into view and marks it a
// moment.
export function scrollToMessage(key) {
  const li = shown.items.get(Number(key));
  if (!li) return false;
  li.scrollIntoView({ block: 'center', behavior: 'smooth' });
  li.classList.add('flash');
  setTimeout(() => li.classList.remove('flash'), 1500);
  return true;
}

// imageOf shows an image file inline: loaded when near the screen, with
// its description (or name) as its text, opening in a new tab when
// clicked. An image that cannot be shown (gone, or an origin the page's
// policy refuses) becomes a file card.
function imageOf(file) {
  const a = document.createElement('a');
  a.className = 'file-image';
  a.href = file.url;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  const img = document.createElement('img');
  img.loading = 'lazy';
  img.decoding = 'async';
  img.referrerPolicy = 'no-referrer';
  img.alt = file.desc || `Image: ${file.name}`;
  img.addEventListener('load', () => {
    // It grew the list: keep the end in view if it was there before.
    const list = $('messages');
    if (list && list.scrollHeight - list.scrollTop - list.clientHeight - img.offsetHeight < 40) list.scrollTop = list.scrollHeight;
    updateJump();
  }, { once: true });
  img.addEventListener('error', () => a.replaceWith(fileCard(file)), { once: true });
  img.src = file.url;
  a.append(img);
  return a;
}

// fileCard shows a file as its name, what the sender said of it, and a
// link that downloads it.
function fileCard(file) {
  const card = document.createElement('div');
  card.className = 'file-card';
  const icon = document.createElement('span');
  icon.className = 'file-icon';
  icon.setAttribute('aria-hidden', 'true');
  const a = document.createElement('a');
  a.href = file.url;
  a.download = file.name;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.textContent = file.name;
  a.setAttribute('aria-label', `Download ${file.name}`);
  card.append(icon, a);
  if (file.desc) {
    const d = document.createElement('span');
    d.className = 'file-desc';
    d.textContent = file.desc;
    card.append(d);
  }
  return card;
}

const STATE_WORDS = { pending: 'Sending', sent: 'Sent', delivered: 'Delivered', read: 'Read', failed: 'Not sent' };
const STATE_ICONS = { pending: '…', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' };

// drawState shows m's send state in its element li; it answers whether
// the state shown changed.
function drawState(li, m) {
  const s = (m.mine && STATE_WORDS[m.state]) ? m.state : '';
  if ((li.dataset.state || '') === s) return false;
  let el = li.querySelector(':scope > .state');
  if (!s) {
    if (el) el.remove();
    delete li.dataset.state;
    return true;
  }
  if (!el) {
    el = document.createElement('p');
    el.className = 'state';
    li.append(el);
  }
  li.dataset.state = s;
  const icon = document.createElement('span');
  icon.className = 'icon';
  icon.setAttribute('aria-hidden', 'true');
  icon.textContent = STATE_ICONS[s];
  const words = document.createElement('span');
  words.className = s === 'failed' ? 'words' : 'visually-hidden';
  words.textContent = STATE_WORDS[s];
  el.replaceChildren(icon, ' ', words);
  el.title = STATE_WORDS[s];
  if (s === 'failed') {
    const b = button('Retry', 'retry', { key: String(m.key) }, `Retry sending “${short(m.body)}”`);
    b.className = 'retry';
    el.append(' ', b);
  }
  return true;
}

// short is a message's text cut for a sentence about it.
function short(text, n = 60) {
  const t = String(text || '').replace(/\s+/g, ' ').trim();
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
}

// announce says lines once in the polite region #msg-announce.
export function announce(lines) {
  const el = $('msg-announce');
  if (!el || !lines.length) return;
  el.textContent = lines.join('\n');
}

// shown is what the list shows: the conversation, its elements by message
// key (or 'day:' + midnight), the key of its last message, and how many
// messages came below while the person was scrolled up.
const shown = { conv: '', items: new Map(), lastKey: 0, unseen: 0, picking: 0, confirming: 0, focus: null, newSaid: false };

// atBottom tells whether the list is scrolled to (near) its end.
function atBottom(list) {
  return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
}

function renderMessages() {
  const list = $('messages');
  const c = activeConv();
  if (!c || shown.conv !== c.id) {
    list.replaceChildren();
    shown.items.clear();
    shown.conv = c ? c.id : '';
    shown.lastKey = 0;
    shown.unseen = 0;
    shown.picking = 0;
    shown.confirming = 0;
    shown.newSaid = false;
  }
  if (!c) { updateJump(); return; }
  const fresh = list.childElementCount === 0;
  const bottom = fresh || atBottom(list);
  const anchor = list.querySelector('.msg'); // the first message (a day's element may move above)
  const anchorTop = anchor ? anchor.offsetTop : 0;

  // Walk the messages in order and the list's elements alongside: an
  // element that is where it belongs stays; a missing one is inserted.
  const keep = new Set();
  let cursor = list.firstElementChild;
  const place = (li) => {
    if (li === cursor) cursor = cursor.nextElementSibling;
    else list.insertBefore(li, cursor);
  };
  let prev = null;
  // Messages placed after the last one shown before are new at the end
  // (not when the list is first drawn).
  let pastLast = shown.lastKey === 0 ? null : false;
  const added = [], said = [];
  const first = newFrom(c);
  let divider = null;
  for (const m of c.messages) {
    if (m.t && (!prev || dayStart(prev.t) !== dayStart(m.t))) {
      const day = dayItem(m.t);
      keep.add(day.dataset.key);
      place(day);
    }
    if (m === first) {
      divider = dividerItem();
      keep.add('new');
      place(divider);
    }
    keep.add(m.key);
    let li = shown.items.get(m.key);
    if (!li) {
      li = messageItem(m, c);
      shown.items.set(m.key, li);
      if (pastLast) added.push(m);
    } else if (li.dataset.rev !== revOf(m, c)) {
      const was = li.dataset.state || '';
      fillMessage(li, m, c);
      if (m.rev !== Number(li.dataset.said || 0)) {
        li.dataset.said = String(m.rev || 0);
        if (m.retracted) said.push(`${m.mine ? 'Your' : (m.nick || local(m.from)) + '’s'} message was deleted.`);
      }
      if (was !== (li.dataset.state || '') && ['delivered', 'read', 'failed'].includes(m.state)) said.push(`Your message “${short(m.body)}”: ${STATE_WORDS[m.state]}.`);
    } else if (drawState(li, m) && ['delivered', 'read', 'failed'].includes(m.state)) {
      said.push(`Your message “${short(m.body)}”: ${STATE_WORDS[m.state]}.`);
    }
    if (pastLast === false && m.key === shown.lastKey) pastLast = true;
    if (m.stanzaId && li.dataset.stanzaId !== m.stanzaId) li.dataset.stanzaId = m.stanzaId;
    li.classList.toggle('grouped', grouped(m, prev));
    prev = m;
    place(li);
  }
  while (cursor) {
    const next = cursor.nextElementSibling;
    cursor.remove();
    cursor = next;
  }
  for (const k of shown.items.keys()) if (!keep.has(k)) shown.items.delete(k);
  const last = c.messages[c.messages.length - 1];
  shown.lastKey = last ? last.key : 0;

  const theirs = added.filter((m) => !m.mine);
  if (theirs.length > 3) {
    said.unshift(`${theirs.length} new messages.`);
  } else {
    said.unshift(...theirs.map((m) => `${m.nick || local(m.from)}: ${short(m.body, 200)}`));
  }
  if (divider && !shown.newSaid) {
    shown.newSaid = true; // once per opening
    const n = c.readMark.count;
    said.unshift(`${n} new message${n === 1 ? '' : 's'} since you last read.`);
  }
  announce(said);

  if (bottom) list.scrollTop = list.scrollHeight;
  else {
    if (anchor && anchor.isConnected) list.scrollTop += anchor.offsetTop - anchorTop;
    shown.unseen += theirs.length;
  }
  updateJump();
}

// updateJump shows #jump-latest while the list is scrolled up: with the
// count of new messages below, if any. Scrolled to the end, none is unseen.
export function updateJump() {
  const b = $('jump-latest');
  if (!b) return;
  const list = $('messages');
  const away = Boolean(activeConv()) && !atBottom(list);
  if (!away) shown.unseen = 0;
  b.hidden = !away;
  const n = shown.unseen;
  const text = n ? `${n} new message${n === 1 ? '' : 's'} ↓` : 'Jump to latest ↓';
  if (b.textContent !== text) b.textContent = text;
  b.classList.toggle('unseen', n > 0);
}

// jumpToLatest scrolls the list to its newest message.
export function jumpToLatest() {
  const list = $('messages');
  list.scrollTop = list.scrollHeight;
  shown.unseen = 0;
  updateJump();
}

// keepBottom runs fn (which grows a message) and keeps the list at its end
// if it was there.
function keepBottom(fn) {
  const list = $('messages');
  const bottom = atBottom(list);
  fn();
  if (bottom) list.scrollTop = list.scrollHeight;
  updateJump();
}

const previews = new Map();
async function preview(li, url) {
  if (features.get('preview') === false) return;
  let p = previews.get(url);
  if (!p) {
    p = call('GET', `/preview/5/${seg(url)}`, { feature: 'preview' }).catch(() => null);
    previews.set(url, p); // failures too: asked once per page
  }
  const data = await p;
  if (!data || (!data.title && !data.descriptionShort)) return;
  const card = document.createElement('aside');
  card.className = 'preview';
  card.setAttribute('aria-label', 'Link preview');
  const a = document.createElement('a');
  a.href = /^https?:\/\//i.test(data.url || '') ? data.url : url;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.textContent = data.title || data.url || url;
  card.append(a);
  if (data.siteName) {
    const s = document.createElement('span');
    s.className = 'site';
    s.textContent = data.siteName;
    card.append(s);
  }
  if (data.descriptionShort) {
    const d = document.createElement('p');
    d.textContent = data.descriptionShort;
    card.append(d);
  }
  keepBottom(() => li.append(card));
  if (/^https?:\/\//i.test(data.image || '')) previewImage(card, data.image);
}

// previewImage shows a preview's image at the top of its card. The page
// may show images of its own origin only: the gateway fetches it (GET
// /preview/image/{url}, with the token) and it is shown from a blob: URL,
// asked once per image while the page lives; none when it cannot be had.
const previewImages = new Map();
async function previewImage(card, url) {
  let p = previewImages.get(url);
  if (!p) {
    p = call('GET', `/preview/image/${seg(url)}`, { as: 'blob', feature: 'preview' })
      .then((b) => (b && b.size ? URL.createObjectURL(b) : ''), () => '');
    previewImages.set(url, p);
  }
  const src = await p;
  if (!src) return;
  const img = document.createElement('img');
  img.className = 'preview-image';
  img.alt = ''; // the card's title says what it is
  img.src = src;
  keepBottom(() => card.prepend(img));
}

// setHistoryBusy marks the message list as loading older messages.
export function setHistoryBusy(busy) {
  $('messages').setAttribute('aria-busy', String(busy));
}

// ---- the conversation lists ---------------------------------------------------

const PRESENCE_WORDS = {
  online: 'Online', available: 'Online', chat: 'Free to chat', away: 'Away', xa: 'Away for a while',
  dnd: 'Do not disturb', offline: 'Offline',
};

// snippet is the list's line of c's last message.
function snippet(c) {
  const m = lastMessage(c);
  if (!m) return model.drafts.has(c.id) ? 'Draft: ' + model.drafts.get(c.id) : '';
  const who = m.mine ? 'You: ' : (c.kind === 'room' && m.nick ? m.nick + ': ' : '');
  if (m.retracted) return who + 'Message deleted';
  return who + m.body.replace(/\s+/g, ' ').trim().slice(0, 120);
}

// avatarOf is the picture of jid (its avatar, else its initial), hidden
// from screen readers: the name beside it says who.
function avatarOf(jid, name) {
  const url = model.avatars.get(bare(jid));
  let el;
  if (url) {
    el = document.createElement('img');
    el.src = url;
    el.alt = '';
  } else {
    el = document.createElement('span');
    el.textContent = (String(name || local(jid)).trim()[0] || '?').toUpperCase();
  }
  el.className = 'avatar' + (url ? '' : ' initial');
  el.setAttribute('aria-hidden', 'true');
  return el;
}

// presenceWords says how the contact c is: online, away and the like,
// or, offline, when they were last seen if the gateway said (a minute's
// precision: the gateway knows it to the second, a person needs less).
function presenceWords(c) {
  if (c.presence !== 'offline' || !c.lastSeen) return PRESENCE_WORDS[c.presence] || c.presence;
  return `Last seen ${seenWhen(c.lastSeen)}`;
}

// seenWhen says when t (an ISO time) was, as a person would.
export function seenWhen(t, now = Date.now()) {
  const at = new Date(t);
  const s = Math.max(0, (now - at.getTime()) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} ${Math.floor(s / 60) === 1 ? 'minute' : 'minutes'} ago`;
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((day(new Date(now)) - day(at)) / 86400000);
  const time = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (days === 0) return `today at ${time}`;
  if (days === 1) return `yesterday at ${time}`;
  return `on ${at.toLocaleDateString()}`;
}

// mutedWords says how long a conversation stays muted: until (a Date)
// is its end, null for until unmuted.
export function mutedWords(until, now = Date.now()) {
  if (!until) return 'Muted until you unmute it';
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((day(until) - day(new Date(now))) / 86400000);
  const time = until.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (days <= 0) return `Muted until ${time}`;
  if (days === 1) return `Muted until tomorrow at ${time}`;
  return `Muted until ${until.toLocaleDateString()} at ${time}`;
}

// sharingWords says why a contact c has no presence to show: the user's
// request waits for their answer, or they do not share it; '' when they
// do (contacts.js sharing).
function sharingWords(c) {
  if (c.sees !== false) return '';
  return c.asked ? `Waiting for ${c.title} to accept` : 'Not sharing their status with you';
}

// listItem is c's button in a list; withLast adds its last message and
// its time (the recent conversations).
function listItem(c, withLast = false) {
  const li = document.createElement('li');
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'conv-item' + (withLast ? ' recent' : '') + (c.id === model.active ? ' active' : '');
  b.dataset.conv = c.id;
  if (c.id === model.active) b.setAttribute('aria-current', 'true');
  b.append(avatarOf(c.jid, c.title));
  const known = c.kind === 'chat' && c.inRoster && !sharingWords(c); // presence is a contact's only
  if (known) {
    const dot = document.createElement('span');
    dot.className = 'dot ' + c.presence;
    dot.setAttribute('aria-hidden', 'true');
    b.append(dot);
  }
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = c.title;
  let label = c.title;
  if (withLast) {
    const lines = document.createElement('span');
    lines.className = 'lines';
    const top = document.createElement('span');
    top.className = 'top';
    top.append(name);
    const m = lastMessage(c);
    if (m && m.t) {
      const when = document.createElement('time');
      when.className = 'when';
      when.dateTime = m.ts;
      when.textContent = whenShort(m.t);
      top.append(when);
    }
    const line = document.createElement('span');
    line.className = 'snippet';
    line.textContent = snippet(c);
    lines.append(top, line);
    b.append(lines);
    if (line.textContent) label += ': ' + line.textContent;
  } else {
    b.append(name);
  }
  const waiting = c.kind === 'chat' && c.inRoster ? sharingWords(c) : '';
  if (waiting) {
    const p = document.createElement('span');
    p.className = 'visually-hidden';
    p.textContent = ', ' + waiting;
    b.append(p);
    label += ', ' + waiting;
  }
  if (known) {
    const words = PRESENCE_WORDS[c.presence] || c.presence;
    const p = document.createElement('span');
    p.className = 'visually-hidden';
    p.textContent = ', ' + words;
    b.append(p);
    label += ', ' + words;
  }
  // A sign the eye sees and a word a screen reader says.
  const mark = (cls, sign, word) => {
    const m = document.createElement('span');
    m.className = cls;
    m.textContent = sign;
    m.setAttribute('aria-hidden', 'true');
    const words = document.createElement('span');
    words.className = 'visually-hidden';
    words.textContent = ', ' + word;
    b.append(m, words);
    label += ', ' + word;
  };
  if (withLast && isPinned(c)) mark('pinned', '📌', 'pinned'); // pins.js: at the top of Chats
  if (isMuted(c)) mark('muted', '🔕', 'muted'); // mute.js: no notification, no push
  if (c.unread > 0) {
    const u = document.createElement('span');
    u.className = 'unread';
    u.textContent = String(c.unread);
    u.setAttribute('aria-label', `${c.unread} unread`);
    b.append(u);
  } else if (isMarked(c)) { // marks.js: to come back to
    const u = document.createElement('span');
    u.className = 'unread marked';
    u.textContent = '●';
    u.setAttribute('aria-label', 'marked unread');
    b.append(u);
  }
  b.title = label;
  li.append(b);
  return li;
}

function renderLists() {
  // Items drawn as before stay (keep.js); a button that had the focus and
  // changed (its unread count, its last message) gives it to its new self.
  const focused = document.activeElement;
  const had = focused && focused.dataset && focused.dataset.conv && focused.closest('ul[id]');
  const contacts = [], rooms = [];
  // The sidebar's search text, while typed, keeps the conversations it
  // names (state.js named).
  for (const c of model.convs.values()) {
    if (!named(c)) continue;
    if (c.kind === 'room') rooms.push(c);
    else if (c.inRoster) contacts.push(c);
  }
  contacts.sort((a, b) => a.title.localeCompare(b.title));
  rooms.sort((a, b) => a.title.localeCompare(b.title));
  const chats = recent().filter(named);
  if (chats.length) {
    keepChildren($('chats'), chats.map((c) => listItem(c, true)));
  } else {
    const li = document.createElement('li');
    li.className = 'hint';
    if (model.filter) li.textContent = 'No conversation has that name: press Enter to search the messages.';
    else {
      li.textContent = model.jid
        ? `No conversations yet. To start one, type a username under Contacts. Others reach you at ${model.jid}.`
        : 'No conversations yet. To start one, type a username under Contacts.';
    }
    keepChildren($('chats'), [li]);
  }
  keepChildren($('contacts'), contacts.map((c) => listItem(c)));
  keepChildren($('rooms'), rooms.map((c) => listItem(c)));
  if (had && !focused.isConnected) {
    const again = had.querySelector(`button[data-conv="${CSS.escape(focused.dataset.conv)}"]`);
    if (again) again.focus();
  }
  const total = totalUnread();
  document.title = total ? `(${total}) sparkgate` : 'sparkgate';
}

function button(text, action, data, label) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.dataset.action = action;
  Object.assign(b.dataset, data);
  if (label) b.setAttribute('aria-label', label);
  return b;
}

function renderRequests() {
  const items = [];
  for (const jid of model.requests.keys()) {
    const li = document.createElement('li');
    li.append(`${jid} wants to add you. `,
      button('Accept', 'accept-contact', { jid }, `Accept ${jid}`), ' ',
      button('Decline', 'decline-contact', { jid }, `Decline ${jid}`));
    items.push(li);
  }
  keepChildren($('requests'), items);
  const inv = [];
  for (const [room, i] of model.invitations) {
    const li = document.createElement('li');
    li.append(`${local(i.inviter || i.from) || 'Someone'} invites you to ${local(room)}${i.reason ? ` (“${i.reason}”)` : ''}. `,
      button('Join', 'accept-invitation', { room }, `Join ${local(room)}`), ' ',
      button('Dismiss', 'dismiss-invitation', { room }));
    inv.push(li);
  }
  keepChildren($('invitations'), inv);
}

function renderDirectory() {
  keepChildren($('room-directory'), model.directory.map((r) => {
    const li = document.createElement('li');
    const b = button(r.title, 'join-room', { room: r.name }, `Join ${r.title}`);
    b.className = 'conv-item';
    if (r.occupants >= 0) {
      const n = document.createElement('span');
      n.className = 'count';
      n.textContent = r.occupants === 1 ? '1 person' : `${r.occupants} people`;
      b.append(' ', n);
    }
    li.append(b);
    return li;
  }));
}

// ---- the open conversation's header and occupants ---------------------------------

// typersWords says who is typing in the room c (rooms.js c.typers).
function typersWords(c) {
  const nicks = c.typers ? [...c.typers.keys()].sort() : [];
  if (!nicks.length) return '';
  if (nicks.length === 1) return `${nicks[0]} is typing…`;
  if (nicks.length === 2) return `${nicks[0]} and ${nicks[1]} are typing…`;
  return 'Several people are typing…';
}

function renderHeader() {
  const c = activeConv();
  $('conv-title').textContent = c ? c.title : 'No conversation';
  const pic = $('conv-avatar');
  if (pic) pic.replaceChildren(...(c ? [avatarOf(c.jid, c.title)] : []));
  $('composer').hidden = !c;
  const room = privateRoom(c);
  $('conv-presence').textContent = room ? privateWords(c, room) : c && c.kind === 'chat'
    ? (!c.inRoster ? 'Not in your contacts' : (sharingWords(c) || presenceWords(c) + (c.status ? ` — ${c.status}` : '')))
    : (c && c.kind === 'room' ? `${c.occupants.size} in the room` : '');
  $('typing').textContent = !c ? '' : (c.kind === 'room' ? typersWords(c) : (c.typing ? `${c.title} is typing…` : ''));
  const isRoom = Boolean(c && c.kind === 'room');
  $('occupants-toggle').hidden = !isRoom;
  $('room-leave').hidden = !isRoom;
  renderSubject(c);
  if (!isRoom) {
    $('occupants-panel').hidden = true;
    $('occupants-toggle').setAttribute('aria-expanded', 'false');
  }
  // A room's occupant is known by a nick only: no meeting, contact or
  // block of their account (the room hides it).
  $('meeting').hidden = !c || Boolean(room) || features.get('meet') === false;
  const markButton = $('conv-mark');
  markButton.hidden = !c || isMarked(c) || c.unread > 0 || c.messages.length === 0 || features.get('properties') === false;
  const pinned = isPinned(c);
  const pinButton = $('conv-pin');
  pinButton.hidden = !c || features.get('properties') === false;
  pinButton.textContent = pinned ? 'Unpin' : 'Pin';
  pinButton.setAttribute('aria-pressed', String(pinned));
  const muted = isMuted(c);
  const mute = $('conv-mute');
  mute.hidden = !c || features.get('mute') === false;
  mute.textContent = muted ? 'Unmute' : 'Mute';
  mute.setAttribute('aria-pressed', String(muted));
  mute.title = muted ? mutedWords(mutedUntil(c)) : '';
  // The choices belong to the conversation they were opened for, and
  // to one not muted yet.
  const choices = $('mute-choices');
  if (choices && !choices.hidden && (muted || !c || choices.dataset.conv !== c.id)) choices.hidden = true;
  // Adding a contact is asked for, never a side effect of chatting.
  const person = Boolean(c && c.kind === 'chat' && !room);
  $('contact-add').hidden = !person || c.inRoster || features.get('roster') === false;
  $('contact-remove').hidden = !person || !c.inRoster || features.get('roster') === false;
  const rename = $('contact-rename');
  if (rename) rename.hidden = $('contact-remove').hidden;
  // The rename form belongs to the contact it was opened for.
  const renaming = $('rename-form');
  if (renaming && !renaming.hidden && (!c || renaming.dataset.conv !== c.id || !c.inRoster)) renaming.hidden = true;
  const blocked = Boolean(person && model.blocked.has(c.jid));
  const canBlock = Boolean(person && features.get('blocking') !== false);
  $('contact-block').hidden = !canBlock || blocked;
  $('contact-unblock').hidden = !canBlock || !blocked;
  if (blocked) {
    // Unblock first: a request to someone blocked would go unanswered.
    $('contact-add').hidden = true;
    $('conv-presence').textContent = 'Blocked: their messages do not reach you';
  }
  if (!c) document.body.classList.remove('in-conv');
}

// privateWords says where a private conversation with a room's occupant
// is, and whether the occupant is there now (when the user is in the
// room and knows).
function privateWords(c, room) {
  const r = model.convs.get('room:' + room);
  const where = `Private, in ${r ? r.title : local(room)}`;
  if (!r || !r.joined) return where;
  return r.occupants.has(resourceOf(c.jid)) ? where : `${where}; ${resourceOf(c.jid)} is not in the room now`;
}

// renderSubject shows the room's subject under its title, and the
// buttons of what the user may change there (roomadmin.js's may). The
// elements are optional (a page without them draws the rest).
function renderSubject(c) {
  const room = c && c.kind === 'room' ? c : null;
  const el = $('conv-subject');
  if (el) {
    const text = (room && room.subject) || '';
    el.textContent = text;
    el.hidden = !text;
  }
  const edit = $('subject-edit');
  if (edit) edit.hidden = !may(room, 'subject');
  const cfg = $('room-settings-open');
  if (cfg) cfg.hidden = !may(room, 'configure');
  const form = $('subject-form');
  if (form && !may(room, 'subject')) form.hidden = true;
}

const ROLE_WORDS = { moderator: 'moderator', participant: '', visitor: 'no voice' };
const AFF_WORDS = { owner: 'owner', admin: 'admin', member: 'member' };

// occupantItem is one person in the room: the nick, what they are there
// (owner, admin, member; moderator, no voice), and the moderation buttons
// the user may use on them (data-action kick, voice, unvoice, ban with
// data-nick).
function occupantItem(c, nick, o) {
  const li = document.createElement('li');
  li.className = 'occupant';
  li.dataset.nick = nick;
  const name = document.createElement('span');
  name.className = 'nick';
  name.textContent = nick + (nick === c.nick ? ' (you)' : '');
  const words = [AFF_WORDS[o.affiliation], ROLE_WORDS[o.role]].filter(Boolean);
  li.append(name);
  if (words.length) {
    const tag = document.createElement('span');
    tag.className = 'tags';
    tag.textContent = ' — ' + words.join(', ');
    li.append(tag);
  }
  if (nick === c.nick) return li;
  const acts = [button('Message', 'private', { nick }, `Write to ${nick} privately`)];
  if (may(c, 'voice', o.affiliation) && o.role === 'visitor') acts.push(button('Give voice', 'voice', { nick }, `Give ${nick} a voice`));
  if (may(c, 'voice', o.affiliation) && o.role === 'participant') acts.push(button('Take voice', 'unvoice', { nick }, `Take ${nick}'s voice`));
  if (may(c, 'kick', o.affiliation)) acts.push(button('Remove', 'kick', { nick }, `Remove ${nick} from the room`));
  if (may(c, 'ban', o.affiliation) && o.jid) acts.push(button('Ban', 'ban', { nick }, `Ban ${nick} from the room`));
  if (o.jid) {
    for (const g of grants(c, o.affiliation)) {
      acts.push(button(g.text, 'affiliation', { nick, jid: o.jid, affiliation: g.affiliation }, `${g.text}: ${nick}`));
    }
  }
  if (acts.length) {
    const span = document.createElement('span');
    span.className = 'occupant-actions';
    for (const a of acts) span.append(' ', a);
    li.append(span);
  }
  return li;
}

function renderOccupants() {
  const c = activeConv();
  const items = !c || c.kind !== 'room' ? [] : [...c.occupants.entries()].sort(([a], [b]) => a.localeCompare(b))
    .map(([nick, o]) => occupantItem(c, nick, o));
  keepChildren($('occupants'), items);
  renderSubject(c);
  if (c && c.kind === 'room') $('conv-presence').textContent = `${c.occupants.size} in the room`;
}

const SHOW_WORDS = { '': 'Available', chat: 'Free to chat', away: 'Away', xa: 'Away for a while', dnd: 'Do not disturb' };

// renderMe draws our own picture and presence on the account menu's
// button, and the menu's status form as set. The elements are optional.
function renderMe() {
  const pic = $('me-avatar');
  if (pic) pic.replaceChildren(...(model.jid ? [avatarOf(model.jid, $('me-name').textContent)] : []));
  const words = SHOW_WORDS[model.me.show] || SHOW_WORDS[''];
  const dot = $('me-show');
  if (dot) {
    dot.className = 'dot ' + (model.me.show || 'online');
    dot.title = words;
  }
  const said = $('me-status');
  if (said) said.textContent = `, ${words}${model.me.status ? ': ' + model.me.status : ''}`;
  const address = $('menu-jid');
  if (address) address.textContent = model.jid;
  const own = $('settings-avatar');
  if (own) own.replaceChildren(...(model.avatars.has(model.jid) ? [avatarOf(model.jid)] : []));
  const remove = $('avatar-remove');
  if (remove) remove.hidden = !model.avatars.has(model.jid);
}

// renderBlocked draws the blocklist in settings, each with Unblock.
function renderBlocked() {
  drawJIDList('blocked-list', [...model.blocked].sort().map((jid) => ({ jid })),
    'Unblock', 'unblock-contact', 'Unblock', 'Nobody is blocked.');
}

// renderMuted draws the muted conversations in settings, by name, each
// with how long and an Unmute (mute.js; data-jid is the conversation's).
function renderMuted() {
  const el = $('muted-list');
  if (!el) return;
  const titleOf = (jid) => (model.convs.get(`chat:${jid}`) || model.convs.get(`room:${jid}`) || { title: jid }).title;
  const items = [...model.muted.keys()].map((jid) => ({ jid })).filter(isMuted)
    .map((c) => ({ jid: c.jid, title: titleOf(c.jid), words: mutedWords(mutedUntil(c)) }))
    .sort((a, b) => a.title.localeCompare(b.title));
  const lis = items.map((m) => {
    const li = document.createElement('li');
    li.append(`${m.title} (${m.words.replace(/^Muted until/, 'until')}) `, button('Unmute', 'unmute-conv', { jid: m.jid }, `Unmute ${m.title}`));
    return li;
  });
  if (!items.length) {
    const li = document.createElement('li');
    li.className = 'hint';
    li.textContent = 'No conversation is muted.';
    lis.push(li);
  }
  keepChildren(el, lis);
}

// drawJIDList fills the list id (if the page has it) with one item per
// {jid, reason}: the address, the reason, and a button (text; its
// data-action is action, data-jid the address, its label label + jid);
// empty is said when there are none.
function drawJIDList(id, items, text, action, label, empty) {
  const el = $(id);
  if (!el) return;
  const lis = items.map((a) => {
    const li = document.createElement('li');
    li.append(`${a.jid}${a.reason ? ` (“${a.reason}”)` : ''} `, button(text, action, { jid: a.jid }, `${label} ${a.jid}`));
    return li;
  });
  if (!items.length) {
    const li = document.createElement('li');
    li.className = 'hint';
    li.textContent = empty;
    lis.push(li);
  }
  keepChildren(el, lis);
}

const RENDER = {
  lists: renderLists, requests: renderRequests, directory: renderDirectory,
  header: renderHeader, occupants: renderOccupants, messages: renderMessages, me: renderMe,
  blocked: renderBlocked, muted: renderMuted,
};

// ---- page-wide: features, notices, connection, screens, passkeys -------------------

export function applyFeatures() {
  for (const el of document.querySelectorAll('[data-feature]')) {
    el.hidden = features.get(el.dataset.feature) === false;
  }
  renderHeader();
}

let noticeTimer = 0;

// notice says text in #notice for 8 s ('' hides it): a toast over the
// page, which moves nothing, or inside the open modal dialog.
export function notice(text) {
  const n = $('notice');
  // Shown over everything: in the modal dialog that is open (the rest of
  // the page is under its backdrop and inert), else in the page.
  const host = document.querySelector('dialog[open]') || document.body;
  if (text && n.parentElement !== host) host.append(n);
  n.textContent = text;
  n.hidden = !text;
  clearTimeout(noticeTimer);
  if (text) noticeTimer = setTimeout(() => { n.hidden = true; }, 8000);
}

// fail shows what went wrong in plain words; doing is what the person was
// doing (see errors.js).
export function fail(err, doing = '') {
  notice(explain(err, doing));
}

const CONN_WORDS = { connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting…', offline: 'Offline', closed: 'Signed out' };

export function setConn(s, text) {
  const el = $('conn');
  el.dataset.state = s;
  el.textContent = text || CONN_WORDS[s] || s;
  document.body.dataset.conn = s;
}

// showMe shows our own address in the top bar.
export function showMe(name) {
  $('me-name').textContent = name;
  schedule('me');
}

export function show(screen) {
  document.body.dataset.screen = screen;
  $('auth').hidden = screen !== 'auth';
  $('app').hidden = screen !== 'app';
  $('me-bar').hidden = screen !== 'app';
}

// renderAffiliations lists a room's members and banned people in its
// settings dialog (lists: {member, outcast}, each [{jid, reason}]), each
// with a button: data-action remove-member or unban, with data-jid.
export function renderAffiliations(lists) {
  const draw = (id, items, text, action, label) => drawJIDList(id, items, text, action, label, 'Nobody.');
  draw('cfg-member-list', lists.member || [], 'Remove', 'remove-member', 'Remove the membership of');
  draw('cfg-outcast-list', lists.outcast || [], 'Unban', 'unban', 'Unban');
}

// renderPasskeys lists the account's passkeys, each with a Remove button
// (data-action="remove-passkey").
export function renderPasskeys(credentials) {
  keepChildren($('passkeys'), credentials.map((k) => {
    const li = document.createElement('li');
    li.append(`${k.name || 'Passkey'} — added ${new Date(k.createdAt).toLocaleDateString()} `,
      button('Remove', 'remove-passkey', { id: k.id }, `Remove passkey ${k.name || ''}`.trim()));
    return li;
  }));
}
