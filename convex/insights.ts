import { v } from "convex/values";
import { planQuery } from "./lib/functions";

const DAY_MS = 24 * 60 * 60 * 1000;

function wordCount(text: string): number {
  const trimmed = text.trim();
  return trimmed === "" ? 0 : trimmed.split(/\s+/u).length;
}

/** Statistics over the caller's own posts; reads only those, through the author index. */
export const overview = planQuery("pro")({
  args: {},
  returns: v.object({
    total: v.number(),
    public: v.number(),
    private: v.number(),
    words: v.number(),
    perDay: v.array(v.object({ day: v.string(), count: v.number() })),
  }),
  handler: async (ctx) => {
    const posts = await ctx.db
      .query("posts")
      .withIndex("by_author", (q) => q.eq("authorId", ctx.viewer.clerkId))
      .collect();
    const perDay = new Map<string, number>();
    let publicCount = 0;
    let words = 0;
    for (const post of posts) {
      if (post.visibility === "public") publicCount++;
      words += wordCount(post.body);
      const day = new Date(Math.floor(post._creationTime / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    }
    return {
      total: posts.length,
      public: publicCount,
      private: posts.length - publicCount,
      words,
      perDay: [...perDay].sort(([a], [b]) => a.localeCompare(b)).map(([day, count]) => ({ day, count })),
    };
  },
});
