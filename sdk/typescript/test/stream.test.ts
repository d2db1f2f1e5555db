// Unit tests of the event stream's state machine against a scripted fetch:
// what it sends on each attempt, and what it does with each answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { subscribe, type StreamDeps } from "../src/stream.js";

type Ev = [id: string, event: string, data: unknown];

// stream answers an event stream of evs, then ends.
function stream(evs: Ev[]): Response {
  const text = "retry: 10\n\n" + evs.map(([id, ev, d]) => `id: ${id}\nevent: ${ev}\ndata: ${JSON.stringify(d)}\n\n`).join("");
  return new Response(new Blob([text]).stream(), { headers: { "Content-Type": "text/event-stream" } });
}

const connect = (id: string, resumed = false): Ev => [id, "onConnect", { email: "", name: "", username: "alice", resumed }];
const chat = (id: string, body: string): Ev => [id, "chatapi.chat", { type: "chat", to: "a", from: "b", data: null, body }];
const close = (id: string, reason: string, resume: boolean): Ev => [id, "chatapi.close", { reason, resume }];

// scripted runs a subscription whose fetch answers the responses in order,
// recording each request's headers.
function scripted(answers: (() => Response)[], opts: { refreshFails?: boolean; refreshOffline?: number } = {}) {
  const requests: Headers[] = [];
  let token = "t0";
  let refreshes = 0;
  let offline = opts.refreshOffline ?? 0;
  const refreshedWith: [string, boolean][] = [];
  const deps: StreamDeps = {
    url: "http://gateway.test/sparkweb/api/sse",
    fetch: async (_url, init) => {
      requests.push(new Headers(init?.headers));
      const next = answers.shift();
      if (!next) return new Promise<Response>(() => {}); // hangs until closed
      return next();
    },
    token: () => token,
    refresh: async (stale, refused) => {
      refreshedWith.push([stale, refused]);
      if (offline > 0) {
        offline--;
        throw new TypeError("failed to fetch"); // no status: tried again
      }
      refreshes++;
      if (opts.refreshFails) throw Object.assign(new Error("refresh refused"), { status: 401 });
      token = "t" + refreshes;
    },
  };
  const bodies: string[] = [];
  const errors: unknown[] = [];
  const sub = subscribe(
    deps,
    {
      "chatapi.chat": (d) => {
        if (d.type !== "chatstate") bodies.push(d.body);
      },
    },
    { minDelay: 5, maxDelay: 20, onError: (e) => errors.push(e) },
  );
  return { sub, requests, bodies, errors, refreshes: () => refreshes, refreshedWith };
}

test("resumes-after-a-cut-with-the-last-id", async () => {
  const s = scripted([
    () => stream([connect("1"), chat("2", "a")]), // cut without a word
    () => stream([connect("3", true), chat("4", "b"), close("5", "logout", false)]),
  ]);
  assert.equal(await s.sub.ended, "logout");
  assert.deepEqual(s.bodies, ["a", "b"]);
  assert.equal(s.requests[0].get("Last-Event-ID"), null);
  assert.equal(s.requests[1].get("Last-Event-ID"), "2");
  assert.equal(s.requests[1].get("Authorization"), "Bearer t0");
});

test("close-resume-reconnects-and-expired-refreshes", async () => {
  const s = scripted([
    () => stream([connect("1"), chat("2", "a"), close("3", "max-age", true)]),
    () => stream([connect("4", true), close("5", "expired", false)]),
    () => stream([connect("6", true), chat("7", "b"), close("8", "ended", false)]),
  ]);
  assert.equal(await s.sub.ended, "ended");
  assert.deepEqual(s.bodies, ["a", "b"]);
  assert.equal(s.refreshes(), 1);
  assert.deepEqual(s.refreshedWith, [["t0", false]]);
  assert.deepEqual(
    s.requests.map((h) => [h.get("Authorization"), h.get("Last-Event-ID")]),
    [["Bearer t0", null], ["Bearer t0", "3"], ["Bearer t1", "5"]],
  );
});

test("a-refresh-without-an-answer-is-tried-again", async () => {
  // The first two refreshes meet no network: the stream waits and asks
  // again, with the refused token, instead of ending.
  const s = scripted([
    () => new Response(null, { status: 401 }),
    () => new Response(null, { status: 401 }),
    () => new Response(null, { status: 401 }),
    () => stream([connect("1"), chat("2", "a"), close("3", "logout", false)]),
  ], { refreshOffline: 2 });
  assert.equal(await s.sub.ended, "logout");
  assert.deepEqual(s.bodies, ["a"]);
  assert.deepEqual(s.refreshedWith, [["t0", true], ["t0", true], ["t0", true]]);
  assert.deepEqual(s.requests.map((h) => h.get("Authorization")), ["Bearer t0", "Bearer t0", "Bearer t0", "Bearer t1"]);
});

test("a-token-refused-after-three-refreshes-ends-the-stream", async () => {
  const refused = () => new Response(null, { status: 401 });
  const s = scripted([refused, refused, refused, refused, refused]);
  assert.equal(await s.sub.ended, "unauthorized");
  assert.equal(s.refreshes(), 3);
  assert.equal(s.requests.length, 4);
});

test("reconnect-cuts-the-back-off-short", async () => {
  const requests: number[] = [];
  const sub = subscribe(
    {
      url: "http://gateway.test/sse",
      fetch: async () => {
        requests.push(Date.now());
        if (requests.length === 1) throw new TypeError("network down");
        return stream([connect("1"), close("2", "logout", false)]);
      },
      token: () => "t",
      refresh: async () => {},
    },
    {},
    { minDelay: 60000, maxDelay: 60000, onError: () => {} },
  );
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(requests.length, 1); // waiting a minute
  sub.reconnect();
  assert.equal(await sub.ended, "logout");
  assert.equal(requests.length, 2);
  assert.ok(requests[1] - requests[0] < 5000, "reconnect did not try at once");
});

test("401-refreshes-once-then-gives-up", async () => {
  const s = scripted([() => new Response(null, { status: 401 }), () => new Response(null, { status: 401 })], { refreshFails: true });
  assert.equal(await s.sub.ended, "unauthorized");
  assert.equal(s.refreshes(), 1);
  assert.equal(s.requests.length, 1);
});

test("backs-off-on-503-and-gives-up-on-403", async () => {
  const s = scripted([
    () => new Response(null, { status: 503, headers: { "Retry-After": "0" } }),
    () => { throw new TypeError("network down"); },
    () => new Response(null, { status: 403 }),
  ]);
  assert.equal(await s.sub.ended, "refused");
  assert.equal(s.requests.length, 3);
  assert.equal(s.errors.length, 3);
});

test("a-throwing-handler-does-not-end-the-stream", async () => {
  const errors: unknown[] = [];
  let n = 0;
  const sub = subscribe(
    {
      url: "http://gateway.test/sse",
      fetch: async () => stream([connect("1"), chat("2", "x"), chat("3", "y"), close("4", "logout", false)]),
      token: () => "t",
      refresh: async () => {},
    },
    {
      "chatapi.chat": () => {
        n++;
        throw new Error("boom");
      },
    },
    { onError: (e) => errors.push(e) },
  );
  assert.equal(await sub.ended, "logout");
  assert.equal(n, 2);
  assert.equal(errors.length, 2);
  assert.equal(sub.lastEventId, "4");
});

test("close-stops-a-waiting-stream", async () => {
  const s = scripted([]); // the first attempt never answers
  await new Promise((r) => setTimeout(r, 20));
  s.sub.close();
  assert.equal(await s.sub.ended, "closed");
});
