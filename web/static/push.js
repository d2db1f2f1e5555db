// push.js: notification permission, the service worker and the push
// subscription (PUT /webpush/subscribe/{resource}), stored and removed
// through the SDK's push helpers.

import { client, clientFor, viaSDK } from './api.js';
import { subscribePush, putPushSubscription, deletePushSubscription } from './sparkgate-client.js';

const DEVICE = 'sparkgate.device'; // a random name for this browser, not a secret

export function pushSupported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

// noPushReason says in words why a browser without Web Push has none.
// On an iPhone or iPad (iOS 16.4 and later) only a web app added to the
// Home Screen and opened from there may get notifications: Safari's tab
// has no PushManager. An iPad asks for the desktop site, so it says
// Macintosh, with a touch screen. b is {userAgent, touchPoints,
// standalone}: what the page reads of navigator and its display mode.
export function noPushReason(b) {
  const ua = String(b.userAgent || '');
  const apple = /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && b.touchPoints > 1);
  if (apple && !b.standalone) {
    return 'On iPhone and iPad, notifications need this app on the Home Screen: tap Share, then "Add to Home Screen", and open it from there.';
  }
  return 'This browser does not support notifications.';
}

// whyNoPush is noPushReason for this browser.
export function whyNoPush() {
  return noPushReason({
    userAgent: navigator.userAgent,
    touchPoints: navigator.maxTouchPoints || 0,
    standalone: navigator.standalone === true || matchMedia('(display-mode: standalone)').matches,
  });
}

// deviceName is the subscription's resource: one per browser profile.
export function deviceName() {
  let d = localStorage.getItem(DEVICE);
  if (!d) {
    const b = new Uint8Array(6);
    crypto.getRandomValues(b);
    d = 'web-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    localStorage.setItem(DEVICE, d);
  }
  return d;
}

export async function registerWorker() {
  if (!('serviceWorker' in navigator)) return null;
  return navigator.serviceWorker.register('/sw.js', { scope: '/' });
}

// enablePush asks for permission, subscribes with the gateway's VAPID key
// and stores the subscription. It answers a short description of the result.
export async function enablePush() {
  if (!pushSupported()) return whyNoPush();
  const perm = await Notification.requestPermission();
  if (perm !== 'granted') return 'Notifications are blocked for this site.';
  const reg = await registerWorker();
  await navigator.serviceWorker.ready;
  // The SDK asks for the gateway's key, subscribes (or reuses this
  // browser's subscription) and stores it. A browser without a reachable
  // push service never answers: give up.
  let timer = 0;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("The browser's push service did not answer.")), 20000);
  });
  try {
    await Promise.race([viaSDK((sg) => subscribePush(sg, reg, deviceName()), 'push'), timeout]);
  } finally {
    clearTimeout(timer);
  }
  return 'Notifications are on.';
}

export async function storeSubscription(sub) {
  const json = typeof sub.toJSON === 'function' ? sub.toJSON() : sub;
  await viaSDK((sg) => putPushSubscription(sg, deviceName(), json), 'push');
}

// refreshPush stores this browser's existing subscription for the user who
// just signed in (the same browser may have subscribed for someone else).
export async function refreshPush() {
  if (!pushSupported() || Notification.permission !== 'granted') return;
  const reg = await registerWorker();
  const sub = reg && reg.pushManager ? await reg.pushManager.getSubscription() : null;
  if (sub) await storeSubscription(sub);
}

// forgetPush removes the signed-in user's subscription of this browser, so
// that nobody else at this browser sees that user's notifications.
export async function forgetPush(token) {
  if (!pushSupported() || Notification.permission !== 'granted') return;
  const reg = await navigator.serviceWorker.getRegistration('/');
  if (!reg || !(await reg.pushManager.getSubscription())) return;
  // The token given: the session's may be going as this runs.
  await viaSDK((sg) => deletePushSubscription(sg, deviceName()), 'push', token ? clientFor(token) : client).catch(() => {});
}
