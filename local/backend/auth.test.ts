/**
 * JWT verification as Convex does it (auth.config.ts → OIDC discovery → JWKS), through the real
 * client's setAuth flow, plus the claims → UserIdentity mapping.
 */
import type { ConvexClient } from "convex/browser";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AuthVerifier, normalizeIssuer } from "./auth.ts";
import {
  api,
  newClient,
  openSyncSocket,
  rawConnect,
  sleep,
  startIssuer,
  startTestBackend,
  unsignedToken,
  waitForValue,
  type Issuer,
  type TestBackend,
} from "./test.backend.ts";

type Viewer = { clerkId: string; role: string; plan: string; email: string; name: string } | null;

let issuer: Issuer;
let otherIssuer: Issuer;
let backend: TestBackend;
const clients: ConvexClient[] = [];

beforeAll(async () => {
  issuer = await startIssuer();
  otherIssuer = await startIssuer();
  backend = await startTestBackend("auth", { issuerUrl: issuer.url });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await backend?.dispose();
  await issuer?.close();
  await otherIssuer?.close();
});

/** Signs a fresh client in with a fixed token; resolves with onChange's first value and users.me. */
async function tryToken(token: string): Promise<{ authenticated: boolean; me: Viewer; fetches: boolean[] }> {
  const client = newClient(backend.url);
  clients.push(client);
  const fetches: boolean[] = [];
  const authenticated = await new Promise<boolean>((resolve) => {
    client.setAuth(({ forceRefreshToken }) => {
      fetches.push(forceRefreshToken);
      return Promise.resolve(token);
    }, resolve);
  });
  const me = (await client.query(api.users.me, {})) as Viewer;
  return { authenticated, me, fetches };
}

describe("tokens over the sync protocol", () => {
  test("a valid token authenticates; role and plan come from the metadata claim", async () => {
    const token = await issuer.mint("user_valid", {
      metadata: { role: "admin", plan: "pro" },
      email: "v@example.test",
      name: "Valid",
    });
    const { authenticated, me } = await tryToken(token);
    expect(authenticated).toBe(true);
    expect(me).toMatchObject({
      clerkId: "user_valid",
      role: "admin",
      plan: "pro",
      email: "v@example.test",
      name: "Valid",
    });
  });

  const refusals: [string, () => Promise<string>][] = [
    [
      "expired",
      () =>
        issuer.mint("user_x", {
          iat: Math.floor(Date.now() / 1000) - 120,
          exp: Math.floor(Date.now() / 1000) - 60,
        }),
    ],
    ["forged (signed with another key)", () => issuer.mint("user_x", {}, { key: issuer.otherKey })],
    ["wrong audience", () => issuer.mint("user_x", { aud: "not-convex" })],
    ["several audiences", () => issuer.mint("user_x", { aud: ["convex", "other"] })],
    ["wrong issuer (a real OIDC issuer not in auth.config.ts)", () => otherIssuer.mint("user_x")],
    [
      "issuer claim naming our issuer, signed by another",
      () => otherIssuer.mint("user_x", { iss: issuer.url }),
    ],
    [
      "alg: none",
      async () =>
        unsignedToken({
          iss: issuer.url,
          aud: "convex",
          sub: "user_x",
          iat: Math.floor(Date.now() / 1000),
          exp: Math.floor(Date.now() / 1000) + 60,
        }),
    ],
    [
      "HS256",
      () =>
        new SignJWT({ aud: "convex", sub: "user_x" })
          .setProtectedHeader({ alg: "HS256", kid: "test-key-1" })
          .setIssuer(issuer.url)
          .setIssuedAt()
          .setExpirationTime("1m")
          .sign(new TextEncoder().encode("a-shared-secret-that-is-long-enough")),
    ],
    ["no iat", () => issuer.mint("user_x", { iat: undefined })],
    ["not a JWT", async () => "not.a.jwt"],
  ];

  test.each(refusals)("refused: %s → AuthError, onChange(false), anonymous", async (_name, makeToken) => {
    const before = backend.stats().authErrors;
    const { authenticated, me, fetches } = await tryToken(await makeToken());
    expect(authenticated).toBe(false);
    expect(me).toBeNull();
    expect(backend.stats().authErrors).toBeGreaterThan(before);
    // The client retried once with a forced refresh, got the same token, and gave up.
    expect(fetches).toContain(true);
  });

  test("an identity that expires mid-session gets AuthError{authUpdateAttempted:false} and a close", async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.mint("user_short", { iat: now, exp: now + 1 });
    const ws = await openSyncSocket(backend.url);
    const messages: { type: string; authUpdateAttempted?: boolean; baseVersion?: number }[] = [];
    ws.on("message", (d) => messages.push(JSON.parse(String(d)) as (typeof messages)[number]));
    const closed = new Promise<void>((r) => ws.once("close", () => r()));
    rawConnect(ws, "expiring", token);
    ws.send(JSON.stringify({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [] }));
    await waitForValue<number>(
      (cb) => {
        const t = setInterval(() => cb(messages.length), 5);
        return () => clearInterval(t);
      },
      (n) => n > 0,
    );
    expect(messages[0]).toMatchObject({ type: "Transition", endVersion: { identity: 1 } });
    await sleep((now + 1) * 1000 - Date.now() + 50);
    ws.send(JSON.stringify({ type: "Mutation", requestId: 0, udfPath: "users:ensure", args: [{}] }));
    await closed;
    expect(messages.at(-1)).toEqual({
      type: "AuthError",
      error: expect.stringContaining("expired") as string,
      baseVersion: 1,
      authUpdateAttempted: false,
    });
  });

  test("short-lived tokens are refreshed on the same socket and the subscription stays live", async () => {
    const client = newClient(backend.url, { authRefreshTokenLeewaySeconds: 1 });
    clients.push(client);
    const fetches: boolean[] = [];
    const authErrorsBefore = backend.stats().authErrors;
    const authenticated = await new Promise<boolean>((resolve) => {
      client.setAuth(async ({ forceRefreshToken }) => {
        fetches.push(forceRefreshToken);
        return issuer.mint("user_refresh", {
          lifetimeSeconds: 3,
          metadata: { plan: "pro" },
          jti: String(fetches.length),
        });
      }, resolve);
    });
    expect(authenticated).toBe(true);
    await client.mutation(api.users.ensure, {});
    const seen: string[][] = [];
    const unsubscribe = client.onUpdate(
      api.posts.listMine,
      { paginationOpts: { numItems: 10, cursor: null } },
      (p: { page: { title: string }[] }) => {
        seen.push(p.page.map((x) => x.title));
      },
    );
    // Past two token lifetimes: the client refreshed before each expiry (2 s in).
    await sleep(4500);
    await client.mutation(api.posts.create, { title: "after refresh", body: "" });
    await waitForValue<string[] | undefined>(
      (cb) => {
        const t = setInterval(() => cb(seen.at(-1)), 10);
        return () => clearInterval(t);
      },
      (titles) => titles?.includes("after refresh") === true,
    );
    expect(fetches.filter((f) => f).length).toBeGreaterThanOrEqual(2);
    expect(backend.stats().authErrors).toBe(authErrorsBefore);
    unsubscribe();
  }, 15_000);
});

describe("HTTP API", () => {
  test("a Bearer token is verified the same way", async () => {
    const call = (authorization?: string) =>
      fetch(`${backend.url}/api/query`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ path: "users:me", args: {}, format: "convex_encoded_json" }),
      });
    const ok = await call(`Bearer ${await issuer.mint("user_http_auth", { metadata: { plan: "pro" } })}`);
    expect(((await ok.json()) as { value: { plan: string } }).value.plan).toBe("pro");
    for (const token of [await issuer.mint("u", { aud: "x" }), await otherIssuer.mint("u"), "garbage"]) {
      const res = await call(`Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(Object.keys((await res.json()) as object).sort()).toEqual(["code", "message"]);
    }
  });
});

describe("claims → UserIdentity (OIDC)", () => {
  test("standard claims camelCased, protocol claims dropped, custom claims kept as JSON", async () => {
    const verifier = new AuthVerifier();
    verifier.setProviders([{ domain: `${issuer.url}/`, applicationID: "convex" }]);
    const token = await issuer.mint("user_claims", {
      name: "Ada Lovelace",
      given_name: "Ada",
      email: "ada@example.test",
      email_verified: true,
      picture: "https://img.example.test/ada.png",
      updated_at: 1_700_000_000,
      sid: "sess_1",
      azp: "http://localhost:5173",
      jti: "abc",
      metadata: { role: "admin", plan: "pro", nested: { deep: [1, 2] } },
    });
    const { identity, exp } = await verifier.verify(token);
    expect(exp).toBeGreaterThan(Date.now() / 1000);
    expect(identity).toEqual({
      tokenIdentifier: `${issuer.url}|user_claims`,
      subject: "user_claims",
      issuer: issuer.url,
      name: "Ada Lovelace",
      givenName: "Ada",
      email: "ada@example.test",
      emailVerified: true,
      pictureUrl: "https://img.example.test/ada.png",
      updatedAt: "2023-11-14T22:13:20Z",
      sid: "sess_1",
      metadata: { role: "admin", plan: "pro", nested: { deep: [1, 2] } },
    });
  });

  test("custom claims cannot replace the computed tokenIdentifier, subject or issuer", async () => {
    const verifier = new AuthVerifier();
    verifier.setProviders([{ domain: issuer.url, applicationID: "convex" }]);
    const token = await issuer.mint("user_real", {
      tokenIdentifier: "https://evil|admin",
      subject: "admin",
      issuer: "https://evil",
    });
    const { identity } = await verifier.verify(token);
    expect(identity).toMatchObject({
      tokenIdentifier: `${issuer.url}|user_real`,
      subject: "user_real",
      issuer: issuer.url,
    });
  });

  test("a non-string sub is refused", async () => {
    const verifier = new AuthVerifier();
    verifier.setProviders([{ domain: issuer.url, applicationID: "convex" }]);
    const token = await issuer.mint("ignored", { sub: 12345 as unknown as string });
    await expect(verifier.verify(token)).rejects.toThrow(/sub/);
  });

  test("issuer normalization", () => {
    expect(normalizeIssuer("clerk.example.com/")).toBe("https://clerk.example.com");
    expect(normalizeIssuer("http://127.0.0.1:3212/")).toBe("http://127.0.0.1:3212");
  });
});
