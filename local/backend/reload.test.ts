/**
 * Hot reload on a copy of the app's `convex/` (so the test can edit files): changed functions
 * are served without a restart, data and ids survive, a broken edit keeps the old functions.
 * Also: function log lines, `process.env`, and `request.url` in http actions.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ConvexClient } from "convex/browser";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  api,
  newClient,
  openSyncSocket,
  rawSubscribe,
  signIn,
  startIssuer,
  startTestBackend,
  waitForValue,
  type Issuer,
  type TestBackend,
} from "./test.backend.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

const PROBE = (version: string) => `import { query } from "./_generated/server";
export const hello = query({
  args: {},
  handler: async () => {
    console.log("hello", { version: "${version}" });
    console.warn("careful");
    return "${version}";
  },
});
export const env = query({
  args: {},
  handler: async () => ({ site: process.env.CONVEX_SITE_URL ?? null, custom: process.env.PROBE_VALUE ?? null, path: process.env.PATH ?? null }),
});
`;

const HTTP_WITH_ECHO = `import http from "./httpApp";
import { httpAction } from "./_generated/server";
http.route({ path: "/echo", method: "GET", handler: httpAction(async (_ctx, request) => new Response(request.url)) });
export default http;
`;

let issuer: Issuer;
let backend: TestBackend;
let convexDir: string;
const clients: ConvexClient[] = [];

function nextReload(): Promise<{ generation: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const offOk = backend.on("reload", (info: { generation: number; ms: number }) => {
      offOk();
      offErr();
      resolve(info);
    });
    const offErr = backend.on("reloadError", (error: Error) => {
      offOk();
      offErr();
      reject(error);
    });
  });
}

function nextReloadError(): Promise<Error> {
  return new Promise((resolve) => {
    const off = backend.on("reloadError", (error: Error) => {
      off();
      resolve(error);
    });
  });
}

beforeAll(async () => {
  issuer = await startIssuer();
  // Inside the repo so the copy resolves `convex`, `zod`, … from node_modules.
  const base = path.join(ROOT, ".local", "test-tmp");
  fs.mkdirSync(base, { recursive: true });
  convexDir = fs.mkdtempSync(path.join(base, "convex-"));
  fs.cpSync(path.join(ROOT, "convex"), convexDir, { recursive: true });
  fs.writeFileSync(path.join(convexDir, "probe.ts"), PROBE("v1"));
  backend = await startTestBackend("reload", {
    issuerUrl: issuer.url,
    convexDir,
    watch: true,
    env: { PROBE_VALUE: "from-options" },
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await backend?.dispose();
  await issuer?.close();
  fs.rmSync(convexDir, { recursive: true, force: true });
  const base = path.dirname(convexDir);
  if (fs.existsSync(base) && fs.readdirSync(base).length === 0) fs.rmdirSync(base);
});

test("console output inside a function reaches the client as log lines", async () => {
  const res = await fetch(`${backend.url}/api/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ path: "probe:hello", args: {}, format: "convex_encoded_json" }),
  });
  expect(await res.json()).toEqual({
    status: "success",
    value: "v1",
    logLines: ["[LOG] 'hello' { version: 'v1' }", "[WARN] 'careful'"],
  });

  const ws = await openSyncSocket(backend.url);
  const message = new Promise<{ modifications: { logLines: string[] }[] }>((r) =>
    ws.once("message", (d) => r(JSON.parse(String(d)) as never)),
  );
  rawSubscribe(ws, "logs", "probe:hello", {});
  expect((await message).modifications[0]?.logLines).toEqual([
    "[LOG] 'hello' { version: 'v1' }",
    "[WARN] 'careful'",
  ]);
  ws.close();
});

test("functions see the deployment env, not the server's", async () => {
  const client = newClient(backend.url);
  clients.push(client);
  const env = (await client.query(api.ref<"query">("probe:env"), {})) as {
    site: string;
    custom: string;
    path: string | null;
  };
  expect(env).toEqual({ site: backend.siteUrl, custom: "from-options", path: null });
});

test("editing a module reloads it: subscribers get the new result, data and ids survive", async () => {
  const client = newClient(backend.url);
  clients.push(client);
  expect(await signIn(client, () => issuer.mint("user_reload", { metadata: {} }))).toBe(true);
  const id = (await client.mutation(api.posts.create, { title: "before reload", body: "" })) as string;
  let value: string | undefined;
  client.onUpdate(api.ref<"query">("probe:hello"), {}, (v: string) => (value = v));
  const poll = (cb: (v: string | undefined) => void) => {
    const t = setInterval(() => cb(value), 10);
    return () => clearInterval(t);
  };
  await waitForValue(poll, (v) => v === "v1");

  const reloaded = nextReload();
  fs.writeFileSync(path.join(convexDir, "probe.ts"), PROBE("v2"));
  const info = await reloaded;
  console.log(`[reload] functions reloaded in ${info.ms} ms`);
  await waitForValue(poll, (v) => v === "v2");
  const post = (await client.query(api.posts.get, { id })) as { title: string };
  expect(post.title).toBe("before reload");
  const id2 = (await client.mutation(api.posts.create, { title: "after reload", body: "" })) as string;
  expect(id2).not.toBe(id);
  expect(backend.stats().reloads).toBeGreaterThanOrEqual(1);
});

test("a new http route is served after reload, with request.url on the site URL", async () => {
  fs.renameSync(path.join(convexDir, "http.ts"), path.join(convexDir, "httpApp.ts"));
  const reloaded = nextReload();
  fs.writeFileSync(path.join(convexDir, "http.ts"), HTTP_WITH_ECHO);
  await reloaded;
  const site = await fetch(`${backend.siteUrl}/echo?x=1`);
  expect(await site.text()).toBe(`${backend.siteUrl}/echo?x=1`);
  const viaMain = await fetch(`${backend.url}/http//echo?x=2`);
  expect(await viaMain.text()).toBe(`${backend.siteUrl}/echo?x=2`);
  const head = await fetch(`${backend.siteUrl}/echo`, { method: "HEAD" });
  expect(head.status).toBe(200);
  expect(await head.text()).toBe("");
});

test("a broken edit keeps serving the previous functions", async () => {
  const failed = nextReloadError();
  fs.writeFileSync(
    path.join(convexDir, "probe.ts"),
    "export const hello = query({ args: {}, handler: async () => {  ",
  );
  const error = await failed;
  expect(error).toBeInstanceOf(Error);
  const res = await fetch(`${backend.url}/api/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ path: "probe:hello", args: {} }),
  });
  expect(((await res.json()) as { value: string }).value).toBe("v2");
});
