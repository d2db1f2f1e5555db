// Web Push: the browser's PushSubscription, registered with the gateway so
// that notifications reach the user when no tab is open.
import type { Sparkgate } from "./client.js";
import { SparkgateError, type ErrorBody } from "./client.js";
import { fromBase64url } from "./webauthn.js";

/**
 * subscribePush subscribes the service worker's registration to push with
 * the gateway's VAPID key (or reuses its subscription) and stores it for
 * the user under `resource` (a name for this device).
 */
export async function subscribePush(sg: Sparkgate, registration: ServiceWorkerRegistration, resource: string): Promise<PushSubscription> {
  const key = await sg.api.GET("/sparkweb/api/rest/webpush/vapidkey");
  if (!key.data) throw new SparkgateError(key.response.status, key.error as ErrorBody, "no VAPID key", key.response);
  let sub = await registration.pushManager.getSubscription();
  if (!sub) {
    sub = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: fromBase64url(key.data.publicKey),
    });
  }
  await putPushSubscription(sg, resource, sub.toJSON());
  return sub;
}

/** putPushSubscription stores a subscription's JSON for the user under `resource`. */
export async function putPushSubscription(sg: Sparkgate, resource: string, json: PushSubscriptionJSON): Promise<void> {
  const { error, response } = await sg.api.PUT("/sparkweb/api/rest/webpush/subscribe/{resource}", {
    params: { path: { resource } },
    body: {
      endpoint: json.endpoint ?? "",
      expirationTime: json.expirationTime ?? null,
      keys: { p256dh: json.keys?.p256dh ?? "", auth: json.keys?.auth ?? "" },
    },
  });
  if (error || !response.ok) throw new SparkgateError(response.status, error as ErrorBody, "push subscription refused", response);
}

/**
 * deletePushSubscription forgets the device's subscription at the gateway
 * only: the browser keeps it, e.g. for the next user who signs in here.
 */
export async function deletePushSubscription(sg: Sparkgate, resource: string): Promise<void> {
  const { error, response } = await sg.api.DELETE("/sparkweb/api/rest/webpush/subscribe/{resource}", {
    params: { path: { resource } },
  });
  if (error && response.status !== 404) throw new SparkgateError(response.status, error as ErrorBody, "push unsubscribe failed", response);
}

/** unsubscribePush forgets the device's subscription at the gateway and in the browser. */
export async function unsubscribePush(sg: Sparkgate, registration: ServiceWorkerRegistration, resource: string): Promise<void> {
  await deletePushSubscription(sg, resource);
  const sub = await registration.pushManager.getSubscription();
  await sub?.unsubscribe();
}
