/**
 * Writes Clerk's view of a user into the users row: the one path for webhooks and for
 * reconciliation, so both keep Clerk's order (strictly newer `updated_at` only) and both
 * respect tombstones that nothing revives.
 */
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { parseOverride } from "./billing";
import { decidedPlan, deleteItemsOf, followUpPlan, itemsOf } from "./billingSync";
import { profileFrom, type ClerkUserJson } from "./clerkEvents";
import { settleDemotions } from "./lastAdmin";
import { parsePlan, parseRole } from "./permissions";
import { forgetWrites } from "./rateLimit";
import { deletePostsByAuthor } from "./posts";
import { userByClerkId } from "./users";

export type SyncOutcome = "applied" | "stale" | "tombstoned" | "deleted";

export async function applyClerkUser(
  ctx: MutationCtx,
  clerkId: string,
  user: ClerkUserJson,
): Promise<SyncOutcome> {
  const row = await userByClerkId(ctx, clerkId);
  if (row?.deletedAt !== undefined) return "tombstoned";
  // Strictly newer only: a redelivered or reordered older event must not roll the row back.
  if (row?.synced && user.updated_at <= row.clerkUpdatedAt) return "stale";
  const metadataPlan = parsePlan(user.public_metadata?.["plan"]);
  const planOverride = parseOverride(user.public_metadata?.["planOverride"]);
  // The plan is decided with the subscription Gatehouse knows (ADR 009), not copied from metadata.
  const items = await itemsOf(ctx, clerkId);
  const { plan } = await decidedPlan(ctx, clerkId, { override: planOverride, metadata: metadataPlan }, items);
  const fields = {
    ...profileFrom(user),
    role: parseRole(user.public_metadata?.["role"]),
    plan,
    planOverride,
    metadataPlan,
    clerkUpdatedAt: user.updated_at,
    synced: true,
  };
  let _id = row?._id;
  if (_id) await ctx.db.patch("users", _id, fields);
  else _id = await ctx.db.insert("users", { clerkId, ...fields });
  await settleDemotions(ctx, clerkId, fields.role, user.updated_at);
  await followUpPlan(ctx, { _id, clerkId, lapseCheckAt: row?.lapseCheckAt, ...fields }, items);
  return "applied";
}

/** Deletion is terminal whatever its order: tombstone the row (or create one) and drop the posts. */
export async function tombstoneUser(ctx: MutationCtx, clerkId: string): Promise<SyncOutcome> {
  const row = await userByClerkId(ctx, clerkId);
  if (row?.deletedAt !== undefined) return "stale";
  const deletedAt = Date.now();
  if (row) {
    // Keep only what the tombstone needs: the id (so nothing revives it) and when it died.
    await ctx.db.patch("users", row._id, {
      deletedAt,
      email: "",
      name: "",
      imageUrl: "",
      role: "user",
      plan: "free_user",
      planOverride: undefined,
      metadataPlan: undefined,
    });
  } else {
    await ctx.db.insert("users", {
      clerkId,
      email: "",
      name: "",
      imageUrl: "",
      role: "user",
      plan: "free_user",
      clerkUpdatedAt: 0,
      synced: true,
      deletedAt,
    });
  }
  await deletePostsByAuthor(ctx, clerkId);
  await deleteItemsOf(ctx, clerkId);
  await settleDemotions(ctx, clerkId, null, deletedAt);
  await forgetWrites(ctx, clerkId);
  return "deleted";
}

/**
 * What a user.updated changed, before → after, for the audit log: its role and plan changes are
 * paired with the admin change they echo (lib/audit.ts); `profile` marks any other change.
 */
export function changesOf(before: Doc<"users">, after: Doc<"users"> | null) {
  const changes: Record<string, string | boolean> = {};
  if (after === null) return changes;
  if (before.role !== after.role) Object.assign(changes, { role: after.role, roleFrom: before.role });
  if (before.plan !== after.plan) Object.assign(changes, { plan: after.plan, planFrom: before.plan });
  if (before.name !== after.name || before.email !== after.email || before.imageUrl !== after.imageUrl)
    changes["profile"] = true;
  return changes;
}
