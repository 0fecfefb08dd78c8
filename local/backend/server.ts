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
 *
 * This file starts and stops it. The requests are answered by routes.ts (functionApi.ts,
 * httpActions.ts) and syncSockets.ts (sync.ts); the functions run in engine.ts's Runtime.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Runtime, type CommitInfo } from "./engine.ts";
import { watchFunctions, type FunctionsWatcher } from "./functionsWatcher.ts";
import { envPort, HOST, listen } from "./listen.ts";
import { ALLOWED_ORIGINS_ENV, originPolicy, parseAllowedOrigins } from "./origins.ts";
import { routeClientPort, routeSitePort, Serving } from "./routes.ts";
import { SyncSockets } from "./syncSockets.ts";
import { resolveDataDir } from "../dataDir.ts";

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

  // The ports are bound first: the functions' environment names the URLs they were bound on.
  // Requests that arrive meanwhile wait for `ready` (routes.ts).
  let markReady!: () => void;
  let markFailed!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  ready.catch(() => undefined);
  const serving = new Serving(ready, origins);
  const apiServer = http.createServer();
  const siteServer = http.createServer();
  routeClientPort(apiServer, serving);
  routeSitePort(siteServer, serving);
  const sockets = new SyncSockets(apiServer, serving);

  const port = await listen(apiServer, options.port ?? envPort("LOCAL_CONVEX_PORT", 3210));
  let sitePort: number;
  try {
    sitePort = await listen(siteServer, options.sitePort ?? envPort("LOCAL_CONVEX_SITE_PORT", 3211));
  } catch (error) {
    apiServer.close();
    throw error;
  }
  const url = `http://${HOST}:${port}`;
  const siteUrl = `http://${HOST}:${sitePort}`;
  serving.url = url;
  serving.siteUrl = siteUrl;

  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;
  env["CONVEX_CLOUD_URL"] = url;
  env["CONVEX_SITE_URL"] = siteUrl;

  let runtime: Runtime;
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
  serving.runtime = runtime;
  markReady();

  const watcher: FunctionsWatcher | null = options.watch
    ? watchFunctions(convexDir, () => void runtime.reload())
    : null;

  const startupMs = Date.now() - started;

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
      const recentCommits = [...runtime.recentCommits];
      return {
        sessions: sockets.sessions.size,
        subscriptions: sockets.subscriptionCount,
        cachedQueries: runtime.queryCache.size,
        ...runtime.counters,
        transitions: sockets.stats.transitions,
        authErrors: sockets.stats.authErrors,
        recentCommits,
        lastCommit: recentCommits[recentCommits.length - 1] ?? null,
      };
    },
    idle: () => sockets.idle(),
    reload: () => runtime.reload(),
    on(event, listener) {
      runtime.events.on(event, listener as (payload: unknown) => void);
      return () => void runtime.events.off(event, listener as (payload: unknown) => void);
    },
    close() {
      closing ??= (async () => {
        watcher?.close();
        sockets.close();
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
