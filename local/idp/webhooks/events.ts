import { newId } from "../ids.ts";
import type { OutboxMessage, UserEventType } from "../store.ts";
import type { DeletedUserJson, UserJson } from "../users.ts";

export type UserEvent =
  { type: "user.created" | "user.updated"; data: UserJson } | { type: "user.deleted"; data: DeletedUserJson };

/** Clerk's event envelope (`@clerk/backend` Webhooks.d.ts), `timestamp` in milliseconds. */
export interface ClerkEventEnvelope<Type extends string = string, Data = unknown> {
  data: Data;
  object: "event";
  type: Type;
  timestamp: number;
  instance_id: string;
  event_attributes: { http_request: { client_ip: string; user_agent: string } };
}

/** Wraps an event's data in Clerk's envelope (user and billing events alike). */
export function eventEnvelope<Type extends string, Data>(
  type: Type,
  data: Data,
  instanceId: string,
  timestamp: number,
): ClerkEventEnvelope<Type, Data> {
  return {
    data,
    object: "event",
    type,
    timestamp,
    instance_id: instanceId,
    event_attributes: { http_request: { client_ip: "127.0.0.1", user_agent: "gatehouse-local-idp" } },
  };
}

/**
 * Turns a user change into an outbox message: the envelope is serialized once, here, so every
 * retry sends the same bytes under the same svix-id, as svix does.
 */
export function userEventMessage(event: UserEvent, instanceId: string, now: number): OutboxMessage {
  const envelope: ClerkEventEnvelope<UserEventType> = eventEnvelope(event.type, event.data, instanceId, now);
  return {
    id: newId("msg"),
    type: event.type,
    userId: event.data.id,
    payload: JSON.stringify(envelope),
    attempts: 0,
    createdAt: now,
  };
}
