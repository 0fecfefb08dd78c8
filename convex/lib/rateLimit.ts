import type { MutationCtx } from "../_generated/server";
import { fail } from "./errors";

/** A burst of 20 writes, then one more per second (token bucket per user). */
export const WRITE_BURST = 20;
export const WRITE_REFILL_PER_MS = 1 / 1000;

/**
 * Takes one write token for `key` or throws RATE_LIMITED. It runs inside the caller's
 * transaction: a call rejected for any reason rolls its token back too.
 */
export async function consumeWriteToken(ctx: MutationCtx, key: string): Promise<void> {
  const now = Date.now();
  const bucket = await ctx.db
    .query("rateLimits")
    .withIndex("by_key", (q) => q.eq("key", key))
    .unique();
  const available = bucket
    ? Math.min(WRITE_BURST, bucket.tokens + (now - bucket.updatedAt) * WRITE_REFILL_PER_MS)
    : WRITE_BURST;
  if (available < 1) {
    const retryAfterMs = Math.ceil((1 - available) / WRITE_REFILL_PER_MS);
    fail("RATE_LIMITED", "Too many writes; try again shortly", { retryAfterMs });
  }
  if (bucket) await ctx.db.patch("rateLimits", bucket._id, { tokens: available - 1, updatedAt: now });
  else await ctx.db.insert("rateLimits", { key, tokens: available - 1, updatedAt: now });
}
