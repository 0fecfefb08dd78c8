/**
 * The reliability suite's stack: the local IdP in this process (real sign-ups, real Backend API,
 * real svix-signed webhooks) and the local backend as a child process (`local/backend/cli.ts`, as
 * `npm start` runs it), so it can be SIGKILLed, restarted on the same ports and data dir, and its
 * RSS read from /proc. Clients are the unmodified `convex/browser` ConvexClient and ConvexHttpClient
 * and `@clerk/backend`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createClerkClient, type ClerkClient, type User } from "@clerk/backend";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import type { FunctionReturnType } from "convex/server";
import WebSocket from "ws";
import { api } from "../convex/_generated/api";
import { idpClient, type SignedIn } from "../local/idp/client.ts";
import { startTestIdp, type TestIdp } from "../local/idp/test.idp.ts";
import type { IdpOptions } from "../local/idp/server.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const CLI = path.join(ROOT, "local", "backend", "cli.ts");

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A port that was free a moment ago (the backend must come back on the same one after a kill). */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Deterministic randomness (mulberry32), seeded from RELIABILITY_SEED or the clock; the seed is reported. */
export function seededRandom(name: string): { seed: number; next: () => number } {
  const fromEnv = Number(process.env["RELIABILITY_SEED"]);
  const seed = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : (Date.now() ^ (name.length << 16)) >>> 0;
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, next };
}

export function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** One line per test for the closing note, printed as vitest runs (and kept for the caller). */
export function report(line: string): string {
  process.stdout.write(`${line}\n`);
  return line;
}

// ----- the backend as a child process -----

export type BackendProcess = {
  url: string;
  siteUrl: string;
  port: number;
  sitePort: number;
  dataDir: string;
  pid(): number;
  /** Everything every incarnation printed (stdout and stderr). */
  output(): string;
  /** Lines that report a failure: function `[ERROR]`s, `BUG:`, uncaught errors. */
  errorLines(): string[];
  /** VmRSS of the running process, MB. */
  rssMb(): number;
  alive(): boolean;
  kill9(): Promise<void>;
  /** Starts it again on the same ports and data dir (no reset); resolves with the ms until "ready". */
  restart(): Promise<number>;
  /** SIGTERM (SIGKILL if it hangs) and remove the data dir. */
  dispose(): Promise<void>;
};

export async function startBackendProcess(env: Record<string, string>): Promise<BackendProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-reliability-"));
  const port = await freePort();
  const sitePort = await freePort();
  let output = "";
  let child: ChildProcess | null = null;

  const launch = (reset: boolean): Promise<number> => {
    const started = performance.now();
    const mark = output.length;
    const proc = spawn(
      process.execPath,
      ["--import", "tsx", CLI, "--no-watch", ...(reset ? ["--reset"] : [])],
      {
        cwd: ROOT,
        // stdin is a lifeline: if this test process dies, the backend exits instead of holding the ports.
        stdio: ["pipe", "pipe", "pipe"],
        env: {
          ...process.env,
          NODE_ENV: "development",
          LOCAL_CONVEX_PORT: String(port),
          LOCAL_CONVEX_SITE_PORT: String(sitePort),
          LOCAL_CONVEX_DATA_DIR: dataDir,
          LOCAL_BACKEND_EXIT_WITH_PARENT: "1",
          ...env,
        },
      },
    );
    child = proc;
    proc.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    proc.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`backend did not start:\n${output.slice(mark)}`)),
        60_000,
      );
      const onData = () => {
        if (output.slice(mark).includes("ready in")) {
          clearTimeout(timer);
          proc.stdout!.off("data", onData);
          proc.off("exit", onExit);
          resolve(performance.now() - started);
        }
      };
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`backend exited with ${code} during startup:\n${output.slice(mark)}`));
      };
      proc.stdout!.on("data", onData);
      proc.once("exit", onExit);
    });
  };

  const alive = () => child !== null && child.exitCode === null && child.signalCode === null;
  const stop = async (signal: NodeJS.Signals) => {
    const proc = child;
    if (!proc || !alive()) return;
    const exited = new Promise<void>((r) => proc.once("exit", () => r()));
    proc.kill(signal);
    if (signal === "SIGTERM") {
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    } else await exited;
  };

  try {
    await launch(true);
  } catch (error) {
    await stop("SIGKILL");
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    siteUrl: `http://127.0.0.1:${sitePort}`,
    port,
    sitePort,
    dataDir,
    pid: () => child?.pid ?? -1,
    output: () => output,
    errorLines: () =>
      output.split("\n").filter((l) => /\[ERROR\]|BUG:|Uncaught|unhandled|mutation handling failed/i.test(l)),
    rssMb: () => {
      const status = fs.readFileSync(`/proc/${child?.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
    },
    alive,
    kill9: () => stop("SIGKILL"),
    restart: () => launch(false),
    dispose: async () => {
      await stop("SIGTERM");
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ----- IdP + backend -----

export type Stack = {
  idp: TestIdp;
  backend: BackendProcess;
  clerk: ClerkClient;
  /** Where the IdP's webhooks go when nothing sits in between. */
  webhookUrl: string;
  dispose(): Promise<void>;
};

/** IdP (in process, fast retries) then the backend child configured with it; webhooks go straight to the backend. */
export async function startStack(idpOptions: IdpOptions = {}): Promise<Stack> {
  const idp = await startTestIdp(idpOptions);
  let backend: BackendProcess;
  try {
    backend = await startBackendProcess({
      CLERK_JWT_ISSUER_DOMAIN: idp.url,
      CLERK_WEBHOOK_SECRET: idp.webhookSecret,
      CLERK_SECRET_KEY: idp.secretKey,
      CLERK_API_URL: idp.url,
      CLERK_API_READS_PER_SECOND: "50",
    });
  } catch (error) {
    await idp.dispose();
    throw error;
  }
  const webhookUrl = `${backend.siteUrl}/clerk-users-webhook`;
  idp.setWebhookUrl(webhookUrl);
  return {
    idp,
    backend,
    clerk: createClerkClient({ secretKey: idp.secretKey, apiUrl: idp.url }),
    webhookUrl,
    dispose: async () => {
      await backend.dispose();
      await idp.dispose();
    },
  };
}

export type Account = SignedIn & { email: string; freshToken(): Promise<string> };

/** A sign-up through the IdP's dev API (a shortcut to what Clerk's <SignUp> does); `freshToken()` mints a new session token. */
export async function signUp(
  idp: Pick<TestIdp, "url" | "secretKey">,
  input: { email: string; firstName?: string; lastName?: string },
): Promise<Account> {
  const auth = idpClient(idp.url, { secretKey: idp.secretKey });
  const signedIn = await auth.signUp({ ...input, password: "reliability-password" });
  return { ...signedIn, email: input.email, freshToken: () => auth.token(signedIn.sessionId) };
}

/**
 * An administrator without any sign-in (sign-ins are throttled): a sign-up, promoted through the
 * Backend API, whose user.updated webhook has landed. Its fresh tokens carry role admin.
 */
export async function createAdmin(
  stack: Stack,
  email = "reliability-admin@gatehouse.test",
): Promise<Account> {
  const admin = await signUp(stack.idp, { email, firstName: "Rel", lastName: "Admin" });
  await stack.clerk.users.updateUserMetadata(admin.userId, {
    publicMetadata: { role: "admin", ...granted("pro") },
  });
  await stack.idp.whenDelivered(30_000);
  return admin;
}

/**
 * A plan outside a subscription, as an administrator grants it (ADR 009): the override, with
 * `plan` (Gatehouse's copy for the session token) already equal so nothing needs mirroring.
 * `granted(null)` lifts it: the subscription decides again.
 */
export function granted(plan: "free_user" | "pro" | null) {
  return { plan, planOverride: plan };
}

/**
 * Every user the IdP creates starts on Clerk Billing's free plan and sends its billing events:
 * `subscription.created`, `subscriptionItem.active` (Free), `subscription.active`
 * (local/idp's billing emulation, docs/local-stack.md).
 */
export const BILLING_EVENTS_PER_SIGN_UP = 3;

export type Row = { clerkId: string; email: string; name: string; role: string; plan: string };
export type BackendUser = Row & { synced: boolean; deletedAt?: number | undefined };

/** Every row of the users table, through admin.listUsers with an admin's token (pages of 100). */
export async function backendUsers(backendUrl: string, admin: Account): Promise<BackendUser[]> {
  const client = new ConvexHttpClient(backendUrl, { logger: false });
  client.setAuth(await admin.freshToken());
  const rows: BackendUser[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page: FunctionReturnType<typeof api.admin.listUsers> = await client.query(api.admin.listUsers, {
      paginationOpts: { numItems: 100, cursor },
    });
    for (const u of page.page) {
      rows.push({
        clerkId: u.clerkId,
        email: u.email,
        name: u.name,
        role: u.role,
        plan: u.plan,
        synced: u.synced,
        deletedAt: u.deletedAt,
      });
    }
    if (page.isDone) return rows;
    cursor = page.continueCursor;
  }
}

/** Every user the IdP has, through `@clerk/backend`'s getUserList (pages of 100). */
export async function idpUsers(clerk: ClerkClient): Promise<User[]> {
  const users: User[] = [];
  for (let offset = 0; ; offset += 100) {
    const { data } = await clerk.users.getUserList({ limit: 100, offset, orderBy: "+created_at" });
    users.push(...data);
    if (data.length < 100) return users;
  }
}

/**
 * What the users row of a Clerk user must say, from the SDK's User object: Clerk's full name,
 * the primary email, the role from public metadata with least privilege for anything else, and
 * the plan as ADR 009 decides it for these suites' users, who are all on Clerk Billing's free
 * plan: an administrator's override, else Free.
 */
export function expectedRow(user: User): Row {
  const role = user.publicMetadata["role"];
  const override = user.publicMetadata["planOverride"];
  return {
    clerkId: user.id,
    email: user.primaryEmailAddress?.emailAddress ?? "",
    name: [user.firstName, user.lastName].filter(Boolean).join(" "),
    role: role === "admin" ? "admin" : "user",
    plan: override === "pro" ? "pro" : "free_user",
  };
}

export const rowOf = ({ clerkId, email, name, role, plan }: Row): Row => ({
  clerkId,
  email,
  name,
  role,
  plan,
});

/**
 * The users table against the IdP: live rows equal the IdP's users field by field (and are
 * synced), every id in `deleted` is tombstoned, and no other row exists. Returns the mismatches.
 */
export function compareUsers(
  rows: BackendUser[],
  users: User[],
  deleted: ReadonlySet<string>,
): { live: number; tombstoned: number; mismatches: string[] } {
  const mismatches: string[] = [];
  const byId = new Map<string, BackendUser>();
  for (const row of rows) {
    if (byId.has(row.clerkId)) mismatches.push(`two rows for ${row.clerkId}`);
    byId.set(row.clerkId, row);
  }
  const inIdp = new Set<string>();
  for (const user of users) {
    inIdp.add(user.id);
    const row = byId.get(user.id);
    const want = expectedRow(user);
    if (!row) mismatches.push(`missing row for ${user.id}`);
    else if (row.deletedAt !== undefined) mismatches.push(`${user.id} is live in the IdP but tombstoned`);
    else if (!row.synced) mismatches.push(`${user.id} is not synced`);
    else if (JSON.stringify(rowOf(row)) !== JSON.stringify(want))
      mismatches.push(`${user.id}: row ${JSON.stringify(rowOf(row))} != IdP ${JSON.stringify(want)}`);
  }
  let tombstoned = 0;
  for (const row of rows) {
    if (inIdp.has(row.clerkId)) continue;
    if (row.deletedAt === undefined) mismatches.push(`${row.clerkId} is live but not in the IdP`);
    else if (!deleted.has(row.clerkId)) mismatches.push(`${row.clerkId} tombstoned but never deleted`);
    else tombstoned++;
  }
  for (const id of deleted) {
    if (inIdp.has(id)) mismatches.push(`${id} was deleted but the IdP still has it`);
    else if (byId.get(id)?.deletedAt === undefined) mismatches.push(`${id} was deleted but has no tombstone`);
  }
  return { live: users.length, tombstoned, mismatches };
}

// ----- real Convex clients -----

export type ClientLog = { warnings: string[]; errors: string[] };

/**
 * A ConvexClient signed in as `account` with tokens from the IdP's session (Clerk's getToken):
 * 60 s tokens, so they expire and are refreshed during long runs. Client log lines
 * are kept, not printed: warnings and errors count as findings.
 */
export async function connectClient(
  backendUrl: string,
  account: Account,
  log: ClientLog,
): Promise<ConvexClient> {
  const keep =
    (into: string[]) =>
    (...args: unknown[]) =>
      into.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(" "));
  const client = new ConvexClient(backendUrl, {
    webSocketConstructor: WebSocket as unknown as typeof globalThis.WebSocket,
    unsavedChangesWarning: false,
    logger: {
      log: () => undefined,
      logVerbose: () => undefined,
      warn: keep(log.warnings),
      error: keep(log.errors),
    },
  });
  const authenticated = await new Promise<boolean>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(
        new Error(
          `client for ${account.email} not authenticated after 30 s: ${JSON.stringify(client.connectionState())}`,
        ),
      );
    }, 30_000);
    client.setAuth(
      () => account.freshToken(),
      (isAuthenticated) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          resolve(isAuthenticated);
        }
      },
    );
  }).catch(async (error: unknown) => {
    await Promise.race([client.close(), sleep(2_000)]);
    throw error;
  });
  if (!authenticated) {
    await client.close();
    throw new Error(`client for ${account.email} was not authenticated`);
  }
  return client;
}

/** Closes clients without waiting forever for one whose backend is gone. */
export async function closeClients(clients: ConvexClient[]): Promise<void> {
  await Promise.all(clients.map((c) => Promise.race([c.close(), sleep(2_000)])));
}
