import { paginationOptsValidator } from "convex/server";
import type { Doc, Id } from "./_generated/dataModel";
import { v } from "convex/values";
import { internalMutation, internalQuery } from "./_generated/server";
import { internal } from "./_generated/api";
import { billingPlanOf } from "./lib/billing";
import { itemsOf } from "./lib/billingSync";
import { updatePublicMetadata } from "./lib/clerk";
import { fail } from "./lib/errors";
import { adminAction, adminQuery } from "./lib/functions";
import { reconcileSummaryValidator, reconcileUsers as reconcileUsersWithClerk } from "./lib/reconcile";
import { clearDemotions, refuseSelfDemotion, reserveDemotion } from "./lib/lastAdmin";
import { claimWriteToken, releaseWriteClaim } from "./lib/rateLimit";
import { adminUserValidator, pageOf, plan, role } from "./lib/validators";
import { requireAdmin, requireViewer, type Viewer } from "./lib/viewer";
import { liveUser } from "./lib/users";
import { paginateChecked } from "./lib/pagination";
import { readableEntries, recordAdminChange } from "./lib/audit";

const auditDetails = v.optional(v.record(v.string(), v.union(v.string(), v.number(), v.boolean(), v.null())));

/** Longest search text; a search matches a name or an email containing it (any case). */
export const MAX_SEARCH_LENGTH = 100;

const userFilter = {
  /** Name or email contains this (case-insensitive). */
  search: v.optional(v.string()),
  role: v.optional(role),
  plan: v.optional(plan),
};

/**
 * Users, newest first, narrowed by role and plan through an index. With `search`, each page reads
 * `numItems` users of that range (at most MAX_PAGE_SIZE) and returns those whose name or email
 * contains the text: a page may hold fewer matches than it read (even none) and still not be the
 * last; the admin page asks for further pages until it has enough or the list ends.
 */
export const listUsers = adminQuery({
  args: { paginationOpts: paginationOptsValidator, ...userFilter },
  returns: pageOf(adminUserValidator),
  handler: async (ctx, { paginationOpts, search, role, plan }) => {
    const needle = (search ?? "").trim().toLowerCase();
    if (needle.length > MAX_SEARCH_LENGTH) {
      fail("INVALID_INPUT", `Search for at most ${MAX_SEARCH_LENGTH} characters`, {
        issues: [{ path: "search", message: "too long" }],
      });
    }
    const result = await paginateChecked(paginationOpts, (opts) => {
      const users = ctx.db.query("users");
      if (role !== undefined && plan !== undefined)
        return users
          .withIndex("by_role_plan", (q) => q.eq("role", role).eq("plan", plan))
          .order("desc")
          .paginate(opts);
      if (role !== undefined)
        return users
          .withIndex("by_role", (q) => q.eq("role", role))
          .order("desc")
          .paginate(opts);
      if (plan !== undefined)
        return users
          .withIndex("by_plan", (q) => q.eq("plan", plan))
          .order("desc")
          .paginate(opts);
      return users.order("desc").paginate(opts);
    });
    const matches = (u: Doc<"users">) =>
      needle === "" || u.name.toLowerCase().includes(needle) || u.email.toLowerCase().includes(needle);
    return {
      ...result,
      page: result.page.filter(matches).map((u) => ({
        clerkId: u.clerkId,
        email: u.email,
        name: u.name,
        imageUrl: u.imageUrl,
        role: u.role,
        plan: u.plan,
        planOverride: u.planOverride,
        synced: u.synced,
        deletedAt: u.deletedAt,
      })),
    };
  },
});

const auditKind = v.union(v.literal("role"), v.literal("plan"), v.literal("sync"), v.literal("account"));

/**
 * The audit log, newest first; every entry says its `kinds`.
 *
 * - `fold` (default false): with it, Clerk's webhook echo of an admin's role or plan change is
 *   folded into that change's entry (as `echo`), by the link stored when the two were paired
 *   (lib/audit.ts); without it, every entry is listed as recorded, echoes as their own entries.
 * - `kind` / `person` (a Clerk id, as actor or target) narrow either of the two, folded or not.
 *
 * Each page reads `numItems` entries and returns those that remain, so a folded or narrowed page
 * may hold fewer than it read (even none) and still not be the last; the admin page asks for
 * further pages until it has enough or the log ends.
 */
export const auditLog = adminQuery({
  args: {
    paginationOpts: paginationOptsValidator,
    fold: v.optional(v.boolean()),
    kind: v.optional(auditKind),
    person: v.optional(v.string()),
  },
  returns: pageOf(
    v.object({
      _id: v.id("auditLog"),
      _creationTime: v.number(),
      action: v.string(),
      actor: v.string(),
      target: v.optional(v.string()),
      details: auditDetails,
      echoedBy: v.optional(v.id("auditLog")),
      echoOf: v.optional(
        v.object({ role: v.optional(v.id("auditLog")), plan: v.optional(v.id("auditLog")) }),
      ),
      kinds: v.array(auditKind),
      echo: v.optional(
        v.object({ _id: v.id("auditLog"), _creationTime: v.number(), svixId: v.union(v.string(), v.null()) }),
      ),
    }),
  ),
  handler: async (ctx, { paginationOpts, fold, kind, person }) => {
    const result = await paginateChecked(paginationOpts, (opts) =>
      ctx.db.query("auditLog").order("desc").paginate(opts),
    );
    return {
      ...result,
      page: await readableEntries(ctx, result.page, { fold: fold ?? false, kind, person }),
    };
  },
});

export const setRole = adminAction({
  args: { clerkId: v.string(), role },
  returns: v.null(),
  handler: async (ctx, { clerkId, role }) => {
    const actor = ctx.viewer.clerkId;
    // The role before is the one the reservation's check read (one transaction, no separate read).
    const { reservation, from } = await ctx.runMutation(internal.admin.reserveRoleChange, {
      actor,
      clerkId,
      role,
    });
    try {
      await updatePublicMetadata(clerkId, { role });
    } catch (error) {
      // Clerk refused: the demotion did not happen, so it no longer counts as done.
      if (reservation !== null) await ctx.runMutation(internal.admin.releaseRoleChange, { reservation });
      throw error;
    }
    await ctx.runMutation(internal.admin.recordRoleChange, { actor, clerkId, role, from });
    return null;
  },
});

/**
 * An administrator's plan for a user: an override that wins over their subscription until it is
 * lifted (ADR 009). `plan: null` lifts it, and the subscription (or, without one, Free) decides
 * again. Both are written to Clerk's public metadata (`planOverride`, and `plan` for the token);
 * Clerk's user.updated then changes the users row.
 */
export const setPlan = adminAction({
  args: { clerkId: v.string(), plan: v.union(plan, v.null()) },
  returns: v.null(),
  handler: async (ctx, { clerkId, plan }) => {
    // One read checks the user and gives the plan before (as setRole's reservation does for roles).
    const before = await ctx.runQuery(internal.admin.requireLiveUser, { clerkId });
    const to = plan ?? before.subscriptionPlan;
    await updatePublicMetadata(clerkId, { plan: to, planOverride: plan });
    // Before → after, so the log reads "Free → Pro"; Clerk's echo of it is paired with it (lib/audit.ts).
    await ctx.runMutation(internal.admin.recordChange, {
      action: "admin.setPlan",
      actor: ctx.viewer.clerkId,
      target: clerkId,
      details: { plan: to, from: before.plan, ...(plan === null ? { override: "lifted" } : {}) },
    });
    return null;
  },
});

/**
 * Compares the users table with Clerk's user list now (the daily cron does the same) and
 * repairs missing, stale and deleted rows; returns what it did. See lib/reconcile.ts.
 */
/**
 * How long an administrator's sync reads subscriptions before handing the rest to a scheduled
 * continuation: the admin page waits up to a minute for the whole answer.
 */
const ADMIN_BILLING_BUDGET_MS = 20_000;

export const reconcileUsers = adminAction({
  args: {},
  returns: reconcileSummaryValidator,
  handler: async (ctx) => {
    const summary = await reconcileUsersWithClerk(ctx, ctx.viewer.clerkId, ADMIN_BILLING_BUDGET_MS);
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

/**
 * Admin changes target users Gatehouse knows and that are not deleted; returns their role and plan
 * now, and the plan their subscription alone gives (Free without one).
 */
export const requireLiveUser = internalQuery({
  args: { clerkId: v.string() },
  returns: v.object({ role, plan, subscriptionPlan: plan }),
  handler: async (ctx, { clerkId }) => {
    const user = await liveUser(ctx, clerkId);
    const subscriptionPlan = billingPlanOf(await itemsOf(ctx, clerkId), Date.now()) ?? "free_user";
    return { role: user.role, plan: user.plan, subscriptionPlan };
  },
});

/**
 * Before Clerk is asked: the target is a live user, the last-admin lock-out, and a demotion
 * reserved (lib/lastAdmin.ts). Returns the reservation and the role the row had as this read it,
 * for the audit's "before".
 */
export const reserveRoleChange = internalMutation({
  args: { actor: v.string(), clerkId: v.string(), role },
  returns: v.object({ reservation: v.union(v.id("pendingDemotions"), v.null()), from: role }),
  handler: async (ctx, { actor, clerkId, role: to }) => {
    // A self-demotion is refused from the arguments alone, before any row is read (as reserveDemotion does).
    refuseSelfDemotion(actor, clerkId, to);
    const user = await liveUser(ctx, clerkId);
    return { reservation: await reserveDemotion(ctx, actor, clerkId, to), from: user.role };
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
  args: { actor: v.string(), clerkId: v.string(), role, from: v.optional(role) },
  returns: v.null(),
  handler: async (ctx, { actor, clerkId, role, from }) => {
    if (role === "admin") await clearDemotions(ctx, clerkId);
    await recordAdminChange(ctx, {
      action: "admin.setRole",
      actor,
      target: clerkId,
      details: from === undefined ? { role } : { role, from },
    });
    return null;
  },
});

export const recordChange = internalMutation({
  args: { action: v.string(), actor: v.string(), target: v.optional(v.string()), details: auditDetails },
  returns: v.null(),
  handler: async (ctx, entry) => {
    await recordAdminChange(ctx, entry);
    return null;
  },
});
