import { v, type Infer } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { postValidator } from "./validators";
import { userByClerkId } from "./users";

/** What the public feed shows for an author with no usable name (never their email: it is private). */
export const UNNAMED_AUTHOR = "A Gatehouse member";

/**
 * A post as anyone may see it, signed in or not: the post's own fields (the author's Clerk id is
 * an opaque public identifier that grants nothing; `security/authzOverTheWire.test.ts` shows writes
 * with it refused) plus the author's display name. Never the author's email, avatar, role or plan.
 */
export const publicPostValidator = v.object({
  ...postValidator.fields,
  authorName: v.string(),
});
export type PublicPostView = Infer<typeof publicPostValidator>;

/**
 * The display name for a users row: its name, else the generic label (missing or deleted rows too).
 * A provisional row (before Clerk's webhook) holds only token claims, whose `name` an identity
 * provider may fill with the email address: it shows the generic label until the webhook lands.
 */
export function displayName(row: Doc<"users"> | null): string {
  if (row === null || row.deletedAt !== undefined || !row.synced) return UNNAMED_AUTHOR;
  const name = row.name.trim();
  return name === "" ? UNNAMED_AUTHOR : name;
}

/**
 * Display names of a page's authors: one indexed lookup per distinct author, so a page of n posts
 * reads at most n users rows besides its n posts, however big the tables are.
 */
export async function authorNames(ctx: QueryCtx, authorIds: readonly string[]): Promise<Map<string, string>> {
  const distinct = [...new Set(authorIds)];
  const rows = await Promise.all(distinct.map((id) => userByClerkId(ctx, id)));
  return new Map(distinct.map((id, i) => [id, displayName(rows[i] ?? null)]));
}
