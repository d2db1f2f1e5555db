// events.js: the event stream (GET /sparkweb/api/sse) with resuming and a
// visible connection state. EventSource resumes by itself with the
// Last-Event-ID header after a dropped connection; when it gives up (an
// error status) or the gateway ends the stream with chatapi.close
// {resume: true}, a new EventSource is opened with ?lastEventId=. Every
// event id is delivered at most once.
//
// A stream lives as long as the access token it was opened with: it ends
// with chatapi.close {reason: 'expired'}, and a stream refused with 401
// was opened with a token no longer good. Either way the stream asks
// renew(stale, refused) for a newer token (api.js: another tab's or a
// refreshed one) and reopens with it and ?lastEventId=, so the user's event
// log replays what happened meanwhile. Only a renewal that fails with 401
// ends the stream (onEnd('expired')).
//
// The connection state follows the stream itself: it is 'connected' while
// the EventSource is open (its open event, and any event it delivers, say
// so), 'reconnecting' while it retries, and 'offline' while the browser
// says it has no network. The browser's online/offline events are only
// hints: back online, the state is the stream's again, so a blip that
// never closed the stream leaves it 'connected'.

import { API } from './api.js';

export const EVENTS = [
  'onConnect', 'chatapi.chat', 'chatapi.muc', 'chatapi.presence', 'chatapi.roster',
  'chatapi.notify', 'chatapi.pubsub', 'chatapi.receipt', 'chatapi.error',
  'chatapi.session', 'chatapi.reset', 'chatapi.close', 'chatapi.request', 'chatapi.blocklist',
  'chatapi.unread', 'chatapi.avatar', 'chatapi.nick', 'chatapi.reaction',
];

const LAST = 'sparkgate.lastEventId';
const SEEN_MAX = 4096;

export class EventStream {
  // onEvent(name, data, id) gets every new event; onState(state) gets
  // 'connecting', 'connected', 'reconnecting', 'offline' and 'closed';
  // onEnd(reason) is told when the stream must not be resumed (sign in
  // again); renew(stale, refused) answers a newer token than stale (see
  // above), or rejects.
  constructor({ onEvent, onState, onEnd, renew }) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.onEnd = onEnd;
    this.renew = renew;
    this.renewals = 0; // renewals since the stream last opened
    this.source = null;
    this.token = '';
    this.seen = new Set();
    this.order = [];
    this.retry = 0;
    this.timer = 0;
    this.state = 'closed';
    this.stopped = true;
    window.addEventListener('offline', () => { if (!this.stopped) this.setState('offline'); });
    window.addEventListener('online', () => {
      if (this.stopped) return;
      if (!this.source || this.source.readyState === EventSource.CLOSED) this.reopen(0);
      else this.followSource();
    });
  }

  get lastEventId() { return sessionStorage.getItem(LAST) || ''; }

  start(token) {
    this.token = token;
    this.seen.clear(); // ids are per user: forget another user's
    this.order = [];
    this.retry = 0;
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.source) this.source.close();
    this.source = null;
    this.setState('closed');
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.onState(s);
  }

  // followSource sets the state from the open EventSource: connected when
  // it is open, retrying (or offline, by the browser's word) otherwise.
  followSource() {
    const src = this.source;
    if (!src || this.stopped) return;
    if (src.readyState === EventSource.OPEN) {
      this.retry = 0;
      this.renewals = 0;
      this.setState('connected');
    } else if (src.readyState === EventSource.CONNECTING) {
      this.setState(navigator.onLine ? 'reconnecting' : 'offline');
    }
  }

  open() {
    if (this.source) this.source.close();
    const q = new URLSearchParams({ token: this.token });
    const last = this.lastEventId;
    if (last) q.set('lastEventId', last);
    this.setState(this.state === 'closed' ? 'connecting' : (navigator.onLine ? 'reconnecting' : 'offline'));
    const src = new EventSource(API + '/sse?' + q.toString());
    this.source = src;
    for (const name of EVENTS) {
      src.addEventListener(name, (e) => this.dispatch(src, name, e));
    }
    src.addEventListener('open', () => { if (src === this.source) this.followSource(); });
    src.addEventListener('error', () => {
      if (src !== this.source || this.stopped) return;
      if (src.readyState === EventSource.CLOSED) {
        // EventSource gave up (the gateway answered an error status): ask
        // whether the token still works, then try again ourselves.
        this.reopen(undefined, true);
      } else {
        this.followSource();
      }
    });
  }

  reopen(delay, probe = false) {
    clearTimeout(this.timer);
    if (this.source) this.source.close();
    this.source = null;
    this.setState(navigator.onLine ? 'reconnecting' : 'offline');
    if (delay === undefined) {
      delay = Math.min(30000, 500 * 2 ** this.retry) * (0.75 + Math.random() / 2);
      this.retry++;
    }
    this.timer = setTimeout(() => this.checkAndOpen(probe), probe && this.retry <= 1 ? 0 : delay);
  }

  // checkAndOpen asks whether the token still works before reopening, since
  // EventSource hides the status of a refused stream.
  async checkAndOpen(probe) {
    if (this.stopped) return;
    if (probe) {
      const ctl = new AbortController();
      try {
        const res = await fetch(API + '/sse', { headers: { Authorization: 'Bearer ' + this.token }, signal: ctl.signal, cache: 'no-store' });
        ctl.abort();
        if (res.status === 401) {
          this.renewAndOpen(true);
          return;
        }
      } catch {
        // offline or aborted: just try again below
      }
    }
    if (!this.stopped) this.open();
  }

  // renewAndOpen reopens the stream with a newer token than the one it was
  // opened with (refused: the gateway said 401 to it).
  async renewAndOpen(refused) {
    clearTimeout(this.timer);
    if (this.source) this.source.close();
    this.source = null;
    if (!this.renew || ++this.renewals > 3) {
      this.stop();
      this.onEnd('expired');
      return;
    }
    let token;
    try {
      token = await this.renew(this.token, refused);
    } catch (e) {
      if (this.stopped) return;
      if (e && e.status === 401) {
        this.stop();
        this.onEnd('expired');
      } else {
        // No answer (offline) or a busy gateway: try again later.
        this.renewals--;
        this.setState(navigator.onLine ? 'reconnecting' : 'offline');
        const delay = Math.min(30000, 500 * 2 ** this.retry++) * (0.75 + Math.random() / 2);
        this.timer = setTimeout(() => this.renewAndOpen(refused), delay);
      }
      return;
    }
    if (this.stopped) return;
    this.token = token;
    this.open();
  }

  dispatch(src, name, e) {
    if (src !== this.source) return;
    const id = e.lastEventId;
    if (id && name !== 'onConnect') {
      if (this.seen.has(id)) return;
      this.seen.add(id);
      this.order.push(id);
      if (this.order.length > SEEN_MAX) this.seen.delete(this.order.shift());
    }
    let data = {};
    try { data = e.data ? JSON.parse(e.data) : {}; } catch { data = {}; }
    // An event is proof that the stream works, whatever the browser said.
    if (name !== 'chatapi.close') this.followSource();
    if (id) sessionStorage.setItem(LAST, id);
    if (name === 'chatapi.close') {
      src.close();
      if (data.resume) {
        this.reopen(300);
      } else if (data.reason === 'expired' && this.renew) {
        this.renewAndOpen(false);
      } else {
        this.stop();
        this.onEnd(data.reason || 'ended');
      }
      return;
    }
    this.onEvent(name, data, id);
  }
}
