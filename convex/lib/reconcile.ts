/**
 * Reconciliation: Clerk says webhooks can be late or never delivered, so the users table is
 * compared with Clerk's own user list and repaired through the path webhooks take
 * (lib/userSync.ts): missing rows created, stale rows updated (strictly newer `updated_at`
 * only), rows of users Clerk no longer has tombstoned. Each listed user's Clerk Billing
 * subscription is read too and applied as billing events are (lib/billingSync.ts), so a lost
 * `subscriptionItem.*` event cannot leave a plan wrong. Runs daily (crons.ts) and on an admin's
 * demand (admin.reconcileUsers); every repair is audited.
 *
 * Each page is its own transaction, so a run that fails half-way (Clerk unreachable) keeps the
 * repairs it made — each of them is correct on its own — and the next run finishes the job.
 */
import { v, type Infer } from "convex/values";
import { internal } from "../_generated/api";
import type { ActionCtx } from "../_generated/server";
import type { ItemState } from "./billing";
import { CLERK_USER_PAGE, clerkSubscriptionItems, clerkUserExists, clerkUserPage } from "./clerk";

/** Subscriptions asked of Clerk at once: well under its Backend API rate limit. */
const SUBSCRIPTION_READS_AT_ONCE = 4;

export const reconcileSummaryValidator = v.object({
  clerkUsers: v.number(),
  created: v.number(),
  updated: v.number(),
  deleted: v.number(),
  unchanged: v.number(),
  /** Clerk users, or their subscriptions, whose data could not be read: skipped, never written. */
  invalid: v.number(),
  /** Users whose subscription items Clerk reported newer than Gatehouse had them. */
  subscriptionsRepaired: v.number(),
  /** false when Clerk refused to answer about subscriptions (Billing not enabled on the instance). */
  billingChecked: v.boolean(),
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
    subscriptionsRepaired: 0,
    billingChecked: true,
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
      if (summary.billingChecked) await repairSubscriptions(ctx, page.ids, actor, summary);
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

/** Reads these users' subscriptions from Clerk and applies them; adds what it did to `summary`. */
async function repairSubscriptions(
  ctx: ActionCtx,
  clerkIds: string[],
  actor: string,
  summary: ReconcileSummary,
): Promise<void> {
  const read = await subscriptionsOf(clerkIds);
  if (read === "unavailable") {
    summary.billingChecked = false;
    return;
  }
  summary.invalid += read.unreadable;
  if (read.found.length === 0) return;
  summary.subscriptionsRepaired += await ctx.runMutation(internal.reconcile.applyClerkBilling, {
    subscriptions: read.found,
    actor,
  });
}

/**
 * The subscription items Clerk reports for these users (those it has a subscription for), and how
 * many answers could not be read: those users' subscriptions are left as they are, and the rest
 * are still repaired.
 */
async function subscriptionsOf(
  clerkIds: string[],
): Promise<{ found: { clerkId: string; items: ItemState[] }[]; unreadable: number } | "unavailable"> {
  const found: { clerkId: string; items: ItemState[] }[] = [];
  let unreadable = 0;
  for (let i = 0; i < clerkIds.length; i += SUBSCRIPTION_READS_AT_ONCE) {
    const batch = clerkIds.slice(i, i + SUBSCRIPTION_READS_AT_ONCE);
    const answers = await Promise.all(batch.map((clerkId) => clerkSubscriptionItems(clerkId)));
    for (const [k, items] of answers.entries()) {
      if (items === "unavailable") return "unavailable";
      if (items === "unreadable") unreadable++;
      else if (items !== "none" && items.length > 0) found.push({ clerkId: batch[k] as string, items });
    }
  }
  return { found, unreadable };
}
