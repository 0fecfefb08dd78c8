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

function refuse(available: number): never {
  const retryAfterMs = Math.ceil((1 - available) / WRITE_REFILL_PER_MS);
  return fail("RATE_LIMITED", "Too many writes; try again shortly", { retryAfterMs });
}

/** Throws RATE_LIMITED when `key` has no write token left; reads only (for checks before an action's effect). */
export async function assertWriteTokenAvailable(ctx: QueryCtx, key: string): Promise<void> {
  const { available } = await bucketOf(ctx, key);
  if (available < 1) refuse(available);
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
