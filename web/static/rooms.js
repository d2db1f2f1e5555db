// rooms.js: group chat rooms: the public directory (with occupant
// counts), joining (a room enters the model only once the join succeeded;
// a join that creates the room passes its creation options), leaving,
// occupants, inviting, and the chatapi.muc events (room messages, subject
// changes, invitations, the occupant snapshot on entering; corrections
// and retractions, which state.js modify applies as in a chat) and room
// occupants' chatapi.presence (a message this tab sent is sent once the
// room reflects it, state.js). Actions call api.js and change the model
// (state.js); view.js draws the result. What owners and moderators do
// (subject, roles, bans, configuration, destroying) is roomadmin.js.
//
// A room conversation c keeps: c.occupants (nick -> {role, affiliation,
// jid}), c.role and c.affiliation (the user's own, from the presence with
// status code 110), c.subject. The gateway keeps the joined rooms and
// enters them again itself when the session reopens: this client never
// rejoins a room on its own, it learns them from the occupant snapshot
// each entry sends. A room that makes the user leave (a kick, 307; a ban,
// 301; its destruction) leaves the list with a notice saying why.

import { call, seg, available, ApiError } from './api.js';
import { model, conv, changed, removeConv, bare, local, resourceOf, addMessage, toRoomJID, reflected, modify, ownNick } from './state.js';
import { notice } from './view.js';

const service = (jid) => jid.split('@')[1];
const roomPath = (jid) => `/groupchat/room/${seg(local(jid))}`;

// loadDirectory lists the public rooms.
export async function loadDirectory() {
  const res = await available(() => call('GET', '/groupchat/rooms', { query: { type: 'all' }, feature: 'rooms' }));
  if (!res) return;
  model.directory = (res.chatRooms || []).map((r) => ({
    name: r.roomName, title: r.naturalName || r.roomName,
    occupants: Number.isInteger(r.occupants) ? r.occupants : -1,
  }));
  changed('directory');
}

// CREATE lists the options a join passes for a room it creates
// (openapi.yaml, joinRoom): the room ignores them when it exists.
const CREATE = ['naturalName', 'description', 'membersOnly', 'moderated', 'publicRoom', 'roomPassword'];

// joinRoom enters the room (a name or an address) and answers its
// conversation; create holds the options of a room the join creates.
export async function joinRoom(room, password, create = {}) {
  const jid = toRoomJID(room);
  const known = model.convs.get('room:' + jid);
  const nick = (known && known.nick) || local(model.jid);
  const query = { serviceName: service(jid), nick, password };
  for (const k of CREATE) if (create[k] !== undefined) query[k] = create[k];
  await call('PUT', roomPath(jid), { query, feature: 'rooms' });
  const c = conv('room', jid);
  ownNick(c, nick);
  c.joined = true;
  if (!c.occupants.size) refreshOccupants(c).catch(() => {});
  refreshRoom(c).catch(() => {});
  return c;
}

// resumeRoom answers the conversation of a room the person's session may
// be in already (the gateway enters the joined rooms itself when the
// session opens): when the room lists our own nick, it is taken as it is,
// with no second join; otherwise it is joined.
export async function resumeRoom(room) {
  const jid = toRoomJID(room);
  const nick = local(model.jid);
  let res = null;
  try {
    res = await call('GET', `${roomPath(jid)}/occupants`, { query: { serviceName: service(jid) } });
  } catch { /* not in it, or not visible: join */ }
  // Occupants with a role come from the session's own view of a room it
  // is in; a room it is not in lists bare nicks (disco#items).
  const list = (res && res.occupants) || [];
  if (!list.some((o) => o.role || resourceOf(o.jid) === nick)) return joinRoom(jid);
  const c = conv('room', jid);
  c.joined = true;
  if (!c.nick) ownNick(c, nick);
  if (!c.occupants.size) {
    for (const o of list) {
      const n = resourceOf(o.jid);
      if (n) c.occupants.set(n, { role: o.role, affiliation: o.affiliation, jid: bare(o.userAddress || '') });
    }
  }
  const me = c.occupants.get(c.nick);
  if (me && !c.role) { c.role = me.role; c.affiliation = me.affiliation; }
  refreshRoom(c).catch(() => {});
  changed(['occupants', 'header'], c);
  return c;
}

// refreshJoined reads again the occupants (the user's own role among
// them) and the subject of the rooms the tab kept (a reload: no snapshot
// comes when the stream resumes).
export function refreshJoined() {
  for (const c of model.convs.values()) {
    if (c.kind !== 'room' || !c.joined) continue;
    refreshOccupants(c).catch(() => {});
    refreshRoom(c).catch(() => {});
  }
}

// refreshRoom reads the room's subject and name (GET /groupchat/room).
export async function refreshRoom(c) {
  const r = await available(() => call('GET', roomPath(c.jid), { query: { serviceName: service(c.jid) } }));
  if (!r) return;
  if (typeof r.subject === 'string' && c.subject === undefined) c.subject = r.subject;
  c.changeSubject = Boolean(r.canOccupantsChangeSubject);
  changed('header', c);
}

export async function leaveRoom(c) {
  await call('DELETE', roomPath(c.jid), { query: { serviceName: service(c.jid) }, feature: 'rooms' }).catch((e) => {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
  });
  removeConv(c.id);
}

export async function refreshOccupants(c) {
  const res = await available(() => call('GET', `${roomPath(c.jid)}/occupants`, { query: { serviceName: service(c.jid) } }));
  if (!res) return;
  const had = c.occupants;
  c.occupants = new Map();
  for (const o of res.occupants || []) {
    const nick = resourceOf(o.jid);
    const seen = had.get(nick);
    if (nick) c.occupants.set(nick, { role: o.role, affiliation: o.affiliation, jid: bare(o.userAddress || '') || (seen && seen.jid) || '' });
  }
  if (!c.nick) {
    // Ours: the occupant with our address, else the nick a join from
    // this client takes (resumeRoom's guess too).
    const ours = (res.occupants || []).find((o) => bare(o.userAddress || '') === model.jid);
    ownNick(c, ours ? resourceOf(ours.jid) : (c.occupants.has(local(model.jid)) ? local(model.jid) : ''));
  }
  const me = c.occupants.get(c.nick);
  if (me && me.role) { c.role = me.role; c.affiliation = me.affiliation || ''; changed('header', c); }
  changed('occupants', c);
}

// invite asks the room to invite who (a bare JID).
export async function invite(c, who) {
  await call('POST', `${roomPath(c.jid)}/${seg(who)}`, { body: '', query: { serviceName: service(c.jid) } });
  notice(`Invited ${local(who)}.`);
}

export function dismissInvitation(room) {
  model.invitations.delete(room);
  changed('requests');
}

// acceptInvitation joins the room of an invitation.
export function acceptInvitation(room) {
  const inv = model.invitations.get(room);
  dismissInvitation(room);
  return joinRoom(room, inv && inv.password);
}

// roomOfEvent answers the conversation of the room an event of the
// stream comes from, made when new. A room the stream tells of before it
// told our nick there (the gateway entered it for the session before
// this tab's stream opened, so the entry's own presence went by) reads
// its occupants once, which name our nick (and our role) by our address.
function roomOfEvent(jid) {
  const c = conv('room', jid);
  c.joined = true;
  if (!c.nick && !c.askedNick) {
    c.askedNick = true;
    refreshOccupants(c).catch(() => {});
  }
  return c;
}

// onMUC takes a chatapi.muc event: an invitation, the occupant snapshot,
// a subject change or a room message.
export function onMUC(d) {
  if (d.type === 'occupants') {
    onSnapshot(d);
    return;
  }
  // A subject message: "subject" is there, "" when the subject is cleared.
  if (typeof d.subject === 'string' && !d.body) {
    const c = roomOfEvent(bare(d.from));
    c.subject = d.subject;
    changed(['header', 'lists'], c);
    return;
  }
  if (d.type === 'invitationReceived') {
    const room = bare(d.room);
    model.invitations.set(room, d);
    changed('requests');
    notice(`${local(d.inviter || d.from) || 'Someone'} invited you to ${local(room)}.`);
    return;
  }
  if (d.replace || d.retract) {
    onRoomChange(d);
    return;
  }
  if (!d.body) return;
  const nick = resourceOf(d.from);
  const c = roomOfEvent(bare(d.from));
  const mine = nick === c.nick;
  if (!d.stamp) stopTyping(c, nick); // their message ends their typing
  // The room's reflection of what this tab sent: that message is sent.
  if (mine && !d.stamp && reflected(c, d)) return;
  addMessage(c, {
    id: d.id, stanzaId: d.stanzaId, stamp: d.stamp || '', from: d.from, body: d.body, nick, mine,
    state: mine && !d.stamp ? 'sent' : undefined, replyTo: d.replyTo || undefined,
  }, { live: true });
}

// onRoomChange takes a room's correction (replace: the id its sender
// gave the message) or retraction (retract: the room's stanza-id of it);
// modify applies it only from the occupant who sent the message, and
// keeps it for a message the tab does not hold yet.
function onRoomChange(d) {
  const c = model.convs.get(`room:${bare(d.from)}`);
  if (!c) return;
  const mine = resourceOf(d.from) === c.nick;
  if (d.retract) modify(c, { kind: 'retraction', target: d.retract, from: d.from, mine });
  else if (d.body) modify(c, { kind: 'correction', target: d.replace, from: d.from, id: d.id, body: d.body, mine });
}

const self = (d) => (d.codes || []).map(String).includes('110');
const occupantOf = (d) => ({ role: d.role || '', affiliation: d.affiliation || '', jid: bare(d.jid || '') });

// own takes the user's own occupant presence d in c: its role and
// affiliation say what the user may do there.
function own(c, d) {
  ownNick(c, resourceOf(d.from));
  c.role = d.role || '';
  c.affiliation = d.affiliation || '';
  changed('header', c);
}

// onSnapshot takes the occupant list a room sends on entering it (the
// gateway's own rejoin included): the room is joined, with these people.
function onSnapshot(d) {
  const c = conv('room', bare(d.room || d.from));
  c.joined = true;
  c.occupants = new Map();
  for (const o of d.occupants || []) {
    const nick = resourceOf(o.from);
    if (!nick) continue;
    c.occupants.set(nick, occupantOf(o));
    if (self(o)) own(c, o);
  }
  if (c.subject === undefined) refreshRoom(c).catch(() => {});
  changed(['occupants', 'lists'], c);
}

// removedWhy says in plain words why the room made the user leave, or ''
// when it did not (an ordinary leave).
export function removedWhy(d, room) {
  const codes = (d.codes || []).map(String);
  const why = d.reason ? ` The reason given: “${d.reason}”.` : '';
  if (d.destroyed) return `The room ${room} was closed by its owner.${why}`;
  if (codes.includes('301')) return `You were banned from the room ${room}.${why}`;
  if (codes.includes('307')) return `You were removed from the room ${room} by a moderator.${why}`;
  if (codes.includes('321')) return `You are no longer a member of the room ${room}, so you left it.${why}`;
  return '';
}

// TYPING_MS is how long an occupant's "composing" lasts without another:
// a client that left without saying "paused" is not typing for ever.
const TYPING_MS = 30000;

// onRoomChatState takes an occupant's chat state (chatapi.chat of type
// chatstate from room/nick): who is typing in the room, for its header
// (c.typers: nick -> the timer that forgets them). Our own, which the
// room echoes back, is left out.
export function onRoomChatState(d) {
  const c = model.convs.get(`room:${bare(d.from)}`);
  const nick = resourceOf(d.from);
  if (!c || !nick || nick === c.nick) return;
  if (d.state !== 'composing') {
    stopTyping(c, nick);
    return;
  }
  if (!c.typers) c.typers = new Map();
  clearTimeout(c.typers.get(nick));
  c.typers.set(nick, setTimeout(() => stopTyping(c, nick), TYPING_MS));
  changed('header', c);
}

function stopTyping(c, nick) {
  if (!c.typers || !c.typers.has(nick)) return;
  clearTimeout(c.typers.get(nick));
  c.typers.delete(nick);
  changed('header', c);
}

// onOccupant takes the chatapi.presence of an address on the MUC service;
// it answers false when the presence is not a room's.
export function onOccupant(d) {
  const from = bare(d.from);
  const c = model.convs.get(`room:${from}`);
  if (!c && from.split('@')[1] !== model.muc) return false;
  // room@service/nick; the room's own presence is not an occupant.
  const nick = resourceOf(d.from);
  if (!c || !nick) return true;
  const type = d.presenceType || 'available';
  const mine = self(d) || (nick === c.nick && type === 'unavailable' && (d.destroyed || (d.codes || []).length));
  if (type === 'unavailable') {
    c.occupants.delete(nick);
    if (mine) {
      const why = removedWhy(d, c.title);
      if (why) {
        removeConv(c.id);
        roomNotice({ c, text: why, alternate: d.alternate ? bare(d.alternate) : '' });
        return true;
      }
    }
  } else if (type === 'available') {
    c.occupants.set(nick, occupantOf(d));
    if (mine) own(c, d);
  }
  changed('occupants', c);
  return true;
}

// roomNotice shows why a room was left; set by main.js (a notice with a
// link to the alternative room).
let roomNotice = ({ text }) => notice(text);
export function onRoomNotice(fn) { roomNotice = fn; }
