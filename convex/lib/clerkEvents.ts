import { z } from "zod";

/**
 * The parts of Clerk's `user.*` webhook payloads that Gatehouse uses. Clerk adds fields
 * over time, so unknown keys pass; the fields we rely on must be present and well typed.
 */
const emailAddress = z.object({ id: z.string(), email_address: z.string() });

export const userJson = z.object({
  id: z.string().min(1),
  first_name: z.string().nullish(),
  last_name: z.string().nullish(),
  image_url: z.string().nullish(),
  primary_email_address_id: z.string().nullish(),
  email_addresses: z.array(emailAddress),
  public_metadata: z.record(z.string(), z.unknown()).nullish(),
  updated_at: z.number().int().nonnegative(),
});

const userDeletedJson = z.object({ id: z.string().min(1), deleted: z.boolean().optional() });

const envelope = { object: z.literal("event"), timestamp: z.number().optional() };

export const clerkUserEvent = z.discriminatedUnion("type", [
  z.object({ ...envelope, type: z.literal("user.created"), data: userJson }),
  z.object({ ...envelope, type: z.literal("user.updated"), data: userJson }),
  z.object({ ...envelope, type: z.literal("user.deleted"), data: userDeletedJson }),
]);

export const HANDLED_EVENT_TYPES = ["user.created", "user.updated", "user.deleted"] as const;

/** Anything with a string `type` is an event; unknown types are acknowledged and logged. */
export const anyEvent = z.object({ type: z.string() });

export type ClerkUserJson = z.infer<typeof userJson>;

/** The profile fields we store, from Clerk's user JSON. */
export function profileFrom(user: ClerkUserJson) {
  const primary = user.email_addresses.find((e) => e.id === user.primary_email_address_id);
  const name = [user.first_name, user.last_name].filter(Boolean).join(" ");
  return {
    email: (primary ?? user.email_addresses[0])?.email_address ?? "",
    name,
    imageUrl: user.image_url ?? "",
  };
}
