/**
 * Pure permission predicates. The server enforces them; the client imports the same
 * functions only to hide buttons it would be refused anyway (UX, never security).
 */
export const ROLES = ["user", "admin"] as const;
export const PLANS = ["free_user", "pro"] as const;
export type Role = (typeof ROLES)[number];
export type Plan = (typeof PLANS)[number];

export const FREE_POST_QUOTA = 10;

export type Privileges = { role: Role; plan: Plan };
export type PostRef = { authorId: string; visibility: "private" | "public" };

export const isAdmin = (p: Privileges) => p.role === "admin";
export const hasPro = (p: Privileges) => p.plan === "pro";

/** Plans are ordered; a plan includes everything below it. */
export function planIncludes(plan: Plan, required: Plan): boolean {
  return PLANS.indexOf(plan) >= PLANS.indexOf(required);
}

export const isOwner = (viewerClerkId: string, post: PostRef) => post.authorId === viewerClerkId;

export function canReadPost(viewerClerkId: string, p: Privileges, post: PostRef): boolean {
  return isOwner(viewerClerkId, post) || post.visibility === "public" || isAdmin(p);
}

export const canEditPost = (viewerClerkId: string, post: PostRef) => isOwner(viewerClerkId, post);

export const canRemovePost = (viewerClerkId: string, p: Privileges, post: PostRef) =>
  isOwner(viewerClerkId, post) || isAdmin(p);

export function canCreatePost(p: Privileges, ownPostCount: number): boolean {
  return hasPro(p) || ownPostCount < FREE_POST_QUOTA;
}

/** The last-admin lock-out, first half: nobody removes their own admin role. */
export const isSelfDemotion = (actorClerkId: string, targetClerkId: string, role: Role) =>
  actorClerkId === targetClerkId && role !== "admin";

/** An admin may change anyone's role but may not drop their own. */
export function canSetRole(actorClerkId: string, actor: Privileges, targetClerkId: string, role: Role) {
  return isAdmin(actor) && !isSelfDemotion(actorClerkId, targetClerkId, role);
}

/** Role and plan from Clerk public metadata: anything missing or unknown means least privilege. */
export function parseRole(value: unknown): Role {
  return value === "admin" ? "admin" : "user";
}
export function parsePlan(value: unknown): Plan {
  return value === "pro" ? "pro" : "free_user";
}
