/** The users table as the rest of the backend reads it: one row per Clerk user, by Clerk id. */
import type { QueryCtx } from "../_generated/server";
import { fail } from "./errors";

export function userByClerkId(ctx: QueryCtx, clerkId: string) {
  return ctx.db
    .query("users")
    .withIndex("by_clerkId", (q) => q.eq("clerkId", clerkId))
    .unique();
}

/** A user Gatehouse knows and who is not deleted, or NOT_FOUND (what admin changes act on). */
export async function liveUser(ctx: QueryCtx, clerkId: string) {
  const user = await userByClerkId(ctx, clerkId);
  if (user === null || user.deletedAt !== undefined) fail("NOT_FOUND", "No such user");
  return user;
}
