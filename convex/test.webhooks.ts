/** Helpers for webhook suites: Clerk-shaped events signed by the real svix library. */
import { Webhook } from "svix";
import { clerkUser, type TestConvex } from "./test.world";

export const WEBHOOK_SECRET = "whsec_" + Buffer.from("gatehouse-test-webhook-secret-32b").toString("base64");

let counter = 0;
export const newSvixId = () => `msg_test_${++counter}_${Math.random().toString(36).slice(2, 8)}`;

export function userEvent(
  type: "user.created" | "user.updated",
  id: string,
  opts: { updatedAt?: number; publicMetadata?: Record<string, unknown> } = {},
) {
  const data = clerkUser(id, opts.publicMetadata ?? {}, opts.updatedAt ?? Date.now());
  return { data, object: "event", type, timestamp: Date.now(), instance_id: "ins_test" };
}

export function deletedEvent(id: string) {
  return {
    data: { object: "user", id, deleted: true },
    object: "event",
    type: "user.deleted",
    timestamp: Date.now(),
    instance_id: "ins_test",
  };
}

export function signedHeaders(body: string, opts: { secret?: string; svixId?: string; at?: Date } = {}) {
  const svixId = opts.svixId ?? newSvixId();
  const at = opts.at ?? new Date();
  return {
    "svix-id": svixId,
    "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
    "svix-signature": new Webhook(opts.secret ?? WEBHOOK_SECRET).sign(svixId, at, body),
    "content-type": "application/json",
  };
}

/** POSTs an event to the webhook route the way svix delivers it. */
export async function deliver(
  t: TestConvex,
  event: unknown,
  opts: { secret?: string; svixId?: string; at?: Date; headers?: Record<string, string> } = {},
) {
  const body = typeof event === "string" ? event : JSON.stringify(event);
  const headers = { ...signedHeaders(body, opts), ...opts.headers };
  const response = await t.fetch("/clerk-users-webhook", { method: "POST", body, headers });
  return {
    status: response.status,
    body: (await response.json().catch(() => null)) as Record<string, unknown> | null,
  };
}

export function usersRow(t: TestConvex, clerkId: string) {
  return t.run((ctx) =>
    ctx.db
      .query("users")
      .withIndex("by_clerkId", (q) => q.eq("clerkId", clerkId))
      .unique(),
  );
}
