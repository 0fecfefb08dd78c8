/**
 * `npm start` as a user meets it: everything comes up wired and seeded, one Ctrl-C stops all
 * three servers (their ports are free again), a taken port or a missing `npm ci` gets one line.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Webhook } from "svix";
import { afterAll, expect, test } from "vitest";
import { api } from "../convex/_generated/api";
import { escapingErrorPreload, newClient, signIn } from "./backend/test.backend.ts";
import { idpClient } from "./idp/client.ts";
import { SEED_PASSWORD } from "./idp/config.ts";
import { assertPortFree } from "./ports.ts";
import { inRootSpellings, outsideSpellings, probe, variants } from "./test.servedProbe.ts";
import { eventually as until } from "./test.eventually.ts";

const root = path.resolve(import.meta.dirname, "..");
const ports = { LOCAL_CONVEX_PORT: 7310, LOCAL_CONVEX_SITE_PORT: 7311, LOCAL_IDP_PORT: 7312, PORT: 7173 };
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-start-"));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

function startStack(extraEnv: NodeJS.ProcessEnv = {}, args: string[] = [], nodeArgs: string[] = []) {
  const env: NodeJS.ProcessEnv = { ...process.env, LOCAL_DATA_DIR: dataDir, ...extraEnv };
  for (const [k, v] of Object.entries(ports)) env[k] = String(v);
  for (const [k, v] of Object.entries(extraEnv)) if (v === undefined) delete env[k];
  const child = spawn(process.execPath, ["--import", "tsx", ...nodeArgs, "local/start.ts", ...args], {
    cwd: root,
    env,
    stdio: "pipe",
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, exited, output: () => output };
}

test("starts wired and seeded, and one SIGINT stops the IdP, the backend and Vite", async () => {
  const stack = startStack();
  await until(() => stack.output().includes("Gatehouse is running offline"), 60_000);
  const out = stack.output();
  expect(out).toContain(`App                http://127.0.0.1:${ports.PORT}`);
  expect(out).toMatch(/admin@gatehouse\.test\s+role admin, plan pro/);
  // The users table was filled by the IdP's webhooks through the backend's http action.
  expect(out.match(/Clerk user\.created .*: applied/g)).toHaveLength(3);
  const spa = await fetch(`http://127.0.0.1:${ports.PORT}/`);
  expect(spa.status).toBe(200);

  stack.child.kill("SIGINT");
  expect(await stack.exited).toBe(0);
  for (const [name, port] of Object.entries(ports)) await assertPortFree(port, name);
}, 90_000);

/** Substrings of a file that must never appear in a response: its long runs of token characters. */
function secretsOf(file: string): string[] {
  return [...fs.readFileSync(file, "utf8").matchAll(/[A-Za-z0-9_\-+/=$.]{24,}/g)].map((m) => m[0]);
}

test("keeps its data outside the project by default, says where, and the SPA's server serves none of it", async () => {
  const stateHome = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-state-"));
  const stack = startStack({ LOCAL_DATA_DIR: undefined, XDG_STATE_HOME: stateHome });
  try {
    await until(() => stack.output().includes("Gatehouse is running offline"), 60_000);
    const where = /Data lives in (.+)/.exec(stack.output())?.[1]?.trim();
    expect(where).toBeDefined();
    const data = where!;
    expect(data.startsWith(path.join(stateHome, "gatehouse") + path.sep)).toBe(true);
    expect(path.relative(root, data).startsWith("..")).toBe(true);

    const files = ["idp/signing-key.json", "idp/state.json", "backend/snapshot.json"]
      .map((rel) => path.join(data, rel))
      .filter((file) => fs.existsSync(file));
    expect(files.length).toBeGreaterThanOrEqual(2);
    const key = JSON.parse(fs.readFileSync(path.join(data, "idp/signing-key.json"), "utf8")) as {
      privateJwk: { d: string };
    };
    const secrets = [key.privateJwk.d, ...files.flatMap(secretsOf)];
    const urls = [
      ...files.flatMap((file) => variants(outsideSpellings(file, root))),
      ...variants(inRootSpellings(".local/idp/signing-key.json", root)),
    ];
    const { leaks, notDenied } = await probe(ports.PORT, urls, secrets);
    expect(leaks).toEqual([]);
    expect(notDenied).toEqual([]);
    // The SPA itself is still served.
    expect((await fetch(`http://127.0.0.1:${ports.PORT}/src/main.tsx`)).status).toBe(200);
  } finally {
    stack.child.kill("SIGINT");
    await stack.exited;
    fs.rmSync(stateHome, { recursive: true, force: true });
  }
}, 120_000);

test("refuses a data dir the SPA's server would serve", async () => {
  const stack = startStack({ LOCAL_DATA_DIR: path.join(root, "public", "data") });
  expect(await stack.exited).toBe(1);
  expect(stack.output().trim()).toMatch(
    /^LOCAL_DATA_DIR=.*public.* is inside public\/, which the dev server serves/,
  );
  expect(fs.existsSync(path.join(root, "public", "data"))).toBe(false);
}, 30_000);

/** Status of a svix-signed `user.deleted` posted to the backend's webhook endpoint. */
async function postWebhook(secret: string): Promise<number> {
  const body = JSON.stringify({
    data: { object: "user", id: `user_probe_${Date.now()}`, deleted: true },
    object: "event",
    type: "user.deleted",
    timestamp: Date.now(),
    instance_id: "ins_probe",
  });
  const id = `msg_probe_${Math.random().toString(36).slice(2)}`;
  const at = new Date();
  const response = await fetch(`http://127.0.0.1:${ports.LOCAL_CONVEX_SITE_PORT}/clerk-users-webhook`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "svix-id": id,
      "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
      "svix-signature": new Webhook(secret).sign(id, at, body),
    },
  });
  return response.status;
}

/** Status of the IdP's Backend API for a Bearer key. */
async function backendApi(key: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${ports.LOCAL_IDP_PORT}/v1/users`, {
    headers: { authorization: `Bearer ${key}` },
  });
  return response.status;
}

async function runUntilReady(env: NodeJS.ProcessEnv, check: (output: string) => Promise<void>) {
  const stack = startStack(env);
  try {
    await until(() => stack.output().includes("Gatehouse is running offline"), 60_000);
    await check(stack.output());
  } finally {
    stack.child.kill("SIGINT");
    await stack.exited;
  }
}

test("dev secrets are the data dir's own, random, shown, kept across restarts, and yield to the environment", async () => {
  const own = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-secrets-"));
  const stranger = `whsec_${Buffer.alloc(32, 1).toString("base64")}`;
  try {
    const file = path.join(own, "idp", "secrets.json");
    let stored = { webhookSecret: "", secretKey: "" };
    await runUntilReady({ LOCAL_DATA_DIR: own }, async (out) => {
      stored = JSON.parse(fs.readFileSync(file, "utf8")) as typeof stored;
      expect(stored.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(stored.secretKey).toMatch(/^sk_test_/);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.statSync(own).mode & 0o777).toBe(0o700);
      expect(out).toContain(`CLERK_WEBHOOK_SECRET  ${stored.webhookSecret}`);
      expect(out).toContain(file);
      // The backend verifies with the same secret the IdP signs with, and nothing else.
      expect(await postWebhook(stored.webhookSecret)).toBe(200);
      expect(await postWebhook(stranger)).not.toBe(200);
      expect(await backendApi(stored.secretKey)).toBe(200);
    });
    await runUntilReady({ LOCAL_DATA_DIR: own }, async (out) => {
      expect(out).toContain(`CLERK_WEBHOOK_SECRET  ${stored.webhookSecret}`);
      expect(await postWebhook(stored.webhookSecret)).toBe(200);
    });
    const fromEnv = {
      webhookSecret: `whsec_${Buffer.alloc(32, 2).toString("base64")}`,
      secretKey: "sk_test_env",
    };
    const env = {
      LOCAL_DATA_DIR: own,
      CLERK_WEBHOOK_SECRET: fromEnv.webhookSecret,
      CLERK_SECRET_KEY: fromEnv.secretKey,
    };
    await runUntilReady(env, async (out) => {
      expect(out).toContain("CLERK_WEBHOOK_SECRET  (from the environment)");
      expect(out).not.toContain(fromEnv.webhookSecret);
      expect(await postWebhook(fromEnv.webhookSecret)).toBe(200);
      expect(await postWebhook(stored.webhookSecret)).not.toBe(200);
      expect(await backendApi(fromEnv.secretKey)).toBe(200);
      expect(await backendApi(stored.secretKey)).toBe(401);
    });
  } finally {
    fs.rmSync(own, { recursive: true, force: true });
  }
}, 120_000);

/** The pid of the backend child of `npm start` (Linux /proc). */
function backendPid(parent: number): number | undefined {
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (
        ppid === parent &&
        fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("local/backend/cli.ts")
      ) {
        return Number(entry);
      }
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

test("restarts a backend killed under it, on the same data and secrets, and a client reconnects; a crash loop stops the stack", async () => {
  const own = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-restart-"));
  const stack = startStack({ LOCAL_DATA_DIR: own });
  const back = "The local backend is back at";
  try {
    await until(() => stack.output().includes("Gatehouse is running offline"), 60_000);
    const { webhookSecret, secretKey } = JSON.parse(
      fs.readFileSync(path.join(own, "idp", "secrets.json"), "utf8"),
    ) as { webhookSecret: string; secretKey: string };

    // A signed-in ConvexClient with a live subscription, as in the SPA (the dev API takes the key).
    const idp = idpClient(`http://127.0.0.1:${ports.LOCAL_IDP_PORT}`, { secretKey });
    const session = await idp.signIn("pro@gatehouse.test", SEED_PASSWORD);
    const client = newClient(`http://127.0.0.1:${ports.LOCAL_CONVEX_PORT}`);
    expect(await signIn(client, () => idp.token(session.sessionId))).toBe(true);
    const titles: string[][] = [];
    client.onUpdate(api.posts.listMine, { paginationOpts: { numItems: 10, cursor: null } }, (result) =>
      titles.push(result.page.map((p) => p.title)),
    );
    await until(() => titles.length > 0, 10_000);
    await client.mutation(api.posts.create, { title: "before the crash", body: "kept in the journal" });

    const first = backendPid(stack.child.pid!);
    expect(first).toBeDefined();
    process.kill(first!, "SIGKILL");
    await until(() => count(stack.output(), back) === 1, 30_000);
    expect(stack.output()).toContain(
      "The local backend was killed by SIGKILL; restarting it (restart 1 of at most 5 within 60 s).",
    );
    const second = backendPid(stack.child.pid!);
    expect(second).toBeDefined();
    expect(second).not.toBe(first);

    // The same client reconnects by itself: its subscription sees the old post and a new one.
    await client.mutation(api.posts.create, { title: "after the crash", body: "same client" });
    await until(() => titles.at(-1)?.join() === "after the crash,before the crash", 15_000);
    // Same secrets: the IdP's webhooks still verify; the rest of the stack never went away.
    expect(await postWebhook(webhookSecret)).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.PORT}/`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.LOCAL_IDP_PORT}/.well-known/jwks.json`)).status).toBe(200);
    await client.close();

    // Four more crashes are restarted; the sixth within 60 s stops everything.
    for (let restart = 2; restart <= 5; restart++) {
      process.kill(backendPid(stack.child.pid!)!, "SIGKILL");
      await until(() => count(stack.output(), back) === restart, 30_000);
    }
    process.kill(backendPid(stack.child.pid!)!, "SIGKILL");
    expect(await stack.exited).toBe(1);
    expect(stack.output()).toContain("after 5 restarts within 60 s; giving up and stopping");
    for (const [name, port] of Object.entries(ports)) await assertPortFree(port, name);
  } finally {
    if (stack.child.exitCode === null) {
      stack.child.kill("SIGINT");
      await stack.exited;
    }
    fs.rmSync(own, { recursive: true, force: true });
  }
}, 120_000);

test("npm start killed with SIGKILL leaves no backend behind holding the ports", async () => {
  const own = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-orphan-"));
  const stack = startStack({ LOCAL_DATA_DIR: own });
  try {
    await until(() => stack.output().includes("Gatehouse is running offline"), 60_000);
    const orphan = backendPid(stack.child.pid!);
    expect(orphan).toBeDefined();
    stack.child.kill("SIGKILL");
    await stack.exited;
    const alive = () => {
      try {
        process.kill(orphan!, 0);
        return true;
      } catch {
        return false;
      }
    };
    await until(() => !alive(), 10_000);
    for (const [name, port] of Object.entries(ports)) await assertPortFree(port, name);
  } finally {
    fs.rmSync(own, { recursive: true, force: true });
  }
}, 90_000);

test("an error that escapes every handler in the IdP's or Vite's process is reported as a BUG; the stack keeps serving", async () => {
  const own = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-escape-"));
  // On SIGUSR2 one rejection and one exception escape, as a bug in an IdP or Vite callback would.
  const stack = startStack({ LOCAL_DATA_DIR: path.join(own, "data") }, [], escapingErrorPreload(own));
  try {
    await until(() => stack.output().includes("Gatehouse is running offline"), 60_000);
    stack.child.kill("SIGUSR2");
    await until(() => stack.output().includes("escaped exception") || stack.child.exitCode !== null, 10_000);
    expect(stack.output()).toMatch(
      /npm start: BUG: unhandled promise rejection \(still serving\).*escaped rejection/s,
    );
    expect(stack.output()).toMatch(
      /npm start: BUG: uncaught exception \(still serving\).*escaped exception/s,
    );
    expect(stack.child.exitCode).toBeNull();
    expect((await fetch(`http://127.0.0.1:${ports.PORT}/`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.LOCAL_IDP_PORT}/.well-known/jwks.json`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.LOCAL_CONVEX_PORT}/version`)).status).toBe(200);
  } finally {
    stack.child.kill("SIGINT");
    await stack.exited;
    fs.rmSync(own, { recursive: true, force: true });
  }
}, 90_000);

test("a taken port is refused with one line naming its variable", async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(ports.LOCAL_IDP_PORT, "127.0.0.1", r));
  try {
    const stack = startStack();
    expect(await stack.exited).toBe(1);
    expect(stack.output().trim()).toBe(
      `Port ${ports.LOCAL_IDP_PORT} is already in use (LOCAL_IDP_PORT): stop what is using it, or set LOCAL_IDP_PORT to another port.`,
    );
  } finally {
    await new Promise((r) => blocker.close(r));
  }
}, 30_000);

test("without node_modules, npm start says to run npm ci", () => {
  const bare = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-bare-"));
  try {
    fs.mkdirSync(path.join(bare, "scripts"));
    fs.copyFileSync(path.join(root, "scripts/preflight.mjs"), path.join(bare, "scripts/preflight.mjs"));
    const result = spawnSync(process.execPath, ["scripts/preflight.mjs"], { cwd: bare, encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      "Dependencies are not installed: run `npm ci` first, then `npm start`.",
    );
  } finally {
    fs.rmSync(bare, { recursive: true, force: true });
  }
});
