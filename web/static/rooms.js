// rooms.js: group chat rooms: the public directory, joining (a room enters
// the model only once the join succeeded), leaving, occupants, inviting,
// and the chatapi.muc events (room messages and invitations) and room
// occupants' chatapi.presence. Actions call api.js and change the model
// (state.js); view.js draws the result.

import { call, seg, available, ApiError } from './api.js';
import { model, conv, changed, removeConv, bare, local, resourceOf, addMessage, toRoomJID } from './state.js';
import { notice } from './view.js';

const service = (jid) => jid.split('@')[1];
const roomPath = (jid) => `/groupchat/room/${seg(local(jid))}`;

// loadDirectory lists the public rooms.
export async function loadDirectory() {
  const res = await available(() => call('GET', '/groupchat/rooms', { query: { type: 'all' }, feature: 'rooms' }));
  if (!res) return;
  model.directory = (res.chatRooms || []).map((r) => ({ name: r.roomName, title: r.naturalName || r.roomName }));
  changed('directory');
}

// joinRoom enters the room (a name or an address) and answers its
// conversation.
export async function joinRoom(room, password) {
  const jid = toRoomJID(room);
  const known = model.convs.get('room:' + jid);
  const nick = (known && known.nick) || local(model.jid);
  await call('PUT', roomPath(jid), { query: { serviceName: service(jid), nick, password }, feature: 'rooms' });
  const c = conv('room', jid);
  c.nick = nick;
  c.joined = true;
  refreshOccupants(c).catch(() => {});
  return c;
}

// rejoinRooms enters again the rooms this tab was in (a fresh stream).
export function rejoinRooms() {
  for (const c of model.convs.values()) {
    if (c.kind === 'room' && c.joined) joinRoom(c.jid).catch(() => {});
  }
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
  c.occupants.clear();
  for (const o of res.occupants || []) {
    const nick = resourceOf(o.jid);
    if (nick) c.occupants.set(nick, { role: o.role, affiliation: o.affiliation });
  }
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

// onMUC takes a chatapi.muc event: an invitation or a room message.
export function onMUC(d) {
  if (d.type === 'invitationReceived') {
    const room = bare(d.room);
    model.invitations.set(room, d);
    changed('requests');
    notice(`${local(d.inviter || d.from) || 'Someone'} invited you to ${local(room)}.`);
    return;
  }
  if (!d.body) return;
  const nick = resourceOf(d.from);
  const c = conv('room', bare(d.from));
  c.joined = true;
  addMessage(c, { id: d.id, stanzaId: d.stanzaId, stamp: d.stamp || '', from: d.from, body: d.body, nick, mine: nick === c.nick }, { live: true });
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
  if (type === 'unavailable') c.occupants.delete(nick);
  else if (type === 'available') c.occupants.set(nick, { role: d.role, affiliation: d.affiliation });
  changed('occupants', c);
  return true;
}
