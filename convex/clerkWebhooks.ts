/**
 * Applies verified Clerk `user.*` events to the users table, exactly once per svix-id,
 * in Clerk's order (by `updated_at`), with tombstones that nothing can revive.
 * Called only from the webhook http action after signature verification.
 */
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalMutation } from "./_generated/server";
import { recordAudit } from "./lib/audit";
import { userJson } from "./lib/clerkEvents";
import { applyClerkUser, changesOf, tombstoneUser, type SyncOutcome } from "./lib/userSync";
import { userByClerkId } from "./lib/users";

export type WebhookOutcome = SyncOutcome | "duplicate";

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

    const before = type === "user.updated" ? await userByClerkId(ctx, clerkId) : null;
    const outcome =
      type === "user.deleted"
        ? await tombstoneUser(ctx, clerkId)
        : await applyClerkUser(ctx, clerkId, userJson.parse(user));

    await ctx.db.insert("webhookEvents", { svixId, type, clerkId, outcome, receivedAt: Date.now() });
    const changes = before ? changesOf(before, await userByClerkId(ctx, clerkId)) : {};
    // An update that changed nothing people see (Gatehouse's own write of the plan into Clerk's
    // metadata, echoed back) is not worth a line in the log; webhookEvents still records it.
    const visible = type !== "user.updated" || Object.keys(changes).length > 0;
    if ((outcome === "applied" || outcome === "deleted") && visible) {
      // A role/plan change is paired here with the admin change it echoes, if recorded (lib/audit.ts).
      await recordAudit(ctx, {
        action: `clerk.${type}`,
        actor: "clerk",
        target: clerkId,
        details: { svixId, ...changes },
      });
    }
    return outcome;
  },
});

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
