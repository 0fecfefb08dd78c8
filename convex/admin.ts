import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { internalMutation, internalQuery, type QueryCtx } from "./_generated/server";
import { internal } from "./_generated/api";
import { updatePublicMetadata } from "./lib/clerk";
import { fail } from "./lib/errors";
import { adminAction, adminQuery } from "./lib/functions";
import { canSetRole } from "./lib/permissions";
import { assertWriteTokenAvailable, consumeWriteToken } from "./lib/rateLimit";
import { adminUserValidator, pageOf, plan, role } from "./lib/validators";
import { requireAdmin, requireViewer, userByClerkId, type Viewer } from "./lib/viewer";
import { paginateChecked } from "./lib/pagination";

const auditDetails = v.optional(v.record(v.string(), v.union(v.string(), v.number(), v.boolean(), v.null())));

export const listUsers = adminQuery({
  args: { paginationOpts: paginationOptsValidator },
  returns: pageOf(adminUserValidator),
  handler: async (ctx, { paginationOpts }) => {
    const result = await paginateChecked(paginationOpts, (opts) =>
      ctx.db.query("users").order("desc").paginate(opts),
    );
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
    await paginateChecked(paginationOpts, (opts) => ctx.db.query("auditLog").order("desc").paginate(opts)),
});

export const setRole = adminAction({
  args: { clerkId: v.string(), role },
  returns: v.null(),
  handler: async (ctx, { clerkId, role }) => {
    await ctx.runQuery(internal.admin.checkRoleChange, { actor: ctx.viewer.clerkId, clerkId, role });
    await updatePublicMetadata(clerkId, { role });
    await ctx.runMutation(internal.admin.recordChange, {
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
    await ctx.runMutation(internal.admin.recordChange, {
      action: "admin.setPlan",
      actor: ctx.viewer.clerkId,
      target: clerkId,
      details: { plan },
    });
    return null;
  },
});

/** Runs before every admin action: freshest-source admin check, tombstone denial, a write token available. */
export const authorizeAdmin = internalQuery({
  args: {},
  handler: async (ctx): Promise<Viewer> => {
    const viewer = requireAdmin(await requireViewer(ctx));
    await assertWriteTokenAvailable(ctx, viewer.clerkId);
    return viewer;
  },
});

async function liveUser(ctx: QueryCtx, clerkId: string) {
  const user = await userByClerkId(ctx, clerkId);
  if (user === null || user.deletedAt !== undefined) fail("NOT_FOUND", "No such user");
  return user;
}

/** Admin changes target users Gatehouse knows and that are not deleted. */
export const requireLiveUser = internalQuery({
  args: { clerkId: v.string() },
  returns: v.null(),
  handler: async (ctx, { clerkId }) => {
    await liveUser(ctx, clerkId);
    return null;
  },
});

/**
 * The last-admin lock-out: nobody removes their own admin role, and no demotion may leave
 * the deployment without an admin. (Rows follow Clerk through webhooks, so two admins demoting
 * each other within one webhook delivery can still race; each refuses once the other's lands.)
 */
export const checkRoleChange = internalQuery({
  args: { actor: v.string(), clerkId: v.string(), role },
  returns: v.null(),
  handler: async (ctx, { actor, clerkId, role }) => {
    const target = await liveUser(ctx, clerkId);
    if (role === "admin" || target.role !== "admin") return null;
    if (!canSetRole(actor, { role: "admin", plan: "free_user" }, clerkId, role)) {
      fail("FORBIDDEN", "You cannot remove your own admin role");
    }
    const admins = await ctx.db
      .query("users")
      .withIndex("by_role", (q) => q.eq("role", "admin"))
      .take(2);
    if (admins.length < 2) fail("FORBIDDEN", "The last admin cannot be demoted");
    return null;
  },
});

/** After Clerk accepted the change: charge the admin's write token and append the audit entry. */
export const recordChange = internalMutation({
  args: { action: v.string(), actor: v.string(), target: v.optional(v.string()), details: auditDetails },
  returns: v.null(),
  handler: async (ctx, entry) => {
    await consumeWriteToken(ctx, entry.actor, { enforce: false });
    await ctx.db.insert("auditLog", entry);
    return null;
  },
});
