// view_test.js: checks of view.js's scheduling and keyed message list, run
// by TestBrowserView in a page holding only the elements view.js draws
// into. It leaves window.moduleTest (check.js) when done.

import { check, finish } from './check.js';
import * as state from '/state.js';
import { flush } from '/view.js';

const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
const list = document.getElementById('messages');
const bodies = () => [...list.querySelectorAll('.body')].map((e) => e.textContent);

async function run() {
  sessionStorage.clear();
  state.setIdentity('me@example.org');
  const c = state.conv('chat', 'bob@example.org');
  state.addMessage(c, { id: 'm0', from: 'bob@example.org', body: 'first' }, { live: true });
  state.open(c.id);
  flush();
  check('the open conversation is drawn', bodies(), ['first']);
  const first = list.firstElementChild;

  // A burst of messages: nothing is drawn in the task that adds them, one
  // animation frame is asked for, and the frame draws them all.
  const realRAF = window.requestAnimationFrame;
  let frames = 0;
  window.requestAnimationFrame = (fn) => { frames++; return realRAF.call(window, fn); };
  for (let i = 1; i <= 20; i++) {
    state.addMessage(c, { id: 'm' + i, from: 'bob@example.org', body: 'burst ' + i }, { live: true });
  }
  window.requestAnimationFrame = realRAF;
  check('nothing drawn during the burst', list.childElementCount, 1);
  check('one frame asked for the burst', frames, 1);
  await frame();
  check('the frame drew the burst', list.childElementCount, 21);
  check('the earlier message is the same element', list.firstElementChild === first, true);

  // Each message is one element: none is remade by what comes after.
  const items = [...list.children];
  state.addMessage(c, { id: 'late', stanzaId: 'L', from: 'bob@example.org', body: 'older, from the archive', stamp: '2000-01-01T00:00:00Z' });
  state.addMessage(c, { id: 'm20', stanzaId: 'S20', from: 'bob@example.org', body: 'burst 20' }, { live: true });
  await frame();
  check('an older message goes first', bodies()[0], 'older, from the archive');
  check('the others stay', items.every((li, i) => list.children[i + 1] === li), true);
  check('a known message is not drawn again', list.childElementCount, 22);
  check('its archive id is added to its element', list.lastElementChild.dataset.stanzaId, 'S20');

  // Another conversation replaces the list.
  const d = state.conv('chat', 'carol@example.org');
  state.addMessage(d, { id: 'c1', from: 'carol@example.org', body: 'carol' }, { live: true });
  await frame();
  check('a message elsewhere is not drawn here', list.childElementCount, 22);
  check('it is counted unread', document.title, '(1) sparkgate');
  state.open(d.id);
  await frame();
  check('the other conversation is drawn', bodies(), ['carol']);
}

finish(run);
