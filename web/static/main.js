// main.js: the page's entry point. It starts and ends the session, routes
// each event of the stream to its area (chat.js, rooms.js, contacts.js)
// and wires the controls of each screen to the areas' actions: sign-in,
// the sidebar, the open conversation, settings. Data flows one way:
// event or click → action → model (state.js) → scheduled render (view.js).
// The DOM it changes itself is its controls' own: focus, input values,
// the sign-in form's TOTP step, the occupants panel, the phone's
// conversation/sidebar switch.

import { call, seg, session, features, available, ApiError, refresh, freshToken, onSessionEnded, startRefreshing, askOpenTabs, newerLogin } from './api.js';
import { EventStream } from './events.js';
import * as auth from './auth.js';
import { enablePush, pushSupported, refreshPush, forgetPush, whyNoPush } from './push.js';
import * as state from './state.js';
import { model, activeConv, local, toJID, conv } from './state.js';
import { $, flush, show, showMe, setConn, notice, fail, applyFeatures, renderPasskeys, renderAffiliations, mutedWords } from './view.js';
import { explain, endedSentence } from './errors.js';
import { openConv, loadOlder, reloadHistory, typed, send, upload, meeting, onChat, onReceipt, onError, loadUnread, onReaction, markLeaving } from './chat.js';
import { wireMessageList } from './msglist.js';
import { submitText } from './msgactions.js';
import * as rooms from './rooms.js';
import * as roomadmin from './roomadmin.js';
import * as contacts from './contacts.js';
import { startNotifying, soundOn, setSound } from './notify.js';
import { restoreChats, bookmarkRoom, forgetRoom, forgetMarks } from './restore.js';
import { onAvatar, onNick, loadAvatars, setOwnAvatar, removeOwnAvatar, forgetAvatars } from './avatars.js';
import { wireMenu, closeMenu, setPresence, loadMe } from './menu.js';
import { wireConvMenu } from './convmenu.js';
import { wireTOTP, refreshTOTP, readCode } from './totp.js';
import { wireLogins, refreshLogins } from './logins.js';
import { startAutofill, stopAutofill } from './autofill.js';
import { wireMentions } from './mentionpick.js';
import { searchMessages, renderResults, reveal, convFor, merged } from './search.js';
import { loadMuted, onMuted, muteFor, unmute, isMuted as isMutedNow, mutedUntil, onStrangers, strangersMuted, setStrangersMuted } from './mute.js';
import { loadPins, onPinProperties, pin, unpin, isPinned } from './pins.js';
import { loadMarks, onMarkProperties, markUnread, unmark } from './marks.js';
import { loadPreview, onPreviewProperties, previewLevel, setPreview } from './preview.js';

// ---- the session ------------------------------------------------------------

const events = new EventStream({
  onEvent,
  onState: (s) => setConn(s),
  onEnd: (reason) => {
    // Signed out because this browser replaced the login (api.js
    // newerLogin): go on with the newer one.
    const next = reason === 'logout' ? newerLogin(events.token) : '';
    if (next) events.start(next);
    else signOut({ remote: true, reason });
  },
  // The stream's token expired or was refused: a newer one, refreshed
  // when no tab did it yet. A password change ends the stream as it
  // revokes every token: its answer brings the new one, awaited first.
  renew: async (stale, refused) => {
    await passwordChange;
    return refused && session.token === stale ? refresh(stale) : freshToken(stale);
  },
});

// A refresh the gateway refused: back to sign-in, saying why.
onSessionEnded(() => signOut({ remote: true, reason: 'expired' }));

let live = false; // a session is on screen
// offerPasskeys starts passkey autofill on the sign-in form (autofill.js;
// wireAuth sets it): called wherever the form is shown.
let offerPasskeys = () => {};
// closeMentions closes the composer's @-mention list (mentionpick.js).
let closeMentions = () => {};

// An offline contact's "Last seen 5 minutes ago" in the open chat's
// header ages with the clock: it is drawn again each minute.
setInterval(() => {
  const c = activeConv();
  if (live && c && c.lastSeen) state.changed('header');
}, 60 * 1000);
let passwordChange = Promise.resolve(); // a password change on its way

function onEvent(name, d) {
  switch (name) {
    case 'onConnect':
      state.setIdentity(d.jid || d.email);
      showMe(model.jid);
      // No rejoin here: the gateway keeps the joined rooms and enters
      // them again itself; each entry's occupant snapshot tells us.
      break;
    case 'chatapi.chat': onChat(d); break;
    case 'chatapi.muc': rooms.onMUC(d); break;
    case 'chatapi.presence': if (!rooms.onOccupant(d)) contacts.onPresence(d); break;
    case 'chatapi.roster': contacts.onRoster(d); break;
    case 'chatapi.request': contacts.onRequest(d); break;
    case 'chatapi.blocklist': contacts.onBlocklist(d); break;
    case 'chatapi.muted': onMuted(d); break;
    case 'chatapi.strangers': onStrangers(d); break;
    case 'chatapi.properties': onPinProperties(d); onMarkProperties(d); onPreviewProperties(d); break;
    case 'chatapi.reset':
      // A gap: reload what the archive, the roster and the read state know.
      reloadHistory();
      contacts.loadRoster().catch(() => {});
      loadUnread();
      contacts.loadBlocklist();
      contacts.loadRequests();
      loadMuted().catch(() => {});
      loadPins().catch(() => {});
      loadMarks().catch(() => {});
      loadPreview().catch(() => {});
      break;
    case 'chatapi.unread': state.setUnread(d.jid || '', Boolean(d.room), d.count || 0, d.lastRead || ''); break;
    case 'chatapi.avatar': onAvatar(d); break;
    case 'chatapi.nick': onNick(d); break;
    case 'chatapi.session':
      if (d.state && d.state !== 'connected') setConn('reconnecting', 'The server connection is being restored…');
      else if (events.state === 'connected') setConn('connected');
      break;
    case 'chatapi.receipt': onReceipt(d); break;
    case 'chatapi.reaction': onReaction(d); break;
    case 'chatapi.error':
      if (onError(d)) break; // shown on the message, with Retry
      notice(`A message could not be delivered${d.from ? ' to ' + local(d.from) : ''}${d.text ? ': ' + d.text : '.'}`);
      break;
    default:
      break;
  }
}

// begin starts the session of a sign-in's answer t (TokenEntity), keeping
// its tokens as remember says.
function begin(user, t, remember) {
  session.keep(user, t, remember);
  return startSession(user, t.token);
}

async function startSession(user, token) {
  live = true;
  stopAutofill();
  startRefreshing();
  if (user.includes('@')) model.jid = state.bare(user);
  show('app');
  showMe(user);
  for (const el of document.querySelectorAll('input.username-hint')) el.value = user;
  state.restore();
  if (model.active) enter(model.active, { focus: false });
  else if (typingKeyboard()) $('contact-input').focus();
  events.start(token);
  loadUnread();
  loadMe().catch(() => {});
  const cfg = await available(() => call('GET', '/config/global', { feature: 'config' })).catch(() => null);
  if (cfg) {
    model.config = cfg;
    model.domain = cfg.domain || model.domain;
    model.muc = cfg.mucService || model.muc;
    if (cfg.uploadService === '') features.set('upload', false);
  }
  rooms.refreshJoined();
  await Promise.all([contacts.loadRoster().catch(() => {}), contacts.loadBlocklist(), rooms.loadDirectory().catch(() => {}), restoreChats(), loadMuted().catch(() => {}), loadPins().catch(() => {}), loadMarks().catch(() => {}), loadPreview().catch(() => {})]);
  contacts.loadRequests(); // after the blocklist: a blocked person's request is not shown
  applyFeatures();
  // Pictures announced before this tab opened: ours and the contacts'.
  state.whenReady().then(() => loadAvatars([model.jid, ...[...model.convs.values()].filter((c) => c.inRoster).map((c) => c.jid)])).catch(() => {});
  refreshPush().catch(() => {});
}

async function signOut({ remote = false, reason = '' } = {}) {
  if (remote && !live) return; // told twice (the stream and a refused refresh)
  live = false;
  events.stop();
  // An expired token would not end the family: refresh it first.
  const token = remote ? '' : await freshToken().catch(() => session.token);
  if (token && !remote) {
    await forgetPush(token);
    await call('POST', '/logout', { token }).catch(() => {});
  }
  session.clear();
  state.clear();
  forgetMarks();
  forgetAvatars();
  closeMenu();
  document.body.classList.remove('in-conv');
  show('auth');
  setConn('offline', 'Offline');
  $('auth-error').textContent = remote ? endedSentence(reason) : '';
  $('login-password').value = '';
  $('composer-input').value = '';
  $('search-input').value = ''; // the next person's search is their own
  $('search-results').replaceChildren();
  $('search-results').hidden = true;
  $('search-more').hidden = true;
  $('search-state').textContent = '';
  $('login-user').focus();
  offerPasskeys();
}

// typingKeyboard tells whether focusing a text box is welcome: a mouse or
// a keyboard, not a phone's touch screen, whose keyboard would pop up.
function typingKeyboard() {
  return !window.matchMedia('(pointer: coarse)').matches;
}

// The open conversation is seen while the page is, and on a phone only
// while it fills the screen (not while the lists show instead): a message
// that arrives then is neither counted nor marked read.
const narrow = window.matchMedia('(max-width: 640px)');

function seen() {
  const was = model.visible;
  const now = !document.hidden && (!narrow.matches || document.body.classList.contains('in-conv'));
  if (was && !now) markLeaving(); // what it showed was seen
  model.visible = now;
  if (model.visible && !was) state.markSeen();
}

// enter opens a conversation on screen: on a phone it fills the screen.
// The composer shows that conversation's draft. It answers a promise of the
// conversation's first page of history (at once when it was loaded before).
function enter(id, { focus = true } = {}) {
  const { c, loaded } = openConv(id);
  if (!c) return Promise.resolve();
  unmark(c).catch(() => {}); // opened: back to it (marks.js)
  $('composer-input').value = state.draftOf(c.id);
  closeMentions();
  document.body.classList.add('in-conv');
  seen();
  // The room may have changed what occupants may do (its settings).
  if (c.kind === 'room' && c.joined) rooms.refreshRoom(c).catch(() => {});
  contacts.loadLastSeen(c);
  if (focus) {
    flush(); // the composer shows with the conversation
    // On a touch screen a focused box pops up the keyboard over half the
    // conversation: the heading takes the focus there instead.
    $(typingKeyboard() ? 'composer-input' : 'conv-title').focus();
  }
  loaded.then(() => afterRender(olderIfAtTop));
  return loaded;
}

// afterRender runs fn once the scheduled render is on the page.
function afterRender(fn) {
  requestAnimationFrame(() => setTimeout(fn, 0));
}

// olderIfAtTop loads older messages while the list is scrolled to its top
// (or too short to scroll).
async function olderIfAtTop() {
  const c = activeConv();
  const list = $('messages');
  if (!c || list.scrollTop > 80) return;
  if (await loadOlder(c).catch(() => false)) afterRender(olderIfAtTop);
}

// ---- wiring: message search ------------------------------------------------------

// wireSearch wires the sidebar's search (search.js): as it is typed, the
// lists keep the conversations whose name or address holds the text;
// Enter or Search looks for it in the messages, whose results list above
// the chats (they replace nothing); picking one opens its
// conversation at the message (older pages loaded until it is there),
// marked until the next click or key (10 s at most). "Show older matches"
// adds the archives' next pages of matches to the list. Emptying the box
// takes the results away.
function wireSearch() {
  const input = $('search-input');
  const list = $('search-results');
  const moreButton = $('search-more');
  const say = (text) => { $('search-state').textContent = text; };
  let asked = 0; // the latest search: an older answer is not shown
  // The search shown: its text, results, and where older matches start.
  let shown = { text: '', results: [], next: null };
  const clear = () => {
    asked++;
    list.hidden = true;
    list.replaceChildren();
    moreButton.hidden = true;
    shown = { text: '', results: [], next: null };
    say('');
  };
  const show = (text, results, more, next) => {
    shown = { text, results, next };
    renderResults(list, text, results);
    list.hidden = results.length === 0;
    moreButton.hidden = !more;
    const found = results.length === 1 ? '1 message found' : `${results.length} messages found, newest first`;
    say(results.length === 0 ? `No messages contain “${text}”.`
      : (more ? `${found}; older ones match too.` : `${found}.`));
  };
  // What is typed filters the lists at once (state.js setFilter); Enter
  // searches the messages.
  input.addEventListener('input', () => {
    state.setFilter(input.value);
    if (!input.value.trim()) clear();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && input.value) {
      input.value = '';
      state.setFilter('');
      clear();
    }
  });
  $('search-form').addEventListener('submit', busy($('search-submit'), async () => {
    const text = input.value.trim();
    if (!text) { clear(); return; }
    const mine = ++asked;
    say('Searching…');
    try {
      const { results, more, next } = await searchMessages(text);
      if (mine === asked) show(text, results, more, next);
    } catch (e) {
      if (mine === asked) say(explain(e));
    }
  }));
  moreButton.addEventListener('click', busy(moreButton, async () => {
    const { text, results: before, next: from } = shown;
    if (!from) return;
    const mine = ++asked;
    try {
      const { results, more, next } = await searchMessages(text, from);
      if (mine !== asked) return;
      const all = merged(before, results);
      show(text, all, more, next);
      // The focus goes on where the list grew: the newest result added
      // (the button may be gone, and its place was at the list's end).
      const added = all.findIndex((r) => !before.includes(r));
      if (added >= 0) list.querySelectorAll('button[data-conv]')[added].focus();
    } catch (e) {
      if (mine === asked) say(explain(e));
    }
  }));
  list.addEventListener('click', async (e) => {
    const b = e.target.closest('button[data-conv]');
    if (!b) return;
    const c = convFor(b.dataset.conv);
    const loaded = enter(c.id);
    const stanza = b.dataset.stanza;
    if (!stanza) return;
    await loaded;
    await until(() => !c.loading); // a page asked for before
    if (!(await reveal(c, stanza, (cc) => loadOlder(cc).catch(() => false)))) {
      notice('That message is further back than this conversation can scroll to here.');
      return;
    }
    afterRender(() => {
      const m = c.messages.find((x) => x.stanzaId === stanza);
      const li = m && document.querySelector(`#messages .msg[data-key="${m.key}"]`);
      if (!li || model.active !== c.id) return;
      li.scrollIntoView({ block: 'center' });
      // Marked until the person does something else, or for 10 s.
      li.classList.add('found-here');
      const unmark = () => {
        li.classList.remove('found-here');
        clearTimeout(timer);
        document.removeEventListener('pointerdown', unmark, true);
        document.removeEventListener('keydown', unmark, true);
      };
      const timer = setTimeout(unmark, 10000);
      document.addEventListener('pointerdown', unmark, true);
      document.addEventListener('keydown', unmark, true);
    });
  });
}

// until waits (at most 10 s, checking every 50 ms) for ready() to be true.
async function until(ready) {
  for (let i = 0; i < 200 && !ready(); i++) await new Promise((r) => setTimeout(r, 50));
}

// ---- wiring: sign-in ------------------------------------------------------------

function busy(button, fn) {
  return async (e) => {
    if (e) e.preventDefault();
    if (button.disabled) return;
    // A disabled button loses the focus to the page: a keyboard or screen
    // reader user pressing it was left at the top after a failed sign-in.
    // It gets the focus back if nothing else took it meanwhile.
    const had = document.activeElement === button;
    button.disabled = true;
    try { await fn(e); } finally {
      button.disabled = false;
      if (had && button.isConnected && button.getClientRects().length &&
        (document.activeElement === document.body || document.activeElement === null)) button.focus();
    }
  };
}

function wireAuth() {
  const user = () => $('login-user').value.trim();
  const pass = () => $('login-password').value;
  const error = (text) => { $('auth-error').textContent = text; };
  // askCode sets the code step for the app's code, or for a recovery code
  // (which has letters: a phone's keyboard must offer them).
  const askCode = (recovery) => {
    const code = $('totp-code');
    code.inputMode = recovery ? 'text' : 'numeric';
    code.autocomplete = recovery ? 'off' : 'one-time-code';
    code.value = '';
    $('totp-code-label').textContent = recovery ? 'Recovery code' : 'Authentication code';
    $('totp-hint').textContent = recovery
      ? 'Enter one of the recovery codes you kept when you set up the authenticator app. Each works once.'
      : 'Enter the 6-digit code from your authenticator app.';
    $('totp-recovery').hidden = recovery;
    code.focus();
  };
  const remember = () => $('login-remember').checked;
  let ticket = null; // of a login that asked for the TOTP code
  let remembered = false; // "stay signed in", as it was when the login asked for the code
  // The server's rules a registration's answer is read with (errors.js):
  // asked once, before signing in (GET /config/global needs no token).
  let rules = null;
  const facts = async () => {
    rules = rules || call('GET', '/config/global', { token: '' }).catch(() => { rules = null; return {}; });
    const cfg = (await rules) || {};
    return { password: pass(), minPasswordLength: cfg.minPasswordLength || 0 };
  };

  // signInBy makes the handler of a sign-in button: unless missing() names
  // what the form lacks, it runs the ceremony and starts the session with
  // the token it answers. A failure goes to failed (which answers whether
  // it took it), or is said in words of what the person was doing.
  const signInBy = (missing, ceremony, doing, failed) => async () => {
    error('');
    const lack = missing();
    if (lack) { error(lack); return; }
    try {
      const t = await ceremony();
      await begin(user() || local(t.jid || ''), t, remember());
    } catch (e) {
      if (failed && failed(e)) return;
      error(explain(e, doing, await facts()));
    }
  };

  $('login-form').addEventListener('submit', busy($('login-submit'), signInBy(
    () => (!user() || !pass() ? 'Enter your username and password.' : ''),
    () => auth.login(user(), pass(), remember()),
    'login',
    (e) => {
      if (!(e instanceof ApiError && e.code === 'mfa_required')) return false;
      ticket = e.body.ticket || '';
      remembered = remember();
      $('login-form').hidden = true;
      $('totp-form').hidden = false;
      askCode(false);
      return true;
    })));
  // Create account first turns the form into a registration: the password
  // is a new one (a password manager offers to make one) and is typed
  // twice; pressed again, it registers. Sign in turns it back.
  const creating = (on) => {
    $('register-more').hidden = !on;
    $('login-password').autocomplete = on ? 'new-password' : 'current-password';
    $('auth-title').textContent = on ? 'Create an account' : 'Sign in';
    if (!on) $('login-password2').value = '';
  };
  const register = signInBy(
    () => (!user() || !pass() ? 'Choose a username and a password.'
      : (pass() !== $('login-password2').value ? 'The two passwords differ: type the same one twice.' : '')),
    () => auth.register(user(), pass(), remember()),
    'register');
  $('register-submit').addEventListener('click', busy($('register-submit'), async () => {
    if ($('register-more').hidden) {
      error('');
      creating(true);
      $(user() && pass() ? 'login-password2' : (user() ? 'login-password' : 'login-user')).focus();
      return;
    }
    await register();
  }));
  $('login-submit').addEventListener('click', () => creating(false));
  // Enter in the form registers while it is a registration (capture: before
  // the sign-in's own submit handler).
  $('login-form').addEventListener('submit', (e) => {
    if ($('register-more').hidden) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    $('register-submit').click();
  }, true);
  // Without a username the browser offers the passkeys it holds for this
  // site, and the one chosen names the account.
  // The button's request is modal: the autofill's waiting one (a page has
  // one at a time) stops first, and comes back if this one fails.
  $('login-passkey').addEventListener('click', busy($('login-passkey'), signInBy(
    () => '',
    async () => {
      stopAutofill();
      try {
        return await auth.passkeyLogin(user(), remember());
      } catch (e) {
        offerPasskeys();
        throw e;
      }
    },
    'passkey')));
  // Passkey autofill: a passkey picked in the username field's autofill
  // names the account, whatever is typed there.
  offerPasskeys = () => startAutofill({
    remember,
    signedIn: (t) => {
      error('');
      begin(local(t.jid || ''), t, remember()).catch(fail);
    },
    failed: async (e) => error(explain(e, 'passkey', await facts())),
  });
  // The waiting request carries "stay signed in" as it was when it began.
  $('login-remember').addEventListener('change', () => {
    if (live) return;
    stopAutofill();
    offerPasskeys();
  });

  $('totp-form').addEventListener('submit', busy($('totp-submit'), async () => {
    const code = readCode($('totp-code').value);
    if (!code) { error(explain(new ApiError(400, {}), 'totp')); return; }
    try {
      const t = await auth.totpLogin(user(), code, ticket || pass(), remembered);
      ticket = null;
      $('totp-form').hidden = true;
      $('login-form').hidden = false;
      await begin(user(), t, remembered);
    } catch (e) { error(explain(e, 'totp')); }
  }));
  $('totp-recovery').addEventListener('click', () => askCode(true));
  $('totp-cancel').addEventListener('click', () => {
    ticket = null;
    $('totp-form').hidden = true;
    $('login-form').hidden = false;
    $('login-password').focus();
  });
}

// ---- wiring: the sidebar ------------------------------------------------------------

function wireSidebar() {
  $('signout').addEventListener('click', () => signOut());

  $('contact-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const jid = toJID($('contact-input').value);
    if (!jid) return;
    $('contact-input').value = '';
    enter(conv('chat', jid).id); // a chat, not a contact request
  });

  wireSearch();

  for (const id of ['chats', 'contacts', 'rooms']) {
    $(id).addEventListener('click', (e) => {
      const b = e.target.closest('button[data-conv]');
      if (b) enter(b.dataset.conv);
    });
  }

  // A room joined here is bookmarked, so it comes back in a new tab or on
  // another device (restore.js).
  const join = (p) => p.then((c) => { bookmarkRoom(c); enter(c.id); }).catch((e) => fail(e, 'room'));
  // The creation options count only when the person opened them.
  const createOptions = () => (!$('room-create').open ? {} : {
    naturalName: $('create-name').value.trim() || undefined,
    description: $('create-desc').value.trim() || undefined,
    roomPassword: $('create-password').value || undefined,
    membersOnly: $('create-members').checked,
    moderated: $('create-moderated').checked,
    publicRoom: $('create-public').checked,
  });
  $('room-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('room-input').value.trim();
    if (!name) return;
    const opts = createOptions();
    $('room-input').value = '';
    $('create-password').value = '';
    join(rooms.joinRoom(name, undefined, opts));
  });
  $('directory').addEventListener('toggle', () => { if ($('directory').open) rooms.loadDirectory().catch(fail); });

  // The buttons view.js draws in the requests, invitations and directory.
  const actions = {
    'accept-contact': (b) => contacts.acceptContact(b.dataset.jid),
    'decline-contact': (b) => contacts.declineContact(b.dataset.jid),
    'accept-invitation': (b) => join(rooms.acceptInvitation(b.dataset.room)),
    'dismiss-invitation': (b) => rooms.dismissInvitation(b.dataset.room),
    'join-room': (b) => join(rooms.joinRoom(b.dataset.room)),
  };
  for (const id of ['requests', 'invitations', 'room-directory']) {
    $(id).addEventListener('click', (e) => {
      const b = e.target.closest('button[data-action]');
      if (b && actions[b.dataset.action]) actions[b.dataset.action](b);
    });
  }
}

// ---- wiring: the open conversation ----------------------------------------------------

function wireConversation() {
  wireMessageList();
  $('conv-back').addEventListener('click', () => {
    document.body.classList.remove('in-conv');
    seen();
    const b = document.querySelector(`button[data-conv="${CSS.escape(model.active)}"]`);
    if (b) b.focus();
  });

  $('messages').addEventListener('scroll', () => {
    if ($('messages').scrollTop <= 80) olderIfAtTop();
  }, { passive: true });

  // Send goes to the conversation that was open when it was pressed; its
  // draft is cleared once sent, and the composer too if it still shows it.
  $('composer').addEventListener('submit', busy($('send'), async () => {
    const input = $('composer-input');
    const c = activeConv();
    const text = input.value.trim();
    if (!c || !text) return;
    try {
      await submitText(text, c); // msgactions.js: a new message, a reply or a correction
      if (state.draftOf(c.id).trim() === text) state.setDraft(c.id, '');
      if (model.active === c.id && input.value.trim() === text) input.value = '';
    } catch (e) { fail(e); }
    input.focus();
  }));
  // @-mentions in a room (mentionpick.js): wired first, so that its Enter
  // (choosing a nick) comes before the one that sends.
  closeMentions = wireMentions($('composer-input'), $('mention-list'), () => {
    const c = activeConv();
    return c && c.kind === 'room' ? c : null;
  });
  $('composer-input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $('composer').requestSubmit();
    }
  });
  $('composer-input').addEventListener('input', () => {
    state.setDraft(model.active, $('composer-input').value);
    typed();
  });

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
  $('contact-add').addEventListener('click', busy($('contact-add'), async () => {
    const c = activeConv();
    if (!c || c.kind !== 'chat') return;
    try {
      await contacts.requestContact(c);
      notice(`Asked ${c.title} to become a contact. You see each other online once ${c.title} accepts.`);
    } catch (e) { fail(e); }
  }));
  $('contact-rename').addEventListener('click', () => {
    const c = activeConv();
    if (!c || c.kind !== 'chat') return;
    const form = $('rename-form');
    form.dataset.conv = c.id;
    form.hidden = false;
    $('rename-input').value = c.named ? c.title : '';
    $('rename-input').placeholder = c.title;
    $('rename-input').focus();
  });
  $('rename-cancel').addEventListener('click', () => {
    $('rename-form').hidden = true;
    $('contact-rename').focus();
  });
  $('rename-form').addEventListener('submit', busy($('rename-save'), async () => {
    const c = activeConv();
    if (!c || c.kind !== 'chat' || $('rename-form').dataset.conv !== c.id) return;
    try {
      await contacts.renameContact(c, $('rename-input').value);
      $('rename-form').hidden = true;
      notice(`The contact is now called ${c.title}.`);
    } catch (e) { fail(e); }
  }));
  $('contact-remove').addEventListener('click', busy($('contact-remove'), async () => {
    const c = activeConv();
    if (!c || c.kind !== 'chat') return;
    try {
      await contacts.removeContact(c);
      notice(`${c.title} is no longer a contact. You no longer see each other online.`);
    } catch (e) { fail(e); }
  }));
  // Mark as unread leaves the conversation marked to come back to, on
  // every device, until it is opened again: a phone goes back to the list.
  $('conv-mark').addEventListener('click', busy($('conv-mark'), async () => {
    const c = activeConv();
    if (!c) return;
    try {
      await markUnread(c);
      notice(`${c.title} is marked unread.`);
      if (document.body.classList.contains('in-conv') && getComputedStyle($('conv-back')).display !== 'none') $('conv-back').click();
    } catch (e) { fail(e); }
  }));
  // Pin puts the conversation at the top of Chats on every device.
  $('conv-pin').addEventListener('click', busy($('conv-pin'), async () => {
    const c = activeConv();
    if (!c) return;
    try {
      if (isPinned(c)) {
        await unpin(c);
        notice(`${c.title} is no longer pinned.`);
      } else {
        await pin(c);
        notice(`${c.title} is pinned to the top of Chats.`);
      }
    } catch (e) { fail(e); }
  }));
  // Mute asks for how long (#mute-choices); Unmute unmutes at once.
  const choices = $('mute-choices');
  $('conv-mute').addEventListener('click', busy($('conv-mute'), async () => {
    const c = activeConv();
    if (!c) return;
    if (!isMutedNow(c)) {
      choices.dataset.conv = c.id;
      choices.hidden = false;
      choices.querySelector('button').focus();
      return;
    }
    try {
      await unmute(c);
      notice(`${c.title} is unmuted.`);
    } catch (e) { fail(e); }
  }));
  for (const b of choices.querySelectorAll('button[data-mute]')) {
    b.addEventListener('click', busy(b, async () => {
      const c = activeConv();
      if (!c || choices.dataset.conv !== c.id) { choices.hidden = true; return; }
      try {
        await muteFor(c, Number(b.dataset.mute));
        choices.hidden = true;
        const words = mutedWords(mutedUntil(c));
        notice(`${c.title}: no notifications. ${words}.`);
        $('conv-mute').focus();
      } catch (e) { fail(e); }
    }));
  }
  const closeChoices = () => {
    choices.hidden = true;
    $('conv-mute').focus();
  };
  $('mute-cancel').addEventListener('click', closeChoices);
  choices.addEventListener('keydown', (e) => { if (e.key === 'Escape') closeChoices(); });
  $('contact-block').addEventListener('click', busy($('contact-block'), async () => {
    const c = activeConv();
    if (!c || c.kind !== 'chat') return;
    try {
      await contacts.blockContact(c.jid);
      notice(`${c.title} is blocked: their messages no longer reach you, and they see you offline.`);
    } catch (e) { fail(e); }
  }));
  $('contact-unblock').addEventListener('click', busy($('contact-unblock'), async () => {
    const c = activeConv();
    if (!c || c.kind !== 'chat') return;
    try {
      await contacts.unblockContact(c.jid);
      notice(`${c.title} is unblocked.`);
    } catch (e) { fail(e); }
  }));
  $('occupants-toggle').addEventListener('click', () => {
    const open = $('occupants-panel').hidden;
    $('occupants-panel').hidden = !open;
    $('occupants-toggle').setAttribute('aria-expanded', String(open));
    const c = activeConv();
    if (open && c) rooms.refreshOccupants(c).catch(fail);
  });
  wireRoomAdmin();
  $('room-leave').addEventListener('click', busy($('room-leave'), async () => {
    const c = activeConv();
    if (!c) return;
    try {
      await rooms.leaveRoom(c);
      await forgetRoom(c);
    } catch (err) { fail(err); }
  }));
  $('invite-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const c = activeConv();
    const who = toJID($('invite-input').value);
    if (!c || !who) return;
    try {
      await rooms.invite(c, who);
      $('invite-input').value = '';
    } catch (err) { fail(err); }
  });

  document.addEventListener('visibilitychange', seen);
  narrow.addEventListener('change', seen);
}

// ---- wiring: what owners and moderators do ---------------------------------------------

function wireRoomAdmin() {
  // The notice of a room that made the person leave, with a button to the
  // room its owner named instead.
  rooms.onRoomNotice(({ c, text, alternate }) => {
    forgetRoom(c); // its bookmark would bring it back on another device
    notice(text + (alternate ? ` Its owner suggests the room ${local(alternate)}: join it from the Rooms list.` : ''));
    const n = $('notice');
    if (alternate && n) {
      const a = document.createElement('a');
      a.href = '#';
      a.id = 'alternate-room';
      a.textContent = `Go to ${local(alternate)}`;
      a.addEventListener('click', (e) => { e.preventDefault(); n.hidden = true; join(rooms.joinRoom(alternate)); });
      n.append(' ', a);
    }
  });
  const join = (p) => p.then((c) => { bookmarkRoom(c); enter(c.id); }).catch((e) => fail(e, 'room'));

  $('subject-edit').addEventListener('click', () => {
    const c = activeConv();
    $('subject-form').hidden = false;
    $('subject-input').value = (c && c.subject) || '';
    $('subject-input').focus();
  });
  $('subject-cancel').addEventListener('click', () => { $('subject-form').hidden = true; });
  $('subject-form').addEventListener('submit', busy($('subject-save'), async () => {
    const c = activeConv();
    if (!c) return;
    try {
      await roomadmin.setSubject(c, $('subject-input').value.trim());
      $('subject-form').hidden = true;
    } catch (err) { fail(err, 'room-admin'); }
  }));

  // Moderation buttons in the occupant list (view.js draws them).
  let pending = null; // {c, nick, ban} waiting for the reason
  $('occupants').addEventListener('click', async (e) => {
    const b = e.target.closest('button[data-action]');
    const c = activeConv();
    if (!b || !c) return;
    const nick = b.dataset.nick;
    if (b.dataset.action === 'private') { // a private conversation with the occupant
      enter(state.conv('chat', `${c.jid}/${nick}`).id);
      return;
    }
    if (b.dataset.action === 'voice' || b.dataset.action === 'unvoice') {
      try {
        await roomadmin.setRole(c, nick, b.dataset.action === 'voice' ? 'participant' : 'visitor');
      } catch (err) { fail(err, 'room-admin'); }
      return;
    }
    if (b.dataset.action === 'affiliation') { // roomadmin.js's grants
      try {
        await roomadmin.setAffiliation(c, b.dataset.jid, b.dataset.affiliation);
      } catch (err) { fail(err, 'room-admin'); }
      return;
    }
    pending = { c, nick, ban: b.dataset.action === 'ban' };
    $('moderate-title').textContent = pending.ban ? `Ban ${nick} from the room` : `Remove ${nick} from the room`;
    $('moderate-confirm').textContent = pending.ban ? 'Ban' : 'Remove';
    $('moderate-reason').value = '';
    $('moderate').showModal();
    $('moderate-reason').focus();
  });
  $('moderate-cancel').addEventListener('click', () => { pending = null; $('moderate').close(); });
  $('moderate-form').addEventListener('submit', busy($('moderate-confirm'), async () => {
    const p = pending;
    if (!p) return;
    const reason = $('moderate-reason').value.trim();
    try {
      if (p.ban) {
        const o = p.c.occupants.get(p.nick);
        if (!o || !o.jid) throw new Error(`The room does not show who ${p.nick} is, so they cannot be banned from here.`);
        await roomadmin.ban(p.c, o.jid, reason);
      } else {
        await roomadmin.setRole(p.c, p.nick, 'none', reason);
      }
      pending = null;
      $('moderate').close();
    } catch (err) {
      $('moderate').close();
      fail(err, 'room-admin');
    }
  }));

  // Room settings: read when opened, written on save.
  $('room-settings-open').addEventListener('click', async () => {
    const c = activeConv();
    if (!c) return;
    $('room-config-state').textContent = 'Loading…';
    $('cfg-password').value = '';
    $('cfg-nopassword').checked = false;
    $('room-settings').showModal();
    try {
      const o = await roomadmin.readConfig(c);
      $('cfg-name').value = o.naturalName || '';
      $('cfg-desc').value = o.description || '';
      $('cfg-members').checked = Boolean(o.membersOnly);
      $('cfg-moderated').checked = Boolean(o.moderated);
      $('cfg-public').checked = Boolean(o.publicRoom);
      $('cfg-subject').checked = Boolean(o.changeSubject);
      $('cfg-password-state').textContent = o.passwordProtected ? 'The room has a password.' : 'The room has no password.';
      await loadPeople(c);
      $('room-config-state').textContent = '';
    } catch (err) { $('room-config-state').textContent = explain(err, 'room-admin'); }
  });
  // Members and bans, in the same dialog.
  const loadPeople = async (c) => {
    const [member, outcast] = await Promise.all([roomadmin.affiliations(c, 'member'), roomadmin.affiliations(c, 'outcast')]);
    renderAffiliations({ member, outcast });
  };
  const people = async (c, fn) => {
    try {
      await fn();
      await loadPeople(c);
    } catch (err) { $('room-config-state').textContent = explain(err, 'room-admin'); }
  };
  for (const id of ['cfg-member-list', 'cfg-outcast-list']) {
    $(id).addEventListener('click', (e) => {
      const b = e.target.closest('button[data-action]');
      const c = activeConv();
      if (b && c) people(c, () => roomadmin.setAffiliation(c, b.dataset.jid, 'none'));
    });
  }
  $('member-add-form').addEventListener('submit', busy($('member-add-submit'), async () => {
    const c = activeConv();
    const who = toJID($('member-add-input').value);
    if (!c || !who) return;
    await people(c, () => roomadmin.setAffiliation(c, who, 'member'));
    $('member-add-input').value = '';
  }));
  $('room-config-form').addEventListener('submit', busy($('cfg-save'), async () => {
    const c = activeConv();
    if (!c) return;
    const options = {
      naturalName: $('cfg-name').value.trim(), description: $('cfg-desc').value.trim(),
      membersOnly: $('cfg-members').checked, moderated: $('cfg-moderated').checked,
      publicRoom: $('cfg-public').checked, changeSubject: $('cfg-subject').checked,
    };
    const pw = $('cfg-password').value;
    if ($('cfg-nopassword').checked) options.password = '';
    else if (pw) options.password = pw;
    try {
      await roomadmin.writeConfig(c, options);
      $('cfg-password').value = '';
      $('room-config-state').textContent = 'The room settings are saved.';
      if (options.naturalName) { c.title = options.naturalName; state.changed(['lists', 'header'], c); }
      rooms.refreshRoom(c).catch(() => {});
    } catch (err) { $('room-config-state').textContent = explain(err, 'room-admin'); }
  }));
  $('destroy-form').addEventListener('submit', busy($('destroy-submit'), async () => {
    const c = activeConv();
    if (!c) return;
    const alternate = $('destroy-alternate').value.trim();
    try {
      await roomadmin.destroy(c, $('destroy-reason').value.trim(), alternate ? local(alternate) : '');
      $('room-settings').close();
      $('destroy-reason').value = '';
      $('destroy-alternate').value = '';
      state.removeConv(c.id);
      await forgetRoom(c);
      notice(`The room ${c.title} is destroyed.`);
    } catch (err) { $('room-config-state').textContent = explain(err, 'room-admin'); }
  }));
}

// signOutEverywhere ends every session of the account (every token and
// refresh token family, every stream, the XMPP session) and this tab's.
// The stream stops first: its own close (reason logout) would otherwise
// say the person was signed out from elsewhere.
async function signOutEverywhere() {
  $('everywhere-state').textContent = '';
  const token = await freshToken().catch(() => session.token);
  events.stop();
  try {
    await forgetPush(token);
    await call('POST', '/logout/all', { token });
  } catch (err) {
    $('everywhere-state').textContent = explain(err);
    events.start(session.token);
    return;
  }
  $('settings').close();
  signOut({ remote: true, reason: 'everywhere' });
}

// ---- wiring: settings ------------------------------------------------------------------

function wireSettings() {
  const username = () => local(model.jid) || session.user;
  $('settings-open').addEventListener('click', openSettings);
  $('presence-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await setPresence($('presence-show').value, $('presence-status').value);
      notice('Presence updated.');
    } catch (err) { fail(err); }
  });
  // The user's own picture: set from a file, or removed.
  $('avatar-input').addEventListener('change', async () => {
    const f = $('avatar-input').files[0];
    $('avatar-input').value = '';
    if (!f) return;
    $('avatar-state').textContent = 'Saving your picture…';
    try {
      $('avatar-state').textContent = (await setOwnAvatar(f)) || 'Your picture is set. Your contacts see it.';
    } catch (err) { $('avatar-state').textContent = explain(err, 'account'); }
  });
  $('avatar-remove').addEventListener('click', busy($('avatar-remove'), async () => {
    try {
      await removeOwnAvatar();
      $('avatar-state').textContent = 'Your picture is removed.';
      $('avatar-input').focus();
    } catch (err) { $('avatar-state').textContent = explain(err, 'account'); }
  }));
  $('push-enable').addEventListener('click', busy($('push-enable'), async () => {
    try { $('push-state').textContent = await enablePush(); } catch (err) { $('push-state').textContent = explain(err, 'push'); }
  }));
  // A new password revokes every token of the user, this tab's included;
  // the answer carries this tab's new ones, kept as the old ones were.
  $('password-form').addEventListener('submit', busy($('password-submit'), async () => {
    $('password-state').textContent = '';
    const current = $('password-current').value;
    const password = $('password-new').value;
    const min = (model.config && model.config.minPasswordLength) || 0;
    if (!current || !password) { $('password-state').textContent = 'Enter your current password and the new one.'; return; }
    if (password.length < min) { $('password-state').textContent = `Choose a longer password: at least ${min} characters.`; return; }
    const kept = session.record;
    let done;
    passwordChange = new Promise((r) => { done = r; });
    try {
      const res = await call('PUT', '/user', { json: { password, currentPassword: current } });
      if (res && res.token) {
        session.keep(session.user, res, kept ? kept.remember : false);
        refreshPush().catch(() => {}); // the push subscription goes with the new login
      }
      $('password-current').value = '';
      $('password-new').value = '';
      $('password-state').textContent = 'Your password is changed. Other devices must sign in again.';
    } catch (err) {
      $('password-state').textContent = explain(err, 'account');
    } finally {
      done();
    }
  }));
  $('sound-on').addEventListener('change', () => setSound($('sound-on').checked));
  // Checked: strangers' messages notify (the default); unchecked mutes
  // them on every device (mute.js). A refusal puts the box back.
  $('strangers-notify').addEventListener('change', async () => {
    const box = $('strangers-notify');
    box.disabled = true;
    try {
      await setStrangersMuted(!box.checked);
    } catch (err) {
      fail(err);
    } finally {
      box.checked = !strangersMuted();
      box.disabled = false;
    }
  });
  state.subscribe((region) => { if (region === 'strangers') $('strangers-notify').checked = !strangersMuted(); });
  $('preview-level').addEventListener('change', async () => {
    const select = $('preview-level');
    select.disabled = true;
    try {
      await setPreview(select.value);
    } catch (err) {
      fail(err);
    } finally {
      select.value = previewLevel();
      select.disabled = false;
    }
  });
  state.subscribe((region) => { if (region === 'preview') $('preview-level').value = previewLevel(); });
  wireTOTP(username);
  wireLogins();
  $('passkey-add-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('passkey-state').textContent = '';
    try {
      await auth.passkeyRegister(username(), $('passkey-password').value, $('passkey-name').value.trim());
      $('passkey-password').value = '';
      $('passkey-state').textContent = 'The passkey is registered.';
      refreshPasskeys();
    } catch (err) { $('passkey-state').textContent = explain(err, 'account'); }
  });
  $('muted-list').addEventListener('click', async (e) => {
    const b = e.target.closest('button[data-action="unmute-conv"]');
    if (!b) return;
    try { await unmute({ jid: b.dataset.jid }); } catch (err) { fail(err); }
  });
  $('blocked-list').addEventListener('click', async (e) => {
    const b = e.target.closest('button[data-action="unblock-contact"]');
    if (!b) return;
    try { await contacts.unblockContact(b.dataset.jid); } catch (err) { fail(err); }
  });
  $('signout-everywhere').addEventListener('click', busy($('signout-everywhere'), signOutEverywhere));
  $('passkeys').addEventListener('click', async (e) => {
    const b = e.target.closest('button[data-action="remove-passkey"]');
    if (!b) return;
    try {
      await call('DELETE', `/webauthn/credentials/${seg(b.dataset.id)}`);
      refreshPasskeys();
    } catch (err) { $('passkey-state').textContent = explain(err); }
  });
}

function openSettings() {
  $('settings').showModal();
  refreshSettings();
}

function refreshSettings() {
  $('presence-show').value = model.me.show;
  $('presence-status').value = model.me.status;
  $('avatar-state').textContent = '';
  $('push-state').textContent = !pushSupported() ? whyNoPush()
    : (Notification.permission === 'granted' ? 'Notifications are allowed.' : 'Notifications are off.');
  $('sound-on').checked = soundOn();
  $('strangers-notify').checked = !strangersMuted();
  $('strangers-choice').hidden = features.get('mute') === false;
  $('muted-choice').hidden = features.get('mute') === false;
  state.changed('muted');
  $('preview-level').value = previewLevel();
  $('preview-choice').hidden = features.get('properties') === false;
  $('everywhere-state').textContent = '';
  refreshPasskeys();
  refreshTOTP();
  refreshLogins();
  contacts.loadBlocklist();
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
  renderPasskeys((res && res.credentials) || []);
}

// ---- start -----------------------------------------------------------------------------

// wireSkipLink makes the skip link go where typing happens on this screen:
// the message box of the open conversation, else the sidebar's "Chat
// with" box, else the sign-in form (a link to a hidden box went nowhere).
function wireSkipLink() {
  $('skip').addEventListener('click', (e) => {
    const to = ['composer-input', 'contact-input', 'login-user'].map((id) => $(id)).find((el) => el && el.getClientRects().length > 0);
    if (!to) return;
    e.preventDefault();
    to.focus();
  });
}

function main() {
  wireSkipLink();
  wireAuth();
  wireSidebar();
  wireConversation();
  wireSettings();
  wireMenu({ settings: openSettings, signOut: () => signOut() });
  wireConvMenu();
  startNotifying((id) => enter(id));
  seen();
  window.addEventListener('pagehide', () => { if (session.token) { flush(); state.save(); } });
  resume().catch(fail);
}

// lateHandOff goes on with an open tab's answer that came after the
// sign-in form was shown, unless a session started meanwhile or someone
// has begun to fill in the form.
function lateHandOff(take) {
  if (live || document.body.dataset.screen !== 'auth') return;
  if ($('login-user').value || $('login-password').value || !$('totp-form').hidden) return;
  if (take()) resume();
}

// resume signs in without the form when this tab keeps a refresh token (a
// reload, a browser that stays signed in, the next visit) or another open
// tab gives it its own (a new tab without "stay signed in").
async function resume() {
  const token = session.token;
  if (!session.record && !token) await askOpenTabs(250, lateHandOff);
  const kept = session.record;
  if (!kept) {
    if (token) return startSession(session.user, token);
    show('auth');
    $('login-user').focus();
    offerPasskeys();
    return undefined;
  }
  let t;
  try {
    t = await freshToken();
  } catch (e) {
    if (live) return undefined;
    if (e instanceof ApiError && e.status === 401) session.clear();
    show('auth');
    $('auth-error').textContent = e instanceof ApiError && e.status === 401 ? endedSentence('expired') : explain(e);
    $('login-user').focus();
    offerPasskeys();
    return undefined;
  }
  return startSession(session.user || kept.user, t);
}

main();
