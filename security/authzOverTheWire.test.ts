/**
 * The authorization matrix (convex/authz.matrix.test.ts, docs/security.md) replayed against the
 * running stack: every public function × anonymous / free / pro (the owner) / admin / deleted /
 * revoked-admin, with real IdP tokens, over the HTTP API and the WebSocket. The deleted and the
 * revoked actors are made the way they happen: a token is minted, then Clerk's Backend API (the
 * real `@clerk/backend` client against the IdP) deletes or demotes the user and the webhook lands.
 * Every refusal asserts its error code and that every table is unchanged. Then IDOR with ids
 * harvested from other users' public data, and mass assignment. A public function the matrix does
 * not list fails the run.
 */
import fs from "node:fs";
import path from "node:path";
import type { ConvexClient } from "convex/browser";
import { makeFunctionReference, type FunctionReference } from "convex/server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Backend } from "../local/backend/server.ts";
import { FREE_POST_QUOTA } from "../convex/lib/permissions.ts";
import { idpClient } from "../local/idp/client.ts";
import type { TestIdp } from "../local/idp/test.idp.ts";
import {
  clerkFor,
  dbState,
  decodeJwtParts,
  expectUnchanged,
  httpClientWithToken,
  newClient,
  nowSeconds,
  outcomeOf,
  SEEDED,
  signIn,
  startSecurityStack,
  Tally,
  type Outcome,
  type SignedIn,
  type TestStack,
} from "./helpers.ts";

const tally = new Tally("authzOverTheWire");

type ActorName = "anonymous" | "free" | "pro" | "admin" | "deleted" | "revoked";
const ACTORS: ActorName[] = ["anonymous", "free", "pro", "admin", "deleted", "revoked"];

type Args = Record<string, unknown>;
type Kind = "query" | "mutation" | "action";
const ref = <K extends Kind>(name: string) =>
  makeFunctionReference<K, Args, unknown>(name) as FunctionReference<K, "public", Args, unknown>;

/** One way of calling the deployment as one actor (ConvexHttpClient or ConvexClient). */
type Caller = {
  query(name: string, args: Args): Promise<unknown>;
  mutation(name: string, args: Args): Promise<unknown>;
  action(name: string, args: Args): Promise<unknown>;
};

type World = {
  clerkIds: Record<Exclude<ActorName, "anonymous">, string>;
  proPrivate: string;
  proPublic: string;
  freePrivate: string;
  /** A throw-away user the admin actions target. */
  target: string;
};

let stack: TestStack;
let idp: TestIdp;
let backend: Backend;
let clerk: ReturnType<typeof clerkFor>;
let sessions: Record<"free" | "pro" | "admin" | "pro2", SignedIn>;
let frozenTokens: Record<"deleted" | "revoked", string>;
let w: World;
const wsClients = new Map<ActorName, ConvexClient>();

const page = { paginationOpts: { numItems: 10, cursor: null } };

async function tokenOf(actor: ActorName | "pro2"): Promise<string | undefined> {
  if (actor === "anonymous") return undefined;
  if (actor === "deleted" || actor === "revoked") {
    const token = frozenTokens[actor];
    // These tokens cannot be refreshed (deleted: session gone; revoked: a new one says "user").
    expect(decodeJwtParts(token).payload["exp"] as number, `${actor}'s token expired`).toBeGreaterThan(
      nowSeconds() + 1,
    );
    return token;
  }
  return idpClient(idp.url, { secretKey: idp.secretKey }).token(sessions[actor].sessionId);
}

async function httpAs(actor: ActorName | "pro2"): Promise<Caller> {
  const client = httpClientWithToken(backend.url, await tokenOf(actor));
  return {
    query: (name, args) => client.query(ref<"query">(name), args),
    mutation: (name, args) => client.mutation(ref<"mutation">(name), args),
    action: (name, args) => client.action(ref<"action">(name), args),
  };
}

async function wsAs(actor: ActorName): Promise<Caller> {
  let client = wsClients.get(actor);
  if (!client) {
    const c = newClient(backend.url);
    if (actor !== "anonymous") {
      // Live actors refresh through the IdP as Clerk's getToken does; deleted/revoked keep their token.
      const session = actor === "deleted" || actor === "revoked" ? null : sessions[actor];
      const fetchToken = async () =>
        (session
          ? await idpClient(idp.url, { secretKey: idp.secretKey }).token(session.sessionId)
          : await tokenOf(actor)) ?? null;
      const ok = await new Promise<boolean>((resolve) => c.setAuth(fetchToken, resolve));
      expect(ok, `${actor} signs in over the WebSocket`).toBe(true);
    }
    wsClients.set(actor, c);
    client = c;
  }
  const c = client;
  return {
    query: (name, args) => c.query(ref<"query">(name), args),
    mutation: (name, args) => c.mutation(ref<"mutation">(name), args),
    action: (name, args) => c.action(ref<"action">(name), args),
  };
}

/** A new private post of the pro user (the owner), for a call that is allowed to change or remove it. */
async function freshProPost(title = "fresh"): Promise<string> {
  return (await (await httpAs("pro")).mutation("posts:create", { title, body: "one two" })) as string;
}

beforeAll(async () => {
  // The deleted and revoked actors' tokens are minted once, before their change; a 10-minute
  // lifetime keeps them valid however slow the machine (what refuses them is the users row).
  stack = await startSecurityStack({ tokenLifetimeSeconds: 600 });
  ({ idp, backend } = stack);
  clerk = clerkFor(idp);
  const api = idpClient(idp.url, { secretKey: idp.secretKey });
  sessions = {
    free: await signIn(idp, SEEDED.free),
    pro: await signIn(idp, SEEDED.pro),
    admin: await signIn(idp, SEEDED.admin),
    pro2: await api.signUp({ email: "authz-pro2@security.test", password: "correct horse battery" }),
  };
  // Pro by an administrator's grant (ADR 009): every new user is on Clerk Billing's free plan, and a
  // bare `plan` in metadata is Gatehouse's own copy of the plan, which it rewrites from the subscription.
  await clerk.users.updateUserMetadata(sessions.pro2.userId, {
    publicMetadata: { plan: "pro", planOverride: "pro" },
  });
  const target = await api.signUp({ email: "authz-target@security.test", password: "correct horse battery" });
  const doomed = await api.signUp({
    email: "authz-deleted@security.test",
    password: "correct horse battery",
  });
  const revoked = await api.signUp({
    email: "authz-revoked@security.test",
    password: "correct horse battery",
  });
  await clerk.users.updateUserMetadata(revoked.userId, {
    publicMetadata: { role: "admin", plan: "pro", planOverride: "pro" },
  });
  await idp.whenDelivered(10_000);

  const pro = await httpAs("pro");
  const proPrivate = (await pro.mutation("posts:create", {
    title: "pro private",
    body: "hello world",
  })) as string;
  const proPublic = (await pro.mutation("posts:create", {
    title: "pro public",
    body: "hello world",
    visibility: "public",
  })) as string;
  const freePrivate = (await (
    await httpAs("free")
  ).mutation("posts:create", { title: "free private", body: "x" })) as string;

  // Tokens minted before the change that should take their privileges away.
  frozenTokens = {
    deleted: await api.token(doomed.sessionId),
    revoked: await api.token(revoked.sessionId),
  };
  expect(decodeJwtParts(frozenTokens.revoked).payload["metadata"]).toEqual({
    role: "admin",
    plan: "pro",
    planOverride: "pro",
  });
  await clerk.users.deleteUser(doomed.userId);
  await clerk.users.updateUserMetadata(revoked.userId, {
    publicMetadata: { role: "user", plan: "free_user", planOverride: null },
  });
  await idp.whenDelivered(10_000);

  w = {
    clerkIds: {
      free: sessions.free.userId,
      pro: sessions.pro.userId,
      admin: sessions.admin.userId,
      deleted: doomed.userId,
      revoked: revoked.userId,
    },
    proPrivate,
    proPublic,
    freePrivate,
    target: target.userId,
  };
}, 60_000);

afterAll(async () => {
  await Promise.all([...wsClients.values()].map((c) => c.close()));
  await stack?.dispose();
  tally.print();
});

// ---------- the matrix ----------

const U = "UNAUTHENTICATED",
  F = "FORBIDDEN",
  N = "NOT_FOUND",
  P = "UPGRADE_REQUIRED";

type Expect = Record<ActorName, Outcome>;
const anySignedIn: Expect = { anonymous: U, free: "ok", pro: "ok", admin: "ok", deleted: U, revoked: "ok" };
const adminsOnly: Expect = { anonymous: U, free: F, pro: F, admin: "ok", deleted: U, revoked: F };

type Row = {
  kind: Kind;
  /** `post` is the pro user's private post (or a fresh one when the call may change it). */
  args: (post: string) => Args;
  expect: Expect;
  /** An allowed call changes or removes its post: give it a fresh one. */
  consumesPost?: boolean;
  check?: (result: unknown, actor: ActorName, post: string) => void | Promise<void>;
};

const authorOf = (actor: ActorName) => w.clerkIds[actor as Exclude<ActorName, "anonymous">];

export const WIRE_MATRIX: Record<string, Row> = {
  "users:me": {
    kind: "query",
    args: () => ({}),
    expect: { ...anySignedIn, anonymous: "ok" },
    check: (result, actor) => {
      if (actor === "anonymous") return void expect(result).toBeNull();
      expect(result).toMatchObject({ clerkId: authorOf(actor) });
      if (actor === "revoked") expect(result).toMatchObject({ role: "user", plan: "free_user" });
      if (actor === "admin") expect(result).toMatchObject({ role: "admin", plan: "pro" });
    },
  },
  "users:ensure": {
    kind: "mutation",
    args: () => ({}),
    expect: anySignedIn,
    check: (result, actor) => expect(result).toMatchObject({ clerkId: authorOf(actor), synced: true }),
  },
  "posts:create": {
    kind: "mutation",
    args: () => ({ title: "matrix", body: "text" }),
    expect: anySignedIn,
    check: async (id, actor) => {
      const post = await (await httpAs("admin")).query("posts:get", { id: id as string });
      expect(post).toMatchObject({ authorId: authorOf(actor), visibility: "private", title: "matrix" });
    },
  },
  "posts:update": {
    kind: "mutation",
    args: (post) => ({ id: post, title: "changed" }),
    expect: { anonymous: U, free: N, pro: "ok", admin: F, deleted: U, revoked: N },
    consumesPost: true,
    check: async (_r, _a, post) =>
      expect(await (await httpAs("pro")).query("posts:get", { id: post })).toMatchObject({
        title: "changed",
      }),
  },
  "posts:remove": {
    kind: "mutation",
    args: (post) => ({ id: post }),
    expect: { anonymous: U, free: N, pro: "ok", admin: "ok", deleted: U, revoked: N },
    consumesPost: true,
    check: async (_r, _a, post) =>
      expect((await outcomeOf((await httpAs("pro")).query("posts:get", { id: post }))).outcome).toBe(N),
  },
  "posts:get": {
    kind: "query",
    args: (post) => ({ id: post }),
    expect: { anonymous: U, free: N, pro: "ok", admin: "ok", deleted: U, revoked: N },
    check: (result, _a, post) => {
      expect(result).toMatchObject({ _id: post, title: "pro private", authorId: w.clerkIds.pro });
      // Field-level: never more than the post view (no scheduler job ids).
      expect(Object.keys(result as object).sort()).toEqual(
        ["_creationTime", "_id", "authorId", "body", "title", "updatedAt", "visibility"].sort(),
      );
    },
  },
  "posts:listMine": {
    kind: "query",
    args: () => page,
    expect: anySignedIn,
    check: (result, actor) => {
      const authors = (result as { page: { authorId: string }[] }).page.map((p) => p.authorId);
      expect(authors.every((a) => a === authorOf(actor))).toBe(true);
    },
  },
  "posts:listPublic": {
    kind: "query",
    args: () => page,
    // The public feed is readable signed out; a deleted account is still refused.
    expect: { ...anySignedIn, anonymous: "ok" },
    check: (result) => {
      const posts = (result as { page: { _id: string; visibility: string }[] }).page;
      expect(posts.every((p) => p.visibility === "public")).toBe(true);
      expect(JSON.stringify(posts)).not.toMatch(/@gatehouse\.test/);
      expect(posts.map((p) => p._id)).toContain(w.proPublic);
      expect(posts.map((p) => p._id)).not.toContain(w.proPrivate);
    },
  },
  "posts:schedulePublish": {
    kind: "mutation",
    // An hour out, so the job never fires during the run and commits behind a later snapshot.
    args: (post) => ({ id: post, publishAt: Date.now() + 3_600_000 }),
    expect: { anonymous: U, free: P, pro: "ok", admin: F, deleted: U, revoked: P },
    consumesPost: true,
    check: async (_r, _a, post) => {
      const view = (await (await httpAs("pro")).query("posts:get", { id: post })) as { publishAt?: number };
      expect(view.publishAt).toBeGreaterThan(Date.now());
    },
  },
  "posts:quota": {
    kind: "query",
    args: () => ({}),
    expect: anySignedIn,
    // The limit follows the caller's plan as the server sees it, not the token's (revoked: downgraded).
    check: (result, actor) => {
      const limit = (result as { limit: number | null }).limit;
      expect(limit).toBe(actor === "free" || actor === "revoked" ? FREE_POST_QUOTA : null);
    },
  },
  "posts:cancelSchedule": {
    kind: "mutation",
    args: (post) => ({ id: post }),
    // Like update: the author only, on any plan.
    expect: { anonymous: U, free: N, pro: "ok", admin: F, deleted: U, revoked: N },
    consumesPost: true,
    check: async (_r, _a, post) => {
      const view = (await (await httpAs("pro")).query("posts:get", { id: post })) as { publishAt?: number };
      expect(view.publishAt).toBeUndefined();
    },
  },
  "billing:mine": {
    kind: "query",
    args: () => ({}),
    expect: anySignedIn,
    // Each caller's own plan and its source: Pat's Pro is his subscription, Ada's an administrator's grant.
    check: (result, actor) => {
      if (actor === "pro")
        expect(result).toMatchObject({ plan: "pro", source: "subscription", paid: { status: "active" } });
      if (actor === "admin") expect(result).toMatchObject({ plan: "pro", source: "admin", paid: null });
      if (actor === "free")
        expect(result).toMatchObject({ plan: "free_user", source: "subscription", paid: null });
    },
  },
  "insights:overview": {
    kind: "query",
    args: () => ({}),
    expect: { anonymous: U, free: P, pro: "ok", admin: "ok", deleted: U, revoked: P },
    check: (result) => expect(result).toMatchObject({ total: expect.any(Number) }),
  },
  "admin:listUsers": {
    kind: "query",
    args: () => page,
    expect: adminsOnly,
    check: (result) => {
      const emails = (result as { page: { email: string }[] }).page.map((u) => u.email);
      expect(emails).toEqual(expect.arrayContaining([SEEDED.admin, SEEDED.pro, SEEDED.free]));
    },
  },
  "admin:auditLog": { kind: "query", args: () => page, expect: adminsOnly },
  "admin:setRole": {
    kind: "action",
    args: () => ({ clerkId: w.target, role: "user" }),
    expect: adminsOnly,
    // Clerk holds the role now, and the audit log names the change.
    check: async () => {
      expect((await clerk.users.getUser(w.target)).publicMetadata).toMatchObject({ role: "user" });
      await expectAudited("admin.setRole", { role: "user", from: "user" });
    },
  },
  "admin:setPlan": {
    kind: "action",
    args: () => ({ clerkId: w.target, plan: "pro" }),
    expect: adminsOnly,
    check: async () => {
      expect((await clerk.users.getUser(w.target)).publicMetadata).toMatchObject({ plan: "pro" });
      await expectAudited("admin.setPlan", { plan: "pro", from: "free_user" });
    },
  },
  "admin:reconcileUsers": {
    kind: "action",
    args: () => ({}),
    expect: adminsOnly,
    check: (result) =>
      expect(result).toMatchObject({
        clerkUsers: expect.any(Number),
        invalid: 0,
        created: expect.any(Number),
      }),
  },
};

/** The newest audit entries include this admin change of the target. */
async function expectAudited(action: string, details: Record<string, unknown>) {
  const log = (await (await httpAs("admin")).query("admin:auditLog", page)) as {
    page: { action: string; target?: string; details?: Record<string, unknown> }[];
  };
  expect(log.page).toContainEqual(expect.objectContaining({ action, target: w.target, details }));
}

async function call(
  caller: Caller,
  name: string,
  row: Row,
  post: string,
): Promise<ReturnType<typeof outcomeOf>> {
  return outcomeOf(caller[row.kind](name, row.args(post)));
}

describe.each(Object.entries(WIRE_MATRIX))("%s", (name, row) => {
  test.each(ACTORS)(`${name} as %s (HTTP and WebSocket)`, async (actor) => {
    const expected = row.expect[actor];
    for (const transport of ["http", "ws"] as const) {
      const allowed = expected === "ok";
      // Allowed writes run once (over HTTP): the WebSocket replay is for refusals and reads.
      if (transport === "ws" && allowed && row.kind !== "query") continue;
      const post = allowed && row.consumesPost ? await freshProPost() : w.proPrivate;
      await idp.whenDelivered(10_000);
      const targetBefore = (await clerk.users.getUser(w.target)).updatedAt;
      const before = dbState(backend);
      const caller = transport === "http" ? await httpAs(actor) : await wsAs(actor);
      const { outcome, value, error } = await call(caller, name, row, post);
      expect(
        outcome,
        `${name} as ${actor} over ${transport}: ${String((error as Error | undefined)?.message)}`,
      ).toBe(expected);
      if (allowed) {
        await row.check?.(value, actor, post);
        tally.accept();
        if (row.kind === "action") await idp.whenDelivered(10_000);
      } else {
        expectUnchanged(backend, before, tally, `${name} as ${actor} over ${transport}`);
        if (name.startsWith("admin:"))
          expect((await clerk.users.getUser(w.target)).updatedAt).toBe(targetBefore);
        tally.reject();
      }
    }
  });
});

// ---------- the public surface ----------

/** Every deployable module's functions, by visibility (the entry points `npx convex deploy` bundles). */
async function deployedFunctions(): Promise<{ public: string[]; internal: string[]; httpRoutes: string[] }> {
  const convexDir = path.resolve(import.meta.dirname, "..", "convex");
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "_generated") walk(full);
      } else if (/^[^.]+\.(ts|js)$/.test(entry.name)) files.push(full);
    }
  };
  walk(convexDir);
  const out = { public: [] as string[], internal: [] as string[], httpRoutes: [] as string[] };
  for (const file of files) {
    const module = path
      .relative(convexDir, file)
      .replace(/\\/g, "/")
      .replace(/\.(ts|js)$/, "");
    if (module === "schema" || module === "auth.config") continue;
    const exports = (await import(file)) as Record<string, unknown>;
    for (const [exportName, value] of Object.entries(exports)) {
      const fn = value as {
        isPublic?: boolean;
        isInternal?: boolean;
        isQuery?: boolean;
        isMutation?: boolean;
        isAction?: boolean;
        isRouter?: boolean;
        getRoutes?: () => [string, string, unknown][];
      } | null;
      if (!fn || (typeof fn !== "object" && typeof fn !== "function")) continue;
      if (fn.isRouter && fn.getRoutes) {
        for (const [routePath, method] of fn.getRoutes()) out.httpRoutes.push(`${method} ${routePath}`);
        continue;
      }
      if (!(fn.isQuery || fn.isMutation || fn.isAction)) continue;
      if (fn.isPublic) out.public.push(`${module}:${exportName}`);
      else if (fn.isInternal) out.internal.push(`${module}:${exportName}`);
    }
  }
  return out;
}

describe("the public surface", () => {
  test("every public function is in the matrix, and every matrix entry is a public function", async () => {
    const { public: fns } = await deployedFunctions();
    expect(fns.sort()).toEqual(Object.keys(WIRE_MATRIX).sort());
    tally.hold();
  });

  test("every internal function is refused to every client (admin included), over HTTP and the WebSocket", async () => {
    const { internal } = await deployedFunctions();
    expect(internal.length).toBeGreaterThan(5);
    await idp.whenDelivered(10_000);
    const before = dbState(backend);
    for (const actor of ["anonymous", "admin"] as const) {
      for (const transport of ["http", "ws"] as const) {
        const caller = transport === "http" ? await httpAs(actor) : await wsAs(actor);
        for (const name of internal) {
          for (const kind of ["query", "mutation", "action"] as const) {
            const { outcome } = await outcomeOf(caller[kind](name, {}));
            expect(outcome, `${name} as ${kind} by ${actor} over ${transport}`).toBe("NOT_PUBLIC");
          }
          tally.reject();
        }
      }
    }
    expectUnchanged(backend, before, tally, "internal functions");
  });

  test("the only http action is POST /clerk-users-webhook", async () => {
    const { httpRoutes } = await deployedFunctions();
    expect(httpRoutes).toEqual(["POST /clerk-users-webhook"]);
    tally.hold();
  });
});

// ---------- IDOR ----------

describe("IDOR: ids harvested from other users' public data", () => {
  async function expectRefused(
    label: string,
    caller: Caller,
    kind: Kind,
    name: string,
    args: Args,
    code: Outcome,
  ) {
    await idp.whenDelivered(10_000);
    const before = dbState(backend);
    const { outcome, error } = await outcomeOf(caller[kind](name, args));
    expect(outcome, `${label}: ${String((error as Error | undefined)?.message)}`).toBe(code);
    expectUnchanged(backend, before, tally, label);
    tally.reject();
    return error;
  }

  test("the public feed gives away post ids and author ids; writes with them are refused", async () => {
    const free = await httpAs("free");
    const pro2 = await httpAs("pro2");
    const feed = (await free.query("posts:listPublic", page)) as {
      page: { _id: string; authorId: string }[];
    };
    const harvested = feed.page.find((p) => p._id === w.proPublic);
    expect(harvested).toBeDefined();
    const { _id: postId, authorId } = harvested!;
    expect(authorId).toBe(w.clerkIds.pro);

    for (const [who, caller] of [
      ["free", free],
      ["pro2", pro2],
    ] as const) {
      await expectRefused(
        `${who} updates a public post`,
        caller,
        "mutation",
        "posts:update",
        { id: postId, title: "pwned" },
        F,
      );
      await expectRefused(
        `${who} makes a public post private`,
        caller,
        "mutation",
        "posts:update",
        { id: postId, visibility: "private" },
        F,
      );
      await expectRefused(
        `${who} removes a public post`,
        caller,
        "mutation",
        "posts:remove",
        { id: postId },
        F,
      );
      await expectRefused(
        `${who} schedules a public post`,
        caller,
        "mutation",
        "posts:schedulePublish",
        { id: postId, publishAt: Date.now() + 3_600_000 },
        who === "free" ? P : F,
      );
      // Harvested author id → admin actions on that user.
      await expectRefused(
        `${who} sets the author's role`,
        caller,
        "action",
        "admin:setRole",
        { clerkId: authorId, role: "user" },
        F,
      );
      await expectRefused(
        `${who} sets the author's plan`,
        caller,
        "action",
        "admin:setPlan",
        { clerkId: authorId, plan: "free_user" },
        F,
      );
    }
    // Reading a public post is what the feed is for.
    expect(await free.query("posts:get", { id: postId })).toMatchObject({ _id: postId });
    tally.accept();
  });

  test("a leaked private post id answers exactly like one that never existed", async () => {
    const pro2 = await httpAs("pro2");
    const gone = (await pro2.mutation("posts:create", { title: "short-lived", body: "" })) as string;
    await pro2.mutation("posts:remove", { id: gone });
    const guessed = w.proPrivate.replace(
      /^(0*)(\d+)/,
      (_m, zeros: string, n: string) => zeros + String(Number(n) + 100_000),
    );
    for (const [who, caller] of [
      ["free", await httpAs("free")],
      ["pro2", pro2],
      ["revoked", await httpAs("revoked")],
    ] as const) {
      const shapes: unknown[] = [];
      for (const id of [w.proPrivate, gone, guessed]) {
        for (const [kind, fn, args] of [
          ["query", "posts:get", { id }],
          ["mutation", "posts:update", { id, title: "pwned" }],
          ["mutation", "posts:remove", { id }],
        ] as const) {
          const error = (await expectRefused(
            `${who} ${fn} ${id === w.proPrivate ? "foreign" : id === gone ? "deleted" : "guessed"}`,
            caller,
            kind,
            fn,
            args,
            N,
          )) as {
            data: unknown;
          };
          shapes.push([fn, error.data]);
        }
      }
      // Same code and message for a foreign, a deleted and a guessed id: no existence oracle.
      expect(shapes.slice(0, 3)).toEqual(shapes.slice(3, 6));
      expect(shapes.slice(0, 3)).toEqual(shapes.slice(6, 9));
    }
  });

  test("ids of another table, malformed ids and ids of other shapes are refused by the validator", async () => {
    const free = await httpAs("free");
    const usersId = w.proPrivate.replace(/posts$/, "users");
    const auditId = (
      (await (await httpAs("admin")).query("admin:auditLog", page)) as { page: { _id: string }[] }
    ).page[0]!._id;
    for (const id of [
      usersId,
      auditId,
      "",
      "abc",
      "k".repeat(10_000),
      null,
      42,
      {},
      [w.proPrivate],
      `${w.proPrivate} `,
    ]) {
      await expectRefused(
        `posts:get id=${JSON.stringify(id).slice(0, 40)}`,
        free,
        "query",
        "posts:get",
        { id },
        "VALIDATION",
      );
      await expectRefused(
        `posts:remove id=${JSON.stringify(id).slice(0, 40)}`,
        free,
        "mutation",
        "posts:remove",
        { id },
        "VALIDATION",
      );
    }
  });

  test("another user's pagination cursor never yields that user's posts", async () => {
    const pro = await httpAs("pro");
    for (let i = 0; i < 3; i++) await pro.mutation("posts:create", { title: `page filler ${i}`, body: "" });
    const first = (await pro.query("posts:listMine", { paginationOpts: { numItems: 1, cursor: null } })) as {
      continueCursor: string;
    };
    const free = await httpAs("free");
    await idp.whenDelivered(10_000);
    const before = dbState(backend);
    const { outcome, value } = await outcomeOf(
      free.query("posts:listMine", { paginationOpts: { numItems: 10, cursor: first.continueCursor } }),
    );
    expect(["ok", "INVALID_INPUT"]).toContain(outcome);
    if (outcome === "ok") {
      const authors = (value as { page: { authorId: string }[] }).page.map((p) => p.authorId);
      expect(authors.every((a) => a === w.clerkIds.free)).toBe(true);
    }
    expectUnchanged(backend, before, tally, "foreign cursor");
    tally.hold();
  });
});

// ---------- mass assignment ----------

describe("mass assignment: fields the server owns are refused by the validators", () => {
  test.each([
    ["posts:create + authorId", "mutation", "posts:create", { title: "t", body: "b", authorId: "victim" }],
    ["posts:create + role", "mutation", "posts:create", { title: "t", body: "b", role: "admin" }],
    ["posts:create + plan", "mutation", "posts:create", { title: "t", body: "b", plan: "pro" }],
    [
      "posts:create + _id",
      "mutation",
      "posts:create",
      { title: "t", body: "b", _id: "000000000000000000000010001posts" },
    ],
    ["posts:create + _creationTime", "mutation", "posts:create", { title: "t", body: "b", _creationTime: 0 }],
    ["posts:create + updatedAt", "mutation", "posts:create", { title: "t", body: "b", updatedAt: 0 }],
    ["posts:create + publishJobId", "mutation", "posts:create", { title: "t", body: "b", publishJobId: "x" }],
    [
      "posts:create visibility unlisted",
      "mutation",
      "posts:create",
      { title: "t", body: "b", visibility: "unlisted" },
    ],
    ["posts:update + authorId", "mutation", "posts:update", { id: "FREE_POST", authorId: "victim" }],
    ["posts:update + _id", "mutation", "posts:update", { id: "FREE_POST", _id: "FREE_POST" }],
    ["posts:update + publishAt", "mutation", "posts:update", { id: "FREE_POST", publishAt: 1 }],
    ["users:ensure + role", "mutation", "users:ensure", { role: "admin" }],
    ["users:ensure + plan", "mutation", "users:ensure", { plan: "pro" }],
    ["users:ensure + clerkId", "mutation", "users:ensure", { clerkId: "ADMIN" }],
    ["users:me + clerkId", "query", "users:me", { clerkId: "ADMIN" }],
    ["posts:listMine + authorId", "query", "posts:listMine", { ...page, authorId: "PRO" }],
    [
      "paginationOpts + authorId",
      "query",
      "posts:listMine",
      { paginationOpts: { numItems: 5, cursor: null, authorId: "PRO" } },
    ],
    ["admin:setPlan + role", "action", "admin:setPlan", { clerkId: "FREE", plan: "pro", role: "admin" }],
    ["admin:setRole role superadmin", "action", "admin:setRole", { clerkId: "FREE", role: "superadmin" }],
  ] as const)("%s", async (label, kind, fn, rawArgs) => {
    const substitute = (value: unknown): unknown =>
      value === "FREE_POST"
        ? w.freePrivate
        : value === "ADMIN"
          ? w.clerkIds.admin
          : value === "PRO"
            ? w.clerkIds.pro
            : value === "FREE"
              ? w.clerkIds.free
              : value;
    const args = Object.fromEntries(
      Object.entries(rawArgs).map(([k, v]) => [
        k,
        v && typeof v === "object" && !Array.isArray(v)
          ? Object.fromEntries(Object.entries(v).map(([k2, v2]) => [k2, substitute(v2)]))
          : substitute(v),
      ]),
    );
    for (const actor of ["free", "admin"] as const) {
      await idp.whenDelivered(10_000);
      const before = dbState(backend);
      const { outcome, error } = await outcomeOf((await httpAs(actor))[kind](fn, args));
      expect(outcome, `${label} as ${actor}: ${String((error as Error | undefined)?.message)}`).toBe(
        "VALIDATION",
      );
      expectUnchanged(backend, before, tally, `${label} as ${actor}`);
      tally.reject();
    }
  });
});
