import { v } from "convex/values";
import { planQuery } from "./lib/functions";
import { fail } from "./lib/errors";
import { INSIGHT_RANGES, rangeEnd, readPostStats } from "./lib/postStats";

/**
 * Statistics over the caller's own posts: maintained on every post write (lib/postStats.ts),
 * so this reads the caller's totals, one row per day they posted in the range and their newest
 * post, never all their posts. Days are UTC calendar days of creation; words count the posts' bodies.
 * `days` (7, 30 or 90) limits `perDay` to the last that many days up to today (`from`..`to`),
 * read by index range; without it, every day the caller posted. `today` (the caller's UTC day,
 * "YYYY-MM-DD", within a day of the server's) ends the range there, so an open page moves on at
 * midnight (lib/postStats.ts `rangeEnd`); without it the range ends on the server's day.
 */
export const overview = planQuery("pro")({
  args: {
    days: v.optional(v.union(...INSIGHT_RANGES.map((d) => v.literal(d)))),
    today: v.optional(v.string()),
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
  handler: async (ctx, { days, today }) => {
    const end = rangeEnd(today, Date.now());
    if (end === null) {
      fail("INVALID_INPUT", "today must be the current UTC day as YYYY-MM-DD", {
        issues: [{ path: "today", message: "not within a day of now" }],
      });
    }
    return await readPostStats(ctx, ctx.viewer.clerkId, days, end);
  },
});
