/**
 * Mutation replay (a reconnecting client resends what was in flight) is bound to who sent it and
 * what it was: the same session id and request id from another identity, or with another function
 * or other arguments, is a new request, never someone else's stored result.
 */
import fs from "node:fs";
import { ConvexHttpClient } from "convex/browser";
import { afterAll, beforeAll, expect, test } from "vitest";
import type WebSocket from "ws";
import {
  api,
  eventually,
  openSyncSocket,
  rawConnect,
  startIssuer,
  startTestBackend,
  tempDir,
  type Issuer,
  type TestBackend,
} from "./test.backend.ts";
import { startBackend } from "./server.ts";

type Msg = { type: string; [k: string]: unknown };

let issuer: Issuer;
let backend: TestBackend;
beforeAll(async () => {
  issuer = await startIssuer();
  backend = await startTestBackend("replay", { issuerUrl: issuer.url });
});
afterAll(async () => {
  await backend?.dispose();
  await issuer?.close();
});

/** A raw sync socket on `sessionId`, authenticated as `sub` unless null. */
async function session(sessionId: string, sub: string | null) {
  const ws = await openSyncSocket(backend.url);
  const messages: Msg[] = [];
  ws.on("message", (d) => messages.push(JSON.parse(String(d)) as Msg));
  rawConnect(ws, sessionId, sub === null ? undefined : await issuer.mint(sub, { metadata: {} }));
  ws.send(JSON.stringify({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [] }));
  await eventually(
    () => messages.some((m) => m.type === "Transition"),
    (ok) => ok,
  );
  return { ws, messages };
}

async function mutate(s: { ws: WebSocket; messages: Msg[] }, requestId: number, title: string): Promise<Msg> {
  const from = s.messages.length;
  s.ws.send(
    JSON.stringify({ type: "Mutation", requestId, udfPath: "posts:create", args: [{ title, body: "" }] }),
  );
  const response = await eventually(
    () => s.messages.slice(from).find((m) => m.type === "MutationResponse"),
    (m) => m !== undefined,
  );
  return response!;
}

async function postsOf(sub: string): Promise<string[]> {
  const client = new ConvexHttpClient(backend.url);
  client.setAuth(await issuer.mint(sub, { metadata: {} }));
  const page = (await client.query(api.posts.listMine, {
    paginationOpts: { numItems: 50, cursor: null },
  })) as { page: { title: string }[] };
  return page.page.map((p) => p.title);
}

test("an anonymous socket presenting another client's session id does not get that client's mutation result", async () => {
  const a = await session("shared-session", "user_a");
  const original = await mutate(a, 0, "A's private title");
  expect(original["success"]).toBe(true);
  a.ws.close();

  // B forges A's session id in its Connect and resends A's request, without A's token.
  const b = await session("shared-session", null);
  const forged = await mutate(b, 0, "A's private title");
  expect(forged["success"]).toBe(false);
  expect(forged["errorData"]).toMatchObject({ code: "UNAUTHENTICATED" });
  expect(JSON.stringify(forged)).not.toContain(String(original["result"]));
  b.ws.close();

  // A itself, reconnecting with a fresh token, still gets its replay: no second post.
  const again = await session("shared-session", "user_a");
  const replay = await mutate(again, 0, "A's private title");
  expect(replay["result"]).toEqual(original["result"]);
  expect(replay["ts"]).toEqual(original["ts"]);
  again.ws.close();
  expect(await postsOf("user_a")).toEqual(["A's private title"]);
});

test("another user with the same session and request id runs its own mutation", async () => {
  const c = await session("shared-session-2", "user_c");
  const first = await mutate(c, 0, "C's post");
  c.ws.close();
  const d = await session("shared-session-2", "user_d");
  const second = await mutate(d, 0, "C's post");
  d.ws.close();
  expect(first["success"]).toBe(true);
  expect(second["success"]).toBe(true);
  expect(second["result"]).not.toEqual(first["result"]);
  expect(await postsOf("user_c")).toEqual(["C's post"]);
  expect(await postsOf("user_d")).toEqual(["C's post"]);
});

test("a reused request id with other arguments is a new mutation, not a replay", async () => {
  const e = await session("shared-session-3", "user_e");
  const first = await mutate(e, 0, "first");
  e.ws.close();
  const again = await session("shared-session-3", "user_e");
  const second = await mutate(again, 0, "second");
  again.ws.close();
  expect(second["success"]).toBe(true);
  expect(second["result"]).not.toEqual(first["result"]);
  expect((await postsOf("user_e")).sort()).toEqual(["first", "second"]);
});

test("a committed mutation's result outlives the process: after a restart (and its compaction) a resend is answered from the journal and runs once", async () => {
  const shared = backend;
  const dataDir = tempDir("replay-restart");
  const start = async (reset: boolean) =>
    ({
      ...(await startBackend({
        port: 0,
        sitePort: 0,
        dataDir,
        reset,
        env: { CLERK_JWT_ISSUER_DOMAIN: issuer.url },
      })),
      dispose: async () => undefined,
    }) satisfies TestBackend;
  try {
    backend = await start(true);
    const first = await session("restart-session", "user_r");
    const original = await mutate(first, 0, "survives a restart");
    expect(original["success"]).toBe(true);
    first.ws.close();
    // A graceful stop compacts: the record moves from the journal's lines into the snapshot.
    await backend.close();

    backend = await start(false);
    const again = await session("restart-session", "user_r");
    const replay = await mutate(again, 0, "survives a restart");
    expect(replay).toMatchObject({ success: true, result: original["result"], ts: original["ts"] });
    again.ws.close();
    expect(await postsOf("user_r")).toEqual(["survives a restart"]);
    await backend.close();
  } finally {
    backend = shared;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
