/**
 * Helpers for the local backend's tests: an in-test OIDC issuer (discovery + JWKS, RS256 keys
 * minted here), a stub of Clerk's Backend API, temp dirs, a backend on ephemeral ports, real Convex
 * clients and raw sync-protocol sockets.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { makeFunctionReference, type FunctionReference } from "convex/server";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";
import WebSocket from "ws";
import { startBackend, type Backend, type BackendOptions } from "./server.ts";

export { eventually } from "../test.eventually.ts";

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

export type TestBackend = Backend & {
  /** Closes the backend and removes its temp data dir. */
  dispose(): Promise<void>;
};

/**
 * A fresh backend (reset, ephemeral ports) on a temp data dir named after `prefix`, trusting
 * tokens from `issuerUrl`; `env` adds to the deployment environment.
 */
export async function startTestBackend(
  prefix: string,
  {
    issuerUrl,
    env = {},
    ...options
  }: { issuerUrl: string } & Omit<BackendOptions, "port" | "sitePort" | "dataDir" | "reset">,
): Promise<TestBackend> {
  const dataDir = tempDir(prefix);
  const removeDataDir = () => fs.rmSync(dataDir, { recursive: true, force: true });
  let backend: Backend;
  try {
    backend = await startBackend({
      port: 0,
      sitePort: 0,
      dataDir,
      reset: true,
      ...options,
      env: { CLERK_JWT_ISSUER_DOMAIN: issuerUrl, ...env },
    });
  } catch (error) {
    removeDataDir();
    throw error;
  }
  return {
    ...backend,
    async dispose() {
      await backend.close();
      removeDataDir();
    },
  };
}

/** A WebSocket to the backend's sync endpoint (`path` on the client URL), once it is open. */
export async function openSyncSocket(backendUrl: string, path = "/api/1.48.0/sync"): Promise<WebSocket> {
  const ws = new WebSocket(`${backendUrl.replace("http", "ws")}${path}`);
  await new Promise((r) => ws.once("open", r));
  return ws;
}

/** Starts a sync session on a raw socket: Connect, then Authenticate when a token is given. */
export function rawConnect(ws: WebSocket, sessionId: string, token?: string): void {
  ws.send(
    JSON.stringify({
      type: "Connect",
      sessionId,
      connectionCount: 0,
      lastCloseReason: "InitialConnect",
      clientTs: Date.now(),
    }),
  );
  if (token !== undefined)
    ws.send(JSON.stringify({ type: "Authenticate", tokenType: "User", value: token, baseVersion: 0 }));
}

/** `rawConnect`, then the first ModifyQuerySet: query 0 subscribed to `udfPath(args)`. */
export function rawSubscribe(
  ws: WebSocket,
  sessionId: string,
  udfPath: string,
  args: Record<string, unknown>,
  token?: string,
): void {
  rawConnect(ws, sessionId, token);
  ws.send(
    JSON.stringify({
      type: "ModifyQuerySet",
      baseVersion: 0,
      newVersion: 1,
      modifications: [{ type: "Add", queryId: 0, udfPath, args: [args] }],
    }),
  );
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
    recordChange: ref<"mutation">("admin:recordChange"),
    requireLiveUser: ref<"query">("admin:requireLiveUser"),
    publishDue: ref<"mutation">("posts:publishDue"),
  },
  ref,
};

const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..");

export type CliBackend = {
  url: string;
  siteUrl: string;
  port: number;
  sitePort: number;
  /** The journal directory (removed by dispose). */
  dataDir: string;
  child: ChildProcess;
  /** Everything the process printed (stdout and stderr). */
  output(): string;
  /** The process has not exited. */
  alive(): boolean;
  /** SIGTERM, wait for the exit, remove the data dir. */
  dispose(): Promise<void>;
};

/**
 * `local/backend/cli.ts` as its own process on ephemeral ports (as `npm start` runs it), so a
 * crash shows up as an exit instead of failing the test runner.
 */
export async function spawnBackendCli(
  prefix: string,
  { env = {}, nodeArgs = [] }: { env?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<CliBackend> {
  const dataDir = tempDir(prefix);
  const child = spawn(
    process.execPath,
    ["--import", "tsx", ...nodeArgs, "local/backend/cli.ts", "--reset", "--no-watch"],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        LOCAL_CONVEX_PORT: "0",
        LOCAL_CONVEX_SITE_PORT: "0",
        LOCAL_CONVEX_DATA_DIR: dataDir,
        CLERK_JWT_ISSUER_DOMAIN: "http://127.0.0.1:1",
        ...env,
      },
    },
  );
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const dispose = async () => {
    if (alive()) {
      child.kill("SIGTERM");
      await exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const started = /local backend: (http:\/\/127\.0\.0\.1:(\d+)) \(site (http:\/\/127\.0\.0\.1:(\d+))\)/;
  try {
    const deadline = Date.now() + 30_000;
    let match = started.exec(output);
    while (match === null) {
      if (!alive()) throw new Error(`the backend exited during startup:\n${output}`);
      if (Date.now() > deadline) throw new Error(`the backend did not start:\n${output}`);
      await sleep(20);
      match = started.exec(output);
    }
    return {
      url: match[1]!,
      port: Number(match[2]),
      siteUrl: match[3]!,
      sitePort: Number(match[4]),
      dataDir,
      child,
      output: () => output,
      alive,
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/**
 * Writes `request` (raw bytes, as an attacker would) to 127.0.0.1:`port` and resolves with
 * everything the server sent until it closed the connection or `timeoutMs` passed — or, with
 * `headOnly`, once the response head is complete (an accepted upgrade stays open).
 */
export function rawHttp(
  port: number,
  request: string | Buffer,
  timeoutMs = 5_000,
  { headOnly = false }: { headOnly?: boolean } = {},
): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
    let received = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(received);
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on("data", (c: Buffer) => {
      received += c.toString("latin1");
      if (headOnly && received.includes("\r\n\r\n")) done();
    });
    socket.on("error", done);
    socket.on("close", done);
  });
}

/** The status code of a raw HTTP response (`HTTP/1.1 400 Bad Request` → 400), or 0. */
export function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

/**
 * Node args that preload a module into a process under test: on SIGUSR2 it lets one promise
 * rejection and one exception escape every handler, standing in for a bug in some callback.
 */
export function escapingErrorPreload(dir: string): string[] {
  const file = path.join(dir, "escape.mjs");
  fs.writeFileSync(
    file,
    `process.on("SIGUSR2", () => {
      Promise.reject(new Error("escaped rejection"));
      setImmediate(() => { throw new Error("escaped exception"); });
    });\n`,
  );
  return ["--import", pathToFileURL(file).href];
}

/**
 * What is wrong with a backend CLI process that should still be serving: nothing (`[]`) when it
 * is alive, printed no `BUG:` line, and answers `/version`, an HTTP query and a WebSocket.
 */
export async function servingProblems(backend: CliBackend): Promise<string[]> {
  if (!backend.alive()) return [`the backend exited:\n${backend.output().slice(-3000)}`];
  const problems: string[] = [];
  if (backend.output().includes("BUG:")) problems.push("an error escaped every handler");
  try {
    const version = await fetch(`${backend.url}/version`, { signal: AbortSignal.timeout(5000) });
    if (version.status !== 200) problems.push(`/version answered ${version.status}`);
    const me = await new ConvexHttpClient(backend.url).query(api.users.me, {});
    if (me !== null) problems.push(`users.me answered ${JSON.stringify(me)} to an anonymous caller`);
    const ws = await openSyncSocket(backend.url, "/api/sync");
    ws.close();
  } catch (error) {
    problems.push(`not answering: ${String(error)}`);
  }
  return problems;
}
