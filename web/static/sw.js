// sw.js: the service worker. It shows the gateway's Web Push notifications
// (NotificationEntity: subject, body, icon, data, token, actions) and posts
// the user's action (a typed reply, or open) to /sparkweb/api/rest/webpush/action
// with the notification's own short-lived action token.

const ACTION_URL = '/sparkweb/api/rest/webpush/action';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

function parse(event) {
  if (!event.data) return {};
  try { return event.data.json(); } catch { return { body: event.data.text() }; }
}

self.addEventListener('push', (event) => {
  const n = parse(event);
  const actions = Array.isArray(n.actions) ? n.actions.slice(0, 2).map((a) => ({
    action: a.action || 'reply',
    title: a.title || 'Reply',
    type: a.type === 'text' ? 'text' : 'button',
    placeholder: a.placeholder || undefined,
    icon: a.icon || undefined,
  })) : [];
  const options = {
    body: n.body || '',
    icon: n.icon || '/icon.svg',
    tag: n.data || undefined,
    renotify: Boolean(n.data),
    requireInteraction: Boolean(n.requireInteraction || n.sticky),
    data: { token: n.token || '', data: n.data || '' },
    actions,
  };
  event.waitUntil(self.registration.showNotification(n.subject || 'sparkgate', options));
});

// post sends an action with the notification's token; it answers the
// HTTP status (0 without a token).
async function post(token, body) {
  if (!token) return 0;
  const res = await fetch(ACTION_URL, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token },
    body: JSON.stringify(body),
  });
  return res.status;
}

async function focusClient() {
  const all = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const c of all) {
    if ('focus' in c) return c.focus();
  }
  return self.clients.openWindow('/');
}

self.addEventListener('notificationclick', (event) => {
  const n = event.notification;
  const { token, data } = n.data || {};
  n.close();
  if (event.action && event.reply) {
    event.waitUntil(post(token, { action: event.action, type: 'text', data, value: event.reply }));
    return;
  }
  event.waitUntil(Promise.all([post(token, { action: 'open', data }).catch(() => {}), focusClient()]));
});
