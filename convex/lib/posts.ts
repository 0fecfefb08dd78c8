/** Post logic shared by API modules (posts, webhook sync, reconciliation). */
import { internal } from "../_generated/api";
import type { MutationCtx } from "../_generated/server";
import { deleteStatsBatch } from "./postStats";

const CASCADE_BATCH = 200;

/**
 * Deletes an author's posts and statistics, one batch per transaction: a full batch schedules
 * the next (posts.deleteAllByAuthor) so no transaction outgrows Convex's write limits.
 */
export async function deletePostsByAuthor(ctx: MutationCtx, authorId: string) {
  const batch = await ctx.db
    .query("posts")
    .withIndex("by_author", (q) => q.eq("authorId", authorId))
    .take(CASCADE_BATCH);
  for (const post of batch) {
    if (post.publishJobId) await ctx.scheduler.cancel(post.publishJobId);
    await ctx.db.delete("posts", post._id);
  }
  // The statistics go as a whole (no per-post bookkeeping for an author who is gone).
  const moreStats = await deleteStatsBatch(ctx, authorId, CASCADE_BATCH);
  if (batch.length === CASCADE_BATCH || moreStats) {
    await ctx.scheduler.runAfter(0, internal.posts.deleteAllByAuthor, { authorId });
  }
  return batch.length;
}
