import { SignJWT } from "jose";
import { tokenMetadata } from "../metadata.ts";
import { CLOCK_SKEW_SECONDS, mintSessionToken, type TokenInput } from "../tokens.ts";

/** The user's Clerk Billing plan and its features now (`Billing.planOf`, `featuresOf`). */
export interface BillingClaimsInput {
  plan: string;
  features: readonly string[];
}

/** What a token is minted from: today's input (tokens.ts) and the user's billing, without extra claims. */
export type FapiTokenInput = Omit<TokenInput, "extraClaims"> & { billing: BillingClaimsInput };

/**
 * Clerk Billing's claims, user-scoped: `pla` = `u:<plan slug>` (what `has({ plan })` reads) and
 * `fea` = `u:<feature>,…` (`has({ feature })`). They follow the subscription, not public metadata:
 * Clerk's billing leaves metadata alone (Gatehouse's backend mirrors the plan there itself).
 */
export function billingClaims({ plan, features }: BillingClaimsInput): { pla: string; fea: string } {
  return { pla: `u:${plan}`, fea: features.map((f) => `u:${f}`).join(",") };
}

/**
 * The default session token (`getToken()`, `last_active_token`, the `__session` cookie): Clerk's
 * v2 claims (`v`, `fva`, `pla`, `fea`, `sts`) and no `aud`, plus this app's session-token customization
 * (`metadata`, `user_updated_at`, as tokens.ts documents). clerk-js decodes it; it needs `iat`
 * and `exp` to cache it.
 */
export function mintDefaultToken(input: FapiTokenInput): Promise<string> {
  const { key, issuer, user, session, authorizedParty, nowMs, lifetimeSeconds } = input;
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({
    azp: authorizedParty,
    sid: session.id,
    v: 2,
    fva: [Math.floor((nowMs - session.createdAt) / 60_000), -1],
    ...billingClaims(input.billing),
    sts: "active",
    metadata: tokenMetadata(user.public_metadata),
    user_updated_at: user.updated_at,
  })
    .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" })
    .setIssuer(issuer)
    .setSubject(user.id)
    .setIssuedAt(iat)
    .setNotBefore(iat - CLOCK_SKEW_SECONDS)
    .setExpirationTime(iat + lifetimeSeconds)
    .sign(key.privateKey);
}

/**
 * Named JWT templates (`getToken({ template })`). `convex` is exactly the token the dev API mints
 * today (tokens.ts: `aud: "convex"`, `name`, `email`, `metadata`, `user_updated_at`, …) plus `pla`
 * and `fea`.
 */
export const TEMPLATES: Readonly<Record<string, (input: FapiTokenInput) => Promise<string>>> = {
  convex: ({ billing, ...input }) => mintSessionToken({ ...input, extraClaims: billingClaims(billing) }),
};

export function hasTemplate(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(TEMPLATES, name);
}
