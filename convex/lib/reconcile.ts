/**
 * Reconciliation: Clerk says webhooks can be late or never delivered, so the users table is
 * compared with Clerk's own user list and repaired through the path webhooks take
 * (lib/userSync.ts): missing rows created, stale rows updated (strictly newer `updated_at`
 * only), rows of users Clerk no longer has tombstoned. Runs daily (crons.ts) and on an
 * admin's demand (admin.reconcileUsers); every repair is audited.
 *
 * Each page is its own transaction, so a run that fails half-way (Clerk unreachable) keeps the
 * repairs it made — each of them is correct on its own — and the next run finishes the job.
 */
import { v, type Infer } from "convex/values";
import { internal } from "../_generated/api";
import type { ActionCtx } from "../_generated/server";
import { CLERK_USER_PAGE, clerkUserExists, clerkUserPage } from "./clerk";

export const reconcileSummaryValidator = v.object({
  clerkUsers: v.number(),
  created: v.number(),
  updated: v.number(),
  deleted: v.number(),
  unchanged: v.number(),
  invalid: v.number(),
});
export type ReconcileSummary = Infer<typeof reconcileSummaryValidator>;

export async function reconcileUsers(ctx: ActionCtx, actor: string): Promise<ReconcileSummary> {
  const startedAt = Date.now();
  const summary: ReconcileSummary = {
    clerkUsers: 0,
    created: 0,
    updated: 0,
    deleted: 0,
    unchanged: 0,
    invalid: 0,
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

  return summary;
}
