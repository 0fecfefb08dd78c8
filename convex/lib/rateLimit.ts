import type { Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { fail } from "./errors";

/** A burst of 20 writes, then one more per second (token bucket per user). */
export const WRITE_BURST = 20;
export const WRITE_REFILL_PER_MS = 1 / 1000;

async function bucketOf(ctx: QueryCtx, key: string) {
  const now = Date.now();
  const bucket = await ctx.db
    .query("rateLimits")
    .withIndex("by_key", (q) => q.eq("key", key))
    .unique();
  const available = bucket
    ? Math.min(WRITE_BURST, bucket.tokens + (now - bucket.updatedAt) * WRITE_REFILL_PER_MS)
    : WRITE_BURST;
  return { bucket, available, now };
}

/** A deleted user's bucket goes with them. */
export async function forgetWrites(ctx: MutationCtx, key: string): Promise<void> {
  const { bucket } = await bucketOf(ctx, key);
  if (bucket) await ctx.db.delete("rateLimits", bucket._id);
}

function refuse(available: number): never {
  const retryAfterMs = Math.ceil((1 - available) / WRITE_REFILL_PER_MS);
  return fail("RATE_LIMITED", "Too many writes; try again shortly", { retryAfterMs });
}

/**
 * A claim lasts at most as long as an action can run on Convex (10 minutes); one left behind by
 * an action that died holds its token no longer than that.
 */
export const WRITE_CLAIM_TTL_MS = 10 * 60 * 1000;

/**
 * Claims one write token for an action whose write happens outside this transaction (an admin's
 * Clerk change), or throws RATE_LIMITED. Tokens held by claims of actions still running count as
 * spent, so concurrent actions cannot all pass on the same token. The action charges the token
 * (consumeWriteToken) once its write happened and releases the claim when it ends, succeeded or
 * not — a refused or failed action leaves no trace.
 */
export async function claimWriteToken(ctx: MutationCtx, key: string): Promise<Id<"writeClaims">> {
  const { available, now } = await bucketOf(ctx, key);
  let held = 0;
  for (const claim of await ctx.db
    .query("writeClaims")
    .withIndex("by_key", (q) => q.eq("key", key))
    .collect()) {
    if (now - claim.claimedAt > WRITE_CLAIM_TTL_MS) await ctx.db.delete("writeClaims", claim._id);
    else held++;
  }
  if (available - held < 1) refuse(available - held);
  return await ctx.db.insert("writeClaims", { key, claimedAt: now });
}

export async function releaseWriteClaim(ctx: MutationCtx, claim: Id<"writeClaims">): Promise<void> {
  if (await ctx.db.get("writeClaims", claim)) await ctx.db.delete("writeClaims", claim);
}

/**
 * Takes one write token for `key`, or throws RATE_LIMITED. It runs inside the caller's
 * transaction: a call rejected for any reason rolls its token back too. With `enforce: false`
 * it charges a write that already happened elsewhere (an admin's Clerk change), going into
 * deficit rather than refusing to record it.
 */
export async function consumeWriteToken(
  ctx: MutationCtx,
  key: string,
  { enforce = true }: { enforce?: boolean } = {},
): Promise<void> {
  const { bucket, available, now } = await bucketOf(ctx, key);
  if (enforce && available < 1) refuse(available);
  if (bucket) await ctx.db.patch("rateLimits", bucket._id, { tokens: available - 1, updatedAt: now });
  else await ctx.db.insert("rateLimits", { key, tokens: available - 1, updatedAt: now });
}
