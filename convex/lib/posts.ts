/** Post rules and loading shared by API modules (posts, webhook sync, reconciliation). */
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { fail } from "./errors";
import {
  canCreatePost,
  canEditPost,
  canReadPost,
  canRemovePost,
  FREE_POST_QUOTA,
  planIncludes,
} from "./permissions";
import { deleteStatsBatch } from "./postStats";
import { userByClerkId } from "./users";
import type { PostView } from "./validators";
import type { Viewer } from "./viewer";

/** A post as callers see it: without the scheduler's job id. */
export function toPostView({ publishJobId: _job, ...post }: Doc<"posts">): PostView {
  return post;
}

/**
 * Loads a post the viewer may read. Others' private posts are reported exactly like
 * missing ones (NOT_FOUND), so ids cannot be probed for existence.
 */
export async function readablePost(ctx: QueryCtx, viewer: Viewer, id: Id<"posts">) {
  const post = await ctx.db.get("posts", id);
  if (post === null || !canReadPost(viewer.clerkId, viewer, post)) fail("NOT_FOUND", "No such post");
  return post;
}

/** Used after readablePost: the viewer may know the post exists, so the refusal says why. */
function denyPostWrite(): never {
  return fail("FORBIDDEN", "Only the author can change this post");
}

/** A post the viewer may edit: their own. */
export async function ownPostForWrite(ctx: MutationCtx, viewer: Viewer, id: Id<"posts">) {
  const post = await readablePost(ctx, viewer, id);
  if (!canEditPost(viewer.clerkId, post)) denyPostWrite();
  return post;
}

/** A post the viewer may delete: their own, or any they can read as an administrator. */
export async function removablePost(ctx: MutationCtx, viewer: Viewer, id: Id<"posts">) {
  const post = await readablePost(ctx, viewer, id);
  if (!canRemovePost(viewer.clerkId, viewer, post)) denyPostWrite();
  return post;
}

/**
 * Refuses a new post past the free quota. Only a free plan needs the count, and it reads at most
 * the quota's number of the caller's own posts.
 */
export async function requireRoomForPost(ctx: QueryCtx, viewer: Viewer) {
  const ownCount =
    viewer.plan === "pro"
      ? 0
      : (
          await ctx.db
            .query("posts")
            .withIndex("by_author", (q) => q.eq("authorId", viewer.clerkId))
            .take(FREE_POST_QUOTA)
        ).length;
  if (!canCreatePost(viewer, ownCount)) {
    fail("UPGRADE_REQUIRED", `The free plan includes ${FREE_POST_QUOTA} posts`, { requiredPlan: "pro" });
  }
}

/**
 * At publish time the author's authority is checked again, not trusted from scheduling time: a
 * deleted author or one no longer on the pro plan publishes nothing.
 */
export async function authorMayStillPublish(ctx: QueryCtx, authorId: string): Promise<boolean> {
  const author = await userByClerkId(ctx, authorId);
  return author !== null && author.deletedAt === undefined && planIncludes(author.plan, "pro");
}

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
