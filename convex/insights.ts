import { v } from "convex/values";
import { planQuery } from "./lib/functions";
import { INSIGHT_RANGES, readPostStats } from "./lib/postStats";

/**
 * Statistics over the caller's own posts: maintained on every post write (lib/postStats.ts),
 * so this reads the caller's totals, one row per day they posted in the range and their newest
 * post, never all their posts. Days are UTC calendar days of creation; words count the posts' bodies.
 * `days` (7, 30 or 90) limits `perDay` to the last that many days up to today (`from`..`to`),
 * read by index range; without it, every day the caller posted.
 */
export const overview = planQuery("pro")({
  args: {
    days: v.optional(v.union(...INSIGHT_RANGES.map((d) => v.literal(d)))),
  },
  returns: v.object({
    total: v.number(),
    public: v.number(),
    private: v.number(),
    words: v.number(),
    perDay: v.array(v.object({ day: v.string(), count: v.number() })),
    /** Creation time of the newest post (absent without posts). */
    lastPostAt: v.optional(v.number()),
    /** With `days`: the range's first and last UTC day. */
    from: v.optional(v.string()),
    to: v.optional(v.string()),
  }),
  handler: async (ctx, { days }) => await readPostStats(ctx, ctx.viewer.clerkId, days),
});
