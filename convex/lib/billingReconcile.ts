/**
 * The subscription half of reconciliation (ADR 007): each live user's Clerk Billing subscription,
 * read from the Backend API at a steady pace and applied as billing events are
 * (lib/billingSync.ts `repairBilling`). Clerk has no list of subscriptions, so it is one request
 * per user: a sweep walks the users table by cursor, and when its time is up or Clerk asks it to
 * slow down (429) it schedules its own continuation from where it stopped. One run so covers any
 * number of users without a long action or a burst that would trip Clerk's rate limit (100
 * requests / 10 s on a development instance, 1 000 on production).
 */
import { v, type Infer } from "convex/values";
import { internal } from "../_generated/api";
import { env, type ActionCtx } from "../_generated/server";
import type { ItemState } from "./billing";
import { clerkSubscriptionItems } from "./clerk";
import { errorCodeOf } from "./errors";

/** Users read from the table per step of a sweep (and per continuation point). */
const USERS_PER_STEP = 100;
/** Subscriptions asked of Clerk at once. */
const READS_AT_ONCE = 4;
/** Requests per second unless `CLERK_API_READS_PER_SECOND` says otherwise (0: unpaced). */
const DEFAULT_READS_PER_SECOND = 5;
/** How long a scheduled continuation may read before it hands on to the next. */
export const CONTINUATION_BUDGET_MS = 5 * 60_000;
/** How long to wait when Clerk says 429 without a Retry-After. */
const DEFAULT_RETRY_AFTER_MS = 10_000;

/**
 * How a sweep ended: every user read (`checked`), handed on to a scheduled continuation
 * (`continuing`), Clerk refusing the question (`off`: Billing is not enabled), or Clerk failing
 * to answer (`failed`: the next run tries again).
 */
export const billingSweepStatus = v.union(
  v.literal("checked"),
  v.literal("continuing"),
  v.literal("off"),
  v.literal("failed"),
);
export type BillingSweep = {
  repaired: number;
  unreadable: number;
  status: Infer<typeof billingSweepStatus>;
};

export async function sweepSubscriptions(
  ctx: ActionCtx,
  actor: string,
  from: string | null,
  budgetMs: number,
): Promise<BillingSweep> {
  const deadline = Date.now() + budgetMs;
  const sweep: BillingSweep = { repaired: 0, unreadable: 0, status: "checked" };
  let cursor = from;
  try {
    do {
      if (Date.now() >= deadline) return await handOn(ctx, actor, cursor, 0, sweep);
      const rows = await ctx.runQuery(internal.reconcile.liveUsersPage, { cursor, numItems: USERS_PER_STEP });
      const read = await readSubscriptions(rows.page.map((row) => row.clerkId));
      sweep.unreadable += read.unreadable;
      if (read.found.length > 0) {
        sweep.repaired += await ctx.runMutation(internal.reconcile.applyClerkBilling, {
          subscriptions: read.found,
          actor,
        });
      }
      if (read.stop === "off") return { ...sweep, status: "off" };
      // This step again, later: what it already applied is found unchanged then.
      if (read.stop !== undefined) return await handOn(ctx, actor, cursor, read.stop.retryAfterMs, sweep);
      cursor = rows.isDone ? null : rows.continueCursor;
    } while (cursor !== null);
  } catch (error) {
    if (errorCodeOf(error) === "UPSTREAM_ERROR") return { ...sweep, status: "failed" };
    throw error;
  }
  return sweep;
}

async function handOn(
  ctx: ActionCtx,
  actor: string,
  cursor: string | null,
  delayMs: number,
  sweep: BillingSweep,
): Promise<BillingSweep> {
  await ctx.scheduler.runAfter(delayMs, internal.reconcile.continueBillingSweep, { actor, cursor });
  return { ...sweep, status: "continuing" };
}

type Read = {
  found: { clerkId: string; items: ItemState[]; readAt: number }[];
  unreadable: number;
  stop?: "off" | { retryAfterMs: number };
};

/** These users' subscriptions, a few at a time at the configured pace; stops early when told to. */
async function readSubscriptions(clerkIds: string[]): Promise<Read> {
  const read: Read = { found: [], unreadable: 0 };
  const perSecond = readsPerSecond();
  for (let i = 0; i < clerkIds.length; i += READS_AT_ONCE) {
    const batch = clerkIds.slice(i, i + READS_AT_ONCE);
    const startedAt = Date.now();
    const answers = await Promise.all(batch.map((clerkId) => clerkSubscriptionItems(clerkId)));
    let limited: { retryAfterMs: number | undefined } | undefined;
    for (const [k, answer] of answers.entries()) {
      if (answer === "unavailable") return { ...read, stop: "off" };
      if (answer === "unreadable") read.unreadable++;
      else if (Array.isArray(answer))
        read.found.push({ clerkId: batch[k] as string, items: answer, readAt: startedAt });
      else if (answer !== "none") limited = answer;
    }
    if (limited) return { ...read, stop: { retryAfterMs: limited.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS } };
    if (perSecond > 0) await pause(startedAt + (batch.length * 1000) / perSecond - Date.now());
  }
  return read;
}

function readsPerSecond(): number {
  const configured = Number(env.CLERK_API_READS_PER_SECOND ?? DEFAULT_READS_PER_SECOND);
  return Number.isFinite(configured) && configured >= 0 ? configured : DEFAULT_READS_PER_SECOND;
}

const pause = (ms: number) =>
  ms > 0 ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
