/**
 * Applies verified Clerk `user.*` events to the users table, exactly once per svix-id,
 * in Clerk's order (by `updated_at`), with tombstones that nothing can revive.
 * Called only from the webhook http action after signature verification.
 */
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalMutation, type MutationCtx } from "./_generated/server";
import { profileFrom, userJson } from "./lib/clerkEvents";
import { settleDemotions } from "./lib/lastAdmin";
import { parsePlan, parseRole } from "./lib/permissions";
import { userByClerkId } from "./lib/viewer";
import { deletePostsByAuthor } from "./posts";

export type WebhookOutcome = "applied" | "duplicate" | "stale" | "tombstoned" | "deleted";

export const applyUserEvent = internalMutation({
  args: {
    svixId: v.string(),
    type: v.union(v.literal("user.created"), v.literal("user.updated"), v.literal("user.deleted")),
    clerkId: v.string(),
    /** Clerk's user JSON for created/updated (re-validated here: internal is not a reason to trust). */
    user: v.optional(v.any()),
  },
  returns: v.string(),
  handler: async (ctx, { svixId, type, clerkId, user }): Promise<WebhookOutcome> => {
    const seen = await ctx.db
      .query("webhookEvents")
      .withIndex("by_svixId", (q) => q.eq("svixId", svixId))
      .unique();
    if (seen !== null) return "duplicate";

    const outcome =
      type === "user.deleted"
        ? await tombstone(ctx, clerkId)
        : await upsert(ctx, clerkId, userJson.parse(user));

    await ctx.db.insert("webhookEvents", { svixId, type, clerkId, outcome, receivedAt: Date.now() });
    if (outcome === "applied" || outcome === "deleted") {
      await ctx.db.insert("auditLog", {
        action: `clerk.${type}`,
        actor: "clerk",
        target: clerkId,
        details: { svixId },
      });
    }
    return outcome;
  },
});

async function upsert(
  ctx: MutationCtx,
  clerkId: string,
  user: ReturnType<typeof userJson.parse>,
): Promise<WebhookOutcome> {
  const row = await userByClerkId(ctx, clerkId);
  if (row?.deletedAt !== undefined) return "tombstoned";
  // Strictly newer only: a redelivered or reordered older event must not roll the row back.
  if (row?.synced && user.updated_at <= row.clerkUpdatedAt) return "stale";
  const fields = {
    ...profileFrom(user),
    role: parseRole(user.public_metadata?.["role"]),
    plan: parsePlan(user.public_metadata?.["plan"]),
    clerkUpdatedAt: user.updated_at,
    synced: true,
  };
  if (row) await ctx.db.patch("users", row._id, fields);
  else await ctx.db.insert("users", { clerkId, ...fields });
  await settleDemotions(ctx, clerkId, fields.role, user.updated_at);
  return "applied";
}

/** Deletion is terminal whatever its order: tombstone the row (or create one) and drop the posts. */
async function tombstone(ctx: MutationCtx, clerkId: string): Promise<WebhookOutcome> {
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
  await settleDemotions(ctx, clerkId, null, deletedAt);
  const bucket = await ctx.db
    .query("rateLimits")
    .withIndex("by_key", (q) => q.eq("key", clerkId))
    .unique();
  if (bucket) await ctx.db.delete("rateLimits", bucket._id);
  return "deleted";
}

/** svix retries for about 28 hours; keep dedupe records a week, then let them go. */
export const WEBHOOK_DEDUPE_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const PURGE_BATCH = 500;

export const purgeOldWebhookEvents = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const cutoff = Date.now() - WEBHOOK_DEDUPE_RETENTION_MS;
    const old = await ctx.db
      .query("webhookEvents")
      .withIndex("by_receivedAt", (q) => q.lt("receivedAt", cutoff))
      .take(PURGE_BATCH);
    for (const event of old) await ctx.db.delete("webhookEvents", event._id);
    // A full batch means more may be due: continue in a fresh transaction.
    if (old.length === PURGE_BATCH)
      await ctx.scheduler.runAfter(0, internal.clerkWebhooks.purgeOldWebhookEvents, {});
    return old.length;
  },
});
