/**
 * The local backend driven by the real clients (`ConvexClient` over the sync protocol,
 * `ConvexHttpClient` over the HTTP API) and the app's real functions.
 */
import { ConvexHttpClient, type ConvexClient } from "convex/browser";
import { ConvexReactClient } from "convex/react";
import { ConvexError, type Value } from "convex/values";
import { Webhook } from "svix";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  api,
  eventually,
  newClient,
  openSyncSocket,
  rawConnect,
  rawSubscribe,
  signIn,
  startClerkStub,
  startIssuer,
  startTestBackend,
  waitForValue,
  type ClerkStub,
  type Issuer,
  type TestBackend,
} from "./test.backend.ts";

const WEBHOOK_SECRET = `whsec_${Buffer.from("gatehouse-local-backend-test-secret").toString("base64")}`;

type Page<T> = { page: T[]; isDone: boolean; continueCursor: string };
type Post = { _id: string; title: string; visibility: string; authorId: string };

let issuer: Issuer;
let clerk: ClerkStub;
let backend: TestBackend;
const clients: ConvexClient[] = [];

function codeOf(error: unknown): string | undefined {
  return error instanceof ConvexError ? (error.data as { code?: string }).code : undefined;
}

async function userClient(
  sub: string,
  metadata: { role?: string; plan?: string } = {},
): Promise<ConvexClient> {
  const client = newClient(backend.url);
  clients.push(client);
  const ok = await signIn(client, () =>
    issuer.mint(sub, { metadata, email: `${sub}@example.test`, name: sub }),
  );
  expect(ok).toBe(true);
  return client;
}

beforeAll(async () => {
  issuer = await startIssuer();
  clerk = await startClerkStub();
  backend = await startTestBackend("backend", {
    issuerUrl: issuer.url,
    env: {
      CLERK_WEBHOOK_SECRET: WEBHOOK_SECRET,
      CLERK_SECRET_KEY: "sk_test_local",
      CLERK_API_URL: clerk.url,
    },
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await backend?.dispose();
  await clerk?.close();
  await issuer?.close();
});

describe("functions over the sync protocol (ConvexClient)", () => {
  test("a subscriber sees another client's mutation", async () => {
    const reader = await userClient("user_reader");
    const writer = await userClient("user_writer");
    const seen = waitForValue<Page<Post>>(
      (cb) => reader.onUpdate(api.posts.listPublic, { paginationOpts: { numItems: 10, cursor: null } }, cb),
      (p) => p.page.some((post) => post.title === "hello from writer"),
    );
    await writer.mutation(api.posts.create, { title: "hello from writer", body: "hi", visibility: "public" });
    const page = await seen;
    expect(page.page[0]?.authorId).toBe("user_writer");
  });

  test("a client's own mutations apply in order, with read-your-writes", async () => {
    const client = await userClient("user_ordered");
    const titles = ["one", "two", "three", "four", "five"];
    const ids = await Promise.all(
      titles.map((title) => client.mutation(api.posts.create, { title, body: "" })),
    );
    expect(new Set(ids).size).toBe(5);
    // Read-your-writes: right after the last mutation resolved, the query sees all five.
    const page = (await client.query(api.posts.listMine, {
      paginationOpts: { numItems: 10, cursor: null },
    })) as Page<Post>;
    expect(page.page.map((p) => p.title)).toEqual([...titles].reverse());
  });

  test("pagination keeps its page boundaries across re-runs (journal end cursor)", async () => {
    const client = await userClient("user_pages");
    for (let i = 1; i <= 5; i++) await client.mutation(api.posts.create, { title: `p${i}`, body: "" });
    let first: Page<Post> | undefined;
    const unsubscribe = client.onUpdate(
      api.posts.listMine,
      { paginationOpts: { numItems: 2, cursor: null } },
      (p: Page<Post>) => {
        first = p;
      },
    );
    await eventually(
      () => first,
      (p) => p !== undefined,
    );
    expect(first!.page.map((p) => p.title)).toEqual(["p5", "p4"]);
    const boundary = first!.continueCursor;
    const second = (await client.query(api.posts.listMine, {
      paginationOpts: { numItems: 2, cursor: boundary },
    })) as Page<Post>;
    expect(second.page.map((p) => p.title)).toEqual(["p3", "p2"]);

    // A newer post lands inside page 1: the page grows instead of pushing p4 onto page 2.
    await client.mutation(api.posts.create, { title: "p6", body: "" });
    await eventually(
      () => first!.page.length,
      (n) => n === 3,
    );
    expect(first!.page.map((p) => p.title)).toEqual(["p6", "p5", "p4"]);
    expect(first!.continueCursor).toBe(boundary);
    // Deleting the boundary document keeps the boundary too.
    const p4 = first!.page.find((p) => p.title === "p4")!;
    await client.mutation(api.posts.remove, { id: p4._id });
    await eventually(
      () => first!.page.length,
      (n) => n === 2,
    );
    expect(first!.page.map((p) => p.title)).toEqual(["p6", "p5"]);
    expect(first!.continueCursor).toBe(boundary);
    expect(first!.isDone).toBe(false);
    unsubscribe();
  });

  test("ConvexError data reaches the caller (INVALID_INPUT, UNAUTHENTICATED), and nothing is written", async () => {
    const client = await userClient("user_errors");
    const invalid = await client
      .mutation(api.posts.create, { title: "   ", body: "" })
      .catch((e: unknown) => e);
    expect(codeOf(invalid)).toBe("INVALID_INPUT");
    const anonymous = newClient(backend.url);
    clients.push(anonymous);
    const unauth = await anonymous
      .mutation(api.posts.create, { title: "t", body: "" })
      .catch((e: unknown) => e);
    expect(codeOf(unauth)).toBe("UNAUTHENTICATED");
    const queryError = await anonymous
      .query(api.posts.listMine, { paginationOpts: { numItems: 1, cursor: null } })
      .catch((e: unknown) => e);
    expect(codeOf(queryError)).toBe("UNAUTHENTICATED");
    // Convex's own argument validation rejects too (untyped error, no data).
    const badArgs = await client
      .mutation(api.posts.create, { title: 1 as unknown as string, body: "" })
      .catch((e: unknown) => e);
    expect(badArgs).toBeInstanceOf(Error);
    expect(badArgs).not.toBeInstanceOf(ConvexError);
    const mine = (await client.query(api.posts.listMine, {
      paginationOpts: { numItems: 10, cursor: null },
    })) as Page<Post>;
    expect(mine.page).toHaveLength(0);
  });

  test("internal functions are not callable by clients", async () => {
    const client = await userClient("user_internal");
    const viaWs = await client
      .mutation(api.internal.recordChange, { action: "x", actor: "y" })
      .catch((e: unknown) => e);
    expect(String(viaWs)).toContain("Could not find public function for 'admin:recordChange'");
    const viaQuery = await client
      .query(api.internal.requireLiveUser, { clerkId: "x" })
      .catch((e: unknown) => e);
    expect(String(viaQuery)).toContain("Could not find public function");
    const httpClient = new ConvexHttpClient(backend.url);
    const viaHttp = await httpClient
      .mutation(api.internal.publishDue, { id: "x", publishAt: 1 })
      .catch((e: unknown) => e);
    expect(String(viaHttp)).toContain("Could not find public function for 'posts:publishDue'");
    // The wrong kind is refused too.
    const wrongKind = await client
      .query(api.ref<"query">("posts:create"), { title: "x", body: "" })
      .catch((e: unknown) => e);
    expect(String(wrongKind)).toContain("defined as Mutation");
  });

  test("an action calls fetch (admin.setRole → Clerk Backend API)", async () => {
    const target = await userClient("user_target");
    await target.mutation(api.users.ensure, {});
    const admin = await userClient("user_admin", { role: "admin", plan: "pro" });
    const result = await admin.action(api.admin.setRole, { clerkId: "user_target", role: "admin" });
    expect(result).toBeNull();
    const call = clerk.requests.find((r) => r.path === "/v1/users/user_target/metadata");
    expect(call?.method).toBe("PATCH");
    expect(call?.authorization).toBe("Bearer sk_test_local");
    expect(call?.body).toMatchObject({ public_metadata: { role: "admin" } });
    const audit = (await admin.query(api.admin.auditLog, {
      paginationOpts: { numItems: 5, cursor: null },
    })) as Page<{ action: string; target: string }>;
    expect(audit.page[0]).toMatchObject({ action: "admin.setRole", target: "user_target" });
    // Not an admin: FORBIDDEN from the action's authorization step.
    const forbidden = await target
      .action(api.admin.setRole, { clerkId: "user_admin", role: "user" })
      .catch((e: unknown) => e);
    expect(codeOf(forbidden)).toBe("FORBIDDEN");
  });

  test("a scheduled function runs on time and its write reaches subscribers", async () => {
    const author = await userClient("user_scheduler", { plan: "pro" });
    const watcher = await userClient("user_watcher");
    const id = (await author.mutation(api.posts.create, { title: "scheduled post", body: "soon" })) as string;
    const publishAt = Date.now() + 700;
    await author.mutation(api.posts.schedulePublish, { id, publishAt });
    const visible = waitForValue<Page<Post>>(
      (cb) => watcher.onUpdate(api.posts.listPublic, { paginationOpts: { numItems: 20, cursor: null } }, cb),
      (p) => p.page.some((post) => post._id === id),
    );
    const page = await visible;
    expect(Date.now()).toBeGreaterThanOrEqual(publishAt);
    expect(page.page.find((p) => p._id === id)?.visibility).toBe("public");
    // The free plan cannot schedule.
    const free = await userClient("user_free_scheduler");
    const freeId = (await free.mutation(api.posts.create, { title: "mine", body: "" })) as string;
    const refused = await free
      .mutation(api.posts.schedulePublish, { id: freeId, publishAt: Date.now() + 60_000 })
      .catch((e: unknown) => e);
    expect(codeOf(refused)).toBe("UPGRADE_REQUIRED");
  });

  test("function log lines reach the client as [LEVEL] lines", async () => {
    // A raw socket shows the wire: an http action's console output is not sent, a query's is.
    const ws = await openSyncSocket(backend.url);
    const messages: { type: string; modifications?: { logLines?: string[] }[] }[] = [];
    ws.on("message", (d) => messages.push(JSON.parse(String(d)) as (typeof messages)[number]));
    rawSubscribe(ws, "log-session", "users:me", {});
    await waitForValue<number>(
      (cb) => {
        const t = setInterval(() => cb(messages.length), 10);
        return () => clearInterval(t);
      },
      (n) => n > 0,
    );
    const transition = messages[0]!;
    expect(transition.type).toBe("Transition");
    expect(Array.isArray(transition.modifications?.[0]?.logLines)).toBe(true);
    ws.close();
  });
});

describe("ConvexReactClient (the SPA's client)", () => {
  test("watchQuery, optimistic-free mutation and auth work unmodified", async () => {
    const react = new ConvexReactClient(backend.url, {
      webSocketConstructor: WebSocket as unknown as typeof globalThis.WebSocket,
      unsavedChangesWarning: false,
    });
    try {
      const authed = await new Promise<boolean>((resolve) =>
        react.setAuth(() => issuer.mint("user_react", { metadata: { plan: "pro" }, name: "React" }), resolve),
      );
      expect(authed).toBe(true);
      const watch = react.watchQuery(api.posts.listMine, { paginationOpts: { numItems: 5, cursor: null } });
      let latest: Page<Post> | undefined;
      const stop = watch.onUpdate(() => {
        latest = watch.localQueryResult() as Page<Post> | undefined;
      });
      await react.mutation(api.posts.create, { title: "from react", body: "" });
      await eventually(
        () => latest,
        (p) => p?.page[0]?.title === "from react",
      );
      stop();
      expect(((await react.query(api.users.me, {})) as { name: string }).name).toBe("React");
    } finally {
      await react.close();
    }
  });
});

describe("raw protocol", () => {
  type Msg = { type: string; [k: string]: unknown };
  async function rawSocket(path = "/api/1.48.0/sync") {
    const ws = await openSyncSocket(backend.url, path);
    const messages: Msg[] = [];
    ws.on("message", (d, isBinary) => {
      expect(isBinary).toBe(false);
      messages.push(JSON.parse(String(d)) as Msg);
    });
    const next = (type: string, from = 0) =>
      waitForValue<Msg | undefined>(
        (cb) => {
          const t = setInterval(() => cb(messages.slice(from).find((m) => m.type === type)), 5);
          return () => clearInterval(t);
        },
        (m) => m !== undefined,
      ) as Promise<Msg>;
    return { ws, messages, next, send: (m: object) => ws.send(JSON.stringify(m)) };
  }

  test("a replayed mutation (same sessionId and requestId) runs once; each response is followed by a Transition", async () => {
    const token = await issuer.mint("user_replay", { metadata: {} });
    const connect = async () => {
      const s = await rawSocket("//api/sync");
      rawConnect(s.ws, "replay-session", token);
      s.send({ type: "ModifyQuerySet", baseVersion: 0, newVersion: 1, modifications: [] });
      return s;
    };
    const createOnce = {
      type: "Mutation",
      requestId: 0,
      udfPath: "posts:create",
      args: [{ title: "only once", body: "" }],
    };
    const a = await connect();
    a.send(createOnce);
    const response = await a.next("MutationResponse");
    expect(response["success"]).toBe(true);
    const idx = a.messages.indexOf(response);
    const after = await a.next("Transition", idx + 1);
    const tsOf = (s: string) => Buffer.from(s, "base64").readBigUInt64LE();
    expect(tsOf((after["endVersion"] as { ts: string }).ts)).toBeGreaterThanOrEqual(
      tsOf(response["ts"] as string),
    );
    a.ws.close();
    // Reconnect with the same session and resend the same request.
    const b = await connect();
    b.send(createOnce);
    const replay = await b.next("MutationResponse");
    expect(replay["result"]).toEqual(response["result"]);
    expect(replay["ts"]).toEqual(response["ts"]);
    b.send({
      type: "ModifyQuerySet",
      baseVersion: 1,
      newVersion: 2,
      modifications: [
        {
          type: "Add",
          queryId: 0,
          udfPath: "posts:listMine",
          args: [{ paginationOpts: { numItems: 10, cursor: null } }],
        },
      ],
    });
    const updates = () =>
      b.messages
        .filter((m) => m.type === "Transition")
        .flatMap((m) => m["modifications"] as { type: string; value?: { page: unknown[] } }[])
        .filter((m) => m.type === "QueryUpdated");
    const update = await eventually(
      () => updates().at(-1),
      (u) => u !== undefined,
    );
    expect(update!.value?.page).toHaveLength(1);
    b.ws.close();
  });

  test("the Transition chain is consistent; a protocol error closes the socket without FatalError", async () => {
    const s = await rawSocket();
    rawSubscribe(s.ws, "chain", "users:me", {});
    const first = await s.next("Transition");
    expect(first["startVersion"]).toEqual({ querySet: 0, identity: 0, ts: "AAAAAAAAAAA=" });
    expect((first["endVersion"] as { querySet: number }).querySet).toBe(1);
    expect(first["modifications"]).toEqual([
      { type: "QueryUpdated", queryId: 0, value: null, logLines: [], journal: null },
    ]);
    s.send({
      type: "ModifyQuerySet",
      baseVersion: 1,
      newVersion: 2,
      modifications: [{ type: "Remove", queryId: 0 }],
    });
    const second = await s.next("Transition", s.messages.indexOf(first) + 1);
    expect(second["startVersion"]).toEqual(first["endVersion"]);
    expect(second["modifications"]).toEqual([{ type: "QueryRemoved", queryId: 0 }]);
    // A version mismatch is a protocol error: the socket closes (no FatalError).
    const closed = new Promise<number>((r) => s.ws.once("close", (code) => r(code)));
    s.send({ type: "ModifyQuerySet", baseVersion: 7, newVersion: 8, modifications: [] });
    expect(await closed).toBe(1011);
    expect(s.messages.some((m) => m.type === "FatalError")).toBe(false);
  });
});

describe("result dedup", () => {
  test("a re-run with an unchanged result sends no QueryUpdated; the mutating socket still gets its Transition", async () => {
    type Msg = { type: string; modifications?: { type: string; queryId: number }[] };
    const author = await userClient("user_dedup", { plan: "pro" });
    const id = (await author.mutation(api.posts.create, {
      title: "first title",
      body: "same body",
    })) as string;

    const ws = await openSyncSocket(backend.url);
    const messages: Msg[] = [];
    ws.on("message", (d) => messages.push(JSON.parse(String(d)) as Msg));
    const send = (m: object) => ws.send(JSON.stringify(m));
    const token = await issuer.mint("user_dedup", { metadata: { plan: "pro" } });
    rawSubscribe(ws, "dedup", "insights:overview", {}, token);
    await eventually(
      () => messages.length,
      (n) => n > 0,
    );
    const runsBefore = backend.stats().queryRuns;
    // Renaming the post re-runs the overview (it reads the author's posts), whose numbers stay the same.
    await author.mutation(api.posts.update, { id, title: "second title" });
    await backend.idle();
    expect(backend.stats().queryRuns).toBeGreaterThan(runsBefore);
    // This socket's own (read-only) mutation still gets a Transition after its response.
    send({ type: "Mutation", requestId: 0, udfPath: "users:ensure", args: [{}] });
    const response = await eventually(
      () => messages.findIndex((m) => m.type === "MutationResponse"),
      (i) => i >= 0,
    );
    await eventually(
      () => messages.slice(response).some((m) => m.type === "Transition"),
      (v) => v,
    );
    const overviewUpdates = messages
      .filter((m) => m.type === "Transition")
      .flatMap((t) => t.modifications ?? [])
      .filter((m) => m.queryId === 0);
    expect(overviewUpdates).toHaveLength(1);
    ws.close();
  });
});

describe("HTTP API (ConvexHttpClient) and http actions", () => {
  test("query, mutation, action and /api/function with a Bearer token", async () => {
    const http = new ConvexHttpClient(backend.url);
    expect(await http.query(api.users.me, {})).toBeNull();
    http.setAuth(
      await issuer.mint("user_http", { metadata: { plan: "pro" }, email: "http@example.test", name: "Http" }),
    );
    const me = (await http.mutation(api.users.ensure, {})) as { clerkId: string; plan: string };
    expect(me).toMatchObject({ clerkId: "user_http", plan: "pro", synced: false });
    const id = (await http.mutation(api.posts.create, { title: "over http", body: "b" })) as string;
    // `function` (POST /api/function, args as an object) is @internal in the client's types.
    const viaFunction = http as unknown as {
      function(name: string, componentPath: undefined, args: object): Promise<unknown>;
    };
    const post = (await viaFunction.function("posts:get", undefined, { id })) as Post;
    expect(post.title).toBe("over http");
    const overview = (await http.query(api.insights.overview, {})) as { total: number };
    expect(overview.total).toBe(1);
    const blank = await http.mutation(api.posts.create, { title: "", body: "" }).catch((e: unknown) => e);
    expect(codeOf(blank)).toBe("INVALID_INPUT");
    // A trailing slash in the deployment URL gives `//api/...`.
    const slashy = new ConvexHttpClient(`${backend.url}/`);
    expect(await slashy.query(api.users.me, {})).toBeNull();
  });

  test("an invalid Bearer token is a 401 JSON error, never an identity", async () => {
    const res = await fetch(`${backend.url}/api/query`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${await issuer.mint("x", {}, { key: issuer.otherKey })}`,
      },
      body: JSON.stringify({ path: "users:me", args: {}, format: "convex_encoded_json" }),
    });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { code: string; message: string };
    expect(typeof body.code).toBe("string");
    expect(typeof body.message).toBe("string");
  });

  test("query_ts, version, CORS preflight", async () => {
    const ts = (await (await fetch(`${backend.url}/api/query_ts`, { method: "POST" })).json()) as {
      ts: string;
    };
    expect(Buffer.from(ts.ts, "base64")).toHaveLength(8);
    const version = await fetch(`${backend.url}/version`);
    expect(version.status).toBe(200);
    const preflight = await fetch(`${backend.url}/api/mutation`, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:5173",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,convex-client",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(preflight.headers.get("access-control-allow-headers")).toBe("content-type,convex-client");
  });

  test("the Clerk webhook http action on the site port (and under /http on the main port)", async () => {
    const payload = JSON.stringify({
      type: "user.created",
      object: "event",
      data: {
        id: "user_webhook",
        object: "user",
        first_name: "Web",
        last_name: "Hook",
        image_url: "",
        primary_email_address_id: "idn_1",
        email_addresses: [{ id: "idn_1", email_address: "webhook@example.test" }],
        public_metadata: { role: "user", plan: "pro" },
        created_at: Date.now(),
        updated_at: Date.now(),
      },
    });
    const sign = (id: string) => {
      const timestamp = new Date();
      const signature = new Webhook(WEBHOOK_SECRET).sign(id, timestamp, payload);
      return {
        "svix-id": id,
        "svix-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
        "svix-signature": signature,
        "content-type": "application/json",
      };
    };
    const missing = await fetch(`${backend.siteUrl}/clerk-users-webhook`, { method: "POST", body: payload });
    expect(missing.status).toBe(400);
    const ok = await fetch(`${backend.siteUrl}/clerk-users-webhook`, {
      method: "POST",
      headers: sign("msg_1"),
      body: payload,
    });
    const okBody = await ok.text();
    expect(ok.status, okBody).toBe(200);
    const again = await fetch(`${backend.url}/http/clerk-users-webhook`, {
      method: "POST",
      headers: sign("msg_1"),
      body: payload,
    });
    expect(again.status).toBe(200);
    const notFound = await fetch(`${backend.siteUrl}/no-such-route`);
    expect(notFound.status).toBe(404);
    expect(await notFound.text()).toBe("No HttpAction routed for /no-such-route");
    // The synced row is what users.me reports for that user now.
    const http = new ConvexHttpClient(backend.url);
    http.setAuth(await issuer.mint("user_webhook", { metadata: {} }));
    const me = (await http.query(api.users.me, {})) as { email: string; synced: boolean } | null;
    expect(me).toMatchObject({ email: "webhook@example.test", synced: true });
  });
});

describe("stats", () => {
  test("counts commits and query re-runs", () => {
    const stats = backend.stats();
    expect(stats.commits).toBeGreaterThan(0);
    expect(stats.queryRuns).toBeGreaterThan(0);
    expect(stats.lastCommit).not.toBeNull();
    const value: Value = stats.sessions;
    expect(typeof value).toBe("number");
  });
});
