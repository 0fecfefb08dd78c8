import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { internalMutation } from "./_generated/server";
import { internal } from "./_generated/api";
import type { Doc } from "./_generated/dataModel";
import { authedMutation, authedQuery, planMutation, publicQuery } from "./lib/functions";
import { authorNames, publicPostValidator, UNNAMED_AUTHOR } from "./lib/publicFeed";
import { FREE_POST_QUOTA, hasPro } from "./lib/permissions";
import { pageOf, parseInput, postInput, postValidator, publishAtInput, visibility } from "./lib/validators";
import { paginateChecked } from "./lib/pagination";
import { recordPostChange } from "./lib/postStats";
import {
  authorMayStillPublish,
  deletePostsByAuthor,
  ownPostForWrite,
  readablePost,
  removablePost,
  requireRoomForPost,
  toPostView,
} from "./lib/posts";

export const create = authedMutation({
  args: { title: v.string(), body: v.string(), visibility: v.optional(visibility) },
  returns: v.id("posts"),
  handler: async (ctx, args) => {
    const input = parseInput(postInput.required(), { title: args.title, body: args.body });
    const { viewer } = ctx;
    await requireRoomForPost(ctx, viewer);
    const id = await ctx.db.insert("posts", {
      authorId: viewer.clerkId,
      title: input.title,
      body: input.body,
      visibility: args.visibility ?? "private",
      updatedAt: Date.now(),
    });
    await recordPostChange(ctx, null, await ctx.db.get("posts", id));
    return id;
  },
});

export const update = authedMutation({
  args: {
    id: v.id("posts"),
    title: v.optional(v.string()),
    body: v.optional(v.string()),
    visibility: v.optional(visibility),
  },
  returns: v.null(),
  handler: async (ctx, { id, ...changes }) => {
    const post = await ownPostForWrite(ctx, ctx.viewer, id);
    const input = parseInput(postInput, { title: changes.title, body: changes.body });
    const patch: Partial<Doc<"posts">> = { updatedAt: Date.now() };
    if (input.title !== undefined) patch.title = input.title;
    if (input.body !== undefined) patch.body = input.body;
    if (changes.visibility !== undefined) {
      // Choosing a visibility now supersedes a scheduled publish: a post made private stays private.
      patch.visibility = changes.visibility;
      if (post.publishJobId) await ctx.scheduler.cancel(post.publishJobId);
      patch.publishAt = undefined;
      patch.publishJobId = undefined;
    }
    await ctx.db.patch("posts", post._id, patch);
    await recordPostChange(ctx, post, await ctx.db.get("posts", post._id));
    return null;
  },
});

export const remove = authedMutation({
  args: { id: v.id("posts") },
  returns: v.null(),
  handler: async (ctx, { id }) => {
    const post = await removablePost(ctx, ctx.viewer, id);
    if (post.publishJobId) await ctx.scheduler.cancel(post.publishJobId);
    await ctx.db.delete("posts", post._id);
    await recordPostChange(ctx, post, null);
    return null;
  },
});

export const get = authedQuery({
  args: { id: v.id("posts") },
  returns: postValidator,
  handler: async (ctx, { id }) => toPostView(await readablePost(ctx, ctx.viewer, id)),
});

/**
 * The viewer's post count against their plan's quota, from the maintained per-author totals (one
 * indexed read, however many posts). `limit` is null on a plan without a quota.
 */
export const quota = authedQuery({
  args: {},
  returns: v.object({ used: v.number(), limit: v.union(v.number(), v.null()) }),
  handler: async (ctx) => {
    const stats = await ctx.db
      .query("authorStats")
      .withIndex("by_author", (q) => q.eq("authorId", ctx.viewer.clerkId))
      .unique();
    return { used: stats?.total ?? 0, limit: hasPro(ctx.viewer) ? null : FREE_POST_QUOTA };
  },
});

export const listMine = authedQuery({
  args: { paginationOpts: paginationOptsValidator },
  returns: pageOf(postValidator),
  handler: async (ctx, { paginationOpts }) => {
    const result = await paginateChecked(paginationOpts, (opts) =>
      ctx.db
        .query("posts")
        .withIndex("by_author", (q) => q.eq("authorId", ctx.viewer.clerkId))
        .order("desc")
        .paginate(opts),
    );
    return { ...result, page: result.page.map(toPostView) };
  },
});

/**
 * The public feed, newest first, readable signed out too (the landing's "public feed" link). Each
 * post carries its author's display name, never their email. A deleted account is still refused
 * (UNAUTHENTICATED, so the app signs it out), as everywhere.
 */
export const listPublic = publicQuery({
  args: { paginationOpts: paginationOptsValidator },
  returns: pageOf(publicPostValidator),
  handler: async (ctx, { paginationOpts }) => {
    const result = await paginateChecked(paginationOpts, (opts) =>
      ctx.db
        .query("posts")
        .withIndex("by_visibility", (q) => q.eq("visibility", "public"))
        .order("desc")
        .paginate(opts),
    );
    const names = await authorNames(
      ctx,
      result.page.map((post) => post.authorId),
    );
    return {
      ...result,
      page: result.page.map((post) => ({
        ...toPostView(post),
        authorName: names.get(post.authorId) ?? UNNAMED_AUTHOR,
      })),
    };
  },
});

export const schedulePublish = planMutation("pro")({
  args: { id: v.id("posts"), publishAt: v.number() },
  returns: v.null(),
  handler: async (ctx, { id, publishAt }) => {
    const post = await ownPostForWrite(ctx, ctx.viewer, id);
    parseInput(publishAtInput, publishAt);
    if (post.publishJobId) await ctx.scheduler.cancel(post.publishJobId);
    const publishJobId = await ctx.scheduler.runAt(publishAt, internal.posts.publishDue, {
      id: post._id,
      publishAt,
    });
    await ctx.db.patch("posts", post._id, { publishAt, publishJobId, updatedAt: Date.now() });
    return null;
  },
});

/**
 * Cancels a scheduled publish: the job is cancelled and the post stays as it is. Only the author,
 * on any plan (someone who has left Pro can still call off what they scheduled); idempotent.
 */
export const cancelSchedule = authedMutation({
  args: { id: v.id("posts") },
  returns: v.null(),
  handler: async (ctx, { id }) => {
    const post = await ownPostForWrite(ctx, ctx.viewer, id);
    if (post.publishJobId) await ctx.scheduler.cancel(post.publishJobId);
    if (post.publishAt !== undefined || post.publishJobId !== undefined) {
      await ctx.db.patch("posts", post._id, {
        publishAt: undefined,
        publishJobId: undefined,
        updatedAt: Date.now(),
      });
    }
    return null;
  },
});

/**
 * Runs on the Convex scheduler at `publishAt`. A rescheduled or deleted post is left alone, and
 * the author's authority is checked again now, not trusted from scheduling time: a deleted
 * author or one no longer on the pro plan publishes nothing.
 */
export const publishDue = internalMutation({
  args: { id: v.id("posts"), publishAt: v.number() },
  returns: v.null(),
  handler: async (ctx, { id, publishAt }) => {
    const post = await ctx.db.get("posts", id);
    if (post === null || post.publishAt !== publishAt) return null;
    const allowed = await authorMayStillPublish(ctx, post.authorId);
    await ctx.db.patch("posts", id, {
      ...(allowed ? { visibility: "public" as const } : {}),
      publishAt: undefined,
      publishJobId: undefined,
      updatedAt: Date.now(),
    });
    await recordPostChange(ctx, post, await ctx.db.get("posts", id));
    return null;
  },
});

/** Deletes a deleted user's posts and statistics in batches, so no transaction grows with their data. */
export const deleteAllByAuthor = internalMutation({
  args: { authorId: v.string() },
  returns: v.null(),
  handler: async (ctx, { authorId }) => {
    await deletePostsByAuthor(ctx, authorId);
    return null;
  },
});
