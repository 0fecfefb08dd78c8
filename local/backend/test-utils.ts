/**
 * Helpers for the local backend's tests: an in-test OIDC issuer (discovery + JWKS, RS256 keys
 * minted here), a stub of Clerk's Backend API, temp dirs and real Convex clients.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { ConvexClient } from "convex/browser";
import { makeFunctionReference, type FunctionReference } from "convex/server";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";
import WebSocket from "ws";

export type Issuer = {
  url: string;
  /** Signs a token with the issuer's key (claims override the defaults: aud "convex", 60 s). */
  mint(
    sub: string,
    claims?: JWTPayload & { lifetimeSeconds?: number },
    options?: { key?: CryptoKey; alg?: string; kid?: string },
  ): Promise<string>;
  /** A key the issuer does not publish (for forged tokens). */
  otherKey: CryptoKey;
  discoveryRequests(): number;
  close(): Promise<void>;
};

export async function listenLocal(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startIssuer(): Promise<Issuer> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const other = await generateKeyPair("RS256", { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "test-key-1", alg: "RS256", use: "sig" };
  let discoveries = 0;
  let url = "";
  const server = http.createServer((req, res) => {
    if (req.url === "/.well-known/openid-configuration") {
      discoveries++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          issuer: url,
          jwks_uri: `${url}/.well-known/jwks.json`,
          id_token_signing_alg_values_supported: ["RS256"],
        }),
      );
    } else if (req.url === "/.well-known/jwks.json") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  url = `http://127.0.0.1:${await listenLocal(server)}`;
  return {
    url,
    otherKey: other.privateKey,
    discoveryRequests: () => discoveries,
    async mint(sub, claims = {}, options = {}) {
      const { lifetimeSeconds = 60, ...rest } = claims;
      const now = Math.floor(Date.now() / 1000);
      const payload: JWTPayload = {
        iss: url,
        aud: "convex",
        iat: now,
        exp: now + lifetimeSeconds,
        nbf: now - 5,
        sub,
        ...rest,
      };
      return new SignJWT(payload)
        .setProtectedHeader({ alg: options.alg ?? "RS256", kid: options.kid ?? "test-key-1", typ: "JWT" })
        .sign(options.key ?? privateKey);
    },
    close: () => closeServer(server),
  };
}

/** An unsigned (`alg: none`) token with the given claims. */
export function unsignedToken(payload: JWTPayload): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(payload)}.`;
}

export type ClerkStub = {
  url: string;
  requests: { method: string; path: string; body: unknown; authorization: string | undefined }[];
  close(): Promise<void>;
};

/** Answers Clerk Backend API `PATCH /v1/users/:id/metadata` like Clerk (the user object). */
export async function startClerkStub(): Promise<ClerkStub> {
  const requests: ClerkStub["requests"] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const body: unknown = text ? JSON.parse(text) : null;
      requests.push({
        method: req.method ?? "",
        path: req.url ?? "",
        body,
        authorization: req.headers.authorization,
      });
      const match = /^\/v1\/users\/([^/]+)\/metadata$/.exec(req.url ?? "");
      if (req.method === "PATCH" && match) {
        const publicMetadata = (body as { public_metadata?: unknown } | null)?.public_metadata ?? {};
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            object: "user",
            id: match[1],
            public_metadata: publicMetadata,
            email_addresses: [],
          }),
        );
      } else {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ code: "resource_not_found", message: "not found" }] }));
      }
    });
  });
  const url = `http://127.0.0.1:${await listenLocal(server)}`;
  return { url, requests, close: () => closeServer(server) };
}

/** A temp dir removed at the end of the test run (caller removes it). */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `gatehouse-${prefix}-`));
}

export function newClient(
  url: string,
  options: { authRefreshTokenLeewaySeconds?: number } = {},
): ConvexClient {
  return new ConvexClient(url, {
    webSocketConstructor: WebSocket as unknown as typeof globalThis.WebSocket,
    unsavedChangesWarning: false,
    ...options,
  });
}

/** Signs the client in with tokens from `fetchToken`; resolves with the first onChange value. */
export function signIn(
  client: ConvexClient,
  fetchToken: (args: { forceRefreshToken: boolean }) => Promise<string | null>,
): Promise<boolean> {
  return new Promise((resolve) => {
    let first = true;
    client.setAuth(fetchToken, (isAuthenticated) => {
      if (first) {
        first = false;
        resolve(isAuthenticated);
      }
    });
  });
}

/** Resolves with the first value of a subscription that satisfies `predicate`. */
export function waitForValue<T>(
  subscribe: (cb: (value: T) => void) => () => void,
  predicate: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let last: T | undefined;
    let unsubscribe: (() => void) | null = null;
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      unsubscribe?.();
      reject(new Error(`timed out waiting for a matching value; last: ${JSON.stringify(last)}`));
    }, timeoutMs);
    unsubscribe = subscribe((value) => {
      last = value;
      if (!done && predicate(value)) {
        done = true;
        clearTimeout(timer);
        queueMicrotask(() => unsubscribe?.());
        resolve(value);
      }
    });
    if (done) unsubscribe();
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Results are typed `never` so a call site states the shape it expects (`as Page<Post>`, a typed callback). */
type Ref<T extends "query" | "mutation" | "action"> = FunctionReference<
  T,
  "public",
  Record<string, unknown>,
  never
>;
const ref = <T extends "query" | "mutation" | "action">(name: string): Ref<T> =>
  makeFunctionReference<T, Record<string, unknown>, never>(name);

/** The app's functions by name (loosely typed: the backend's tests do not depend on convex/ types). */
export const api = {
  users: { me: ref<"query">("users:me"), ensure: ref<"mutation">("users:ensure") },
  posts: {
    create: ref<"mutation">("posts:create"),
    update: ref<"mutation">("posts:update"),
    remove: ref<"mutation">("posts:remove"),
    get: ref<"query">("posts:get"),
    listMine: ref<"query">("posts:listMine"),
    listPublic: ref<"query">("posts:listPublic"),
    schedulePublish: ref<"mutation">("posts:schedulePublish"),
  },
  insights: { overview: ref<"query">("insights:overview") },
  admin: {
    listUsers: ref<"query">("admin:listUsers"),
    setRole: ref<"action">("admin:setRole"),
    setPlan: ref<"action">("admin:setPlan"),
    auditLog: ref<"query">("admin:auditLog"),
  },
  /** Internal functions: a client must not be able to call these. */
  internal: {
    recordAudit: ref<"mutation">("admin:recordAudit"),
    requireLiveUser: ref<"query">("admin:requireLiveUser"),
    publishDue: ref<"mutation">("posts:publishDue"),
  },
  ref,
};

/** Polls `get` until `predicate` holds (for values that callbacks assign). */
export function eventually<T>(
  get: () => T,
  predicate: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  return waitForValue<T>(
    (cb) => {
      const t = setInterval(() => cb(get()), 5);
      return () => clearInterval(t);
    },
    predicate,
    timeoutMs,
  );
}
