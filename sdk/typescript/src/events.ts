// The event stream's vocabulary, typed from the event schemas of openapi.yaml
// (components/schemas/*Event, named per event by x-sparkgate-events on
// GET /sparkweb/api/sse). TestSDKEventMap checks that this map names the
// same schemas as the spec.
import type { components } from "./schema.gen.js";

type S = components["schemas"];

/** EventMap maps each event name of the stream to its payload (the JSON of its `data:` line). */
export interface EventMap {
  "onConnect": S["ConnectEvent"];
  "chatapi.chat": S["ChatMessageEvent"] | S["ChatStateEvent"];
  "chatapi.muc": S["GroupChatEvent"] | S["InvitationEvent"] | S["OccupantsEvent"];
  "chatapi.presence": S["PresenceEvent"];
  "chatapi.xmpp": S["XMPPEvent"];
  "chatapi.roster": S["RosterEvent"];
  "chatapi.request": S["RequestEvent"];
  "chatapi.blocklist": S["BlocklistEvent"];
  "chatapi.muted": S["MutedEvent"];
  "chatapi.strangers": S["StrangersEvent"];
  "chatapi.properties": S["PropertiesEvent"];
  "chatapi.notify": S["NotifyEvent"];
  "chatapi.pubsub": S["PubSubEvent"];
  "chatapi.reaction": S["ReactionEvent"];
  "chatapi.unread": S["UnreadEvent"];
  "chatapi.avatar": S["AvatarEvent"];
  "chatapi.nick": S["NickEvent"];
  "chatapi.receipt": S["ReceiptEvent"];
  "chatapi.error": S["ErrorEvent"];
  "chatapi.session": S["SessionEvent"];
  "chatapi.reset": S["ResetEvent"];
  "chatapi.close": S["CloseEvent"];
}

/** EventName is the name of an event the gateway sends. */
export type EventName = keyof EventMap;

/** StreamEvent is one event as it arrived: its id, its name and its decoded payload. */
export type StreamEvent = {
  [K in EventName]: { id: string; event: K; data: EventMap[K] };
}[EventName];

/**
 * Handlers are the functions subscribe calls, one per event name; an event
 * without a handler is passed to `"*"` if there is one, and otherwise dropped.
 */
export type Handlers = {
  [K in EventName]?: (data: EventMap[K], event: { id: string; event: K }) => void;
} & {
  "*"?: (event: StreamEvent) => void;
};
