/**
 * Durability: the backend runs as a child process (the CLI), acknowledged mutations are made,
 * the process is SIGKILLed and restarted on the same ports and data dir; the data (same ids),
 * a pending scheduled job, and a still-connected client's subscription all survive.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ConvexClient } from "convex/browser";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  api,
  closeServer,
  listenLocal,
  newClient,
  signIn,
  startIssuer,
  tempDir,
  waitForValue,
  type Issuer,
} from "./test.backend.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI = path.join(ROOT, "local", "backend", "cli.ts");
/** `tsx cli.ts` in one process (the tsx binary would run the server in a grandchild that SIGKILL misses). */
const NODE_ARGS = ["--import", "tsx", CLI];

type Page = { page: { _id: string; title: string; visibility: string }[] };

let issuer: Issuer;
let dataDir: string;
let port: number;
let sitePort: number;
let child: ChildProcess | null = null;
const clients: ConvexClient[] = [];

async function freePort(): Promise<number> {
  const server = http.createServer();
  const p = await listenLocal(server);
  await closeServer(server);
  return p;
}

/** The CLI (`--no-watch`, then `extraArgs`) in a child process, with `env` over this process's. */
function spawnCli(env: NodeJS.ProcessEnv, extraArgs: string[] = []): ChildProcess {
  return spawn(process.execPath, [...NODE_ARGS, "--no-watch", ...extraArgs], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs the CLI until it exits: its exit code and what it wrote to stderr. */
async function runCliToExit(env: NodeJS.ProcessEnv): Promise<{ code: number | null; err: string }> {
  const proc = spawnCli(env);
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => proc.once("exit", r));
  return { code, err };
}

function startChild(extraArgs: string[] = []): Promise<{ proc: ChildProcess; output: () => string }> {
  const proc = spawnCli(
    {
      NODE_ENV: "development",
      LOCAL_CONVEX_PORT: String(port),
      LOCAL_CONVEX_SITE_PORT: String(sitePort),
      LOCAL_CONVEX_DATA_DIR: dataDir,
      CLERK_JWT_ISSUER_DOMAIN: issuer.url,
    },
    extraArgs,
  );
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`backend did not start:\n${out}`)), 20_000);
    proc.stdout!.on("data", () => {
      if (out.includes("ready in")) {
        clearTimeout(timer);
        resolve({ proc, output: () => out });
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`backend exited with ${code}:\n${out}`));
    });
  });
}

function kill9(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    proc.once("exit", () => resolve());
    proc.kill("SIGKILL");
  });
}

beforeAll(async () => {
  issuer = await startIssuer();
  dataDir = tempDir("durability");
  port = await freePort();
  sitePort = await freePort();
});

afterAll(async () => {
  if (child && child.exitCode === null) await kill9(child);
  await Promise.all(clients.map((c) => Promise.race([c.close(), new Promise((r) => setTimeout(r, 1000))])));
  await issuer?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test("acknowledged mutations survive kill -9; a connected client reconnects and sees them", async () => {
  const first = await startChild(["--reset"]);
  child = first.proc;
  const url = `http://127.0.0.1:${port}`;

  const client = newClient(url);
  clients.push(client);
  expect(await signIn(client, () => issuer.mint("user_durable", { metadata: { plan: "pro" } }))).toBe(true);
  await client.mutation(api.users.ensure, {});
  const ids: string[] = [];
  for (const title of ["a", "b", "c"])
    ids.push((await client.mutation(api.posts.create, { title, body: title })) as string);
  const publishAt = Date.now() + 3000;
  await client.mutation(api.posts.schedulePublish, { id: ids[0]!, publishAt });

  let latest: Page | undefined;
  client.onUpdate(api.posts.listMine, { paginationOpts: { numItems: 10, cursor: null } }, (p: Page) => {
    latest = p;
  });
  const poll =
    <T>(get: () => T) =>
    (cb: (v: T) => void) => {
      const t = setInterval(() => cb(get()), 10);
      return () => clearInterval(t);
    };
  await waitForValue(
    poll(() => latest),
    (p) => p?.page.length === 3,
  );

  await kill9(child);
  // Same ports, same data dir, no reset.
  const second = await startChild();
  child = second.proc;

  // The still-open client reconnects by itself and keeps working.
  const d = (await client.mutation(api.posts.create, { title: "d", body: "after restart" })) as string;
  const page = await waitForValue(
    poll(() => latest),
    (p) => p?.page.length === 4,
  );
  expect(page!.page.map((p) => p.title)).toEqual(["d", "c", "b", "a"]);
  // Documents kept their ids (and new ids do not collide with old ones).
  expect(page!.page.map((p) => p._id).slice(1)).toEqual([...ids].reverse());
  expect(ids).not.toContain(d);
  const post = (await client.query(api.posts.get, { id: ids[1]! })) as { title: string };
  expect(post.title).toBe("b");

  // The scheduled publish, pending at the kill, still runs.
  const published = await waitForValue(
    poll(() => latest),
    (p) => p?.page.find((x) => x._id === ids[0])?.visibility === "public",
    10_000,
  );
  expect(Date.now()).toBeGreaterThanOrEqual(publishAt);
  expect(published).toBeDefined();
}, 40_000);

test("a taken port: one line and exit code 1", async () => {
  const blocker = http.createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
  const taken = (blocker.address() as { port: number }).port;
  const { code, err } = await runCliToExit({
    LOCAL_CONVEX_PORT: String(taken),
    LOCAL_CONVEX_SITE_PORT: "0",
    LOCAL_CONVEX_DATA_DIR: path.join(dataDir, "other"),
  });
  await closeServer(blocker);
  expect(code).toBe(1);
  expect(err.trim().split("\n")).toHaveLength(1);
  expect(err).toContain(`port ${taken}`);
});

test("refuses NODE_ENV=production", async () => {
  const { code, err } = await runCliToExit({
    NODE_ENV: "production",
    LOCAL_CONVEX_PORT: "0",
    LOCAL_CONVEX_SITE_PORT: "0",
    LOCAL_CONVEX_DATA_DIR: path.join(dataDir, "prod"),
  });
  expect(code).toBe(1);
  expect(err).toContain("NODE_ENV=production");
});
