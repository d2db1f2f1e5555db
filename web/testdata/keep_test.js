// keep_test.js: checks of keep.js (a list drawn again keeps the elements
// that did not change) and of view.js's lists drawn with it, run by
// TestBrowserListsKeepTheirItems in a page holding only the elements
// view.js draws into. It leaves window.moduleTest (check.js) and, for the
// Go test's real mouse press across a redraw, a room open with bob in its
// member list, window.arrives(nick) (an occupant enters, drawn at once)
// and window.pressed (the actions the member list's clicks reached).

import { check, finish } from './check.js';
import { keepChildren } from '/keep.js';
import * as state from '/state.js';
import { onMUC, onOccupant } from '/rooms.js';
import { flush } from '/view.js';

const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));

// item is an <li> drawn from text, with a button as view.js draws them.
function item(text) {
  const li = document.createElement('li');
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.action = 'pick';
  b.textContent = text;
  li.append(b);
  return li;
}

const texts = (ul) => [...ul.children].map((li) => li.textContent);

async function run() {
  // keepChildren, one list per row: [name, before, after, the old items
  // (by text) that must be the same elements after, the focused one].
  const table = [
    ['drawn the same', ['a', 'b', 'c'], ['a', 'b', 'c'], ['a', 'b', 'c'], 'b'],
    ['one changed', ['a', 'b', 'c'], ['a', 'B', 'c'], ['a', 'c'], 'c'],
    ['one inserted before the focus', ['a', 'c'], ['a', 'b', 'c'], ['a', 'c'], 'c'],
    ['one removed before the focus', ['a', 'b', 'c'], ['a', 'c'], ['a', 'c'], 'c'],
    ['the last goes first', ['a', 'b', 'c'], ['c', 'a', 'b'], ['c', 'a', 'b'], 'a'],
    ['twins both kept', ['a', 'a', 'b'], ['a', 'a', 'b'], ['a', 'a', 'b'], 'b'],
    ['one twin gone', ['a', 'a', 'b'], ['a', 'b'], ['a', 'b'], 'b'],
    ['all gone', ['a', 'b'], [], [], ''],
    ['from nothing', [], ['a', 'b'], [], ''],
  ];
  for (const [name, before, after, same, focus] of table) {
    const ul = document.createElement('ul');
    document.body.append(ul);
    ul.append(...before.map(item));
    const old = [...ul.children];
    if (focus) old.find((li) => li.textContent === focus).firstChild.focus();
    let moved = 0;
    const seen = new MutationObserver((records) => {
      for (const r of records) moved += r.removedNodes.length;
    });
    seen.observe(ul, { childList: true });
    keepChildren(ul, after.map(item));
    seen.takeRecords().forEach((r) => { moved += r.removedNodes.length; });
    seen.disconnect();
    check(`${name}: the list`, texts(ul), after);
    const unused = [...old];
    const kept = [...ul.children].filter((li) => {
      const i = unused.indexOf(li);
      if (i < 0) return false;
      unused.splice(i, 1);
      return true;
    }).map((li) => li.textContent);
    check(`${name}: the same elements`, kept, same);
    if (focus) {
      check(`${name}: the focus stays`, document.activeElement && document.activeElement.textContent, focus);
    }
    if (name === 'drawn the same') check(`${name}: nothing removed or moved`, moved, 0);
    if (name === 'the last goes first') check(`${name}: one element moved`, moved, 1);
    ul.remove();
  }

  // The member list: an occupant entering redraws it, and bob's buttons
  // stay the elements they were, the focus on one of them too.
  sessionStorage.clear();
  state.setIdentity('me@example.org');
  const jid = 'tea@conference.example.org';
  state.conv('room', jid).subject = ''; // known: no call to a gateway
  onMUC({
    type: 'occupants', room: jid, occupants: [
      { from: jid + '/me', role: 'moderator', affiliation: 'owner', codes: ['110'] },
      { from: jid + '/bob', role: 'participant', affiliation: 'none', jid: 'bob@example.org/web' },
    ],
  });
  state.open('room:' + jid);
  flush();
  const kick = () => document.querySelector('#occupants li[data-nick="bob"] button[data-action="kick"]');
  const bobs = kick();
  check('bob can be removed', Boolean(bobs), true);
  bobs.focus();
  onOccupant({ from: jid + '/carol', presenceType: 'available', role: 'participant', affiliation: 'none' });
  await frame();
  check('carol is listed', [...document.querySelectorAll('#occupants li')].map((li) => li.dataset.nick), ['bob', 'carol', 'me']);
  check('bob\'s button is the same element', kick() === bobs, true);
  check('and keeps the focus', document.activeElement === bobs, true);
  onOccupant({ from: jid + '/bob', presenceType: 'available', role: 'visitor', affiliation: 'none' });
  await frame();
  check('bob changed: drawn anew', kick() !== bobs && Boolean(kick()), true);
  check('with what he may be given now', Boolean(document.querySelector('#occupants li[data-nick="bob"] button[data-action="voice"]')), true);
  onOccupant({ from: jid + '/carol', presenceType: 'unavailable' });
  onOccupant({ from: jid + '/bob', presenceType: 'available', role: 'participant', affiliation: 'none' });
  await frame();

  // The sidebar: a message from someone else moves their chat to the top;
  // the contacts list and the other chat stay the elements they were.
  const bob = state.conv('chat', 'bob@example.org');
  bob.inRoster = true;
  state.addMessage(bob, { id: 'b1', from: 'bob@example.org', body: 'hello' }, { live: true });
  state.changed('lists');
  await frame();
  const contact = document.querySelector('#contacts button[data-conv="chat:bob@example.org"]');
  const bobChat = document.querySelector('#chats button[data-conv="chat:bob@example.org"]');
  check('bob is a contact and a chat', Boolean(contact && bobChat), true);
  const carol = state.conv('chat', 'carol@example.org');
  state.addMessage(carol, { id: 'c1', from: 'carol@example.org', body: 'news' }, { live: true });
  await frame();
  check('carol\'s chat came first', [...document.querySelectorAll('#chats button')].map((b) => b.dataset.conv),
    ['chat:carol@example.org', 'chat:bob@example.org', 'room:' + jid]);
  check('bob\'s contact is the same element', document.querySelector('#contacts button[data-conv="chat:bob@example.org"]') === contact, true);
  check('bob\'s chat is the same element', document.querySelector('#chats button[data-conv="chat:bob@example.org"]') === bobChat, true);

  // For the Go test: the member list's clicks as main.js takes them
  // (delegated to the list), and an occupant entering drawn at once.
  window.pressed = [];
  document.getElementById('occupants').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-action]');
    window.pressed.push(b ? `${b.dataset.action}:${b.dataset.nick}` : `missed:${e.target.tagName.toLowerCase()}`);
  });
  window.arrives = (nick) => {
    onOccupant({ from: `${jid}/${nick}`, presenceType: 'available', role: 'participant', affiliation: 'none' });
    flush();
    return document.querySelectorAll('#occupants li').length;
  };
}

finish(run);
