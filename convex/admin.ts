import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { internalMutation, internalQuery } from "./_generated/server";
import { internal } from "./_generated/api";
import { updatePublicMetadata } from "./lib/clerk";
import { fail } from "./lib/errors";
import { adminAction, adminQuery } from "./lib/functions";
import { canSetRole } from "./lib/permissions";
import { consumeWriteToken } from "./lib/rateLimit";
import { adminUserValidator, pageOf, plan, role } from "./lib/validators";
import { requireAdmin, requireProvisionedViewer, userByClerkId, type Viewer } from "./lib/viewer";

const auditDetails = v.optional(v.record(v.string(), v.union(v.string(), v.number(), v.boolean(), v.null())));

export const listUsers = adminQuery({
  args: { paginationOpts: paginationOptsValidator },
  returns: pageOf(adminUserValidator),
  handler: async (ctx, { paginationOpts }) => {
    const result = await ctx.db.query("users").order("desc").paginate(paginationOpts);
    return {
      ...result,
      page: result.page.map((u) => ({
        clerkId: u.clerkId,
        email: u.email,
        name: u.name,
        imageUrl: u.imageUrl,
        role: u.role,
        plan: u.plan,
        synced: u.synced,
        deletedAt: u.deletedAt,
      })),
    };
  },
});

export const auditLog = adminQuery({
  args: { paginationOpts: paginationOptsValidator },
  returns: pageOf(
    v.object({
      _id: v.id("auditLog"),
      _creationTime: v.number(),
      action: v.string(),
      actor: v.string(),
      target: v.optional(v.string()),
      details: auditDetails,
    }),
  ),
  handler: async (ctx, { paginationOpts }) =>
    await ctx.db.query("auditLog").order("desc").paginate(paginationOpts),
});

export const setRole = adminAction({
  args: { clerkId: v.string(), role },
  returns: v.null(),
  handler: async (ctx, { clerkId, role }) => {
    if (!canSetRole(ctx.viewer.clerkId, ctx.viewer, clerkId, role)) {
      fail("FORBIDDEN", "You cannot remove your own admin role");
    }
    await ctx.runQuery(internal.admin.requireLiveUser, { clerkId });
    await updatePublicMetadata(clerkId, { role });
    await ctx.runMutation(internal.admin.recordAudit, {
      action: "admin.setRole",
      actor: ctx.viewer.clerkId,
      target: clerkId,
      details: { role },
    });
    return null;
  },
});

export const setPlan = adminAction({
  args: { clerkId: v.string(), plan },
  returns: v.null(),
  handler: async (ctx, { clerkId, plan }) => {
    await ctx.runQuery(internal.admin.requireLiveUser, { clerkId });
    await updatePublicMetadata(clerkId, { plan });
    await ctx.runMutation(internal.admin.recordAudit, {
      action: "admin.setPlan",
      actor: ctx.viewer.clerkId,
      target: clerkId,
      details: { plan },
    });
    return null;
  },
});

/** Runs before every admin action: freshest-source admin check, tombstone denial, rate limit. */
export const authorizeAdminWrite = internalMutation({
  args: {},
  handler: async (ctx): Promise<Viewer> => {
    const viewer = requireAdmin(await requireProvisionedViewer(ctx));
    await consumeWriteToken(ctx, viewer.clerkId);
    return viewer;
  },
});

/** Admin changes target users Gatehouse knows and that are not deleted. */
export const requireLiveUser = internalQuery({
  args: { clerkId: v.string() },
  returns: v.null(),
  handler: async (ctx, { clerkId }) => {
    const user = await userByClerkId(ctx, clerkId);
    if (user === null || user.deletedAt !== undefined) fail("NOT_FOUND", "No such user");
    return null;
  },
});

export const recordAudit = internalMutation({
  args: { action: v.string(), actor: v.string(), target: v.optional(v.string()), details: auditDetails },
  returns: v.null(),
  handler: async (ctx, entry) => {
    await ctx.db.insert("auditLog", entry);
    return null;
  },
});
