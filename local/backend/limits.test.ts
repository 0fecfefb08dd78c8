/**
 * Oversized and unbounded input (limits.ts): messages and bodies over Convex's own limits get a
 * clean close or a 413, a socket cannot queue unbounded work or make us buffer what it does not
 * read, and the backend keeps serving throughout. Runs a small functions directory of its own
 * (big results, a size-reporting action) next to a copy of the app's `_generated/` and auth config.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, expect, test } from "vitest";
import WebSocket from "ws";
import { MAX_API_BODY_BYTES, MAX_HTTP_ACTION_BODY_BYTES, MAX_WS_MESSAGE_BYTES } from "./limits.ts";
import {
  closeServer,
  eventually,
  listenLocal,
  openSyncSocket,
  rawConnect,
  rawHttp,
  sleep,
  startTestBackend,
  statusOf,
  type TestBackend,
} from "./test.backend.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

const SCHEMA = `import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
export default defineSchema({ bumps: defineTable({ n: v.number() }) });
`;
const PROBE = `import { action, mutation, query } from "./_generated/server";
import { v } from "convex/values";
export const size = action({ args: { s: v.string() }, handler: async (_ctx, { s }) => s.length });
export const bump = mutation({ args: {}, handler: async (ctx) => { await ctx.db.insert("bumps", { n: 1 }); } });
/** 4 MB, different after every bump. */
export const big = query({
  args: {},
  handler: async (ctx) => "x".repeat(4_000_000) + (await ctx.db.query("bumps").collect()).length,
});
`;
const HTTP = `import { httpRouter } from "convex/server";
import { httpAction } from "./_generated/server";
const http = httpRouter();
http.route({ path: "/size", method: "POST", handler: httpAction(async (_ctx, req) => new Response(String((await req.arrayBuffer()).byteLength))) });
export default http;
`;

/** An OIDC issuer that accepts connections and never answers: an Authenticate against it blocks
 * the socket's message queue for the verifier's 5 s timeout, so later messages stay pending. */
let hangingIssuer: http.Server;
let hangingIssuerUrl: string;
let convexDir: string;
let backend: TestBackend;

beforeAll(async () => {
  hangingIssuer = http.createServer(() => undefined);
  hangingIssuerUrl = `http://127.0.0.1:${await listenLocal(hangingIssuer)}`;
  const base = path.join(ROOT, ".local", "test-tmp");
  fs.mkdirSync(base, { recursive: true });
  convexDir = fs.mkdtempSync(path.join(base, "limits-"));
  fs.cpSync(path.join(ROOT, "convex", "_generated"), path.join(convexDir, "_generated"), { recursive: true });
  fs.copyFileSync(path.join(ROOT, "convex", "auth.config.ts"), path.join(convexDir, "auth.config.ts"));
  fs.writeFileSync(path.join(convexDir, "schema.ts"), SCHEMA);
  fs.writeFileSync(path.join(convexDir, "probe.ts"), PROBE);
  fs.writeFileSync(path.join(convexDir, "http.ts"), HTTP);
  backend = await startTestBackend("limits", { issuerUrl: hangingIssuerUrl, convexDir });
});

afterAll(async () => {
  await backend?.dispose();
  await closeServer(hangingIssuer);
  fs.rmSync(convexDir, { recursive: true, force: true });
  const base = path.dirname(convexDir);
  if (fs.existsSync(base) && fs.readdirSync(base).length === 0) fs.rmdirSync(base);
});

async function stalledToken(): Promise<string> {
  const { privateKey } = await generateKeyPair("RS256");
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: hangingIssuerUrl, aud: "convex", sub: "stalled", iat: now, exp: now + 60 })
    .setProtectedHeader({ alg: "RS256", kid: "k" })
    .sign(privateKey);
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

function messagesOf(ws: WebSocket): { type: string; [k: string]: unknown }[] {
  const messages: { type: string; [k: string]: unknown }[] = [];
  ws.on("message", (d) => messages.push(JSON.parse(String(d)) as { type: string }));
  return messages;
}

function sizeAction(requestId: number, length: number): string {
  return JSON.stringify({
    type: "Action",
    requestId,
    udfPath: "probe:size",
    args: [{ s: "a".repeat(length) }],
  });
}

/** The backend still answers a new socket and an HTTP call. */
async function expectStillServing(): Promise<void> {
  const ws = await openSyncSocket(backend.url);
  const messages = messagesOf(ws);
  rawConnect(ws, "still-serving");
  ws.send(sizeAction(0, 3));
  await eventually(
    () => messages.find((m) => m.type === "ActionResponse"),
    (m) => m !== undefined,
  );
  expect(messages.find((m) => m.type === "ActionResponse")?.["result"]).toBe(3);
  ws.close();
  const res = await fetch(`${backend.url}/version`);
  expect(res.status).toBe(200);
}

test("a WebSocket message over 16 MiB + 2000 bytes closes the socket with 1009; one at the limit is served", async () => {
  const envelope = sizeAction(0, 0).length;
  const atLimit = await openSyncSocket(backend.url);
  const messages = messagesOf(atLimit);
  rawConnect(atLimit, "at-limit");
  atLimit.send(sizeAction(0, MAX_WS_MESSAGE_BYTES - envelope));
  const response = await eventually(
    () => messages.find((m) => m.type === "ActionResponse"),
    (m) => m !== undefined,
    20_000,
  );
  expect(response).toMatchObject({ success: true, result: MAX_WS_MESSAGE_BYTES - envelope });
  atLimit.close();

  const over = await openSyncSocket(backend.url);
  const closed = closeOf(over);
  rawConnect(over, "over-limit");
  over.send(sizeAction(0, MAX_WS_MESSAGE_BYTES - envelope + 1));
  const { code } = await Promise.race([closed, sleep(10_000).then(() => ({ code: 0 }))]);
  expect(code).toBe(1009);
  await expectStillServing();
}, 60_000);

test("more than 1000 unfinished messages on one socket close it with 1013 TooManyConcurrentRequests", async () => {
  const ws = await openSyncSocket(backend.url);
  const closed = closeOf(ws);
  rawConnect(ws, "flood");
  // Blocks this socket's queue: verifying needs the issuer, which never answers.
  ws.send(
    JSON.stringify({ type: "Authenticate", tokenType: "User", value: await stalledToken(), baseVersion: 0 }),
  );
  await sleep(100); // Connect is done; the Authenticate is now the one unfinished message
  const event = JSON.stringify({ type: "Event", eventType: "x", event: 0 });
  for (let i = 0; i < 999; i++) ws.send(event);
  const early = await Promise.race([closed, sleep(300).then(() => null)]);
  expect(early).toBeNull(); // 1000 unfinished: at the bound, not over it
  ws.send(event);
  const { code, reason } = await Promise.race([
    closed,
    sleep(3000).then(() => ({ code: 0, reason: "still open with 1001 unfinished messages" })),
  ]);
  expect(code).toBe(1013);
  expect(reason).toMatch(/^TooManyConcurrentRequests/);
  await expectStillServing();
});

test("a socket that sends faster than it is served is not read past the buffer bound", async () => {
  const ws = await openSyncSocket(backend.url);
  rawConnect(ws, "fast-sender");
  ws.send(
    JSON.stringify({ type: "Authenticate", tokenType: "User", value: await stalledToken(), baseVersion: 0 }),
  );
  // 96 MiB of queued actions behind the blocked Authenticate: without a bound the server reads and
  // holds all of it; with one it stops reading after ~24 MiB (3 messages), the kernel's
  // socket buffers take some more, and the rest stays on the client.
  const message = sizeAction(0, 8 << 20);
  for (let i = 0; i < 12; i++) ws.send(message);
  await sleep(1500);
  expect(ws.bufferedAmount).toBeGreaterThan(24 << 20);
  ws.terminate();
  await expectStillServing();
}, 30_000);

test("a socket that stops reading is sent at most 2 unflushed Transitions; it catches up when it reads again", async () => {
  const ws = await openSyncSocket(backend.url);
  const messages = messagesOf(ws);
  rawConnect(ws, "slow-reader");
  ws.send(
    JSON.stringify({
      type: "ModifyQuerySet",
      baseVersion: 0,
      newVersion: 1,
      modifications: [{ type: "Add", queryId: 0, udfPath: "probe:big", args: [{}] }],
    }),
  );
  await eventually(
    () => messages.length,
    (n) => n > 0,
  );
  ws.pause(); // stop reading: the 4 MB Transitions back up in the kernel, then on the server
  const before = backend.stats().transitions;
  const bumps = 40;
  for (let i = 0; i < bumps; i++) {
    const res = await fetch(`${backend.url}/api/mutation`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ path: "probe:bump", args: {}, format: "convex_encoded_json" }),
    });
    expect(((await res.json()) as { status: string }).status).toBe("success");
  }
  await sleep(500);
  const sentWhilePaused = backend.stats().transitions - before;
  // The kernel's socket buffers take a few 4 MB Transitions; then only 2 more may queue here.
  expect(sentWhilePaused).toBeLessThan(bumps / 2);
  ws.resume();
  const last = await eventually(
    () => {
      const updates = messages
        .filter((m) => m.type === "Transition")
        .flatMap((m) => m["modifications"] as { type: string; value?: string }[]);
      return updates.at(-1)?.value?.slice(4_000_000);
    },
    (tail) => tail === String(bumps),
  );
  expect(last).toBe(String(bumps));
  ws.close();
}, 60_000);

test("HTTP API bodies over 16 MiB + 2000 bytes get 413; one at the limit is served", async () => {
  const call = (body: string) =>
    fetch(`${backend.url}/api/action`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
  const envelope = JSON.stringify({ path: "probe:size", args: { s: "" } }).length;
  const atLimit = await call(
    JSON.stringify({ path: "probe:size", args: { s: "a".repeat(MAX_API_BODY_BYTES - envelope) } }),
  );
  expect(atLimit.status).toBe(200);
  expect(await atLimit.json()).toMatchObject({ status: "success", value: MAX_API_BODY_BYTES - envelope });

  const over = await call(
    JSON.stringify({ path: "probe:size", args: { s: "a".repeat(MAX_API_BODY_BYTES - envelope + 1) } }),
  );
  expect(over.status).toBe(413);
  expect(await over.json()).toMatchObject({ code: "PayloadTooLarge" });
  await expectStillServing();
}, 30_000);

test("a declared Content-Length over the limit is refused with 413 before any body is read", async () => {
  const response = await rawHttp(
    backend.port,
    `POST /api/mutation HTTP/1.1\r\nHost: 127.0.0.1:${backend.port}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${1 << 30}\r\n\r\n`,
    3000,
  );
  expect(statusOf(response), response).toBe(413);
  await expectStillServing();
});

test("a chunked body that grows past the limit gets 413", async () => {
  const chunk = Buffer.alloc(1 << 20, "a");
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= 24) return controller.close();
      sent++;
      controller.enqueue(chunk);
    },
  });
  const res = await fetch(`${backend.url}/api/mutation`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    duplex: "half",
  } as RequestInit);
  expect(res.status).toBe(413);
  await expectStillServing();
}, 30_000);

test("http action bodies over 20 MiB get 413 on both ports; 20 MiB is served", async () => {
  for (const target of [`${backend.siteUrl}/size`, `${backend.url}/http/size`]) {
    const atLimit = await fetch(target, { method: "POST", body: Buffer.alloc(MAX_HTTP_ACTION_BODY_BYTES) });
    expect(atLimit.status).toBe(200);
    expect(await atLimit.text()).toBe(String(MAX_HTTP_ACTION_BODY_BYTES));
    const over = await fetch(target, { method: "POST", body: Buffer.alloc(MAX_HTTP_ACTION_BODY_BYTES + 1) });
    expect(over.status).toBe(413);
  }
  await expectStillServing();
}, 30_000);

/** `{ x: [[[…]]] }` with the object itself counted: `levels` deep in Convex's sense. */
function nested(levels: number): string {
  return `{"x":${"[".repeat(levels - 1)}${"]".repeat(levels - 1)}}`;
}

test("arguments nested past Convex's 64 levels are a TooNestedError on both transports, never a stack overflow", async () => {
  const routes = {
    "/api/query": "big",
    "/api/mutation": "bump",
    "/api/action": "size",
    "/api/function": "bump",
  };
  for (const [route, fn] of Object.entries(routes)) {
    for (const levels of [65, 100_000]) {
      const res = await fetch(`${backend.url}${route}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: `{"path":"probe:${fn}","args":${nested(levels)}}`,
      });
      const body = (await res.json()) as { status?: string; errorMessage?: string };
      expect(body.status, `${route} ${levels}`).toBe("error");
      expect(body.errorMessage).toContain(
        "TooNestedError: Value is too nested (more than the maximum nesting of 64 levels)",
      );
    }
  }
  // 64 levels pass the nesting check and reach the function's own validator.
  const res = await fetch(`${backend.url}/api/mutation`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: `{"path":"probe:bump","args":${nested(64)}}`,
  });
  expect(((await res.json()) as { errorMessage: string }).errorMessage).not.toContain("TooNestedError");

  const ws = await openSyncSocket(backend.url);
  const messages = messagesOf(ws);
  rawConnect(ws, "deep-args");
  ws.send(`{"type":"Mutation","requestId":0,"udfPath":"probe:bump","args":[${nested(100_000)}]}`);
  const response = await eventually(
    () => messages.find((m) => m.type === "MutationResponse"),
    (m) => m !== undefined,
  );
  expect(response).toMatchObject({ success: false, result: expect.stringContaining("TooNestedError") });
  ws.close();
  await expectStillServing();
});

test("a function API body that is JSON but not an object is a 400, not a 500", async () => {
  for (const route of ["/api/query", "/api/mutation", "/api/action", "/api/function"]) {
    for (const body of ["null", "123", '"probe:size"', "[]"]) {
      const res = await fetch(`${backend.url}${route}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(res.status, `${route} ${body}`).toBe(400);
      expect(await res.json()).toMatchObject({ code: "BadJsonBody" });
    }
  }
  await expectStillServing();
});

test("a query subscription with arguments nested past 64 levels gets a TooNestedError, not a closed socket", async () => {
  const ws = await openSyncSocket(backend.url);
  const messages = messagesOf(ws);
  let closed = false;
  ws.once("close", () => (closed = true));
  rawConnect(ws, "deep-query");
  const add = `{"type":"Add","queryId":0,"udfPath":"probe:big","args":[${nested(100_000)}]}`;
  ws.send(`{"type":"ModifyQuerySet","baseVersion":0,"newVersion":1,"modifications":[${add}]}`);
  const transition = await eventually(
    () => messages.find((m) => m.type === "Transition"),
    (m) => m !== undefined,
  );
  const modification = (transition!["modifications"] as { type: string; errorMessage?: string }[])[0];
  expect(modification).toMatchObject({
    type: "QueryFailed",
    errorMessage: expect.stringContaining("TooNestedError"),
  });
  expect(closed).toBe(false);
  ws.close();
  await expectStillServing();
});
