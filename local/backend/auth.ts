/**
 * JWT verification as Convex does it from `convex/auth.config.ts` (`validate_id_token` in
 * https://github.com/get-convex/convex-backend/blob/main/crates/authentication/src/lib.rs):
 * - pick the provider whose normalized domain/issuer equals the token's normalized `iss` and
 *   whose applicationID is in `aud`;
 * - OIDC: discovery at `<iss>/.well-known/openid-configuration` (its `issuer` must match), keys
 *   from `jwks_uri`, RS256/EdDSA only, a single audience = applicationID, `exp`/`iat`/`sub`
 *   required, no clock leeway;
 * - customJwt: JWKS (https or data: URL), the configured algorithm, 5 s leeway.
 * Claims then map to a `UserIdentity` the way Convex maps OIDC (camelCased standard claims,
 * protocol claims dropped, custom claims kept as JSON) or customJwt (flattened custom claims).
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";

export type AuthProviderConfig =
  | { type?: undefined; domain: string; applicationID: string }
  | { type: "customJwt"; issuer: string; jwks: string; algorithm: "RS256" | "ES256"; applicationID?: string };

export type Identity = Record<string, unknown> & { tokenIdentifier: string; subject: string; issuer: string };

/**
 * The key under which an identity's cached query results and convex-test accessors are shared:
 * the whole identity, since any claim may change what a function returns.
 */
export function identityKey(identity: Identity | null): string {
  return identity === null ? "" : JSON.stringify(identity);
}

export type VerifiedToken = { identity: Identity; /** seconds since epoch */ exp: number };

export class AuthFailure extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Adds https:// when there is no scheme, strips trailing slashes: how Convex compares a provider's
 * domain with a token's `iss` (https://github.com/get-convex/convex-backend/blob/main/crates/common/src/auth.rs).
 */
export function normalizeIssuer(value: string): string {
  let v = value.trim();
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(v)) v = `https://${v}`;
  return v.replace(/\/+$/, "");
}

const OIDC_STANDARD: Record<string, string> = {
  name: "name",
  given_name: "givenName",
  family_name: "familyName",
  nickname: "nickname",
  preferred_username: "preferredUsername",
  profile: "profileUrl",
  picture: "pictureUrl",
  website: "websiteUrl",
  email: "email",
  email_verified: "emailVerified",
  gender: "gender",
  birthdate: "birthday",
  zoneinfo: "timezone",
  locale: "language",
  phone_number: "phoneNumber",
  phone_number_verified: "phoneNumberVerified",
};

/**
 * Claims the OIDC library consumes or Convex drops explicitly (`UserIdentity::from_token` in
 * https://github.com/get-convex/convex-backend/blob/main/crates/keybroker/src/broker.rs).
 */
const OIDC_DROPPED = new Set([
  "iss",
  "sub",
  "aud",
  "exp",
  "iat",
  "auth_time",
  "nonce",
  "acr",
  "amr",
  "azp",
  "at_hash",
  "c_hash",
  "jti",
  "nbf",
  "fva",
]);

/** Claims → UserIdentity for an OIDC provider. */
export function oidcIdentity(claims: JWTPayload): Identity {
  const iss = String(claims.iss);
  const sub = String(claims.sub);
  const identity: Identity = { tokenIdentifier: `${iss}|${sub}`, subject: sub, issuer: iss };
  for (const [claim, value] of Object.entries(claims)) {
    if (value === undefined || OIDC_DROPPED.has(claim)) continue;
    const field = OIDC_STANDARD[claim];
    if (field) identity[field] = value;
    else if (claim === "address") {
      const formatted =
        value && typeof value === "object" ? (value as { formatted?: unknown }).formatted : undefined;
      if (typeof formatted === "string") identity["address"] = formatted;
    } else if (claim === "updated_at") {
      identity["updatedAt"] =
        typeof value === "number"
          ? new Date(value * 1000).toISOString().replace(/\.000Z$/, "Z")
          : String(value);
    } else identity[claim] = value;
  }
  // Computed last: a custom claim named tokenIdentifier/subject/issuer must not replace them.
  return { ...identity, tokenIdentifier: `${iss}|${sub}`, subject: sub, issuer: iss };
}

const CUSTOM_JWT_REGISTERED = new Set(["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "fva"]);

function flatten(prefix: string, value: unknown, out: Record<string, unknown>): void {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(prefix ? `${prefix}.${k}` : k, v, out);
  } else out[prefix] = value;
}

/** Claims → UserIdentity for a customJwt provider (nested claims flattened to dotted keys). */
export function customJwtIdentity(claims: JWTPayload): Identity {
  const iss = String(claims.iss);
  const sub = String(claims.sub);
  const identity: Identity = { tokenIdentifier: `${iss}|${sub}`, subject: sub, issuer: iss };
  const custom: Record<string, unknown> = {};
  for (const [claim, value] of Object.entries(claims)) {
    if (value === undefined || CUSTOM_JWT_REGISTERED.has(claim)) continue;
    flatten(claim, value, custom);
  }
  return { ...custom, ...identity };
}

type Discovery = { issuer: string; jwks: JWTVerifyGetKey };

const DISCOVERY_TTL_MS = 5 * 60_000;

export class AuthVerifier {
  private providers: AuthProviderConfig[] = [];
  private readonly discovery = new Map<string, { at: number; value: Promise<Discovery> }>();
  private readonly jwksByUrl = new Map<string, JWTVerifyGetKey>();

  setProviders(providers: AuthProviderConfig[]): void {
    this.providers = providers;
  }

  get providerCount(): number {
    return this.providers.length;
  }

  /** Verifies a JWT; throws AuthFailure, never returns an unverified identity. */
  async verify(token: string): Promise<VerifiedToken> {
    let claims: JWTPayload;
    let alg: string | undefined;
    try {
      claims = decodeJwt(token);
      alg = decodeProtectedHeader(token).alg;
    } catch (error) {
      throw new AuthFailure("InvalidAuthHeader", `Could not parse JWT payload: ${(error as Error).message}`);
    }
    if (typeof claims.iss !== "string")
      throw new AuthFailure("InvalidAuthHeader", "Missing issuer claim in JWT");
    const auds = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const iss = normalizeIssuer(claims.iss);
    const provider = this.providers.find((p) => {
      if (p.type === "customJwt") {
        return (
          (p.applicationID === undefined || auds.includes(p.applicationID)) &&
          normalizeIssuer(p.issuer) === iss
        );
      }
      return auds.includes(p.applicationID) && normalizeIssuer(p.domain) === iss;
    });
    if (!provider) {
      const configured = this.providers
        .map((p) =>
          p.type === "customJwt"
            ? `  Custom JWT: issuer=${p.issuer}, app_id=${p.applicationID ?? "(none)"}`
            : `  OIDC(domain=${p.domain}, app_id=${p.applicationID})`,
        )
        .join("\n");
      throw new AuthFailure(
        "NoAuthProvider",
        `No auth provider found matching the given token (no providers configured for issuer "${claims.iss}" and audience ${JSON.stringify(claims.aud ?? null)}). Check convex/auth.config.ts.\n  Configured providers:\n${configured || "  (none)"}`,
      );
    }
    if (provider.type === "customJwt") return this.verifyCustomJwt(token, provider, alg);
    return this.verifyOidc(token, claims, provider, alg);
  }

  private async verifyOidc(
    token: string,
    claims: JWTPayload,
    provider: { domain: string; applicationID: string },
    alg: string | undefined,
  ): Promise<VerifiedToken> {
    const fail = (detail: string) =>
      new AuthFailure(
        "Unauthenticated",
        `Could not verify OIDC token claim. Check that the token signature is valid and the token hasn't expired. (${detail})`,
      );
    if (alg !== "RS256" && alg !== "EdDSA") throw fail(`unsupported algorithm ${String(alg)}`);
    if (Array.isArray(claims.aud) && claims.aud.length !== 1)
      throw fail("tokens with multiple audiences are rejected");
    let discovery: Discovery;
    try {
      discovery = await this.discover(String(claims.iss));
    } catch (error) {
      throw new AuthFailure(
        "Unauthenticated",
        `Could not fetch the OIDC discovery document: ${(error as Error).message}`,
      );
    }
    try {
      const { payload } = await jwtVerify(token, discovery.jwks, {
        issuer: discovery.issuer,
        audience: provider.applicationID,
        algorithms: ["RS256", "EdDSA"],
        requiredClaims: ["exp", "iat", "sub"],
        clockTolerance: 0,
      });
      if (typeof payload.sub !== "string" || payload.sub === "")
        throw new Error("the sub claim must be a string");
      return { identity: oidcIdentity(payload), exp: Number(payload.exp) };
    } catch (error) {
      throw fail((error as Error).message);
    }
  }

  private async verifyCustomJwt(
    token: string,
    provider: { issuer: string; jwks: string; algorithm: "RS256" | "ES256"; applicationID?: string },
    alg: string | undefined,
  ): Promise<VerifiedToken> {
    if (alg !== provider.algorithm) {
      throw new AuthFailure(
        "Unauthenticated",
        `Invalid JWT: expected algorithm ${provider.algorithm}, got ${String(alg)}`,
      );
    }
    let jwks: JWTVerifyGetKey;
    try {
      jwks = await this.jwksFor(provider.jwks);
    } catch (error) {
      throw new AuthFailure("Unauthenticated", `Could not fetch JWKS: ${(error as Error).message}`);
    }
    try {
      const { payload } = await jwtVerify(token, jwks, {
        algorithms: [provider.algorithm],
        ...(provider.applicationID !== undefined ? { audience: provider.applicationID } : {}),
        requiredClaims: ["exp", "sub", "iss"],
        clockTolerance: 5,
      });
      if (normalizeIssuer(String(payload.iss)) !== normalizeIssuer(provider.issuer)) {
        throw new Error(`issuer mismatch: ${String(payload.iss)}`);
      }
      if (typeof payload.sub !== "string" || payload.sub === "")
        throw new Error("the sub claim must be a string");
      return { identity: customJwtIdentity(payload), exp: Number(payload.exp) };
    } catch (error) {
      throw new AuthFailure("Unauthenticated", `Could not verify token claim: ${(error as Error).message}`);
    }
  }

  private discover(iss: string): Promise<Discovery> {
    const key = normalizeIssuer(iss);
    const cached = this.discovery.get(key);
    if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.value;
    const value = (async () => {
      const url = `${key}/.well-known/openid-configuration`;
      // A hung issuer must not stall the socket that is authenticating (and everyone after it).
      const res = await fetch(url, {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`GET ${url} → HTTP ${res.status}`);
      const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (typeof doc.issuer !== "string" || normalizeIssuer(doc.issuer) !== key) {
        throw new Error(`discovery issuer ${JSON.stringify(doc.issuer)} does not match ${iss}`);
      }
      if (typeof doc.jwks_uri !== "string") throw new Error("discovery document has no jwks_uri");
      return { issuer: doc.issuer, jwks: await this.jwksFor(doc.jwks_uri) };
    })();
    this.discovery.set(key, { at: Date.now(), value });
    value.catch(() => {
      if (this.discovery.get(key)?.value === value) this.discovery.delete(key);
    });
    return value;
  }

  private async jwksFor(url: string): Promise<JWTVerifyGetKey> {
    const cached = this.jwksByUrl.get(url);
    if (cached) return cached;
    let jwks: JWTVerifyGetKey;
    if (url.startsWith("data:")) {
      const comma = url.indexOf(",");
      const meta = url.slice(5, comma);
      const body = url.slice(comma + 1);
      const text = meta.endsWith(";base64")
        ? Buffer.from(body, "base64").toString("utf8")
        : decodeURIComponent(body);
      jwks = createLocalJWKSet(JSON.parse(text) as JSONWebKeySet);
    } else {
      // Refetch the key set as often as the discovery document, so a retired key stops verifying.
      jwks = createRemoteJWKSet(new URL(url), {
        cooldownDuration: 1000,
        cacheMaxAge: DISCOVERY_TTL_MS,
        timeoutDuration: 5000,
      });
    }
    this.jwksByUrl.set(url, jwks);
    return jwks;
  }
}

/** Reads the providers out of an `auth.config` module's default export. */
export function providersFromConfig(config: unknown): AuthProviderConfig[] {
  const providers = (config as { providers?: unknown } | undefined)?.providers;
  if (!Array.isArray(providers)) return [];
  return providers.filter((p): p is AuthProviderConfig => {
    if (!p || typeof p !== "object") return false;
    const o = p as Record<string, unknown>;
    if (o["type"] === "customJwt") return typeof o["issuer"] === "string" && typeof o["jwks"] === "string";
    return typeof o["domain"] === "string" && o["domain"] !== "" && typeof o["applicationID"] === "string";
  });
}
