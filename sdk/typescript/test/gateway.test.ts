// Tests against a real gateway and ejabberd, started by the Go test
// TestIntegrationSDK (sdk/typescript/sdk_test.go), which passes:
//   SPARKGATE_URL      the gateway's origin
//   SPARKGATE_USERS    JSON [{name, password, jid}, …], three fresh users
//   SPARKGATE_CONTROL  an origin whose POST /drop cuts every open event stream
//   SPARKGATE_TOKEN_LIFETIME_MS  the access tokens' lifetime
//   SPARKGATE_PUSH_SUBSCRIPTION  a PushSubscription's JSON at the gateway's
//                      fake push service; the Go test then waits for the
//                      notification of the message sent to the third user
// Without SPARKGATE_URL they are skipped (the unit tests still run).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { putPushSubscription, Sparkgate, type EventMap, type Subscription } from "../src/index.js";

const url = process.env.SPARKGATE_URL ?? "";
const skip = url ? false : "SPARKGATE_URL is not set (run go test -run TestIntegrationSDK ./sdk/typescript/)";
type User = { name: string; password: string; jid: string };
const users: User[] = url ? JSON.parse(process.env.SPARKGATE_USERS ?? "[]") : [];
const lifetime = Number(process.env.SPARKGATE_TOKEN_LIFETIME_MS ?? "0");

type Chat = EventMap["chatapi.chat"];

// Inbox collects one user's events as the handlers see them.
class Inbox {
  chats: { id: string; body: string }[] = [];
  connects: EventMap["onConnect"][] = [];
  resets = 0;
  closes: EventMap["chatapi.close"][] = [];
  private waiters: (() => void)[] = [];

  handlers() {
    return {
      "onConnect": (d: EventMap["onConnect"]) => {
        this.connects.push(d);
        this.wake();
      },
      "chatapi.chat": (d: Chat, e: { id: string }) => {
        if (d.type === "chatstate") return; // narrowed: d is ChatStateEvent here
        this.chats.push({ id: e.id, body: d.body }); // and ChatMessageEvent here
        this.wake();
      },
      "chatapi.reset": () => {
        this.resets++;
      },
      "chatapi.close": (d: EventMap["chatapi.close"]) => {
        this.closes.push(d);
        this.wake();
      },
    };
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  // until waits (at most ms) for cond to hold.
  async until(what: string, cond: () => boolean, ms = 15000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

async function login(u: User, opts: { autoRefresh?: boolean } = {}): Promise<Sparkgate> {
  const sg = new Sparkgate({ baseUrl: url, ...opts });
  const r = await sg.loginWithPassword(u.name, u.password);
  assert.ok(r.tokens, `login of ${u.name}`);
  assert.ok(r.tokens.refreshToken, "a login answers a refresh token");
  return sg;
}

async function send(from: Sparkgate, to: User, body: string): Promise<void> {
  const { data, error, response } = await from.api.POST("/sparkweb/api/rest/chat/message/{to}", {
    params: { path: { to: to.jid } },
    body: { body },
  });
  assert.equal(response.status, 200, `send ${body}: ${JSON.stringify(error)}`);
  assert.ok(data?.id, "the answer names the message id");
}

async function drop(): Promise<number> {
  const res = await fetch(process.env.SPARKGATE_CONTROL + "/drop", { method: "POST" });
  return Number(await res.text());
}

function bodies(inbox: Inbox): string[] {
  return inbox.chats.map((c) => c.body);
}

test("login, send, receive the typed event, resume after a cut, refresh during an open stream", { skip }, async (t) => {
  const [alice, bob] = users;
  // alice's stream refreshes on its own when its token expires; bob's
  // client refreshes ahead of time.
  const a = await login(alice, { autoRefresh: false });
  const b = await login(bob);
  const inbox = new Inbox();
  const errors: unknown[] = [];
  const sub: Subscription = a.subscribe(inbox.handlers(), { minDelay: 200, onError: (e) => errors.push(e) });
  t.after(() => {
    sub.close();
    a.close();
    b.close();
  });
  await inbox.until("onConnect", () => inbox.connects.length === 1);
  assert.equal(inbox.connects[0].username, alice.name);

  await t.test("receive", async () => {
    await send(b, alice, "one");
    await inbox.until("one", () => inbox.chats.length === 1);
    assert.deepEqual(bodies(inbox), ["one"]);
    assert.ok(sub.lastEventId >= inbox.chats[0].id, "the subscription keeps the last id"); // chatapi.unread may follow
  });

  await t.test("resume-after-a-cut", async () => {
    const connects = inbox.connects.length;
    assert.ok((await drop()) >= 1, "the cut ended a stream");
    await send(b, alice, "two"); // while the stream is down or coming back
    await inbox.until("the reconnect", () => inbox.connects.length > connects);
    await send(b, alice, "three");
    await inbox.until("three", () => inbox.chats.length === 3);
    assert.deepEqual(bodies(inbox), ["one", "two", "three"]);
    assert.ok(inbox.connects.slice(1).every((c) => c.resumed === true), "every reconnect resumed");
    assert.equal(inbox.resets, 0);
  });

  await t.test("refresh-during-an-open-stream", async () => {
    assert.ok(lifetime > 0 && lifetime <= 15000, "the Go test sets a short token lifetime");
    const first = a.tokens!;
    // An explicit refresh while the stream is open: the stream goes on
    // with the old token until it expires, then resumes with the new one.
    const fresh = await a.refresh();
    assert.notEqual(fresh.token, first.token);
    assert.notEqual(fresh.refreshToken, first.refreshToken);
    // Then messages across the old token's expiry, and the new token's:
    // alice's stream must refresh by itself for the second.
    const until = Date.parse(fresh.expiresAt!) + 1500;
    let n = 0;
    while (Date.now() < until) {
      await send(b, alice, `r${n++}`);
      await new Promise((r) => setTimeout(r, 400));
    }
    const want = ["one", "two", "three", ...Array.from({ length: n }, (_, i) => `r${i}`)];
    await inbox.until(`r${n - 1}`, () => inbox.chats.length === want.length);
    assert.deepEqual(bodies(inbox), want, "each message once, in order");
    // The stream opened with the first token ends with it; the client
    // may refresh the second token before it expires (and reopen the
    // stream then), so a second "expired" close depends on timing.
    const expired = inbox.closes.filter((c) => c.reason === "expired").length;
    assert.ok(expired >= 1, `the stream ended with its first token (${expired})`);
    assert.notEqual(a.tokens!.token, fresh.token, "the stream refreshed the token itself");
    assert.ok(inbox.connects.slice(1).every((c) => c.resumed === true), "every reconnect resumed");
    assert.equal(inbox.resets, 0);
    assert.notEqual(b.tokens!.token, undefined);
  });

  await t.test("logout-ends-the-stream", async () => {
    await a.logout();
    assert.equal(await sub.ended, "logout");
    assert.equal(a.tokens, null);
  });
});

// totp computes the RFC 6238 code of an otpauth:// URI's secret at step.
function totp(uri: string, step: number): string {
  const q = new URL(uri).searchParams;
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of (q.get("secret") ?? "").toUpperCase().replace(/=+$/, "")) {
    bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  }
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const algo = (q.get("algorithm") ?? "SHA1").toLowerCase().replace("sha", "sha");
  const mac = createHmac(algo, key).update(counter).digest();
  const off = mac[mac.length - 1] & 0xf;
  const digits = Number(q.get("digits") ?? "6");
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 10 ** digits;
  return String(n).padStart(digits, "0");
}

test("password then TOTP second factor", { skip }, async () => {
  const carol = users[2];
  const sg = await login(carol);
  const reg = await sg.api.POST("/sparkweb/api/rest/totp/register/{username}", {
    params: { path: { username: carol.name } },
    body: carol.password,
    bodySerializer: (b) => b,
    headers: { "Content-Type": "text/plain" },
  });
  assert.equal(reg.response.status, 200, JSON.stringify(reg.error));
  const uri = reg.data!.url;
  const period = Number(new URL(uri).searchParams.get("period") ?? "30");
  const step = Math.floor(Date.now() / 1000 / period);
  await sg.loginWithTOTP(carol.name, totp(uri, step), carol.password); // activates the factor
  sg.close();

  const other = new Sparkgate({ baseUrl: url, autoRefresh: false });
  const first = await other.loginWithPassword(carol.name, carol.password);
  assert.equal(first.mfaRequired, "totp");
  assert.ok(first.ticket);
  await assert.rejects(other.loginWithTOTP(carol.name, "000000", "not-the-ticket"), (e: { status: number }) => e.status === 401);
  // The next step's code: one step of skew is accepted, and this step's is spent.
  const tokens = await other.loginWithTOTP(carol.name, totp(uri, step + 1), first.ticket!);
  assert.ok(tokens.token);
  const me = await other.api.GET("/sparkweb/api/rest/user");
  assert.equal(me.data?.username, carol.name);

  // Web Push: carol has no open stream, so a message to her is pushed to
  // the subscription stored here (the Go test checks it arrives).
  await putPushSubscription(other, "node-test", JSON.parse(process.env.SPARKGATE_PUSH_SUBSCRIPTION ?? "{}"));
  await assert.rejects(
    putPushSubscription(other, "bad", { endpoint: "ftp://nowhere", keys: { p256dh: "x", auth: "y" } }),
    (e: { status: number }) => e.status === 400,
  );
  const bob = await login(users[1]);
  await send(bob, carol, "pushed");
  bob.close();
  other.close();
});
