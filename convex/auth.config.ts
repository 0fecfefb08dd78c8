import type { AuthConfig } from "convex/server";

// Clerk (or the local IdP, which serves the same OIDC discovery) signs the session token;
// Convex verifies `iss` against this domain and `aud` against "convex".
export default {
  providers: [{ domain: process.env.CLERK_JWT_ISSUER_DOMAIN!, applicationID: "convex" }],
} satisfies AuthConfig;
