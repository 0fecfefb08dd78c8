import { paginationOptsValidator, type WithoutSystemFields } from "convex/server";
import type { Doc, Id } from "./_generated/dataModel";
import { v } from "convex/values";
import { internalMutation, internalQuery, type MutationCtx, type QueryCtx } from "./_generated/server";
import { internal } from "./_generated/api";
import { updatePublicMetadata } from "./lib/clerk";
import { fail } from "./lib/errors";
import { adminAction, adminQuery } from "./lib/functions";
import { reconcileSummaryValidator, reconcileUsers as reconcileUsersWithClerk } from "./lib/reconcile";
import { clearDemotions, reserveDemotion } from "./lib/lastAdmin";
import { isSelfDemotion } from "./lib/permissions";
import { claimWriteToken, consumeWriteToken, releaseWriteClaim } from "./lib/rateLimit";
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
    const actor = ctx.viewer.clerkId;
    const reservation = await ctx.runMutation(internal.admin.reserveRoleChange, { actor, clerkId, role });
    try {
      await updatePublicMetadata(clerkId, { role });
    } catch (error) {
      // Clerk refused: the demotion did not happen, so it no longer counts as done.
      if (reservation !== null) await ctx.runMutation(internal.admin.releaseRoleChange, { reservation });
      throw error;
    }
    await ctx.runMutation(internal.admin.recordRoleChange, { actor, clerkId, role });
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

/**
 * Compares the users table with Clerk's user list now (the daily cron does the same) and
 * repairs missing, stale and deleted rows; returns what it did. See lib/reconcile.ts.
 */
export const reconcileUsers = adminAction({
  args: {},
  returns: reconcileSummaryValidator,
  handler: async (ctx) => {
    const summary = await reconcileUsersWithClerk(ctx, ctx.viewer.clerkId);
    await ctx.runMutation(internal.admin.recordChange, {
      action: "users.reconcile",
      actor: ctx.viewer.clerkId,
      details: summary,
    });
    return summary;
  },
});

/**
 * Runs before every admin action (lib/functions.ts): freshest-source admin check, tombstone
 * denial, and a write token claimed for the action's run. Refused, it writes nothing.
 */
export const authorizeAdmin = internalMutation({
  args: {},
  handler: async (ctx): Promise<{ viewer: Viewer; claim: Id<"writeClaims"> }> => {
    const viewer = requireAdmin(await requireViewer(ctx));
    return { viewer, claim: await claimWriteToken(ctx, viewer.clerkId) };
  },
});

/** Runs after every admin action, whatever its outcome: its claim on a write token ends. */
export const releaseAdminClaim = internalMutation({
  args: { claim: v.id("writeClaims") },
  returns: v.null(),
  handler: async (ctx, { claim }) => {
    await releaseWriteClaim(ctx, claim);
    return null;
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

/** Before Clerk is asked: the last-admin lock-out, and a demotion reserved (lib/lastAdmin.ts). */
export const reserveRoleChange = internalMutation({
  args: { actor: v.string(), clerkId: v.string(), role },
  returns: v.union(v.id("pendingDemotions"), v.null()),
  handler: async (ctx, { actor, clerkId, role }) => {
    if (!isSelfDemotion(actor, clerkId, role)) await liveUser(ctx, clerkId);
    return await reserveDemotion(ctx, actor, clerkId, role);
  },
});

export const releaseRoleChange = internalMutation({
  args: { reservation: v.id("pendingDemotions") },
  returns: v.null(),
  handler: async (ctx, { reservation }) => {
    if (await ctx.db.get("pendingDemotions", reservation))
      await ctx.db.delete("pendingDemotions", reservation);
    return null;
  },
});

/** After Clerk accepted a role change: a promotion supersedes earlier demotions; then the audit. */
export const recordRoleChange = internalMutation({
  args: { actor: v.string(), clerkId: v.string(), role },
  returns: v.null(),
  handler: async (ctx, { actor, clerkId, role }) => {
    if (role === "admin") await clearDemotions(ctx, clerkId);
    await recordAdminChange(ctx, { action: "admin.setRole", actor, target: clerkId, details: { role } });
    return null;
  },
});

type AuditEntry = WithoutSystemFields<Doc<"auditLog">>;

/** After Clerk accepted the change: charge the admin's write token and append the audit entry. */
async function recordAdminChange(ctx: MutationCtx, entry: AuditEntry) {
  await consumeWriteToken(ctx, entry.actor, { enforce: false });
  await ctx.db.insert("auditLog", entry);
}

export const recordChange = internalMutation({
  args: { action: v.string(), actor: v.string(), target: v.optional(v.string()), details: auditDetails },
  returns: v.null(),
  handler: async (ctx, entry) => {
    await recordAdminChange(ctx, entry);
    return null;
  },
});
