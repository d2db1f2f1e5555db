// A minimal chat on @sparkgate/client: log in (password, TOTP or passkey),
// send messages, show the typed event stream. Build the SDK first
// (`make sdk`), then serve this directory and ../dist from the gateway's
// origin, or list this page's origin in the gateway's -cors-origins.
import { Sparkgate } from "../dist/sparkgate-client.js";

const $ = (id) => document.getElementById(id);
const baseUrl = new URLSearchParams(location.search).get("gateway") ?? "";
// The tokens live as long as the tab (sessionStorage), and survive a reload.
const kept = sessionStorage.getItem("sparkgate.tokens");
const sg = new Sparkgate({
  baseUrl,
  tokens: kept ? JSON.parse(kept) : null,
  onTokens: (t) => (t ? sessionStorage.setItem("sparkgate.tokens", JSON.stringify(t)) : sessionStorage.removeItem("sparkgate.tokens")),
});
let sub = null;

function show(who, text, mine = false) {
  const li = document.createElement("li");
  li.textContent = `${who}: ${text}`;
  if (mine) li.className = "me";
  $("log").append(li);
  li.scrollIntoView({ block: "end" });
}

function start(username) {
  sessionStorage.setItem("sparkgate.user", username);
  $("login").hidden = true;
  $("chat").hidden = false;
  $("me").textContent = username;
  sub = sg.subscribe(
    {
      "onConnect": (c) => ($("me").textContent = c.jid || c.username),
      "chatapi.chat": (m) => {
        if (m.type === "chatstate") return; // typing notifications: not shown here
        show(m.sent ? `me → ${m.to}` : m.from.split("/")[0], m.body, m.sent);
      },
      "chatapi.reset": () => show("gateway", "some events were missed; reload the history"),
    },
    { onState: (s) => ($("state").textContent = s), lastEventId: sessionStorage.getItem("sparkgate.lastEventId") ?? "" },
  );
  addEventListener("pagehide", () => sessionStorage.setItem("sparkgate.lastEventId", sub.lastEventId));
  sub.ended.then((why) => {
    show("gateway", `stream ended (${why})`);
    if (why !== "closed") stop();
  });
}

function stop() {
  sub?.close();
  sessionStorage.removeItem("sparkgate.lastEventId");
  $("chat").hidden = true;
  $("login").hidden = false;
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const user = $("user").value.trim();
  try {
    const r = await sg.loginWithPassword(user, $("pass").value);
    if (r.mfaRequired) {
      const code = prompt("Code from your authenticator app");
      if (!code) return;
      await sg.loginWithTOTP(user, code.trim(), r.ticket);
    }
    start(user);
  } catch (err) {
    alert(err.message);
  }
});

$("passkey").addEventListener("click", async () => {
  const user = $("user").value.trim();
  try {
    await sg.loginWithPasskey(user);
    start(user);
  } catch (err) {
    alert(err.message);
  }
});

$("send").addEventListener("submit", async (e) => {
  e.preventDefault();
  const to = $("to").value.trim();
  const { error } = await sg.api.POST("/sparkweb/api/rest/chat/message/{to}", {
    params: { path: { to } },
    body: { body: $("text").value },
  });
  if (error) return alert(error.message);
  $("text").value = ""; // our own message comes back on the stream (sent: true)
});

$("logout").addEventListener("click", async () => {
  await sg.logout().catch(() => {});
  stop();
});

if (sg.tokens) start(sessionStorage.getItem("sparkgate.user") ?? ""); // a reload: go on where we were
