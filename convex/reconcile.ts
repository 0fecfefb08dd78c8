/** The transactions of a reconciliation run (lib/reconcile.ts) and its daily schedule. */
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalAction, internalMutation, internalQuery } from "./_generated/server";
import { userJson } from "./lib/clerkEvents";
import { CONTINUATION_BUDGET_MS, sweepSubscriptions } from "./lib/billingReconcile";
import { reconcileSummaryValidator, reconcileUsers } from "./lib/reconcile";
import { recordAudit } from "./lib/audit";
import { repairBilling } from "./lib/billingSync";
import { itemStateFields } from "./lib/validators";
import { applyClerkUser, tombstoneUser } from "./lib/userSync";
import { userByClerkId } from "./lib/users";

const USERS_PAGE = 500;

/** One page of Clerk's users (Clerk's JSON), applied as webhooks would apply them. */
export const applyClerkPage = internalMutation({
  args: { users: v.array(v.any()), actor: v.string() },
  returns: v.object({
    ids: v.array(v.string()),
    created: v.number(),
    updated: v.number(),
    unchanged: v.number(),
    invalid: v.number(),
  }),
  handler: async (ctx, { users, actor }) => {
    const result = { ids: [] as string[], created: 0, updated: 0, unchanged: 0, invalid: 0 };
    for (const raw of users) {
      // Clerk's data is checked here as a webhook's would be: a user we cannot read is skipped.
      const parsed = userJson.safeParse(raw);
      if (!parsed.success) {
        result.invalid++;
        continue;
      }
      const user = parsed.data;
      result.ids.push(user.id);
      const existed = (await userByClerkId(ctx, user.id)) !== null;
      if ((await applyClerkUser(ctx, user.id, user)) !== "applied") {
        result.unchanged++;
        continue;
      }
      result[existed ? "updated" : "created"]++;
      await recordAudit(ctx, {
        action: existed ? "reconcile.updated" : "reconcile.created",
        actor,
        target: user.id,
      });
    }
    return result;
  },
});

/**
 * Subscriptions as Clerk's Backend API reported them for a page of users, applied as billing
 * events are; returns how many users' items were repaired (a state newer than the one kept).
 */
export const applyClerkBilling = internalMutation({
  args: {
    subscriptions: v.array(
      v.object({ clerkId: v.string(), items: v.array(v.object(itemStateFields)), readAt: v.number() }),
    ),
    actor: v.string(),
  },
  returns: v.number(),
  handler: async (ctx, { subscriptions, actor }) => {
    let repaired = 0;
    for (const update of subscriptions) if (await repairBilling(ctx, actor, update)) repaired++;
    return repaired;
  },
});

/** Users that are not tombstoned, a page at a time. */
export const liveUsersPage = internalQuery({
  args: { cursor: v.union(v.string(), v.null()), numItems: v.optional(v.number()) },
  returns: v.object({
    page: v.array(v.object({ clerkId: v.string(), createdAt: v.number() })),
    continueCursor: v.string(),
    isDone: v.boolean(),
  }),
  handler: async (ctx, { cursor, numItems }) => {
    const result = await ctx.db
      .query("users")
      .paginate({ numItems: Math.min(numItems ?? USERS_PAGE, USERS_PAGE), cursor });
    return {
      page: result.page
        .filter((u) => u.deletedAt === undefined)
        .map((u) => ({ clerkId: u.clerkId, createdAt: u._creationTime })),
      continueCursor: result.continueCursor,
      isDone: result.isDone,
    };
  },
});

/** A user Clerk confirmed gone: the deletion webhook's effect, audited as a repair. */
export const tombstoneMissing = internalMutation({
  args: { clerkId: v.string(), actor: v.string() },
  returns: v.boolean(),
  handler: async (ctx, { clerkId, actor }) => {
    if ((await tombstoneUser(ctx, clerkId)) !== "deleted") return false;
    await recordAudit(ctx, { action: "reconcile.deleted", actor, target: clerkId });
    return true;
  },
});

/** The run's summary in the audit log (the admin action records its own, charging the admin). */
export const recordRun = internalMutation({
  args: { actor: v.string(), summary: reconcileSummaryValidator },
  returns: v.null(),
  handler: async (ctx, { actor, summary }) => {
    await ctx.db.insert("auditLog", { action: "users.reconcile", actor, details: summary });
    return null;
  },
});

/** A subscription sweep that ran out of time or was told to slow down, going on where it stopped. */
export const continueBillingSweep = internalAction({
  args: { actor: v.string(), cursor: v.union(v.string(), v.null()) },
  returns: v.null(),
  handler: async (ctx, { actor, cursor }) => {
    await sweepSubscriptions(ctx, actor, cursor, CONTINUATION_BUDGET_MS);
    return null;
  },
});

export const daily = internalAction({
  /** `billingBudgetMs`: for tests of the hand-on; the cron passes nothing. */
  args: { billingBudgetMs: v.optional(v.number()) },
  returns: reconcileSummaryValidator,
  handler: async (ctx, { billingBudgetMs }) => {
    const summary = await reconcileUsers(ctx, "cron", billingBudgetMs ?? CONTINUATION_BUDGET_MS);
    await ctx.runMutation(internal.reconcile.recordRun, { actor: "cron", summary });
    return summary;
  },
});
