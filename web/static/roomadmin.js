// roomadmin.js: what a room's owners and moderators do, as calls of the
// issue 20 operations (openapi.yaml, marked sparkgate additions):
//
//   - setSubject: PUT …/subject (moderators, or anyone when the room lets
//     occupants change it); everyone in the room hears it as chatapi.muc.
//   - setRole: PUT …/roles/{nick}?role= : 'none' kicks (with a reason),
//     'participant' grants voice, 'visitor' revokes it.
//   - ban: PUT …/affiliations/outcast/{jid} (with a reason).
//   - readConfig / writeConfig: GET and PUT …/config, the typed `options`
//     only (owners).
//   - destroy: DELETE …/config?reason=&alternate= (owners).
//   - affiliations / setAffiliation: GET …/affiliations/{affiliation} and
//     PUT …/affiliations/{affiliation}/{jid} (admins and owners): the
//     members, admins and banned people; 'none' removes an affiliation
//     (unbans).
//
//   - grants(c, target): the affiliation changes an owner may make to an
//     occupant from the member list (make or revoke admin and owner,
//     XEP-0045 sections 10.3 to 10.7), done with setAffiliation.
//
// may(c, what) answers whether the user's own role and affiliation in c
// allow an action, so the view offers only those; the room decides in the
// end, and its 403 reaches the person through errors.js ('room-admin').
// Nothing here touches the DOM; the model changes come back as events
// (rooms.js).

import { call, seg } from './api.js';
import { local } from './state.js';

const service = (jid) => jid.split('@')[1];
const path = (c) => `/groupchat/room/${seg(local(c.jid))}`;
const q = (c, more = {}) => ({ serviceName: service(c.jid), ...more });

const RANK = { none: 0, outcast: 0, member: 1, admin: 2, owner: 3 };

// may tells whether the user may, in room c: 'subject', 'kick', 'voice',
// 'ban' (someone with affiliation `target`, when given) or 'configure'.
export function may(c, what, target = '') {
  if (!c || c.kind !== 'room') return false;
  const mod = c.role === 'moderator';
  const aff = RANK[c.affiliation] || 0;
  switch (what) {
    case 'subject': return mod || Boolean(c.changeSubject);
    case 'kick':
    case 'voice': return mod && (RANK[target] || 0) < 2; // never an admin's or an owner's (XEP-0045 8.2)
    case 'ban': return aff >= 2 && (RANK[target] || 0) < aff;
    case 'configure': return c.affiliation === 'owner';
    default: return false;
  }
}

export function setSubject(c, text) {
  return call('PUT', `${path(c)}/subject`, { body: text, query: q(c) });
}

// setRole gives the occupant nick the role (none: kicked).
export function setRole(c, nick, role, reason = '') {
  return call('PUT', `${path(c)}/roles/${seg(nick)}`, { query: q(c, { role, reason }) });
}

// ban makes the user jid an outcast of the room.
export function ban(c, jid, reason = '') {
  return call('PUT', `${path(c)}/affiliations/outcast/${seg(jid)}`, { query: q(c, { reason }) });
}

// readConfig answers the room's typed options (RoomOptions).
export async function readConfig(c) {
  const r = await call('GET', `${path(c)}/config`, { query: q(c) });
  return (r && r.options) || {};
}

// writeConfig submits options (RoomOptions; fields left out keep their
// values).
export function writeConfig(c, options) {
  return call('PUT', `${path(c)}/config`, { json: { options }, query: q(c) });
}

// destroy ends the room; its occupants are told the reason and the
// alternative room (a room name on the same service), if any.
export function destroy(c, reason = '', alternate = '') {
  return call('DELETE', `${path(c)}/config`, { query: q(c, { reason, alternate }) });
}

// affiliations answers the users with the affiliation (owner, admin,
// member, outcast) as [{jid, reason}].
export async function affiliations(c, affiliation) {
  const r = await call('GET', `${path(c)}/affiliations/${seg(affiliation)}`, { query: q(c) });
  return (r && r.affiliations) || [];
}

// setAffiliation gives the user jid the affiliation ('none' removes it).
export function setAffiliation(c, jid, affiliation, reason = '') {
  return call('PUT', `${path(c)}/affiliations/${seg(affiliation)}/${seg(jid)}`, { query: q(c, { reason }) });
}

// grants lists the affiliation changes the user may make, from the member
// list, to an occupant whose affiliation is target: owners only make
// admins and owners and revoke them (XEP-0045 sections 10.3 to 10.7; the
// revoked stay members). Each is {affiliation, text}; the room refuses
// what it must (the last owner's revocation) with a 403 or 409.
export function grants(c, target) {
  if (!c || c.kind !== 'room' || c.affiliation !== 'owner') return [];
  switch (target) {
    case 'owner': return [{ affiliation: 'member', text: 'Revoke owner' }];
    case 'admin': return [{ affiliation: 'owner', text: 'Make owner' }, { affiliation: 'member', text: 'Revoke admin' }];
    default: return [{ affiliation: 'admin', text: 'Make admin' }, { affiliation: 'owner', text: 'Make owner' }];
  }
}
