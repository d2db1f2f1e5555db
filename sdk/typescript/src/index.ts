// @sparkgate/client: a typed client for the sparkgate gateway.
export { API, retryAfterSeconds, Sparkgate, SparkgateError } from "./client.js";
export type { Auth, ClientOptions, ErrorBody, LoginResult, Tokens } from "./client.js";
export type { EventMap, EventName, Handlers, StreamEvent } from "./events.js";
export type { EndReason, SubscribeOptions, Subscription } from "./stream.js";
export { Parser } from "./sse.js";
export type { Message } from "./sse.js";
export { deletePushSubscription, putPushSubscription, subscribePush, unsubscribePush } from "./push.js";
export { assertionToJSON, attestationToJSON, creationOptions, fromBase64url, requestOptions, toBase64url } from "./webauthn.js";
export type { components, operations, paths } from "./schema.gen.js";
