/**
 * The last-admin lock-out: no admin removes their own role, and no demotion may leave the
 * deployment without an admin — also while demotions are in flight.
 *
 * Clerk is the single writer of roles; a `users` row follows it only when the webhook lands.
 * Counting admin rows alone lets two admins demote each other before either webhook arrives
 * (both see two admins). So a demotion is reserved in a mutation (Convex serializes mutations
 * that touch the same rows, so two reservations cannot both see the other as remaining) and
 * counted as done until a webhook for that user settles it.
 */
import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { fail } from "./errors";
import { isSelfDemotion, type Role } from "./permissions";

async function pendingDemotionsOf(ctx: MutationCtx, clerkId: string) {
  return await ctx.db
    .query("pendingDemotions")
    .withIndex("by_clerkId", (q) => q.eq("clerkId", clerkId))
    .collect();
}

/** Whether some admin other than `target` keeps the role once every reserved demotion is done. */
async function anotherAdminRemains(ctx: MutationCtx, target: string): Promise<boolean> {
  // Admins are few; the loop stops at the first one that stays.
  for await (const admin of ctx.db.query("users").withIndex("by_role", (q) => q.eq("role", "admin"))) {
    // Only rows Clerk's webhooks wrote count: a provisional row copied a token that may be stale.
    if (admin.clerkId === target || admin.deletedAt !== undefined || !admin.synced) continue;
    if ((await pendingDemotionsOf(ctx, admin.clerkId)).length === 0) return true;
  }
  return false;
}

/**
/** The lock-out's first half, from the arguments alone: nobody removes their own admin role. */
export function refuseSelfDemotion(actor: string, target: string, role: Role): void {
  if (isSelfDemotion(actor, target, role)) fail("FORBIDDEN", "You cannot remove your own admin role");
}

/**
 * Refuses a role change the lock-out forbids; for a demotion, reserves it and returns the
 * reservation (release it if Clerk refuses). A promotion reserves nothing.
 */
export async function reserveDemotion(
  ctx: MutationCtx,
  actor: string,
  target: string,
  role: Role,
): Promise<Id<"pendingDemotions"> | null> {
  // First, and from the arguments alone: a stale row of the actor's must not make this pass.
  refuseSelfDemotion(actor, target, role);
  if (role === "admin") return null;
  if (!(await anotherAdminRemains(ctx, target))) fail("FORBIDDEN", "The last admin cannot be demoted");
  return await ctx.db.insert("pendingDemotions", { clerkId: target, actor, requestedAt: Date.now() });
}

/**
 * A webhook for `clerkId` landed with this role, as of Clerk's `updatedAt` (null for a
 * deletion). The row now tells the truth about a demotion that happened; an admin role newer
 * than the reservation means the user was promoted again since.
 */
export async function settleDemotions(
  ctx: MutationCtx,
  clerkId: string,
  role: Role | null,
  updatedAt: number,
) {
  for (const pending of await pendingDemotionsOf(ctx, clerkId)) {
    if (role !== "admin" || updatedAt > pending.requestedAt)
      await ctx.db.delete("pendingDemotions", pending._id);
  }
}

/** After Clerk accepted a promotion: any earlier demotion of the user is superseded. */
export async function clearDemotions(ctx: MutationCtx, clerkId: string) {
  for (const pending of await pendingDemotionsOf(ctx, clerkId))
    await ctx.db.delete("pendingDemotions", pending._id);
}
