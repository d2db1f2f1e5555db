// app.js: the sparkgate web client. Plain ES modules, no build step; it
// uses only the public REST API and the event stream.

import { call, seg, session, features, available, ApiError } from './api.js';
import { EventStream } from './events.js';
import * as auth from './auth.js';
import { enablePush, pushSupported, refreshPush, forgetPush } from './push.js';

const $ = (id) => document.getElementById(id);

// ---- state ----------------------------------------------------------------

const state = {
  jid: '',          // own bare JID
  domain: '',
  muc: '',          // MUC service
  config: null,     // GET /config/global, when available
  convs: new Map(), // id -> conversation
  active: '',       // active conversation id
  pendingTicket: null,
  requests: new Map(),
  invitations: new Map(),
};

const CACHE = 'sparkgate.convs';
const KEEP = 200; // messages kept per conversation in the tab's cache

function bare(jid) { return String(jid || '').split('/')[0].toLowerCase(); }
function resourceOf(jid) { const i = String(jid || '').indexOf('/'); return i < 0 ? '' : jid.slice(i + 1); }
function local(jid) { return bare(jid).split('@')[0]; }
function toJID(s) {
  s = String(s || '').trim();
  if (!s) return '';
  return s.includes('@') ? bare(s) : `${s.toLowerCase()}@${state.domain}`;
}

function conv(kind, jid, title) {
  const id = `${kind}:${jid}`;
  let c = state.convs.get(id);
  if (!c) {
    c = {
      id, kind, jid, title: title || (kind === 'room' ? local(jid) : local(jid)),
      messages: [], keys: new Set(), unread: 0, presence: kind === 'chat' ? 'offline' : '',
      status: '', typing: '', joined: false, history: false, occupants: new Map(), nick: '',
    };
    state.convs.set(id, c);
  }
  return c;
}

// ---- persistence of the tab's conversations (survives a reload) -----------

let saveTimer = 0;
function saveSoon() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(save, 200);
}
function save() {
  const out = [];
  for (const c of state.convs.values()) {
    out.push({
      kind: c.kind, jid: c.jid, title: c.title, unread: c.unread, joined: c.joined, nick: c.nick,
      messages: c.messages.slice(-KEEP),
    });
  }
  try {
    sessionStorage.setItem(CACHE, JSON.stringify({ active: state.active, convs: out }));
  } catch { /* quota: the archive still has everything */ }
}
function restore() {
  let saved;
  try { saved = JSON.parse(sessionStorage.getItem(CACHE) || 'null'); } catch { saved = null; }
  if (!saved) return;
  for (const s of saved.convs || []) {
    const c = conv(s.kind, s.jid, s.title);
    c.unread = s.unread || 0;
    c.joined = Boolean(s.joined);
    c.nick = s.nick || '';
    for (const m of s.messages || []) addMessage(c, m, { quiet: true });
  }
  state.active = saved.active || '';
}

// ---- messages ---------------------------------------------------------------

// keysOf lists every identity of a message, so one message is shown once
// whether it came live, from another tab, from a replay or from the archive.
function keysOf(m) {
  const k = [];
  if (m.id) k.push('id:' + m.id);
  if (m.stanzaId) k.push('sid:' + m.stanzaId);
  if (m.stamp) k.push(`st:${bare(m.from)}|${m.nick || ''}|${m.body}|${String(m.stamp).slice(0, 19)}`);
  return k;
}

// sameMessage finds a message of ours shown before the archive knew its
// archive id (the send answer carries only the message id): same body,
// sent within two minutes.
function sameMessage(c, m) {
  if (!m.mine || !m.stanzaId) return null;
  const t = Date.parse(m.ts || m.stamp);
  return c.messages.find((x) => x.mine && !x.stanzaId && x.body === m.body &&
    Math.abs(Date.parse(x.ts) - t) < 120000) || null;
}

// stanzaAttr reads an attribute of the archived stanza's root element.
function stanzaAttr(xml, name) {
  if (!xml) return '';
  try {
    const doc = new DOMParser().parseFromString(xml, 'application/xml');
    return (doc.documentElement && doc.documentElement.getAttribute(name)) || '';
  } catch { return ''; }
}

function addMessage(c, m, { quiet = false } = {}) {
  const twin = sameMessage(c, m);
  if (twin) {
    twin.stanzaId = m.stanzaId;
    for (const k of keysOf(twin)) c.keys.add(k);
  }
  const keys = keysOf(m);
  if (keys.some((k) => c.keys.has(k))) {
    // Already shown; remember any new identity (e.g. the archive id).
    const old = c.messages.find((x) => keysOf(x).some((k) => keys.includes(k)));
    if (old) {
      if (!old.stanzaId && m.stanzaId) old.stanzaId = m.stanzaId;
      if (!old.id && m.id) old.id = m.id;
    }
    for (const k of keys) c.keys.add(k);
    return false;
  }
  for (const k of keys) c.keys.add(k);
  if (!m.ts) m.ts = m.stamp || new Date().toISOString();
  c.messages.push(m);
  if (m.stamp) c.messages.sort((a, b) => String(a.ts).localeCompare(String(b.ts)));
  if (!quiet) {
    if (!m.mine && (state.active !== c.id || document.hidden)) c.unread++;
    if (state.active === c.id) renderMessages();
    renderLists();
    save(); // now: the event's id is already stored as seen
  }
  return true;
}

// ---- rendering ----------------------------------------------------------------

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

function renderMessages() {
  const list = $('messages');
  const c = state.convs.get(state.active);
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren();
  if (!c) return;
  for (const m of c.messages) {
    const li = document.createElement('li');
    li.className = 'msg' + (m.mine ? ' mine' : '');
    if (m.id) li.dataset.id = m.id;
    if (m.stanzaId) li.dataset.stanzaId = m.stanzaId;
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = m.mine ? 'You' : (m.nick || local(m.from));
    const time = document.createElement('time');
    time.dateTime = m.ts;
    time.textContent = fmtTime(m.ts);
    const body = document.createElement('p');
    body.className = 'body';
    textWithLinks(body, m.body);
    li.append(who, ' ', time, body);
    const url = (m.body.match(URL_RE) || [])[0];
    if (url) preview(li, url);
    list.append(li);
  }
  if (atBottom || c.messages.length < 30) list.scrollTop = list.scrollHeight;
}

const previews = new Map();
async function preview(li, url) {
  if (features.get('preview') === false) return;
  let p = previews.get(url);
  if (!p) {
    p = call('GET', `/preview/5/${seg(url)}`, { feature: 'preview' }).catch(() => null);
    previews.set(url, p);
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
  li.append(card);
}

const PRESENCE_WORDS = {
  online: 'Online', available: 'Online', chat: 'Free to chat', away: 'Away', xa: 'Away for a while',
  dnd: 'Do not disturb', offline: 'Offline',
};

function listItem(c) {
  const li = document.createElement('li');
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'conv-item' + (c.id === state.active ? ' active' : '');
  b.dataset.conv = c.id;
  if (c.id === state.active) b.setAttribute('aria-current', 'true');
  if (c.kind === 'chat') {
    const dot = document.createElement('span');
    dot.className = 'dot ' + c.presence;
    dot.setAttribute('aria-hidden', 'true');
    b.append(dot);
  }
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = c.title;
  b.append(name);
  let label = c.title;
  if (c.kind === 'chat') {
    const p = document.createElement('span');
    p.className = 'visually-hidden';
    p.textContent = ', ' + (PRESENCE_WORDS[c.presence] || c.presence);
    b.append(p);
    label += ', ' + (PRESENCE_WORDS[c.presence] || c.presence);
  }
  if (c.unread > 0) {
    const u = document.createElement('span');
    u.className = 'unread';
    u.textContent = String(c.unread);
    u.setAttribute('aria-label', `${c.unread} unread`);
    b.append(u);
  }
  b.title = label;
  li.append(b);
  return li;
}

function renderLists() {
  const contacts = [], rooms = [];
  for (const c of state.convs.values()) (c.kind === 'chat' ? contacts : rooms).push(c);
  contacts.sort((a, b) => a.title.localeCompare(b.title));
  rooms.sort((a, b) => a.title.localeCompare(b.title));
  $('contacts').replaceChildren(...contacts.map(listItem));
  $('rooms').replaceChildren(...rooms.map(listItem));
  renderRequests();
  let total = 0;
  for (const c of state.convs.values()) total += c.unread;
  document.title = total ? `(${total}) sparkgate` : 'sparkgate';
}

function renderHeader() {
  const c = state.convs.get(state.active);
  $('conv-title').textContent = c ? c.title : 'No conversation';
  $('composer').hidden = !c;
  $('conv-presence').textContent = c && c.kind === 'chat'
    ? (PRESENCE_WORDS[c.presence] || c.presence) + (c.status ? ` — ${c.status}` : '')
    : (c && c.kind === 'room' ? `${c.occupants.size} in the room` : '');
  $('typing').textContent = c && c.typing ? `${c.title} is typing…` : '';
  const isRoom = Boolean(c && c.kind === 'room');
  $('occupants-toggle').hidden = !isRoom;
  $('room-leave').hidden = !isRoom;
  if (!isRoom) {
    $('occupants-panel').hidden = true;
    $('occupants-toggle').setAttribute('aria-expanded', 'false');
  }
  $('meeting').hidden = !c || features.get('meet') === false;
  if (isRoom) renderOccupants(c);
}

function renderOccupants(c) {
  const items = [...c.occupants.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([nick, o]) => {
    const li = document.createElement('li');
    li.textContent = nick + (o.role && o.role !== 'participant' ? ` (${o.role})` : '');
    return li;
  });
  $('occupants').replaceChildren(...items);
}

function renderRequests() {
  const items = [];
  for (const jid of state.requests.keys()) {
    const li = document.createElement('li');
    li.append(`${jid} wants to add you. `);
    const ok = document.createElement('button');
    ok.type = 'button';
    ok.textContent = 'Accept';
    ok.setAttribute('aria-label', `Accept ${jid}`);
    ok.addEventListener('click', () => acceptContact(jid));
    const no = document.createElement('button');
    no.type = 'button';
    no.textContent = 'Dismiss';
    no.addEventListener('click', () => { state.requests.delete(jid); renderRequests(); });
    li.append(ok, ' ', no);
    items.push(li);
  }
  $('requests').replaceChildren(...items);
  const inv = [];
  for (const [room, i] of state.invitations) {
    const li = document.createElement('li');
    li.append(`${local(i.inviter || i.from) || 'Someone'} invites you to ${local(room)}${i.reason ? ` (“${i.reason}”)` : ''}. `);
    const ok = document.createElement('button');
    ok.type = 'button';
    ok.textContent = 'Join';
    ok.setAttribute('aria-label', `Join ${local(room)}`);
    ok.addEventListener('click', () => { state.invitations.delete(room); renderRequests(); joinRoom(room, i.password).catch(fail); });
    const no = document.createElement('button');
    no.type = 'button';
    no.textContent = 'Dismiss';
    no.addEventListener('click', () => { state.invitations.delete(room); renderRequests(); });
    li.append(ok, ' ', no);
    inv.push(li);
  }
  $('invitations').replaceChildren(...inv);
}

function applyFeatures() {
  for (const el of document.querySelectorAll('[data-feature]')) {
    el.hidden = features.get(el.dataset.feature) === false;
  }
  renderHeader();
}

let noticeTimer = 0;
function notice(text) {
  const n = $('notice');
  n.textContent = text;
  n.hidden = !text;
  clearTimeout(noticeTimer);
  if (text) noticeTimer = setTimeout(() => { n.hidden = true; }, 8000);
}

function fail(err) {
  notice(auth.describe(err));
}

// ---- conversations ------------------------------------------------------------

async function openConv(id, { focus = true } = {}) {
  const c = state.convs.get(id);
  if (!c) return;
  state.active = id;
  c.unread = 0;
  document.body.classList.add('in-conv');
  renderHeader();
  renderMessages();
  renderLists();
  saveSoon();
  if (focus) $('composer-input').focus();
  if (!c.history) {
    c.history = true;
    loadHistory(c).catch(() => {});
  }
}

// connected resolves once the stream said who we are (onConnect).
let connectedResolve;
let connected = new Promise((r) => { connectedResolve = r; });

async function loadHistory(c) {
  await connected; // own JID needed to tell our messages
  if (c.kind === 'chat') {
    const res = await available(() => call('GET', '/chat/messages', { query: { to: c.jid, max: 100 }, feature: 'archive' }));
    if (!res) return;
    for (const conversation of res.conversations || []) {
      for (const m of conversation.messages || []) {
        if (!m.body) continue;
        addMessage(c, {
          id: stanzaAttr(m.stanza, 'id') || undefined,
          from: m.from, to: m.to, body: m.body, stanzaId: m.stanzaId, stamp: m.sentDate,
          mine: bare(m.from) === state.jid,
        }, { quiet: true });
      }
    }
  } else {
    const res = await available(() => call('GET', `/groupchat/room/${seg(local(c.jid))}/chathistory`, {
      query: { max: 100, serviceName: c.jid.split('@')[1] }, feature: 'rooms',
    }));
    if (!res) return;
    for (const m of res.messages || []) {
      if (!m.body) continue;
      const nick = resourceOf(m.from);
      addMessage(c, {
        from: m.from, body: m.body, stanzaId: m.stanzaId, stamp: m.delayStamp, nick, mine: nick === c.nick,
      }, { quiet: true });
    }
  }
  if (state.active === c.id) renderMessages();
  saveSoon();
}

// ---- chat states ----------------------------------------------------------------

let composing = false, composingAt = 0, pauseTimer = 0;
function typed() {
  const c = state.convs.get(state.active);
  if (!c || c.kind !== 'chat') return;
  const now = Date.now();
  if (!composing || now - composingAt > 10000) {
    composing = true;
    composingAt = now;
    chatState(c, 'composing');
  }
  clearTimeout(pauseTimer);
  pauseTimer = setTimeout(() => {
    if (composing) { composing = false; chatState(c, 'paused'); }
  }, 4000);
}
function chatState(c, s) {
  call('POST', `/chat/chatstate/${s}/${seg(c.jid)}`).catch(() => {});
}

// ---- sending --------------------------------------------------------------------

async function send(text) {
  const c = state.convs.get(state.active);
  if (!c || !text) return;
  if (c.kind === 'chat') {
    clearTimeout(pauseTimer);
    composing = false;
    const res = await call('POST', `/chat/message/${seg(c.jid)}`, { body: text });
    addMessage(c, { id: res && res.id, from: state.jid, to: c.jid, body: text, mine: true });
  } else {
    // The room reflects the message to us with the same id; it is shown then.
    await call('POST', `/groupchat/room/${seg(local(c.jid))}`, { body: text, query: { serviceName: c.jid.split('@')[1] }, feature: 'rooms' });
  }
}

async function upload(file) {
  const c = state.convs.get(state.active);
  if (!c || !file) return;
  notice(`Uploading ${file.name}…`);
  const slot = await call('GET', `/upload/${seg(file.name)}/${file.size}`, {
    query: { contentType: /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+$/.test(file.type) ? file.type : undefined }, feature: 'upload',
  });
  const headers = {};
  for (const [k, v] of Object.entries(slot.headers || {})) headers[k] = v;
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type') && file.type) headers['Content-Type'] = file.type;
  let put;
  try {
    put = await fetch(slot.putUrl, { method: 'PUT', headers, body: file, credentials: 'omit' });
  } catch {
    // A network error, or an upload service on another origin that this
    // page's Content-Security-Policy (connect-src 'self') or CORS refuses.
    throw new Error(`The upload service at ${new URL(slot.putUrl, location.href).origin} could not be reached from this page.`);
  }
  if (!put.ok) throw new Error(`The upload failed (${put.status}).`);
  await send(slot.getUrl);
  notice('');
}

async function meeting() {
  const c = state.convs.get(state.active);
  if (!c) return;
  const listed = state.config && state.config.meetingServices;
  const services = listed && listed.length ? listed : ['jitsi', 'galene'];
  const id = (local(c.jid) + '-' + (c.kind === 'chat' ? local(state.jid) : 'room')).replace(/[^A-Za-z0-9_.-]/g, '-');
  let lastErr;
  for (const svc of services) {
    try {
      const res = await call('GET', `/meet/${seg(svc)}/${seg(id)}`, { feature: 'meet' });
      window.open(res.url, '_blank', 'noopener,noreferrer');
      await send(`Join the meeting: ${res.url}`);
      return;
    } catch (e) { lastErr = e; }
  }
  if (lastErr instanceof ApiError && lastErr.notImplemented) {
    features.set('meet', false);
    applyFeatures();
    notice('Meetings are not available on this server.');
  } else if (lastErr) fail(lastErr);
}

// ---- contacts and rooms -----------------------------------------------------------

async function loadRoster() {
  const res = await available(() => call('GET', '/presence/roster', { feature: 'roster' }));
  if (!res) return;
  for (const item of res.roster || []) {
    const c = conv('chat', bare(item.jid), item.nickname || local(item.jid));
    c.inRoster = true;
    if (item.show) c.presence = item.show === 'unavailable' ? 'offline' : (item.show === 'available' ? 'online' : item.show);
    c.status = item.status || '';
  }
  renderLists();
  renderHeader();
}

// addContact adds jid to the roster (or updates the item) asking for a
// subscription both ways, which also approves the contact's request.
async function addContact(jid) {
  const item = { jid, subscriptionType: 3 };
  try {
    await available(() => call('POST', '/roster', { json: item, feature: 'roster' }));
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 409)) throw e;
    await call('PUT', `/roster/${seg(jid)}`, { json: item, feature: 'roster' });
  }
}

async function acceptContact(jid) {
  state.requests.delete(jid);
  renderRequests();
  try {
    await addContact(jid);
  } catch (e) { fail(e); }
  conv('chat', jid);
  renderLists();
}

async function loadRooms() {
  const res = await available(() => call('GET', '/groupchat/rooms', { query: { type: 'all' }, feature: 'rooms' }));
  applyFeatures();
  if (!res) return;
  const items = (res.chatRooms || []).map((r) => {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'conv-item';
    b.textContent = r.naturalName || r.roomName;
    b.setAttribute('aria-label', `Join ${r.naturalName || r.roomName}`);
    b.addEventListener('click', () => joinRoom(toRoomJID(r.roomName)).catch(fail));
    li.append(b);
    return li;
  });
  $('room-directory').replaceChildren(...items);
}

function toRoomJID(s) {
  s = String(s || '').trim().toLowerCase();
  return s.includes('@') ? bare(s) : `${s}@${state.muc}`;
}

async function joinRoom(roomJID, password) {
  const c = conv('room', roomJID);
  c.nick = c.nick || local(state.jid);
  await call('PUT', `/groupchat/room/${seg(local(roomJID))}`, {
    query: { serviceName: roomJID.split('@')[1], nick: c.nick, password }, feature: 'rooms',
  });
  c.joined = true;
  renderLists();
  await openConv(c.id);
  refreshOccupants(c).catch(() => {});
}

async function leaveRoom(c) {
  await call('DELETE', `/groupchat/room/${seg(local(c.jid))}`, { query: { serviceName: c.jid.split('@')[1] }, feature: 'rooms' }).catch((e) => {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
  });
  state.convs.delete(c.id);
  state.active = '';
  document.body.classList.remove('in-conv');
  renderLists();
  renderHeader();
  renderMessages();
  saveSoon();
}

async function refreshOccupants(c) {
  const res = await available(() => call('GET', `/groupchat/room/${seg(local(c.jid))}/occupants`, { query: { serviceName: c.jid.split('@')[1] } }));
  if (!res) return;
  c.occupants.clear();
  for (const o of res.occupants || []) {
    const nick = resourceOf(o.jid);
    if (nick) c.occupants.set(nick, { role: o.role, affiliation: o.affiliation });
  }
  if (state.active === c.id) renderHeader();
}

// ---- events -----------------------------------------------------------------------

function onEvent(name, d) {
  switch (name) {
    case 'onConnect': {
      const wasResumed = d.resumed;
      state.jid = bare(d.jid || d.email || state.jid);
      state.domain = state.jid.split('@')[1] || state.domain;
      if (!state.muc) state.muc = 'conference.' + state.domain;
      $('me-name').textContent = state.jid;
      connectedResolve();
      if (!wasResumed) {
        // A fresh stream: rejoin the rooms this tab was in.
        for (const c of state.convs.values()) {
          if (c.kind === 'room' && c.joined) joinRoom(c.jid).catch(() => {});
        }
      }
      break;
    }
    case 'chatapi.chat': onChat(d); break;
    case 'chatapi.muc': onMUC(d); break;
    case 'chatapi.presence': onPresence(d); break;
    case 'chatapi.xmpp': onRaw(d); break;
    case 'chatapi.reset':
      // A gap: reload what the archive and roster know.
      for (const c of state.convs.values()) { c.history = false; if (c.id === state.active) { c.history = true; loadHistory(c).catch(() => {}); } }
      loadRoster().catch(() => {});
      break;
    case 'chatapi.session':
      if (d.state && d.state !== 'connected') setConn('reconnecting', 'The server connection is being restored…');
      else if (events.state === 'connected') setConn('connected');
      break;
    case 'chatapi.error':
      notice(`A message could not be delivered${d.from ? ' to ' + local(d.from) : ''}${d.text ? ': ' + d.text : '.'}`);
      break;
    default:
      break;
  }
}

function onChat(d) {
  if (d.type === 'chatstate') {
    const c = state.convs.get(`chat:${bare(d.from)}`);
    if (!c) return;
    c.typing = d.state === 'composing' ? 'composing' : '';
    if (state.active === c.id) renderHeader();
    return;
  }
  if (!d.body) return;
  if (d.type === 'error') {
    notice(`Message error from ${local(d.from)}: ${d.body}`);
    return;
  }
  const mine = Boolean(d.sent) || bare(d.from) === state.jid;
  const peer = mine ? bare(d.to) : bare(d.from);
  const c = conv('chat', peer);
  if (!mine) c.typing = '';
  addMessage(c, { id: d.id, stanzaId: d.stanzaId, stamp: d.stamp || '', from: d.from, to: d.to, body: d.body, mine });
  if (state.active === c.id) renderHeader();
}

function onMUC(d) {
  if (d.type === 'invitationReceived') {
    const room = bare(d.room);
    state.invitations.set(room, d);
    renderRequests();
    notice(`${local(d.inviter || d.from) || 'Someone'} invited you to ${local(room)}.`);
    return;
  }
  if (!d.body) return;
  const room = bare(d.from);
  const nick = resourceOf(d.from);
  const c = conv('room', room);
  c.joined = true;
  addMessage(c, { id: d.id, stanzaId: d.stanzaId, stamp: d.stamp || '', from: d.from, body: d.body, nick, mine: nick === c.nick });
}

function onPresence(d) {
  const from = bare(d.from);
  const type = d.presenceType || 'available';
  const roomConv = state.convs.get(`room:${from}`);
  if (roomConv || from.split('@')[1] === state.muc) {
    // A room occupant (room@service/nick); the room's own presence is not a contact.
    const nick = resourceOf(d.from);
    if (!roomConv || !nick) return;
    if (type === 'unavailable') roomConv.occupants.delete(nick);
    else if (type === 'available') roomConv.occupants.set(nick, { role: d.role, affiliation: d.affiliation });
    if (state.active === roomConv.id) renderHeader();
    return;
  }
  if (from === state.jid) return;
  if (type === 'subscribe') {
    const known = state.convs.get(`chat:${from}`);
    if (known && known.inRoster) {
      // We asked for this contact ourselves: approve the request back.
      call('PUT', `/roster/${seg(from)}`, { json: { jid: from, subscriptionType: 3 }, feature: 'roster' }).catch(fail);
      return;
    }
    state.requests.set(from, true);
    renderRequests();
    return;
  }
  if (type !== 'available' && type !== 'unavailable') return;
  const c = conv('chat', from);
  c.presence = type === 'unavailable' ? 'offline' : (d.show && d.show !== 'available' ? d.show : 'online');
  c.status = type === 'unavailable' ? '' : (d.status || '');
  renderLists();
  if (state.active === c.id) renderHeader();
}

function onRaw(d) {
  // Roster pushes arrive raw; reload the roster when one does.
  try {
    if (atob(d.xmpp || '').includes('jabber:iq:roster')) loadRoster().catch(() => {});
  } catch { /* not base64 */ }
}

// ---- connection state -------------------------------------------------------------

const CONN_WORDS = { connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting…', offline: 'Offline', closed: 'Signed out' };
function setConn(s, text) {
  const el = $('conn');
  el.dataset.state = s;
  el.textContent = text || CONN_WORDS[s] || s;
  document.body.dataset.conn = s;
}

const events = new EventStream({
  onEvent,
  onState: (s) => setConn(s),
  onEnd: (reason) => signOut({ remote: true, reason }),
});

// ---- screens ----------------------------------------------------------------------

function show(screen) {
  document.body.dataset.screen = screen;
  $('auth').hidden = screen !== 'auth';
  $('app').hidden = screen !== 'app';
  $('me-bar').hidden = screen !== 'app';
}

async function startSession(user, token) {
  session.save(user, token);
  state.jid = user.includes('@') ? bare(user) : state.jid;
  show('app');
  $('me-name').textContent = user;
  for (const el of document.querySelectorAll('input.username-hint')) el.value = user;
  restore();
  renderLists();
  renderHeader();
  if (state.active && state.convs.has(state.active)) openConv(state.active, { focus: false });
  else $('contact-input').focus();
  events.start(token);
  const cfg = await available(() => call('GET', '/config/global', { feature: 'config' })).catch(() => null);
  if (cfg) {
    state.config = cfg;
    state.domain = cfg.domain || state.domain;
    state.muc = cfg.mucService || state.muc;
    if (cfg.uploadService === '') features.set('upload', false);
  }
  await Promise.all([loadRoster().catch(() => {}), loadRooms().catch(() => {})]);
  applyFeatures();
  refreshPush().catch(() => {});
}

async function signOut({ remote = false, reason = '' } = {}) {
  const token = session.token;
  events.stop();
  if (token && !remote) {
    await forgetPush(token);
    await call('POST', '/logout', { token }).catch(() => {});
  }
  session.clear();
  connected = new Promise((r) => { connectedResolve = r; });
  state.jid = '';
  state.convs.clear();
  state.active = '';
  state.requests.clear();
  state.invitations.clear();
  $('messages').replaceChildren();
  document.body.classList.remove('in-conv');
  show('auth');
  setConn('offline', 'Offline');
  $('auth-error').textContent = remote ? (reason === 'expired' ? 'Your session expired. Sign in again.' : 'You were signed out.') : '';
  $('login-password').value = '';
  $('login-user').focus();
}

// ---- wiring ------------------------------------------------------------------------

function busy(button, fn) {
  return async (e) => {
    if (e) e.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    try { await fn(e); } finally { button.disabled = false; }
  };
}

function authFailed(err) {
  $('auth-error').textContent = auth.describe(err);
}

function wire() {
  const user = () => $('login-user').value.trim();
  const pass = () => $('login-password').value;

  $('login-form').addEventListener('submit', busy($('login-submit'), async () => {
    $('auth-error').textContent = '';
    if (!user() || !pass()) { $('auth-error').textContent = 'Enter your username and password.'; return; }
    try {
      const { token } = await auth.login(user(), pass());
      await startSession(user(), token);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'mfa_required') {
        state.pendingTicket = e.body.ticket || '';
        $('login-form').hidden = true;
        $('totp-form').hidden = false;
        $('totp-code').value = '';
        $('totp-code').focus();
        return;
      }
      authFailed(e);
    }
  }));

  $('register-submit').addEventListener('click', busy($('register-submit'), async () => {
    $('auth-error').textContent = '';
    if (!user() || !pass()) { $('auth-error').textContent = 'Choose a username and a password.'; return; }
    try {
      const { token } = await auth.register(user(), pass());
      await startSession(user(), token);
    } catch (e) { authFailed(e); }
  }));

  $('login-passkey').addEventListener('click', busy($('login-passkey'), async () => {
    $('auth-error').textContent = '';
    if (!user()) { $('auth-error').textContent = 'Enter your username first.'; return; }
    try {
      const { token } = await auth.passkeyLogin(user());
      await startSession(user(), token);
    } catch (e) { authFailed(e); }
  }));

  $('totp-form').addEventListener('submit', busy($('totp-submit'), async () => {
    const code = $('totp-code').value.trim();
    if (!/^[0-9]{6,8}$/.test(code)) { $('auth-error').textContent = 'The code has 6 to 8 digits.'; return; }
    try {
      const { token } = await auth.totpLogin(user(), code, state.pendingTicket || pass());
      state.pendingTicket = null;
      $('totp-form').hidden = true;
      $('login-form').hidden = false;
      await startSession(user(), token);
    } catch (e) { authFailed(e); }
  }));
  $('totp-cancel').addEventListener('click', () => {
    state.pendingTicket = null;
    $('totp-form').hidden = true;
    $('login-form').hidden = false;
    $('login-password').focus();
  });

  $('signout').addEventListener('click', () => signOut());

  $('contact-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const jid = toJID($('contact-input').value);
    if (!jid) return;
    $('contact-input').value = '';
    const c = conv('chat', jid);
    renderLists();
    openConv(c.id);
    if (!c.inRoster) {
      c.inRoster = true;
      addContact(jid).catch(() => {});
    }
  });

  for (const id of ['contacts', 'rooms']) {
    $(id).addEventListener('click', (e) => {
      const b = e.target.closest('button[data-conv]');
      if (b) openConv(b.dataset.conv);
    });
  }

  $('room-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const jid = toRoomJID($('room-input').value);
    if (!jid) return;
    $('room-input').value = '';
    joinRoom(jid).catch(fail);
  });
  $('directory').addEventListener('toggle', () => { if ($('directory').open) loadRooms().catch(fail); });

  $('conv-back').addEventListener('click', () => {
    document.body.classList.remove('in-conv');
    const b = document.querySelector(`button[data-conv="${CSS.escape(state.active)}"]`);
    if (b) b.focus();
  });

  $('composer').addEventListener('submit', busy($('send'), async () => {
    const input = $('composer-input');
    const text = input.value.trim();
    if (!text) return;
    try {
      await send(text);
      input.value = '';
    } catch (e) { fail(e); }
    input.focus();
  }));
  $('composer-input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $('composer').requestSubmit();
    }
  });
  $('composer-input').addEventListener('input', typed);

  $('attach').addEventListener('click', () => $('file-input').click());
  $('file-input').addEventListener('change', async () => {
    const f = $('file-input').files[0];
    $('file-input').value = '';
    if (!f) return;
    try { await upload(f); } catch (e) {
      if (e instanceof ApiError && e.notImplemented) { features.set('upload', false); applyFeatures(); }
      fail(e);
    }
  });

  $('meeting').addEventListener('click', busy($('meeting'), meeting));
  $('occupants-toggle').addEventListener('click', () => {
    const open = $('occupants-panel').hidden;
    $('occupants-panel').hidden = !open;
    $('occupants-toggle').setAttribute('aria-expanded', String(open));
    const c = state.convs.get(state.active);
    if (open && c) refreshOccupants(c).catch(fail);
  });
  $('room-leave').addEventListener('click', busy($('room-leave'), async () => {
    const c = state.convs.get(state.active);
    if (c) await leaveRoom(c).catch(fail);
  }));
  $('invite-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const c = state.convs.get(state.active);
    const who = toJID($('invite-input').value);
    if (!c || !who) return;
    try {
      await call('POST', `/groupchat/room/${seg(local(c.jid))}/${seg(who)}`, { body: '', query: { serviceName: c.jid.split('@')[1] } });
      $('invite-input').value = '';
      notice(`Invited ${local(who)}.`);
    } catch (err) { fail(err); }
  });

  // Settings.
  $('settings-open').addEventListener('click', () => { $('settings').showModal(); refreshSettings(); });
  $('presence-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await call('POST', '/presence', { query: { show: $('presence-show').value, status: $('presence-status').value } });
      notice('Presence updated.');
    } catch (err) { fail(err); }
  });
  $('push-enable').addEventListener('click', busy($('push-enable'), async () => {
    try { $('push-state').textContent = await enablePush(); } catch (err) { $('push-state').textContent = auth.describe(err); }
  }));
  $('totp-enrol-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('totp-state').textContent = '';
    try {
      const res = await auth.totpEnrol(local(state.jid) || session.user, $('totp-enrol-password').value);
      if (res.qr && res.qr.startsWith('data:image/')) $('totp-qr').src = res.qr;
      $('totp-qr').hidden = !res.qr;
      $('totp-url').textContent = res.url;
      $('totp-enrolment').hidden = false;
      $('totp-confirm-code').focus();
    } catch (err) { $('totp-state').textContent = auth.describe(err); }
  });
  $('totp-confirm-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await auth.totpLogin(local(state.jid) || session.user, $('totp-confirm-code').value.trim(), $('totp-enrol-password').value);
      $('totp-enrolment').hidden = true;
      $('totp-enrol-password').value = '';
      $('totp-state').textContent = 'The authenticator app is set up. Sign-ins now ask for a code.';
    } catch (err) { $('totp-state').textContent = auth.describe(err); }
  });
  $('passkey-add-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('passkey-state').textContent = '';
    try {
      await auth.passkeyRegister(local(state.jid) || session.user, $('passkey-password').value, $('passkey-name').value.trim());
      $('passkey-password').value = '';
      $('passkey-state').textContent = 'The passkey is registered.';
      refreshPasskeys();
    } catch (err) { $('passkey-state').textContent = auth.describe(err); }
  });

  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) {
      const c = state.convs.get(state.active);
      if (c && c.unread) { c.unread = 0; renderLists(); saveSoon(); }
    }
  });
}

async function refreshSettings() {
  $('push-state').textContent = !pushSupported() ? 'This browser does not support notifications.'
    : (Notification.permission === 'granted' ? 'Notifications are allowed.' : 'Notifications are off.');
  refreshPasskeys();
}

async function refreshPasskeys() {
  let res;
  try {
    res = await available(() => call('GET', '/webauthn/credentials', { feature: 'passkeys' }));
  } catch { res = null; }
  if (res === undefined) {
    $('passkey-state').textContent = 'Passkeys are not available on this server.';
    $('passkey-add-form').hidden = true;
    return;
  }
  $('passkey-add-form').hidden = !auth.passkeysSupported();
  const items = ((res && res.credentials) || []).map((k) => {
    const li = document.createElement('li');
    li.append(`${k.name || 'Passkey'} — added ${new Date(k.createdAt).toLocaleDateString()} `);
    const del = document.createElement('button');
    del.type = 'button';
    del.textContent = 'Remove';
    del.setAttribute('aria-label', `Remove passkey ${k.name || ''}`.trim());
    del.addEventListener('click', async () => {
      try { await call('DELETE', `/webauthn/credentials/${seg(k.id)}`); refreshPasskeys(); } catch (e) { $('passkey-state').textContent = auth.describe(e); }
    });
    li.append(del);
    return li;
  });
  $('passkeys').replaceChildren(...items);
}

function main() {
  wire();
  window.addEventListener('pagehide', () => { if (session.token) save(); });
  const token = session.token;
  if (token) {
    startSession(session.user, token).catch(fail);
  } else {
    show('auth');
    $('login-user').focus();
  }
}

main();
