/**
 * Reconciliation: Clerk says webhooks can be late or never delivered, so the users table is
 * compared with Clerk's own user list and repaired through the path webhooks take
 * (lib/userSync.ts): missing rows created, stale rows updated (strictly newer `updated_at`
 * only), rows of users Clerk no longer has tombstoned. Then each live user's Clerk Billing
 * subscription is read and applied as billing events are (lib/billingReconcile.ts), so a lost
 * `subscriptionItem.*` event cannot leave a plan wrong. Runs daily (crons.ts) and on an admin's
 * demand (admin.reconcileUsers); every repair is audited.
 *
 * Each page is its own transaction, so a run that fails half-way (Clerk unreachable) keeps the
 * repairs it made — each of them is correct on its own — and the next run finishes the job.
 */
import { v, type Infer } from "convex/values";
import { internal } from "../_generated/api";
import type { ActionCtx } from "../_generated/server";
import { billingSweepStatus, sweepSubscriptions } from "./billingReconcile";
import { CLERK_USER_PAGE, clerkUserExists, clerkUserPage } from "./clerk";

export const reconcileSummaryValidator = v.object({
  clerkUsers: v.number(),
  created: v.number(),
  updated: v.number(),
  deleted: v.number(),
  unchanged: v.number(),
  /** Clerk users, or their subscriptions, whose data could not be read: skipped, never written. */
  invalid: v.number(),
  /** Users whose subscription items Clerk reported differently than Gatehouse had them. */
  subscriptionsRepaired: v.number(),
  /** How the subscription sweep ended (lib/billingReconcile.ts). */
  billing: billingSweepStatus,
});
export type ReconcileSummary = Infer<typeof reconcileSummaryValidator>;

/**
 * `billingBudgetMs`: how long this run reads subscriptions before a scheduled continuation takes
 * over (an admin waits for the answer; the cron does not).
 */
export async function reconcileUsers(
  ctx: ActionCtx,
  actor: string,
  billingBudgetMs: number,
): Promise<ReconcileSummary> {
  const startedAt = Date.now();
  const summary: ReconcileSummary = {
    clerkUsers: 0,
    created: 0,
    updated: 0,
    deleted: 0,
    unchanged: 0,
    invalid: 0,
    subscriptionsRepaired: 0,
    billing: "checked",
  };
  const inClerk = new Set<string>();

  for (let offset = 0; ; offset += CLERK_USER_PAGE) {
    const users = await clerkUserPage(offset);
    if (users.length > 0) {
      const page = await ctx.runMutation(internal.reconcile.applyClerkPage, { users, actor });
      for (const id of page.ids) inClerk.add(id);
      summary.created += page.created;
      summary.updated += page.updated;
      summary.unchanged += page.unchanged;
      summary.invalid += page.invalid;
    }
    if (users.length < CLERK_USER_PAGE) break;
  }
  summary.clerkUsers = inClerk.size;

  // Rows Clerk did not list. A page can shift under a concurrent deletion, so absence from the
  // list only makes a candidate: each is confirmed gone by Clerk before it is tombstoned. Rows
  // created after the listing began belong to users the listing could not have seen.
  let cursor: string | null = null;
  do {
    const rows: { page: { clerkId: string; createdAt: number }[]; continueCursor: string; isDone: boolean } =
      await ctx.runQuery(internal.reconcile.liveUsersPage, { cursor });
    for (const row of rows.page) {
      if (inClerk.has(row.clerkId) || row.createdAt >= startedAt) continue;
      if (await clerkUserExists(row.clerkId)) continue;
      if (await ctx.runMutation(internal.reconcile.tombstoneMissing, { clerkId: row.clerkId, actor })) {
        summary.deleted++;
      }
    }
    cursor = rows.isDone ? null : rows.continueCursor;
  } while (cursor !== null);

  // Subscriptions last: a slow or refused billing read never holds up the users' own repairs.
  const sweep = await sweepSubscriptions(ctx, actor, null, billingBudgetMs);
  summary.subscriptionsRepaired = sweep.repaired;
  summary.invalid += sweep.unreadable;
  summary.billing = sweep.status;
  return summary;
}
