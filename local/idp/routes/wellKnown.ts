import { ok } from "../http.ts";
import type { SigningKey } from "../keys.ts";
import type { Route } from "./route.ts";

/**
 * OIDC discovery and JWKS, which Convex fetches to verify session tokens: it requires `issuer`
 * to equal the token's `iss` character for character, and follows `jwks_uri`. The remaining
 * fields are what strict OIDC discovery parsers require; the IdP has no OAuth authorization
 * flow (sign-in is /v1/dev/sign_in), so `authorization_endpoint` is only a placeholder.
 */
export function wellKnownRoutes(issuer: string, key: SigningKey): Route[] {
  const discovery = {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    response_types_supported: ["code"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["RS256"],
    scopes_supported: ["openid", "email", "profile"],
    claims_supported: ["iss", "sub", "aud", "iat", "exp", "nbf", "sid", "azp", "name", "email", "metadata"],
  };
  return [
    {
      method: "GET",
      pattern: /^\/\.well-known\/openid-configuration$/,
      access: "browser",
      handle: () => ok(discovery),
    },
    {
      method: "GET",
      pattern: /^\/\.well-known\/jwks\.json$/,
      access: "browser",
      handle: () => ok({ keys: [key.publicJwk] }),
    },
  ];
}
