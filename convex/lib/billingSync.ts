/**
 * The users row's plan, kept from its three sources (lib/billing.ts `decidePlan`): subscription
 * items from verified billing webhooks, and the override and `metadata.plan` from verified user
 * webhooks. Whenever the plan differs from what Clerk's public metadata says, Gatehouse writes it
 * there (billing.mirrorPlan), so the session token's `metadata.plan` claim follows the payment.
 */
import { internal } from "../_generated/api";
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { recordAudit } from "./audit";
import {
  billingPlanOf,
  decidePlan,
  DEFAULT_SLUG,
  isFinal,
  nextLapse,
  supersedes,
  type ItemState,
} from "./billing";
import { userByClerkId } from "./users";
import type { Plan } from "./permissions";

/** A user has one subscription of a few items; more than this is not a state Clerk produces. */
const MAX_ITEMS_PER_USER = 100;

export async function itemsOf(ctx: QueryCtx, clerkId: string): Promise<ItemState[]> {
  const rows = await ctx.db
    .query("subscriptionItems")
    .withIndex("by_clerkId", (q) => q.eq("clerkId", clerkId))
    .take(MAX_ITEMS_PER_USER);
  return rows.map(({ itemId, planSlug, status, periodEnd, canceledAt, pastDueAt, asOf }) => ({
    itemId,
    planSlug,
    status,
    periodEnd,
    canceledAt,
    pastDueAt,
    asOf,
  }));
}

/**
 * Stores each reported item state that supersedes the one kept. Returns how many did, those that
 * said something new (not the kept state again, as of a later time), and those whose status is
 * new (a new item, or a status it did not have): the changes worth an audit line.
 */
export async function storeItems(
  ctx: MutationCtx,
  clerkId: string,
  items: ItemState[],
): Promise<{ stored: number; changed: ItemState[]; newStatus: ItemState[] }> {
  let stored = 0;
  const changed: ItemState[] = [];
  const newStatus: ItemState[] = [];
  for (const item of items) {
    const row = await ctx.db
      .query("subscriptionItems")
      .withIndex("by_itemId", (q) => q.eq("itemId", item.itemId))
      .unique();
    // An item id belongs to one payer; a report of it under another is not applied.
    if (row !== null && row.clerkId !== clerkId) continue;
    if (!supersedes(row, item)) continue;
    if (row === null) await ctx.db.insert("subscriptionItems", { ...item, clerkId });
    else await ctx.db.patch("subscriptionItems", row._id, item);
    stored++;
    if (row === null || !sameState(row, item)) changed.push(item);
    if (row?.status !== item.status) newStatus.push(item);
  }
  return { stored, changed, newStatus };
}

export async function deleteItemsOf(ctx: MutationCtx, clerkId: string): Promise<void> {
  const rows = await ctx.db
    .query("subscriptionItems")
    .withIndex("by_clerkId", (q) => q.eq("clerkId", clerkId))
    .take(MAX_ITEMS_PER_USER);
  for (const row of rows) await ctx.db.delete("subscriptionItems", row._id);
}

/** The plan the row should hold now, and which source decided it (`items`: the user's, if read). */
export async function decidedPlan(
  ctx: QueryCtx,
  clerkId: string,
  sources: { override: Plan | undefined; metadata: Plan },
  items?: ItemState[],
) {
  const billing = billingPlanOf(items ?? (await itemsOf(ctx, clerkId)), Date.now());
  return decidePlan({ ...sources, billing });
}

/**
 * After the row's plan or its sources changed: write the plan into Clerk's metadata if Clerk's
 * copy differs, and look again when a canceled period runs out (Clerk's `ended` should say so
 * first; this is the backstop if that event is late or lost).
 */
export async function followUpPlan(
  ctx: MutationCtx,
  row: Pick<
    Doc<"users">,
    "_id" | "clerkId" | "plan" | "planOverride" | "metadataPlan" | "deletedAt" | "lapseCheckAt"
  >,
  items?: ItemState[],
): Promise<void> {
  if (row.deletedAt !== undefined) return;
  const known = items ?? (await itemsOf(ctx, row.clerkId));
  if ((row.planOverride !== undefined || known.length > 0) && row.plan !== row.metadataPlan)
    await ctx.scheduler.runAfter(0, internal.billing.mirrorPlan, { clerkId: row.clerkId, attempt: 0 });
  const lapse = nextLapse(known, Date.now());
  // Every later event about a canceled item (an echo, a redelivery) names the same end: one check
  // is already set for it. A check set for another end still runs and finds nothing to change.
  if (lapse === undefined || row.lapseCheckAt === lapse + 1000) return;
  await ctx.scheduler.runAt(lapse + 1000, internal.billing.recheckPlan, { clerkId: row.clerkId });
  await ctx.db.patch("users", row._id, { lapseCheckAt: lapse + 1000 });
}

/**
 * Recomputes a synced row's plan from its sources; returns the plan before and after (equal when
 * nothing changed), or null without a live synced row (a provisional row copies its token and is
 * overwritten by the first user webhook, which applies the subscription then).
 */
export async function settlePlan(
  ctx: MutationCtx,
  clerkId: string,
): Promise<{ from: Plan; to: Plan } | null> {
  const row = await userByClerkId(ctx, clerkId);
  if (row === null || !row.synced || row.deletedAt !== undefined) return null;
  const items = await itemsOf(ctx, clerkId);
  const { plan } = await decidedPlan(
    ctx,
    clerkId,
    { override: row.planOverride, metadata: row.metadataPlan ?? row.plan },
    items,
  );
  if (plan !== row.plan) await ctx.db.patch("users", row._id, { plan });
  await followUpPlan(ctx, { ...row, plan }, items);
  return { from: row.plan, to: plan };
}

/**
 * Who reported a user's item states, for the audit line: a billing event, or reconciliation
 * (which audits every repair it makes, `auditEveryChange`).
 */
export type BillingSource = { action: string; actor: string; svixId?: string; auditEveryChange?: boolean };

/** What applying a report did: `changed` when an item's state is now different from before. */
export type BillingApplied = { outcome: "applied" | "stale" | "tombstoned"; changed: boolean };

/**
 * Item states Clerk reported for one user (a verified billing event, or reconciliation reading
 * the Backend API): stored in Clerk's order, the plan settled, and an audit line when the plan or
 * a paid item's status changed. A deleted user's reports store nothing; a report that supersedes
 * nothing is stale.
 */
export async function applyBillingUpdate(
  ctx: MutationCtx,
  source: BillingSource,
  { clerkId, items }: { clerkId: string; items: ItemState[] },
): Promise<BillingApplied> {
  const row = await userByClerkId(ctx, clerkId);
  // A deleted user's billing is over; nothing of theirs is kept or revived.
  if (row?.deletedAt !== undefined) return { outcome: "tombstoned", changed: false };
  const { stored, changed, newStatus } = await storeItems(ctx, clerkId, items);
  if (stored === 0) return { outcome: "stale", changed: false };
  const change = await settlePlan(ctx, clerkId);
  const planChanged = change !== null && change.from !== change.to;
  // A line when the plan changed or a paid item's status did: the free item's comings and goings and
  // subscription events that repeat known states are kept (webhookEvents), not shown.
  const paid = newStatus.find((i) => i.planSlug !== "" && i.planSlug !== DEFAULT_SLUG);
  if (planChanged || paid || (source.auditEveryChange && changed.length > 0)) {
    const shown = paid ?? newStatus[0] ?? changed[0] ?? items[0];
    await recordAudit(ctx, {
      action: source.action,
      actor: source.actor,
      target: clerkId,
      details: {
        ...(source.svixId !== undefined ? { svixId: source.svixId } : {}),
        ...(shown ? { item: shown.planSlug, status: shown.status } : {}),
        ...(planChanged ? { plan: change.to, planFrom: change.from } : {}),
      },
    });
  }
  return { outcome: "applied", changed: changed.length > 0 };
}

/**
 * Reconciliation's report of a user's items (Clerk's Backend API, read at `readAt`), applied as a
 * billing event is, each repair audited. Clerk's answer lists the subscription's current items, so
 * an item Gatehouse keeps as current that the answer leaves out has left the subscription (its
 * `ended` event was lost): it is ended, as of the read. Returns whether anything was repaired: the
 * state Gatehouse already had, confirmed as of a later time, is not a repair.
 */
export async function repairBilling(
  ctx: MutationCtx,
  actor: string,
  { clerkId, items, readAt }: { clerkId: string; items: ItemState[]; readAt: number },
): Promise<boolean> {
  const reported = new Set(items.map((item) => item.itemId));
  const left = (await itemsOf(ctx, clerkId))
    .filter((kept) => !reported.has(kept.itemId) && !isFinal(kept.status))
    .map((kept) => ({ ...kept, status: "ended", asOf: readAt }));
  const source = { action: "reconcile.billing", actor, auditEveryChange: true };
  return (await applyBillingUpdate(ctx, source, { clerkId, items: [...items, ...left] })).changed;
}

/** Whether a kept item says the same as a reported one, whatever time each is as of. */
function sameState(kept: ItemState, reported: ItemState): boolean {
  return (
    kept.planSlug === reported.planSlug &&
    kept.status === reported.status &&
    kept.periodEnd === reported.periodEnd &&
    kept.canceledAt === reported.canceledAt &&
    kept.pastDueAt === reported.pastDueAt
  );
}
