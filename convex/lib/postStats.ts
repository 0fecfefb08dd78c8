/**
 * Per-author post statistics, kept up to date on every post write so `insights.overview`
 * reads a handful of documents however many posts an author has (a scan of all of them
 * would hit Convex's per-transaction read limits for a prolific pro author).
 */
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";

type PostFields = Pick<Doc<"posts">, "authorId" | "visibility" | "body" | "_creationTime">;

const DAY_MS = 24 * 60 * 60 * 1000;

export function wordCount(text: string): number {
  const trimmed = text.trim();
  return trimmed === "" ? 0 : trimmed.split(/\s+/u).length;
}

/** The UTC calendar day of a post's creation, as YYYY-MM-DD. */
export function dayOf(creationTime: number): string {
  return new Date(Math.floor(creationTime / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

function statsRow(ctx: QueryCtx, authorId: string) {
  return ctx.db
    .query("authorStats")
    .withIndex("by_author", (q) => q.eq("authorId", authorId))
    .unique();
}

function dayRow(ctx: QueryCtx, authorId: string, day: string) {
  return ctx.db
    .query("authorDays")
    .withIndex("by_author_day", (q) => q.eq("authorId", authorId).eq("day", day))
    .unique();
}

/** Applies one post write (insert: before null; delete: after null) to its author's statistics. */
export async function recordPostChange(
  ctx: MutationCtx,
  before: PostFields | null,
  after: PostFields | null,
) {
  const post = after ?? before;
  if (post === null) return;
  const count = (p: PostFields | null) => (p ? 1 : 0);
  const pub = (p: PostFields | null) => (p?.visibility === "public" ? 1 : 0);
  const words = (p: PostFields | null) => (p ? wordCount(p.body) : 0);
  const delta = {
    total: count(after) - count(before),
    public: pub(after) - pub(before),
    words: words(after) - words(before),
  };
  const stats = await statsRow(ctx, post.authorId);
  if (stats) {
    await ctx.db.patch("authorStats", stats._id, {
      total: stats.total + delta.total,
      public: stats.public + delta.public,
      words: stats.words + delta.words,
    });
  } else {
    await ctx.db.insert("authorStats", { authorId: post.authorId, ...delta });
  }
  if (delta.total !== 0) {
    const day = dayOf(post._creationTime);
    const row = await dayRow(ctx, post.authorId, day);
    if (row && row.count + delta.total <= 0) await ctx.db.delete("authorDays", row._id);
    else if (row) await ctx.db.patch("authorDays", row._id, { count: row.count + delta.total });
    else await ctx.db.insert("authorDays", { authorId: post.authorId, day, count: delta.total });
  }
}

/** The ranges insights offer, in days (insights.overview's `days`). */
export const INSIGHT_RANGES = [7, 30, 90] as const;
export type InsightRange = (typeof INSIGHT_RANGES)[number];

/** The first and last UTC day of the `days` days ending on the day of `end`. */
export function rangeOf(days: number, end: number): { from: string; to: string } {
  return { from: dayOf(end - (days - 1) * DAY_MS), to: dayOf(end) };
}

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The day a range ends on. A query's result is cached for as long as its arguments and the rows it
 * read stay the same, so a range computed from the server's clock alone would still end
 * "yesterday" after midnight on an open page. The client therefore names its UTC day (`today`),
 * which changes its arguments at midnight; the server accepts it only within a day of its own
 * clock (clock skew), so no one reads a range of their choosing beyond the three offered.
 * Returns the end as a time, or null for a day that is malformed or too far from now.
 */
export function rangeEnd(today: string | undefined, now: number): number | null {
  if (today === undefined) return now;
  if (!DAY_PATTERN.test(today)) return null;
  const end = Date.parse(`${today}T00:00:00Z`);
  if (Number.isNaN(end) || dayOf(end) !== today) return null;
  return Math.abs(end - Date.parse(`${dayOf(now)}T00:00:00Z`)) <= DAY_MS ? end : null;
}

export async function readPostStats(
  ctx: QueryCtx,
  authorId: string,
  days?: InsightRange,
  end: number = Date.now(),
) {
  const stats = await statsRow(ctx, authorId);
  const range = days === undefined ? undefined : rangeOf(days, end);
  const dayRows = await ctx.db
    .query("authorDays")
    .withIndex("by_author_day", (q) =>
      range
        ? q.eq("authorId", authorId).gte("day", range.from).lte("day", range.to)
        : q.eq("authorId", authorId),
    )
    .collect();
  // The newest post, for "last posted": one document through the author index.
  const newest = await ctx.db
    .query("posts")
    .withIndex("by_author", (q) => q.eq("authorId", authorId))
    .order("desc")
    .first();
  const total = stats?.total ?? 0;
  const publicCount = stats?.public ?? 0;
  return {
    total,
    public: publicCount,
    private: total - publicCount,
    words: stats?.words ?? 0,
    perDay: dayRows.map(({ day, count }) => ({ day, count })),
    ...(newest ? { lastPostAt: newest._creationTime } : {}),
    ...(range ?? {}),
  };
}

/** A deleted author's statistics go with their posts; returns how many rows remain to delete. */
export async function deleteStatsBatch(ctx: MutationCtx, authorId: string, batch: number): Promise<boolean> {
  const stats = await statsRow(ctx, authorId);
  if (stats) await ctx.db.delete("authorStats", stats._id);
  const days = await ctx.db
    .query("authorDays")
    .withIndex("by_author_day", (q) => q.eq("authorId", authorId))
    .take(batch);
  for (const day of days) await ctx.db.delete("authorDays", day._id);
  return days.length === batch;
}
