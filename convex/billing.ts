/**
 * Clerk Billing → the user's plan (ADR 009). Verified `subscription.*` / `subscriptionItem.*`
 * events update the subscription items, exactly once per svix-id and in Clerk's event-time order
 * per item; the users row's plan follows at once, and Gatehouse writes it into Clerk's public
 * metadata so the session token's `metadata.plan` follows too.
 */
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalAction, internalMutation, internalQuery } from "./_generated/server";
import { currentPaidItem, paidView } from "./lib/billing";
import { billingEvent, billingUpdate } from "./lib/billingEvents";
import { applyBillingUpdate, itemsOf, settlePlan } from "./lib/billingSync";
import { updatePublicMetadata } from "./lib/clerk";
import { authedQuery } from "./lib/functions";
import { recordAudit } from "./lib/audit";
import { plan } from "./lib/validators";
import { userByClerkId } from "./lib/users";

export type BillingOutcome = "applied" | "stale" | "tombstoned" | "ignored" | "duplicate";

export const applyBillingEvent = internalMutation({
  args: {
    svixId: v.string(),
    /** The verified event (re-validated here: internal is not a reason to trust). */
    event: v.any(),
  },
  returns: v.string(),
  handler: async (ctx, { svixId, event: raw }): Promise<BillingOutcome> => {
    const seen = await ctx.db
      .query("webhookEvents")
      .withIndex("by_svixId", (q) => q.eq("svixId", svixId))
      .unique();
    if (seen !== null) return "duplicate";
    const event = billingEvent.parse(raw);
    const update = billingUpdate(event);
    const outcome =
      update === null
        ? "ignored"
        : (await applyBillingUpdate(ctx, { action: `clerk.${event.type}`, actor: "clerk", svixId }, update))
            .outcome;
    await ctx.db.insert("webhookEvents", {
      svixId,
      type: event.type,
      clerkId: update?.clerkId,
      outcome,
      receivedAt: Date.now(),
    });
    return outcome;
  },
});

/** When a canceled period has run out: the plan is decided again (the backstop for a late `ended`). */
export const recheckPlan = internalMutation({
  args: { clerkId: v.string() },
  returns: v.null(),
  handler: async (ctx, { clerkId }) => {
    const change = await settlePlan(ctx, clerkId);
    if (change && change.from !== change.to) {
      await recordAudit(ctx, {
        action: "billing.periodEnded",
        actor: "clerk",
        target: clerkId,
        details: { plan: change.to, planFrom: change.from },
      });
    }
    return null;
  },
});

export const mirrorState = internalQuery({
  args: { clerkId: v.string() },
  returns: v.union(v.object({ plan, metadataPlan: v.optional(plan) }), v.null()),
  handler: async (ctx, { clerkId }) => {
    const row = await userByClerkId(ctx, clerkId);
    if (row === null || row.deletedAt !== undefined || !row.synced) return null;
    return { plan: row.plan, metadataPlan: row.metadataPlan };
  },
});

/** Retries of a failed metadata write: about 1 s, 2 s, 4 s … up to 17 minutes in all. */
const MIRROR_ATTEMPTS = 10;

/**
 * Writes the row's plan into Clerk's `public_metadata.plan` when Clerk's copy differs. Clerk's
 * `user.updated` then reports the new copy; a later change schedules another write, so the
 * last write carries the latest plan (each reads the row when it runs).
 */
export const mirrorPlan = internalAction({
  args: { clerkId: v.string(), attempt: v.number() },
  returns: v.null(),
  handler: async (ctx, { clerkId, attempt }) => {
    const state = await ctx.runQuery(internal.billing.mirrorState, { clerkId });
    if (state === null || state.plan === state.metadataPlan) return null;
    try {
      await updatePublicMetadata(clerkId, { plan: state.plan });
    } catch (error) {
      if (attempt + 1 >= MIRROR_ATTEMPTS) {
        console.error(
          `Could not write ${clerkId}'s plan into Clerk after ${MIRROR_ATTEMPTS} attempts`,
          error,
        );
        return null;
      }
      await ctx.scheduler.runAfter(1000 * 2 ** attempt, internal.billing.mirrorPlan, {
        clerkId,
        attempt: attempt + 1,
      });
    }
    return null;
  },
});

const subscriptionView = v.object({
  plan,
  /** Who decided the plan: an administrator, the subscription, or neither (the default). */
  source: v.union(v.literal("admin"), v.literal("subscription"), v.literal("default")),
  /** The paid item behind a Pro plan: whether it renews, ends, or is past due, and when. */
  paid: v.union(
    v.object({
      status: v.union(v.literal("active"), v.literal("canceled"), v.literal("past_due")),
      periodEnd: v.union(v.number(), v.null()),
    }),
    v.null(),
  ),
});

/** The caller's plan and where it comes from, for the account page and /pricing. */
export const mine = authedQuery({
  args: {},
  returns: subscriptionView,
  handler: async (ctx) => {
    const { viewer } = ctx;
    const row = viewer.userId === null ? null : await ctx.db.get("users", viewer.userId);
    const items = await itemsOf(ctx, viewer.clerkId);
    const item = currentPaidItem(items, Date.now());
    const source: "admin" | "subscription" | "default" =
      row?.planOverride !== undefined ? "admin" : items.length > 0 ? "subscription" : "default";
    return { plan: viewer.plan, source, paid: item ? paidView(item) : null };
  },
});
