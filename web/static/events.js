// events.js: the event stream (GET /sparkweb/api/sse) with resuming and a
// visible connection state, over the SDK's subscribe (@sparkgate/client,
// /sparkgate-client.js): it reads the stream with fetch, sends the token
// as a header and Last-Event-ID on every reconnect, so the gateway replays
// what a cut lost; it backs off while the gateway cannot be reached and
// reconnects at once after chatapi.close {resume: true}. Every event id is
// delivered at most once. The last id is kept in sessionStorage, so a
// reload resumes where the page was.
//
// A stream lives as long as the access token it was opened with: it ends
// with chatapi.close {reason: 'expired'}, and a stream refused with 401
// was opened with a token no longer good. Either way the stream asks
// renew(stale, refused) for a newer token (api.js: another tab's or a
// refreshed one) and reopens with it and the last id, so the user's event
// log replays what happened meanwhile. Only a renewal that fails with 401
// (or a token refused after three renewals) ends the stream
// (onEnd('expired')); one that gets no answer is tried again later. A
// stream the gateway refuses otherwise (400, 403: retrying cannot help)
// ends as well (onEnd('ended')).
//
// The connection state follows the stream itself: it is 'connected' while
// the stream is open (from its onConnect on), 'reconnecting' while it
// retries, and 'offline' while the browser says it has no network. The
// browser's online/offline events are only hints: back online, the state
// is the stream's again, so a blip that never closed the stream leaves it
// 'connected', and a stream waiting to retry tries at once.

import { Sparkgate } from './sparkgate-client.js';

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
    this.token = '';
    this.sub = null;
    this.gen = 0; // the subscription whose callbacks count
    this.stream = 'closed'; // the SDK's state of it
    this.closeReason = '';
    this.state = 'closed';
    this.stopped = true;
    // The stream's own client: it carries this stream's token, and a
    // renewal replaces it.
    this.client = new Sparkgate({
      auth: {
        token: () => this.token || null,
        refresh: async (stale, refused) => {
          if (!this.renew) throw Object.assign(new Error('no renewal'), { status: 401 });
          this.token = await this.renew(stale, refused);
        },
      },
    });
    window.addEventListener('offline', () => { if (!this.stopped) this.setState('offline'); });
    window.addEventListener('online', () => {
      if (this.stopped) return;
      this.follow();
      if (this.stream === 'waiting' && this.sub) this.sub.reconnect();
    });
  }

  get lastEventId() { return sessionStorage.getItem(LAST) || ''; }

  start(token) {
    if (this.sub) this.sub.close();
    const gen = ++this.gen;
    this.token = token;
    this.stopped = false;
    this.closeReason = '';
    this.stream = 'connecting';
    this.setState(this.state === 'closed' ? 'connecting' : 'reconnecting');
    const seen = new Set(); // ids are per user: this subscription's
    this.sub = this.client.subscribe({ '*': (e) => this.dispatch(gen, seen, e) }, {
      lastEventId: this.lastEventId,
      onState: (s) => {
        if (gen !== this.gen) return;
        this.stream = s;
        this.follow();
      },
      onError: () => {}, // a failed attempt is retried; the state says so
    });
    this.sub.ended.then((reason) => this.ended(gen, reason));
  }

  stop() {
    this.stopped = true;
    this.gen++;
    if (this.sub) this.sub.close();
    this.sub = null;
    this.setState('closed');
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.onState(s);
  }

  // follow sets the state from the stream's: connected when it is open,
  // retrying (or offline, by the browser's word) otherwise.
  follow() {
    if (this.stopped) return;
    if (this.stream === 'open') {
      this.setState('connected');
    } else if (this.stream === 'connecting' && this.state === 'connecting') {
      // the first attempt: still connecting
    } else if (this.stream !== 'closed') {
      this.setState(navigator.onLine ? 'reconnecting' : 'offline');
    }
  }

  dispatch(gen, seen, { id, event, data }) {
    if (gen !== this.gen) return;
    if (event === 'chatapi.close') {
      // Before the duplicate check: a close has no id line, so the
      // parser gives it the last id (the SSE rule), one seen already. The
      // reason was lost that way, and a tab signed out elsewhere said
      // only "You were signed out." (TestBrowserLogins).
      this.closeReason = (data && data.reason) || '';
      return; // the SDK resumes, renews or ends: ended below says which
    }
    if (id && event !== 'onConnect') {
      if (seen.has(id)) return;
      seen.add(id);
      if (seen.size > SEEN_MAX) seen.delete(seen.values().next().value); // the oldest
    }
    if (id) sessionStorage.setItem(LAST, id);
    try {
      this.onEvent(event, data || {}, id);
    } catch (e) {
      // The SDK would only hand it to onError: say it as an uncaught error
      // (a listener's would be), and go on with the next event.
      reportError(e);
    }
  }

  // ended is told why a subscription stopped for good; close() (stop, a
  // new start) is not news.
  ended(gen, reason) {
    if (gen !== this.gen || reason === 'closed') return;
    this.stop();
    this.onEnd(reason === 'unauthorized' || reason === 'expired' ? 'expired' : (this.closeReason || 'ended'));
  }
}
