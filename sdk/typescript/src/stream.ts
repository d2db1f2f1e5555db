// The event stream (GET /sparkweb/api/sse) over fetch, typed by EventMap.
import type { EventMap, EventName, Handlers, StreamEvent } from "./events.js";
import { Parser } from "./sse.js";

/** SubscribeOptions tune a subscription; every field is optional. */
export interface SubscribeOptions {
  /** lastEventId resumes after this event (e.g. kept from an earlier page). */
  lastEventId?: string;
  /** raw asks for chatapi.xmpp, the raw XML of every stanza (`?raw=true`). */
  raw?: boolean;
  /** minDelay is the first back-off delay in ms when the gateway cannot be reached (default: the stream's `retry:`, else 1000). */
  minDelay?: number;
  /** maxDelay bounds the back-off in ms (default 30000). */
  maxDelay?: number;
  /** onState reports the connection: connecting, open (onConnect arrived), waiting (backing off), closed. */
  onState?: (state: "connecting" | "open" | "waiting" | "closed") => void;
  /** onError is told of every failed attempt (the subscription goes on) and of errors thrown by handlers. */
  onError?: (err: unknown) => void;
}

/** EndReason says why a subscription ended for good. */
export type EndReason = "closed" | "logout" | "ended" | "expired" | "unauthorized" | "refused";

/** Subscription is an open event stream. */
export interface Subscription {
  /** lastEventId is the id of the last event delivered. */
  readonly lastEventId: string;
  /** ended resolves once the subscription stops for good, with the reason. */
  readonly ended: Promise<EndReason>;
  /** close stops the subscription; no handler is called after it. */
  close(): void;
  /**
   * reconnect cuts a back-off wait short and tries at once (e.g. the
   * browser says it is online again); it does nothing to an open stream.
   */
  reconnect(): void;
}

/** StreamDeps is what the stream needs of the client. */
export interface StreamDeps {
  url: string;
  fetch: typeof fetch;
  /** token answers the current access token, or null when logged out. */
  token: () => string | null;
  /**
   * refresh gets a newer access token than stale, which expired (refused
   * false) or was refused with 401 (refused true). It rejects with an
   * error whose status is 401 when the login is gone; other rejections
   * (no network) are retried after a back-off.
   */
  refresh: (stale: string, refused: boolean) => Promise<void>;
}

/**
 * subscribe runs the event stream until close() or an ending the client
 * cannot recover from (logout, the session ended, a refresh refused).
 *
 * Resuming: every reconnect sends the last delivered id as Last-Event-ID,
 * so the gateway replays exactly what was missed; when it cannot, it says
 * so with chatapi.reset, passed on to its handler (reload state then).
 * chatapi.close with resume: true reconnects at once; reason expired
 * refreshes the token first (unless another call already did) and
 * reconnects with the new one, so a refresh loses no event. A cut
 * connection or a failed attempt backs off exponentially with jitter, up
 * to maxDelay, honouring Retry-After; an onConnect resets the back-off.
 * A token refused again after three refreshes in a row (no onConnect in
 * between) ends the subscription: the gateway does not take what the
 * refresh gives.
 */
export function subscribe(deps: StreamDeps, handlers: Handlers, opts: SubscribeOptions = {}): Subscription {
  const abort = new AbortController();
  let lastEventId = opts.lastEventId ?? "";
  let stopped = false;
  let finish: (r: EndReason) => void = () => {};
  const ended = new Promise<EndReason>((resolve) => (finish = resolve));
  const maxDelay = opts.maxDelay ?? 30000;
  const report = (err: unknown) => (opts.onError ? opts.onError(err) : undefined);
  const state = (s: "connecting" | "open" | "waiting" | "closed") => opts.onState?.(s);

  const end = (reason: EndReason) => {
    if (stopped) return;
    stopped = true;
    abort.abort();
    state("closed");
    finish(reason);
  };

  // wake ends the current back-off wait early (reconnect, close).
  let wake: () => void = () => {};
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wake = () => {};
        resolve();
      };
      const timer = setTimeout(done, ms);
      wake = done;
      abort.signal.addEventListener("abort", done, { once: true });
    });

  const deliver = (id: string, name: string, text: string) => {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      report(new Error(`sparkgate: event ${name} ${id}: bad JSON: ${String(err)}`));
      return;
    }
    const handler = (handlers as Record<string, ((d: unknown, e: { id: string; event: string }) => void) | undefined>)[name];
    try {
      if (handler) handler(data, { id, event: name });
      else handlers["*"]?.({ id, event: name as EventName, data } as StreamEvent);
    } catch (err) {
      report(err); // a throwing handler does not end the stream
    }
  };

  // renew refreshes the tokens unless they changed since token was read
  // (another call refreshed them already): "gone" when the login is (a
  // refusal, or a token refused after three refreshes in a row), "retry"
  // when the refresh got no answer and should be tried again later.
  let renewals = 0; // since the last onConnect
  const renew = async (token: string, refused: boolean): Promise<"ok" | "gone" | "retry"> => {
    if (++renewals > 3) return "gone";
    if (deps.token() !== token) return "ok";
    try {
      await deps.refresh(token, refused);
      return "ok";
    } catch (err) {
      report(err);
      if ((err as { status?: unknown } | null)?.status === 401) return "gone";
      renewals--;
      return "retry";
    }
  };

  const run = async () => {
    let attempt = 0;
    let retry: number | undefined;
    const backoff = (floor = 0) => {
      const base = opts.minDelay ?? retry ?? 1000;
      const d = Math.min(maxDelay, base * 2 ** Math.min(attempt, 16));
      attempt++;
      return Math.max(floor, d / 2 + (Math.random() * d) / 2);
    };
    while (!stopped) {
      const token = deps.token();
      if (!token) return end("unauthorized");
      state("connecting");
      const headers: Record<string, string> = { Accept: "text/event-stream", Authorization: "Bearer " + token };
      if (lastEventId) headers["Last-Event-ID"] = lastEventId;
      let res: Response;
      try {
        res = await deps.fetch(deps.url + (opts.raw ? "?raw=true" : ""), {
          headers,
          signal: abort.signal,
          cache: "no-store",
        });
      } catch (err) {
        if (stopped) return;
        report(err);
        state("waiting");
        await sleep(backoff());
        continue;
      }
      if (res.status === 401) {
        await res.body?.cancel().catch(() => {});
        const r = await renew(token, true);
        if (r === "gone") return end("unauthorized");
        if (r === "retry" && !stopped) {
          state("waiting");
          await sleep(backoff());
        }
        continue;
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel().catch(() => {});
        report(new Error(`sparkgate: event stream answered ${res.status}`));
        if (res.status !== 429 && res.status < 500) return end("refused"); // 400, 403: retrying cannot help
        const after = Number(res.headers.get("Retry-After"));
        state("waiting");
        await sleep(backoff(Number.isFinite(after) ? after * 1000 : 0));
        continue;
      }

      let close: EventMap["chatapi.close"] | undefined;
      const parser = new Parser((m) => {
        if (stopped) return;
        lastEventId = m.id;
        if (m.event === "onConnect") {
          attempt = 0;
          renewals = 0;
          state("open");
        }
        if (m.event === "chatapi.close") {
          try {
            close = JSON.parse(m.data);
          } catch {
            close = { reason: "ended", resume: false };
          }
        }
        deliver(m.id, m.event, m.data);
      });
      parser.lastEventId = lastEventId;
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(decoder.decode(value, { stream: true }));
          if (close) break;
        }
      } catch (err) {
        if (!stopped) report(err);
      } finally {
        reader.cancel().catch(() => {});
      }
      retry = parser.retry;
      if (stopped) return;
      if (close?.resume) continue; // slow, max-age, shutdown: at once, with the last id
      if (close?.reason === "expired") {
        const r = await renew(token, false);
        if (r === "gone") return end("expired");
        if (r === "retry" && !stopped) {
          state("waiting");
          await sleep(backoff());
        }
        continue;
      }
      if (close) return end(close.reason === "logout" ? "logout" : "ended");
      state("waiting"); // cut without a word: back off, then resume
      await sleep(backoff());
    }
  };
  void run();

  return {
    get lastEventId() {
      return lastEventId;
    },
    ended,
    close: () => end("closed"),
    reconnect: () => wake(),
  };
}
