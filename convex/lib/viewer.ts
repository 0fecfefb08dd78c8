import type { UserIdentity } from "convex/server";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { fail } from "./errors";
import { parsePlan, parseRole, planIncludes, type Plan, type Privileges, type Role } from "./permissions";

/** The caller as every function sees it: resolved once, from verified sources only. */
export type Viewer = {
  clerkId: string;
  email: string;
  name: string;
  imageUrl: string;
  role: Role;
  plan: Plan;
  synced: boolean;
  userId: Id<"users"> | null;
};

type TokenClaims = Privileges & { issuedAtMs: number | undefined };

/**
 * Role and plan as the session token states them (Clerk public metadata via the
 * `metadata` claim). OIDC identities keep the claim as an object; customJwt identities
 * flatten it to `metadata.role`. Unsafe metadata is never read.
 */
export function tokenClaims(identity: UserIdentity): TokenClaims {
  const metadata = identity["metadata"];
  const nested = metadata && typeof metadata === "object" ? (metadata as Record<string, unknown>) : {};
  const iat = identity["iat"];
  return {
    role: parseRole(nested["role"] ?? identity["metadata.role"]),
    plan: parsePlan(nested["plan"] ?? identity["metadata.plan"]),
    issuedAtMs: typeof iat === "number" ? iat * 1000 : undefined,
  };
}

/**
 * The freshest trusted source wins. A synced row (written only from verified webhooks)
 * holds Clerk's state as of `clerkUpdatedAt`; a token holds it as of `iat`. When the token
 * does not expose `iat` (Convex's OIDC path consumes it) the synced row is the authority.
 * A provisional row never outranks the token: it was copied from a token in the first place.
 */
export function effectivePrivileges(claims: TokenClaims, row: Doc<"users"> | null): Privileges {
  if (row?.synced && (claims.issuedAtMs === undefined || row.clerkUpdatedAt >= claims.issuedAtMs)) {
    return { role: row.role, plan: row.plan };
  }
  return { role: claims.role, plan: claims.plan };
}

export function userByClerkId(ctx: QueryCtx, clerkId: string) {
  return ctx.db
    .query("users")
    .withIndex("by_clerkId", (q) => q.eq("clerkId", clerkId))
    .unique();
}

function viewerFrom(identity: UserIdentity, row: Doc<"users"> | null): Viewer {
  const privileges = effectivePrivileges(tokenClaims(identity), row);
  return {
    clerkId: identity.subject,
    email: row?.synced ? row.email : (identity.email ?? row?.email ?? ""),
    name: row?.synced ? row.name : (identity.name ?? row?.name ?? ""),
    imageUrl: row?.synced ? row.imageUrl : (identity.pictureUrl ?? row?.imageUrl ?? ""),
    ...privileges,
    synced: row?.synced ?? false,
    userId: row?._id ?? null,
  };
}

/** null when signed out; UNAUTHENTICATED when the account is deleted. */
export async function loadViewer(ctx: QueryCtx): Promise<Viewer | null> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) return null;
  const row = await userByClerkId(ctx, identity.subject);
  if (row?.deletedAt !== undefined) fail("UNAUTHENTICATED", "This account has been deleted");
  return viewerFrom(identity, row);
}

export async function requireViewer(ctx: QueryCtx): Promise<Viewer> {
  const viewer = await loadViewer(ctx);
  if (viewer === null) fail("UNAUTHENTICATED", "Sign in to continue");
  return viewer;
}

/**
 * Closes the "signed in before user.created arrived" race: writes a provisional row from
 * the verified token. It copies the token's claims, so it never grants more than the token,
 * and the first webhook for the user overwrites it (clerkUpdatedAt 0 is older than any event).
 */
export async function requireProvisionedViewer(ctx: MutationCtx): Promise<Viewer> {
  const viewer = await requireViewer(ctx);
  if (viewer.userId !== null) return viewer;
  const userId = await ctx.db.insert("users", {
    clerkId: viewer.clerkId,
    email: viewer.email,
    name: viewer.name,
    imageUrl: viewer.imageUrl,
    role: viewer.role,
    plan: viewer.plan,
    clerkUpdatedAt: 0,
    synced: false,
  });
  return { ...viewer, userId };
}

export function requireAdmin<V extends Privileges>(viewer: V): V {
  if (viewer.role !== "admin") fail("FORBIDDEN", "Administrators only");
  return viewer;
}

export function requirePlan<V extends Privileges>(viewer: V, required: Plan): V {
  if (!planIncludes(viewer.plan, required)) {
    fail("UPGRADE_REQUIRED", `This needs the ${required} plan`, { requiredPlan: required });
  }
  return viewer;
}

/** The public shape of a viewer (no internal ids). */
export function publicViewer({ userId: _userId, ...viewer }: Viewer) {
  return viewer;
}
