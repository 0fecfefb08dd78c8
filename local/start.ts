/**
 * `npm start`: the whole app offline on 127.0.0.1 — the Clerk-shaped identity provider,
 * the Convex-compatible backend running the real convex/ functions, and the Vite SPA —
 * wired together, seeded through the IdP (so the users table fills from real webhooks),
 * and stopped together by one Ctrl-C.  `npm start -- --reset` wipes the data dir first.
 *
 * The data dir (LOCAL_DATA_DIR, default outside the project: see local/dataDir.ts) holds the IdP's
 * private signing key, password hashes, sessions and the backend's journal; nothing Vite serves.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createServer as createViteServer, type ViteDevServer } from "vite";
import { CLERK_JS_SCRIPT_PATH, CLERK_PROXY_PATH, OFFLINE_PUBLISHABLE_KEY } from "./clerkjs/offline.ts";
import { offlineClerk } from "./clerkjs/vitePlugin.ts";
import { installCrashGuards } from "./crashGuard.ts";
import { dataDirProblem, resolveDataDir } from "./dataDir.ts";
import { SEED_PASSWORD, SEEDED_ACCOUNTS, webhookUrlForSitePort } from "./idp/config.ts";
import { loadOrCreateDevSecrets } from "./idp/secrets.ts";
import { startIdp, type Idp } from "./idp/server.ts";
import { createSigner } from "./idp/webhooks/sign.ts";
import { assertPortFree, waitForHttp } from "./ports.ts";

const root = path.resolve(fileURLToPath(new URL("..", import.meta.url)));
const startedAt = performance.now();

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const port = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error(`${name} must be a TCP port number, got "${raw}".`);
    process.exit(1);
  }
  return port;
}

const flags = process.argv.slice(2);
const unknown = flags.filter((f) => f !== "--reset");
if (unknown.length) {
  console.error(`Unknown option ${unknown.join(" ")}. Usage: npm start [-- --reset]`);
  process.exit(2);
}
const reset = flags.includes("--reset");
if (process.env.NODE_ENV === "production") {
  console.error("The local stack is for development only; refusing to start with NODE_ENV=production.");
  process.exit(1);
}

const ports = {
  backend: portFromEnv("LOCAL_CONVEX_PORT", 3210),
  site: portFromEnv("LOCAL_CONVEX_SITE_PORT", 3211),
  idp: portFromEnv("LOCAL_IDP_PORT", 3212),
  spa: portFromEnv("PORT", 5173),
};
const urls = {
  backend: `http://127.0.0.1:${ports.backend}`,
  site: `http://127.0.0.1:${ports.site}`,
  idp: `http://127.0.0.1:${ports.idp}`,
  spa: `http://127.0.0.1:${ports.spa}`,
};
/** Everything the stack keeps between runs; `--reset` wipes it. Tests point it at a temp dir. */
const dataDir = resolveDataDir(root);
const dataProblem = dataDirProblem(root, dataDir);
if (dataProblem) {
  console.error(dataProblem);
  process.exit(1);
}

let idp: Idp | undefined;
let backend: ChildProcess | undefined;
let vite: ViteDevServer | undefined;
let stopping = false;
/** Once the stack is up, a backend that exits is restarted rather than taking everything down. */
let running = false;
let restartTimer: NodeJS.Timeout | undefined;
/** Crash-loop limit: the 6th exit within 60 s stops the stack instead of restarting once more. */
const RESTARTS = { max: 5, windowMs: 60_000 };
const restartTimes: number[] = [];

async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    clearTimeout(restartTimer);
    await vite?.close().catch(() => undefined);
    if (backend && backend.exitCode === null && backend.signalCode === null) {
      backend.kill("SIGTERM");
      await new Promise((r) => {
        const timer = setTimeout(() => (backend?.kill("SIGKILL"), r(undefined)), 3000);
        backend!.once("exit", () => (clearTimeout(timer), r(undefined)));
      });
    }
    await idp?.close().catch(() => undefined);
  }
  process.exit(code);
}
process.once("SIGINT", () => void stopAll(0).then(() => undefined));
process.once("SIGTERM", () => void stopAll(0).then(() => undefined));

function prefixLines(stream: NodeJS.ReadableStream | null, label: string) {
  stream?.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line.trim()) console.log(`[${label}] ${line}`);
  });
}

async function main() {
  // The IdP and Vite share this process: one escaped error must not stop them (local/crashGuard.ts).
  installCrashGuards("npm start");
  try {
    await assertPortFree(ports.backend, "LOCAL_CONVEX_PORT");
    await assertPortFree(ports.site, "LOCAL_CONVEX_SITE_PORT");
    await assertPortFree(ports.idp, "LOCAL_IDP_PORT");
    await assertPortFree(ports.spa, "PORT");
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }

  if (reset) wipe(dataDir);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);
  const secrets = devSecrets();

  // The backend first, so the IdP's seeding webhooks land at once instead of being retried.
  const backendEnv: NodeJS.ProcessEnv = {
    ...process.env,
    LOCAL_CONVEX_PORT: String(ports.backend),
    LOCAL_CONVEX_SITE_PORT: String(ports.site),
    LOCAL_CONVEX_DATA_DIR: `${dataDir}/backend`,
    CLERK_JWT_ISSUER_DOMAIN: urls.idp,
    CLERK_WEBHOOK_SECRET: secrets.webhook,
    CLERK_SECRET_KEY: secrets.clerkKey,
    CLERK_API_URL: urls.idp,
    // The local IdP has no Backend API rate limit to keep under (lib/billingReconcile.ts).
    CLERK_API_READS_PER_SECOND: process.env.CLERK_API_READS_PER_SECOND ?? "50",
  };
  backend = spawnBackend(backendEnv);
  await waitForHttp(`${urls.backend}/version`, 60_000);

  idp = await startIdp({
    port: ports.idp,
    dataDir: `${dataDir}/idp`,
    seed: true,
    secretKey: secrets.clerkKey,
    webhookSecret: secrets.webhook,
    webhookUrl: webhookUrlForSitePort(ports.site),
    // The Frontend API changes state only for the app's own pages (pages on other loopback ports are
    // same-site and would carry its cookie): see local/idp/fapi/originCheck.ts.
    fapiOrigins: [urls.spa, `http://localhost:${ports.spa}`],
  });
  await idp.whenDelivered(30_000);

  // Vite exposes VITE_* variables from the environment to the SPA: the same Clerk SDK path as
  // production, pointed at the IdP through the dev server (local/clerkjs/offline.ts).
  process.env.VITE_CONVEX_URL = urls.backend;
  process.env.VITE_CLERK_PUBLISHABLE_KEY = OFFLINE_PUBLISHABLE_KEY;
  process.env.VITE_CLERK_PROXY_URL = CLERK_PROXY_PATH;
  process.env.VITE_CLERK_JS_URL = CLERK_JS_SCRIPT_PATH;
  // vite.config.ts's guard denies the data dir in use (and the project's legacy .local/).
  process.env.LOCAL_DATA_DIR = dataDir;
  vite = await createViteServer({
    root,
    configFile: `${root}/vite.config.ts`,
    server: { host: "127.0.0.1", port: ports.spa, strictPort: true },
    plugins: [offlineClerk({ idpUrl: urls.idp })],
  });
  await vite.listen();

  running = true;
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  console.log(`
Gatehouse is running offline (ready in ${seconds} s):
  App                ${urls.spa}
  Convex backend     ${urls.backend}   (http actions: ${urls.site})
  Identity provider  ${urls.idp}   (Clerk stand-in)

Seeded accounts (password ${SEED_PASSWORD}), signing in with Clerk's own components:
${SEEDED_ACCOUNTS.map((a) => `  ${a.email.padEnd(22)} role ${a.role}, plan ${a.plan}`).join("\n")}
Email codes (sign-up, sign-in by code, password reset) are not sent: they appear in this log,
  and at ${urls.idp}/v1/dev/mailbox with the header "Authorization: Bearer <CLERK_SECRET_KEY>"

Data lives in ${dataDir}
  (LOCAL_DATA_DIR moves it; npm start -- --reset wipes it)${legacyDataNotice()}
Dev secrets, shared by the IdP and the backend (${secrets.where}):
  CLERK_WEBHOOK_SECRET  ${secrets.webhookFromEnv ? "(from the environment)" : secrets.webhook}
  CLERK_SECRET_KEY      ${secrets.clerkKeyFromEnv ? "(from the environment)" : "in the file above"}

Ctrl-C stops everything.`);
}

/**
 * The webhook secret and Backend API key: CLERK_WEBHOOK_SECRET / CLERK_SECRET_KEY when set, else
 * the data dir's own, random on first start (local/idp/secrets.ts, the file the IdP itself uses).
 */
function devSecrets() {
  const stored = loadOrCreateDevSecrets(path.join(dataDir, "idp"));
  const webhookFromEnv = Boolean(process.env.CLERK_WEBHOOK_SECRET);
  const clerkKeyFromEnv = Boolean(process.env.CLERK_SECRET_KEY);
  const webhook = process.env.CLERK_WEBHOOK_SECRET || stored.webhookSecret;
  try {
    createSigner(webhook);
  } catch {
    console.error("CLERK_WEBHOOK_SECRET must be a svix signing secret: whsec_ followed by base64.");
    process.exit(1);
  }
  return {
    webhook,
    clerkKey: process.env.CLERK_SECRET_KEY || stored.secretKey,
    webhookFromEnv,
    clerkKeyFromEnv,
    where: webhookFromEnv && clerkKeyFromEnv ? "from the environment" : stored.file,
  };
}

/** The local backend as a child process (its own event loop: a crash or hang there leaves the rest up). */
function spawnBackend(env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "local/backend/cli.ts"], {
    cwd: root,
    // stdin is the backend's lifeline: it closes when this process dies, even by kill -9.
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...env, LOCAL_BACKEND_EXIT_WITH_PARENT: "1" },
  });
  prefixLines(child.stdout, "backend");
  prefixLines(child.stderr, "backend");
  child.once("exit", (code, signal) => onBackendExit(child, env, code, signal));
  return child;
}

/**
 * Before the stack is up, a backend exit stops everything (it is a configuration problem). After,
 * the backend is restarted on the same data, ports and secrets, so the SPA's Convex client just
 * reconnects; the IdP retries webhooks meanwhile. A crash loop stops the stack.
 */
function onBackendExit(
  child: ChildProcess,
  env: NodeJS.ProcessEnv,
  code: number | null,
  signal: string | null,
) {
  if (stopping || child !== backend) return;
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  if (!running) {
    console.error(`The local backend ${how}; stopping.`);
    void stopAll(1);
    return;
  }
  const now = Date.now();
  while (restartTimes.length && now - restartTimes[0]! > RESTARTS.windowMs) restartTimes.shift();
  if (restartTimes.length >= RESTARTS.max) {
    console.error(
      `The local backend ${how}, after ${RESTARTS.max} restarts within ${RESTARTS.windowMs / 1000} s; ` +
        "giving up and stopping. Its log lines above say why.",
    );
    void stopAll(1);
    return;
  }
  restartTimes.push(now);
  console.error(
    `The local backend ${how}; restarting it (restart ${restartTimes.length} of at most ${RESTARTS.max} ` +
      `within ${RESTARTS.windowMs / 1000} s).`,
  );
  restartTimer = setTimeout(() => {
    if (stopping) return;
    const next = spawnBackend(env);
    backend = next;
    waitForHttp(`${urls.backend}/version`, 60_000).then(
      () => {
        if (!stopping && backend === next && next.exitCode === null && next.signalCode === null) {
          console.log(
            `The local backend is back at ${urls.backend}; the app's clients reconnect by themselves.`,
          );
        }
      },
      () => {
        if (!stopping && backend === next) console.error("The restarted local backend is not answering.");
      },
    );
  }, 250 * restartTimes.length);
}

/** --reset deletes a directory tree, so refuse the ones a typo could point at. */
function wipe(dir: string): void {
  if ([path.parse(dir).root, os.homedir()].includes(dir)) {
    console.error(`Refusing to reset ${dir}: point LOCAL_DATA_DIR at a directory of its own.`);
    process.exit(1);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Data from before it moved out of the project; never served, but worth deleting. */
function legacyDataNotice(): string {
  const legacy = path.join(root, ".local");
  const used = path.relative(legacy, dataDir);
  if (used === "" || !used.startsWith("..")) return "";
  if (!["idp", "backend"].some((d) => fs.existsSync(path.join(legacy, d)))) return "";
  return `\n  Data of earlier runs is still in ${legacy} (unused now; delete it, or set LOCAL_DATA_DIR=.local to keep it).`;
}

main().catch((error) => {
  console.error(`npm start failed: ${(error as Error).message}`);
  void stopAll(1);
});
