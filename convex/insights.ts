import { v } from "convex/values";
import { planQuery } from "./lib/functions";
import { readPostStats } from "./lib/postStats";

/**
 * Statistics over the caller's own posts: maintained on every post write (lib/postStats.ts),
 * so this reads the caller's totals and one row per day they posted, never their posts.
 * Days are UTC calendar days of creation; words count the posts' bodies.
 */
export const overview = planQuery("pro")({
  args: {},
  returns: v.object({
    total: v.number(),
    public: v.number(),
    private: v.number(),
    words: v.number(),
    perDay: v.array(v.object({ day: v.string(), count: v.number() })),
  }),
  handler: async (ctx) => await readPostStats(ctx, ctx.viewer.clerkId),
});
