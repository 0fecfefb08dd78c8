/**
 * A Convex-compatible local backend: the app's real `convex/` functions on convex-test's engine,
 * behind Convex's wire protocol, so the unmodified clients (`ConvexReactClient`, `ConvexClient`,
 * `ConvexHttpClient`) work against it offline.
 *
 *   cloud port (3210): WS /api/<version>/sync and /api/sync, the HTTP function API
 *                      (/api/query, /api/mutation, /api/action, /api/function, /api/query_ts, …),
 *                      GET /version, http actions under /http/…
 *   site port (3211):  http actions (`convex/http.ts`), `request.url` = site URL + path
 *
 * Loopback only; refuses NODE_ENV=production. Data is journaled under `dataDir`.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocketServer } from "ws";
import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import { AuthFailure, type Identity } from "./auth.ts";
import { Runtime, type CommitInfo } from "./engine.ts";
import { MAX_API_BODY_BYTES, MAX_HTTP_ACTION_BODY_BYTES, MAX_WS_MESSAGE_BYTES } from "./limits.ts";
import { isModuleChange } from "./modules.ts";
import {
  CONVEX_VERSION,
  encodeTs,
  parseRequestTarget,
  type FunctionResult,
  type UdfType,
} from "./protocol.ts";
import { MutationLog } from "./mutationLog.ts";
import { ALLOWED_ORIGINS_ENV, originPolicy, parseAllowedOrigins } from "./origins.ts";
import { SyncSession, type SessionStats } from "./sync.ts";
import { resolveDataDir } from "../dataDir.ts";
import { isLoopbackHost } from "../loopback.ts";

const HOST = "127.0.0.1";
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export type BackendOptions = {
  /** Cloud port (client URL). 0 = ephemeral. Default: $LOCAL_CONVEX_PORT or 3210. */
  port?: number;
  /** Site port (http actions). 0 = ephemeral. Default: $LOCAL_CONVEX_SITE_PORT or 3211. */
  sitePort?: number;
  /** Journal directory. Default: `backend/` in the stack's data dir, outside the project (local/dataDir.ts). */
  dataDir?: string;
  /** Wipe the data first. */
  reset?: boolean;
  /** The deployment environment the functions see in `process.env` (plus CONVEX_CLOUD_URL/CONVEX_SITE_URL). */
  env?: Record<string, string | undefined>;
  /** The functions directory. Default: <repo>/convex. */
  convexDir?: string;
  /** Reload the functions when a file under convexDir changes. Default false. */
  watch?: boolean;
  /**
   * Browser origins allowed besides loopback ones (origins.ts), e.g. the SPA behind a tunnel.
   * Default: $LOCAL_CONVEX_ALLOWED_ORIGINS, comma-separated.
   */
  allowedOrigins?: string[];
  /** Receives every function call's log lines and failures, labelled `Q(path)`, `M(…)`, `A(…)`, `H(…)`, `S(…)`, `C(…)`. Default: dropped. */
  onFunctionLogs?: (label: string, lines: string[]) => void;
};

export type BackendStats = {
  /** Open sync sessions (WebSocket clients) and their query subscriptions. */
  sessions: number;
  subscriptions: number;
  /** Distinct cached query results (identity × function × args × journal). */
  cachedQueries: number;
  commits: number;
  /** Query executions for subscriptions, all-time: the re-run counter. */
  queryRuns: number;
  mutations: number;
  actions: number;
  httpActions: number;
  scheduledRuns: number;
  reloads: number;
  transitions: number;
  authErrors: number;
  /** The last commits with how many cached query results each invalidated (= re-runs it caused). */
  recentCommits: CommitInfo[];
  lastCommit: CommitInfo | null;
};

export type Backend = {
  /** Client URL (VITE_CONVEX_URL), e.g. http://127.0.0.1:3210 */
  url: string;
  /** Site URL for http actions (CONVEX_SITE_URL), e.g. http://127.0.0.1:3211 */
  siteUrl: string;
  port: number;
  sitePort: number;
  dataDir: string;
  convexDir: string;
  /** Milliseconds from startBackend() to listening with the functions loaded. */
  startupMs: number;
  stats(): BackendStats;
  /** Resolves when no subscription update is pending or running (for tests and benchmarks). */
  idle(): Promise<void>;
  /** Reloads the functions from convexDir now (what the file watcher does). */
  reload(): Promise<boolean>;
  /** "commit" (CommitInfo), "reload" ({generation, ms}), "reloadError" (Error). */
  on(event: "commit" | "reload" | "reloadError", listener: (payload: never) => void): () => void;
  close(): Promise<void>;
};

function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`${name} must be a port number, got "${raw}"`);
  return n;
}

export class PortInUseError extends Error {
  readonly port: number;
  constructor(port: number) {
    super(`port ${port} on ${HOST} is already in use`);
    this.port = port;
  }
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      reject(error.code === "EADDRINUSE" ? new PortInUseError(port) : error);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, HOST);
  });
}

/** A request body over its limit: answered 413 without buffering the rest. */
class PayloadTooLarge extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`The request body is larger than the ${limit}-byte limit`);
    this.limit = limit;
  }
}

/**
 * The request body, refusing (PayloadTooLarge) a declared Content-Length over `limit` before
 * reading any of it, and a streamed body as soon as it passes `limit`; what follows is discarded.
 */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) {
      reject(new PayloadTooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(new PayloadTooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** 413, and the connection closes after it so an unread remainder is not parsed as a request. */
function sendTooLarge(req: http.IncomingMessage, res: http.ServerResponse, error: PayloadTooLarge): void {
  res.setHeader("connection", "close");
  sendJson(req, res, 413, { code: "PayloadTooLarge", message: error.message });
}

/** Methods Node's parser accepts but undici's `Request` refuses (fetch spec "forbidden methods"). */
const FETCH_FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/** Answers an upgrade request we do not accept and closes the raw socket. */
function refuseUpgrade(socket: Duplex, status: number, statusText: string): void {
  if (socket.destroyed) return;
  const body = `${status} ${statusText}`;
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Requests whose Origin is allowed (origins.ts) and may be mirrored; decided once, in `wrap`. */
const mirrorOrigin = new WeakSet<http.IncomingMessage>();

function corsHeaders(req: http.IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  return origin && mirrorOrigin.has(req)
    ? { "access-control-allow-origin": origin, "access-control-allow-credentials": "true", vary: "origin" }
    : {};
}

function sendJson(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", ...corsHeaders(req) });
  res.end(text);
}

/** Convex JSON → "clean" JSON for `format: "json"` (int64 as string, bytes as base64). */
function toCleanJson(value: Value): JSONValue {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof ArrayBuffer) return Buffer.from(value).toString("base64");
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return value.map((v) => toCleanJson(v));
  if (value !== null && typeof value === "object") {
    const out: Record<string, JSONValue> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toCleanJson(v);
    return out;
  }
  return value as JSONValue;
}

export async function startBackend(options: BackendOptions = {}): Promise<Backend> {
  const started = Date.now();
  if (process.env["NODE_ENV"] === "production") {
    throw new Error(
      "The local backend is for development and tests only; refusing to start with NODE_ENV=production",
    );
  }
  const convexDir = path.resolve(options.convexDir ?? path.join(REPO_ROOT, "convex"));
  const dataDir = path.resolve(options.dataDir ?? path.join(resolveDataDir(REPO_ROOT), "backend"));
  if (!fs.existsSync(convexDir)) throw new Error(`functions directory ${convexDir} does not exist`);
  const origins = originPolicy(
    options.allowedOrigins ?? parseAllowedOrigins(process.env[ALLOWED_ORIGINS_ENV]),
  );

  const apiServer = http.createServer();
  const siteServer = http.createServer();
  // Requests that arrive while the functions are still loading wait for them (a reconnecting
  // client must not be left hanging on a half-started server).
  let markReady!: () => void;
  let markFailed!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  ready.catch(() => undefined);
  let runtime!: Runtime;
  let url = "";
  let siteUrl = "";

  const sessions = new Set<SyncSession>();
  const sessionStats: SessionStats = { authErrors: 0, transitions: 0 };
  const mutationLog = new MutationLog();

  // ----- auth for the HTTP API and http actions -----

  async function identityFromHeader(header: string | undefined): Promise<Identity | null> {
    if (!header) return null;
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match) {
      if (/^Convex\s+/i.test(header))
        throw new AuthFailure("BadAdminKey", "Admin keys are not supported by the local backend");
      throw new AuthFailure("InvalidAuthHeader", "Authorization header must be `Bearer <token>`");
    }
    return (await runtime.verifier.verify(match[1]!)).identity;
  }

  // ----- HTTP function API -----

  function respondResult(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    result: FunctionResult,
    format: string | undefined,
  ): void {
    if (result.ok) {
      const value = format === "json" ? toCleanJson(jsonToConvex(result.value)) : result.value;
      sendJson(req, res, 200, {
        status: "success",
        value,
        ...(result.logLines.length ? { logLines: result.logLines } : {}),
      });
    } else {
      sendJson(req, res, 200, {
        status: "error",
        errorMessage: result.message,
        ...(result.errorData !== undefined
          ? { errorData: format === "json" ? toCleanJson(jsonToConvex(result.errorData)) : result.errorData }
          : {}),
        ...(result.logLines.length ? { logLines: result.logLines } : {}),
      });
    }
  }

  async function handleFunctionCall(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    kind: UdfType | "any",
  ): Promise<void> {
    let identity: Identity | null;
    try {
      identity = await identityFromHeader(req.headers.authorization);
    } catch (error) {
      const code = error instanceof AuthFailure ? error.code : "Unauthenticated";
      const status =
        code === "InvalidAuthHeader" && !/^Bearer/i.test(req.headers.authorization ?? "") ? 400 : 401;
      sendJson(req, res, status, { code, message: error instanceof Error ? error.message : String(error) });
      return;
    }
    let body: { path?: unknown; args?: unknown; format?: unknown; componentPath?: unknown };
    try {
      body = JSON.parse((await readBody(req, MAX_API_BODY_BYTES)).toString("utf8") || "{}") as typeof body;
    } catch (error) {
      if (error instanceof PayloadTooLarge) return sendTooLarge(req, res, error);
      sendJson(req, res, 400, { code: "BadJsonBody", message: "Request body is not valid JSON" });
      return;
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      sendJson(req, res, 400, { code: "BadJsonBody", message: "Request body must be a JSON object" });
      return;
    }
    if (typeof body.path !== "string") {
      sendJson(req, res, 400, { code: "BadRequest", message: "Missing `path`" });
      return;
    }
    if (typeof body.componentPath === "string" && body.componentPath !== "") {
      sendJson(req, res, 401, {
        code: "Unauthenticated",
        message: "Calling component functions requires admin auth",
      });
      return;
    }
    const rawArgs = body.args === undefined ? {} : body.args;
    const args = (Array.isArray(rawArgs) ? (rawArgs[0] ?? {}) : rawArgs) as JSONValue;
    const format = typeof body.format === "string" ? body.format : undefined;
    const result = await runtime.run(kind, body.path, args, identity);
    runtime.flush();
    respondResult(req, res, result, format);
  }

  async function handleApi(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    pathname: string,
  ): Promise<void> {
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        ...corsHeaders(req),
        "access-control-allow-methods": "GET, POST, OPTIONS, PATCH, DELETE, PUT",
        "access-control-allow-headers": req.headers["access-control-request-headers"] ?? "*",
        "access-control-max-age": "86400",
      });
      res.end();
      return;
    }
    switch (pathname) {
      case "/api/query":
      case "/api/query_at_ts":
        return handleFunctionCall(req, res, "query");
      case "/api/mutation":
        return handleFunctionCall(req, res, "mutation");
      case "/api/action":
        return handleFunctionCall(req, res, "action");
      case "/api/function":
        return handleFunctionCall(req, res, "any");
      case "/api/query_ts":
        sendJson(req, res, 200, { ts: encodeTs(runtime.clock.current) });
        return;
      case "/api/debug_event":
        await readBody(req, MAX_API_BODY_BYTES);
        sendJson(req, res, 200, {});
        return;
      default:
        sendJson(req, res, 404, {
          code: "NotFound",
          message: `No route for ${req.method ?? "GET"} ${pathname}`,
        });
    }
  }

  // ----- http actions -----

  async function handleHttpAction(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    actionPath: string,
    search: string,
  ): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    // Node parses these, but a fetch Request (what an http action receives) cannot carry them.
    if (FETCH_FORBIDDEN_METHODS.has(method)) {
      sendJson(req, res, 405, { code: "MethodNotAllowed", message: `${method} is not supported` });
      return;
    }
    let body: Buffer | undefined;
    try {
      body =
        method === "GET" || method === "HEAD" ? undefined : await readBody(req, MAX_HTTP_ACTION_BODY_BYTES);
    } catch (error) {
      if (error instanceof PayloadTooLarge) return sendTooLarge(req, res, error);
      throw error;
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || ["connection", "keep-alive", "transfer-encoding", "upgrade"].includes(name))
        continue;
      try {
        if (Array.isArray(value)) for (const v of value) headers.append(name, v);
        else headers.set(name, value);
      } catch {
        // Skip headers undici refuses.
      }
    }
    const request = new Request(`${siteUrl}${actionPath}${search}`, {
      method,
      headers,
      ...(body !== undefined ? { body: new Uint8Array(body) } : {}),
    });
    let auth: Identity | null | AuthFailure;
    try {
      auth = await identityFromHeader(req.headers.authorization);
    } catch (error) {
      auth = error instanceof AuthFailure ? error : new AuthFailure("Unauthenticated", String(error));
    }
    const response = await runtime.runHttpAction(request, actionPath, auth);
    runtime.flush();
    const outHeaders: Record<string, string | string[]> = {};
    response.headers.forEach((value, name) => {
      if (name === "set-cookie") return;
      outHeaders[name] = value;
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) outHeaders["set-cookie"] = cookies;
    const payload =
      method === "HEAD" || response.body === null ? null : Buffer.from(await response.arrayBuffer());
    res.writeHead(response.status, response.statusText || undefined, outHeaders);
    res.end(payload ?? undefined);
  }

  // ----- request routing -----

  function wrap(handler: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) {
    return (req: http.IncomingMessage, res: http.ServerResponse) => {
      // A DNS-rebinding page is same-origin with itself, but its Host header still names its own domain.
      if (!isLoopbackHost(req)) {
        sendJson(req, res, 403, {
          code: "Forbidden",
          message: "This local backend only serves loopback hosts",
        });
        return;
      }
      if (req.headers.origin !== undefined && origins.allows(req.headers.origin)) mirrorOrigin.add(req);
      ready
        .then(() => handler(req, res))
        .catch((error: unknown) => {
          // A bug in a handler costs this one request, never the process.
          try {
            if (error instanceof PayloadTooLarge && !res.headersSent) return sendTooLarge(req, res, error);
            console.error(`[local backend] ${req.method ?? "?"} request failed:`, error);
            if (!res.headersSent)
              sendJson(req, res, 500, { code: "InternalServerError", message: String(error) });
            else res.destroy();
          } catch {
            res.destroy();
          }
        });
    };
  }

  function foreignOrigin(req: http.IncomingMessage, res: http.ServerResponse): void {
    sendJson(req, res, 403, {
      code: "Forbidden",
      message: `Origin ${req.headers.origin ?? ""} may not call this local backend (allowed: loopback pages and ${ALLOWED_ORIGINS_ENV})`,
    });
  }

  function badTarget(req: http.IncomingMessage, res: http.ServerResponse): void {
    sendJson(req, res, 400, { code: "BadRequest", message: "The request target is not a valid URL path" });
  }

  apiServer.on(
    "request",
    wrap(async (req, res) => {
      const target = parseRequestTarget(req.url ?? "/", url);
      if (!target) return badTarget(req, res);
      const pathname = target.pathname;
      if (pathname.startsWith("/api/") || pathname === "/api") {
        // http actions below are left to the app's own CORS policy, as on Convex.
        if (!origins.allows(req.headers.origin)) return foreignOrigin(req, res);
        return handleApi(req, res, pathname);
      }
      if (pathname === "/http" || pathname.startsWith("/http/")) {
        return handleHttpAction(req, res, pathname.slice("/http".length) || "/", target.search);
      }
      if (pathname === "/version" && (req.method === "GET" || req.method === "HEAD")) {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(req.method === "HEAD" ? undefined : `gatehouse-local-backend convex-${CONVEX_VERSION}`);
        return;
      }
      if (pathname === "/instance_name") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("gatehouse-local");
        return;
      }
      sendJson(req, res, 404, {
        code: "NotFound",
        message: `No route for ${req.method ?? "GET"} ${pathname}`,
      });
    }),
  );
  siteServer.on(
    "request",
    wrap(async (req, res) => {
      const target = parseRequestTarget(req.url ?? "/", siteUrl);
      if (!target) return badTarget(req, res);
      return handleHttpAction(req, res, target.pathname, target.search);
    }),
  );

  // A larger message is refused while its header is read (close 1009), never buffered; see limits.ts.
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_WS_MESSAGE_BYTES,
  });
  apiServer.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node hands the raw socket over without an error listener: a client that resets it while
    // we answer would otherwise be an uncaught 'error' event (ws adds its own once it takes over).
    socket.on("error", () => socket.destroy());
    ready
      .then(() => upgrade(req, socket, head))
      .catch((error: unknown) => {
        console.error("[local backend] WebSocket upgrade failed:", error);
        refuseUpgrade(socket, 500, "Internal Server Error");
      });
  });
  function upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!isLoopbackHost(req)) return refuseUpgrade(socket, 403, "Forbidden");
    // CORS does not apply to WebSockets: without this any web page could open a sync session.
    if (!origins.allows(req.headers.origin)) return refuseUpgrade(socket, 403, "Forbidden");
    const target = parseRequestTarget(req.url ?? "/", url);
    if (!target) return refuseUpgrade(socket, 400, "Bad Request");
    if (!/^\/api\/([^/]+\/)?sync$/.test(target.pathname)) return refuseUpgrade(socket, 404, "Not Found");
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new SyncSession(ws, runtime, mutationLog, sessionStats);
      sessions.add(session);
      ws.on("close", () => sessions.delete(session));
    });
  }

  const port = await listen(apiServer, options.port ?? envPort("LOCAL_CONVEX_PORT", 3210));
  let sitePort: number;
  try {
    sitePort = await listen(siteServer, options.sitePort ?? envPort("LOCAL_CONVEX_SITE_PORT", 3211));
  } catch (error) {
    apiServer.close();
    throw error;
  }
  url = `http://${HOST}:${port}`;
  siteUrl = `http://${HOST}:${sitePort}`;

  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;
  env["CONVEX_CLOUD_URL"] = url;
  env["CONVEX_SITE_URL"] = siteUrl;

  try {
    runtime = await Runtime.start({
      convexDir,
      dataDir,
      reset: options.reset ?? false,
      env,
      ...(options.onFunctionLogs ? { onFunctionLogs: options.onFunctionLogs } : {}),
    });
  } catch (error) {
    markFailed(error);
    apiServer.close();
    siteServer.close();
    throw error;
  }
  markReady();

  // ----- hot reload -----

  let watcher: fs.FSWatcher | null = null;
  let reloadTimer: NodeJS.Timeout | null = null;
  if (options.watch) {
    watcher = fs.watch(convexDir, { recursive: true }, (_event, filename) => {
      if (filename && !isModuleChange(filename.toString())) return;
      if (reloadTimer) clearTimeout(reloadTimer);
      reloadTimer = setTimeout(() => {
        reloadTimer = null;
        void runtime.reload();
      }, 100);
    });
    watcher.on("error", () => undefined);
  }

  const startupMs = Date.now() - started;

  async function idle(): Promise<void> {
    // Quiet when no session has an update in flight for two consecutive checks.
    let quietRounds = 0;
    while (quietRounds < 2) {
      await new Promise((r) => setTimeout(r, 10));
      const busy = [...sessions].some((s) => s.isUpdating);
      quietRounds = busy ? 0 : quietRounds + 1;
    }
  }

  let closing: Promise<void> | null = null;
  return {
    url,
    siteUrl,
    port,
    sitePort,
    dataDir,
    convexDir,
    startupMs,
    stats() {
      let subscriptions = 0;
      for (const s of sessions) subscriptions += s.subscriptionCount;
      const recentCommits = [...runtime.recentCommits];
      return {
        sessions: sessions.size,
        subscriptions,
        cachedQueries: runtime.queryCache.size,
        ...runtime.counters,
        transitions: sessionStats.transitions,
        authErrors: sessionStats.authErrors,
        recentCommits,
        lastCommit: recentCommits[recentCommits.length - 1] ?? null,
      };
    },
    idle,
    reload: () => runtime.reload(),
    on(event, listener) {
      runtime.events.on(event, listener as (payload: unknown) => void);
      return () => void runtime.events.off(event, listener as (payload: unknown) => void);
    },
    close() {
      closing ??= (async () => {
        watcher?.close();
        if (reloadTimer) clearTimeout(reloadTimer);
        for (const s of sessions) s.close();
        sessions.clear();
        wss.close();
        await runtime.close();
        await Promise.all(
          [apiServer, siteServer].map(
            (s) =>
              new Promise<void>((resolve) => {
                s.close(() => resolve());
                s.closeAllConnections();
              }),
          ),
        );
      })();
      return closing;
    },
  };
}
