// Unit tests of the parts that need no gateway: the SSE parser and the
// base64url forms of WebAuthn.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Parser, type Message } from "../src/sse.js";
import { fromBase64url, toBase64url } from "../src/webauthn.js";

function parse(chunks: string[]): { msgs: Message[]; retry: number | undefined } {
  const msgs: Message[] = [];
  const p = new Parser((m) => msgs.push(m));
  for (const c of chunks) p.push(c);
  return { msgs, retry: p.retry };
}

test("parser", async (t) => {
  const cases: { name: string; chunks: string[]; want: Message[]; retry?: number }[] = [
    {
      name: "one-event",
      chunks: ['id: 7\nevent: chatapi.chat\ndata: {"body":"hi"}\n\n'],
      want: [{ id: "7", event: "chatapi.chat", data: '{"body":"hi"}' }],
    },
    {
      name: "split-anywhere",
      chunks: ["id: 1\nev", "ent: a\nda", "ta: x\n", "\nid: 2\nevent: b\ndata: y\n\n"],
      want: [
        { id: "1", event: "a", data: "x" },
        { id: "2", event: "b", data: "y" },
      ],
    },
    {
      name: "crlf-split-between-chunks",
      chunks: ["id: 3\r", "\nevent: a\r\ndata: z\r\n\r", "\n"],
      want: [{ id: "3", event: "a", data: "z" }],
    },
    {
      name: "heartbeat-and-retry",
      chunks: ["retry: 2500\n\n: ping\n\n", "data: plain\n\n"],
      want: [{ id: "", event: "message", data: "plain" }],
      retry: 2500,
    },
    {
      name: "id-kept-across-events-and-multiline-data",
      chunks: ["id: 9\ndata: a\ndata: b\n\ndata: c\n\n"],
      want: [
        { id: "9", event: "message", data: "a\nb" },
        { id: "9", event: "message", data: "c" },
      ],
    },
    {
      name: "no-space-after-colon-and-unfinished-event",
      chunks: ["event:x\ndata:1\n\nevent: y\ndata: 2\n"],
      want: [{ id: "", event: "x", data: "1" }],
    },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const got = parse(c.chunks);
      assert.deepEqual(got.msgs, c.want);
      assert.equal(got.retry, c.retry);
    });
  }
});

test("base64url", () => {
  for (const n of [0, 1, 2, 3, 31, 32, 33, 65]) {
    const bytes = new Uint8Array(n).map((_, i) => (i * 37 + 251) & 0xff);
    const s = toBase64url(bytes);
    assert.doesNotMatch(s, /[+/=]/);
    assert.deepEqual(fromBase64url(s), bytes);
  }
  assert.deepEqual(fromBase64url("-_8"), new Uint8Array([0xfb, 0xff]));
});
