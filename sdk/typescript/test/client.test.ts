// Unit tests of the client against a scripted fetch: the auth option (a
// login the app manages itself, as the embedded web client does) and the
// Retry-After an error carries.
import { test } from "node:test";
import assert from "node:assert/strict";
import { retryAfterSeconds, Sparkgate, SparkgateError } from "../src/index.js";

// recorder answers a fetch that records each request and answers with
// the next of answers (then 200 {}).
function recorder(answers: (() => Response)[]) {
  const seen: Request[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = input instanceof Request ? input : new Request(input, init);
    seen.push(req);
    const next = answers.shift();
    return next ? next() : Response.json({});
  };
  return { seen, fetch: fetch as typeof globalThis.fetch };
}

test("auth-option-gives-each-call-the-apps-token", async () => {
  let token: string | null = "a1";
  const r = recorder([]);
  const sg = new Sparkgate({ baseUrl: "http://gateway.test", fetch: r.fetch, auth: { token: () => token, refresh: async () => {} } });
  await sg.api.GET("/sparkweb/api/rest/roster");
  token = "a2"; // another tab refreshed: the next call carries the new one
  await sg.api.GET("/sparkweb/api/rest/roster");
  await sg.api.POST("/sparkweb/api/rest/token/refresh", { body: { refreshToken: "r" } }); // public: no token
  token = null;
  await sg.api.GET("/sparkweb/api/rest/roster");
  assert.deepEqual(r.seen.map((q) => q.headers.get("Authorization")), ["Bearer a1", "Bearer a2", null, null]);
  assert.equal(sg.tokens, null);
  await assert.rejects(sg.refresh(), /auth option/);
  sg.close();
});

test("auth-option-refreshes-the-stream-through-the-app", async () => {
  let token = "s1";
  const asked: [string, boolean][] = [];
  const r = recorder([
    () => new Response(null, { status: 401 }),
    () => new Response("id: 1\nevent: onConnect\ndata: {}\n\nid: 2\nevent: chatapi.close\ndata: {\"reason\":\"logout\",\"resume\":false}\n\n"),
  ]);
  const sg = new Sparkgate({
    baseUrl: "http://gateway.test",
    fetch: r.fetch,
    auth: {
      token: () => token,
      refresh: async (stale, refused) => {
        asked.push([stale, refused]);
        token = "s2";
      },
    },
  });
  const sub = sg.subscribe({}, { raw: true });
  assert.equal(await sub.ended, "logout");
  assert.deepEqual(asked, [["s1", true]]);
  assert.deepEqual(r.seen.map((q) => q.headers.get("Authorization")), ["Bearer s1", "Bearer s2"]);
  assert.equal(new URL(r.seen[0].url).search, "?raw=true");
});

test("errors-carry-retry-after", async () => {
  const r = recorder([
    () => Response.json({ code: "rate_limited", message: "slow down" }, { status: 429, headers: { "Retry-After": "120" } }),
  ]);
  const sg = new Sparkgate({ baseUrl: "http://gateway.test", fetch: r.fetch, autoRefresh: false });
  const err = await sg.loginWithPassword("alice", "pw").catch((e: unknown) => e);
  assert.ok(err instanceof SparkgateError);
  assert.equal(err.status, 429);
  assert.equal(err.code, "rate_limited");
  assert.equal(err.retryAfter, 120);
  assert.equal(new SparkgateError(500, undefined).retryAfter, 0);
});

test("passkey-autofill-passes-mediation-signal-and-shows-the-request", async () => {
  const r = recorder([
    () => Response.json({ assertion: { publicKey: { challenge: "AAEC", timeout: 300000 } }, ceremony: "c2" }),
  ]);
  const asked: CredentialRequestOptions[] = [];
  const seen: CredentialRequestOptions[] = [];
  const credentials = {
    get: async (o: CredentialRequestOptions) => {
      asked.push(o);
      return null; // the list was dismissed
    },
  } as unknown as CredentialsContainer;
  const abort = new AbortController();
  const sg = new Sparkgate({ baseUrl: "http://gateway.test", fetch: r.fetch });
  await assert.rejects(
    sg.loginWithPasskey("", { credentials, mediation: "conditional", signal: abort.signal, onRequest: (q) => seen.push(q) }),
    /no passkey was chosen/,
  );
  assert.equal(asked.length, 1);
  assert.equal(asked[0].mediation, "conditional");
  assert.equal(asked[0].signal, abort.signal);
  assert.equal(seen[0], asked[0]);
  assert.equal(seen[0].publicKey?.timeout, 300000);
  assert.equal(r.seen.length, 1); // no finish without a passkey
  sg.close();
});

test("retry-after-seconds", () => {
  const cases: [string | null, (n: number) => boolean][] = [
    [null, (n) => n === 0],
    ["", (n) => n === 0],
    ["7", (n) => n === 7],
    ["soon", (n) => n === 0],
    [new Date(Date.now() + 90000).toUTCString(), (n) => n >= 88 && n <= 91],
    [new Date(Date.now() - 90000).toUTCString(), (n) => n === 0],
  ];
  for (const [h, ok] of cases) assert.ok(ok(retryAfterSeconds(h)), `retryAfterSeconds(${h}) = ${retryAfterSeconds(h)}`);
});

test("passkey-login-without-a-username-names-no-account", async () => {
  const r = recorder([
    () => Response.json({ assertion: { publicKey: { challenge: "AAEC", allowCredentials: [] } }, ceremony: "c1" }),
    () => Response.json({ token: "t1", jid: "alice@example.org" }),
  ]);
  const asked: CredentialRequestOptions[] = [];
  const bytes = (n: number) => new Uint8Array([n, n + 1]).buffer;
  const credentials = {
    get: async (o: CredentialRequestOptions) => {
      asked.push(o);
      return {
        id: "k", rawId: bytes(1), type: "public-key",
        response: { clientDataJSON: bytes(2), authenticatorData: bytes(3), signature: bytes(4), userHandle: bytes(5) },
      };
    },
  } as unknown as CredentialsContainer;
  const sg = new Sparkgate({ baseUrl: "http://gateway.test", fetch: r.fetch });
  const t = await sg.loginWithPasskey("", { credentials, remember: true });
  assert.equal(t.jid, "alice@example.org");
  assert.deepEqual(r.seen.map((q) => `${q.method} ${new URL(q.url).pathname}${new URL(q.url).search}`), [
    "POST /sparkweb/api/rest/webauthn/authenticate/start",
    "POST /sparkweb/api/rest/webauthn/authenticate/finish?ceremony=c1&remember=true",
  ]);
  assert.equal(asked[0].publicKey?.allowCredentials?.length, 0);
  const sent = await r.seen[1].json();
  assert.equal(sent.response.userHandle, "BQY");
  assert.equal(sg.tokens?.token, "t1");
  sg.close();
});
