import type { UserIdentity } from "convex/server";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { fail } from "./errors";
import { decidePlan, parseOverride, planFromPlaClaim } from "./billing";
import { parsePlan, parseRole, planIncludes, type Plan, type Privileges, type Role } from "./permissions";
import { userByClerkId } from "./users";

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

type TokenClaims = Privileges & { asOfMs: number | undefined };

/**
 * Role and plan as the session token states them (Clerk public metadata via the `metadata`
 * claim), and the Clerk time those claims are as of. OIDC identities keep `metadata` as an
 * object; customJwt identities flatten it to `metadata.role`. Unsafe metadata is never read.
 *
 * Freshness: Convex does not expose `iat` to functions, so the session token carries the
 * user's `updated_at` (`"user_updated_at": "{{user.updated_at}}"`), on the same clock as the
 * webhook's `data.updated_at` stored in `users.clerkUpdatedAt`. `iat` is used when an identity
 * has it and the claim is missing.
 *
 * The plan follows the same rule as the users row (lib/billing.ts `decidePlan`): an
 * administrator's `metadata.planOverride`, else Clerk Billing's `pla` claim, else `metadata.plan`.
 */
export function tokenClaims(identity: UserIdentity): TokenClaims {
  const metadata = identity["metadata"];
  const nested = metadata && typeof metadata === "object" ? (metadata as Record<string, unknown>) : {};
  const userUpdatedAt = identity["user_updated_at"];
  const iat = identity["iat"];
  const { plan } = decidePlan({
    override: parseOverride(nested["planOverride"] ?? identity["metadata.planOverride"]),
    billing: planFromPlaClaim(identity["pla"]),
    metadata: parsePlan(nested["plan"] ?? identity["metadata.plan"]),
  });
  return {
    role: parseRole(nested["role"] ?? identity["metadata.role"]),
    plan,
    asOfMs:
      typeof userUpdatedAt === "number" ? userUpdatedAt : typeof iat === "number" ? iat * 1000 : undefined,
  };
}

/** Least privilege of two sources: admin only if both say admin, pro only if both say pro. */
function lesser(a: Privileges, b: Privileges): Privileges {
  return {
    role: a.role === "admin" && b.role === "admin" ? "admin" : "user",
    plan: a.plan === "pro" && b.plan === "pro" ? "pro" : "free_user",
  };
}

/**
 * The freshest trusted source wins. A synced row (written only from verified webhooks)
 * holds Clerk's state as of `clerkUpdatedAt`; a token holds it as of `asOfMs`. The row wins
 * ties. When the token's freshness is unknown, neither can be trusted to be newer, so the
 * caller gets the lesser of the two: a lost demotion webhook can then never keep a privilege
 * alive. A provisional row never outranks the token: it was copied from a token.
 */
export function effectivePrivileges(claims: TokenClaims, row: Doc<"users"> | null): Privileges {
  const token = { role: claims.role, plan: claims.plan };
  if (!row?.synced) return token;
  const synced = { role: row.role, plan: row.plan };
  if (claims.asOfMs === undefined) return lesser(synced, token);
  return row.clerkUpdatedAt >= claims.asOfMs ? synced : token;
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
