import { SignJWT } from "jose";
import type { SigningKey } from "./keys.ts";
import { tokenMetadata } from "./metadata.ts";
import type { Session } from "./store.ts";
import { displayName, primaryEmail, type UserJson } from "./users.ts";

/** Clerk's default allowed clock skew: `nbf` is backdated by it so a verifier running a little behind accepts the token. */
export const CLOCK_SKEW_SECONDS = 5;

export interface TokenInput {
  key: SigningKey;
  issuer: string;
  user: UserJson;
  session: Session;
  /** The browser origin that asked for the token (Clerk's `azp`), else the issuer. */
  authorizedParty: string;
  nowMs: number;
  lifetimeSeconds: number;
  /** Claims added after today's (the Frontend API's `convex` template adds Clerk's `pla`). */
  extraClaims?: Record<string, unknown>;
}

/**
 * A session token shaped like the one Clerk issues with the Convex integration enabled and the
 * session token customized with `{"metadata": "{{user.public_metadata}}", "user_updated_at":
 * "{{user.updated_at}}"}` (role and plan only; the user's `updated_at`, which tells Convex how fresh
 * these claims are, since Convex does not expose `iat` to functions), plus `name` and `email`. Convex requires `iss`, `sub`, `aud`, `iat`, `exp`; `aud` is a single
 * string because Convex rejects multi-audience tokens.
 */
export function mintSessionToken(input: TokenInput): Promise<string> {
  const { key, issuer, user, session, authorizedParty, nowMs, lifetimeSeconds, extraClaims } = input;
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({
    azp: authorizedParty,
    sid: session.id,
    name: displayName(user),
    email: primaryEmail(user),
    metadata: tokenMetadata(user.public_metadata),
    user_updated_at: user.updated_at,
    ...extraClaims,
  })
    .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" })
    .setIssuer(issuer)
    .setSubject(user.id)
    .setAudience("convex")
    .setIssuedAt(iat)
    .setNotBefore(iat - CLOCK_SKEW_SECONDS)
    .setExpirationTime(iat + lifetimeSeconds)
    .sign(key.privateKey);
}
