/**
 * The authorization matrix: every public function × every actor, with the expected
 * outcome. A denied call must also leave every table exactly as it was.
 * The last test fails when a public function exists that this matrix does not list.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "./_generated/api";
import { errorCodeOf, type ErrorCode } from "./lib/errors";
import { FREE_POST_QUOTA } from "./lib/permissions";
import {
  ACTOR_NAMES,
  clerkUser,
  fakeClerkApi,
  modules,
  seedWorld,
  snapshot,
  type ActorName,
  type TestConvex,
  type World,
} from "./test.world";

type Outcome = "ok" | ErrorCode;
type Row = {
  call: (as: TestConvex, w: World) => Promise<unknown>;
  expect: Record<ActorName, Outcome>;
  /** Extra assertions for allowed calls. */
  check?: (result: unknown, actor: ActorName, w: World) => void | Promise<void>;
};

const page = { paginationOpts: { numItems: 10, cursor: null } };
const U = "UNAUTHENTICATED",
  F = "FORBIDDEN",
  N = "NOT_FOUND",
  P = "UPGRADE_REQUIRED";

/** Signed-in actors allowed, anonymous and deleted refused. */
const anySignedIn: Record<ActorName, Outcome> = {
  anonymous: U,
  owner: "ok",
  other: "ok",
  admin: "ok",
  free: "ok",
  pro: "ok",
  deleted: U,
  revoked: "ok",
};
const adminsOnly: Record<ActorName, Outcome> = {
  anonymous: U,
  owner: F,
  other: F,
  admin: "ok",
  free: F,
  pro: F,
  deleted: U,
  revoked: F,
};

export const MATRIX: Record<string, Row> = {
  "users:me": {
    call: (as) => as.query(api.users.me, {}),
    expect: { ...anySignedIn, anonymous: "ok" },
    check: (result, actor, w) => {
      if (actor === "anonymous") return expect(result).toBeNull();
      expect(result).toMatchObject({ clerkId: w.clerkIds[actor] });
      // The revoked admin's token still says admin/pro; the newer synced row wins.
      if (actor === "revoked") expect(result).toMatchObject({ role: "user", plan: "free_user" });
    },
  },
  "users:ensure": { call: (as) => as.mutation(api.users.ensure, {}), expect: anySignedIn },
  "posts:create": {
    call: (as) => as.mutation(api.posts.create, { title: "new", body: "text" }),
    expect: anySignedIn,
    check: async (id, actor, w) => {
      const post = await w.t.run((ctx) => ctx.db.get("posts", id as never));
      expect(post).toMatchObject({
        authorId: w.clerkIds[actor as Exclude<ActorName, "anonymous">],
        visibility: "private",
      });
    },
  },
  "posts:update": {
    call: (as, w) => as.mutation(api.posts.update, { id: w.posts.ownerPrivate, title: "changed" }),
    expect: { anonymous: U, owner: "ok", other: N, admin: F, free: N, pro: N, deleted: U, revoked: N },
    check: async (_r, _a, w) => {
      expect(await w.t.run((ctx) => ctx.db.get("posts", w.posts.ownerPrivate))).toMatchObject({
        title: "changed",
      });
    },
  },
  "posts:remove": {
    call: (as, w) => as.mutation(api.posts.remove, { id: w.posts.ownerPrivate }),
    expect: { anonymous: U, owner: "ok", other: N, admin: "ok", free: N, pro: N, deleted: U, revoked: N },
    check: async (_r, _a, w) => {
      expect(await w.t.run((ctx) => ctx.db.get("posts", w.posts.ownerPrivate))).toBeNull();
    },
  },
  "posts:get": {
    call: (as, w) => as.query(api.posts.get, { id: w.posts.ownerPrivate }),
    expect: { anonymous: U, owner: "ok", other: N, admin: "ok", free: N, pro: N, deleted: U, revoked: N },
    check: (post, _a, w) => expect(post).toMatchObject({ _id: w.posts.ownerPrivate, title: "owner private" }),
  },
  "posts:listMine": {
    call: (as) => as.query(api.posts.listMine, page),
    expect: anySignedIn,
    check: (result, actor, w) => {
      const authors = (result as { page: { authorId: string }[] }).page.map((p) => p.authorId);
      expect(authors.every((a) => a === w.clerkIds[actor as Exclude<ActorName, "anonymous">])).toBe(true);
      if (actor === "owner") expect(authors).toHaveLength(2);
    },
  },
  "posts:listPublic": {
    call: (as) => as.query(api.posts.listPublic, page),
    // Readable signed out (the public feed needs no account); a deleted account is still refused.
    expect: { ...anySignedIn, anonymous: "ok" },
    check: (result, _a, w) => {
      const posts = (result as { page: { _id: string; authorName: string }[] }).page;
      expect(posts.map((p) => p._id)).toEqual([w.posts.ownerPublic]);
      expect(posts[0]?.authorName).toBe(w.clerkIds.owner);
      expect(JSON.stringify(result)).not.toContain("@gatehouse.test");
    },
  },
  "posts:schedulePublish": {
    call: (as, w) =>
      as.mutation(api.posts.schedulePublish, { id: w.posts.ownerPrivate, publishAt: Date.now() + 60_000 }),
    // Plan first, then ownership: a free caller learns nothing about whose post it is.
    expect: { anonymous: U, owner: "ok", other: P, admin: F, free: P, pro: N, deleted: U, revoked: P },
    check: async (_r, _a, w) => {
      const post = await w.t.run((ctx) => ctx.db.get("posts", w.posts.ownerPrivate));
      expect(post?.publishAt).toBeGreaterThan(Date.now());
      expect(post?.publishJobId).toBeDefined();
    },
  },
  "posts:quota": {
    call: (as) => as.query(api.posts.quota, {}),
    expect: anySignedIn,
    check: (result, actor) => {
      // The owner is on Pro (two posts, no quota); the free actor has no posts yet.
      if (actor === "owner") expect(result).toEqual({ used: 2, limit: null });
      if (actor === "free") expect(result).toEqual({ used: 0, limit: FREE_POST_QUOTA });
    },
  },
  "posts:cancelSchedule": {
    call: (as, w) => as.mutation(api.posts.cancelSchedule, { id: w.posts.ownerPrivate }),
    // Like update: the author only, on any plan (an ex-Pro author may still call off a schedule).
    expect: { anonymous: U, owner: "ok", other: N, admin: F, free: N, pro: N, deleted: U, revoked: N },
    check: async (_r, _a, w) => {
      const post = await w.t.run((ctx) => ctx.db.get("posts", w.posts.ownerPrivate));
      expect(post?.publishAt).toBeUndefined();
      expect(post?.publishJobId).toBeUndefined();
    },
  },
  "billing:mine": {
    call: (as) => as.query(api.billing.mine, {}),
    expect: anySignedIn,
    // The world has no subscriptions: each caller sees their own plan, from metadata, and no paid item.
    check: (result, actor) => {
      const own = { free: "free_user", pro: "pro", admin: "pro" } as Record<string, string>;
      if (own[actor]) expect(result).toEqual({ plan: own[actor], source: "default", paid: null });
    },
  },
  "insights:overview": {
    call: (as) => as.query(api.insights.overview, { days: 30 }),
    expect: { anonymous: U, owner: "ok", other: P, admin: "ok", free: P, pro: "ok", deleted: U, revoked: P },
    check: (result, actor) => {
      if (actor === "owner")
        expect(result).toMatchObject({ total: 2, public: 1, private: 1, words: 4, perDay: [{ count: 2 }] });
    },
  },
  "admin:listUsers": {
    call: (as) => as.query(api.admin.listUsers, { ...page, search: "USER_", role: "user", plan: "pro" }),
    expect: adminsOnly,
    // Members on Pro whose name or email contains "user_" (any case); the deleted row is listed as such.
    check: (result) =>
      expect((result as { page: { clerkId: string }[] }).page.map((u) => u.clerkId).sort()).toEqual([
        "user_deleted",
        "user_owner",
        "user_pro",
      ]),
  },
  "admin:auditLog": {
    call: (as) => as.query(api.admin.auditLog, { ...page, fold: true, kind: "plan" }),
    expect: adminsOnly,
  },
  "admin:setRole": {
    call: (as, w) => as.action(api.admin.setRole, { clerkId: w.clerkIds.free, role: "admin" }),
    expect: adminsOnly,
  },
  "admin:setPlan": {
    call: (as, w) => as.action(api.admin.setPlan, { clerkId: w.clerkIds.free, plan: "pro" }),
    expect: adminsOnly,
  },
  "admin:reconcileUsers": {
    call: async (as, w) => {
      // Clerk has every live user of the world as the rows have them: nothing to repair.
      const rows = await w.t.run((ctx) => ctx.db.query("users").collect());
      for (const row of rows.filter((r) => r.deletedAt === undefined)) {
        clerk.users.set(
          row.clerkId,
          clerkUser(row.clerkId, { role: row.role, plan: row.plan }, row.clerkUpdatedAt),
        );
      }
      return await as.action(api.admin.reconcileUsers, {});
    },
    expect: adminsOnly,
    check: (result) =>
      expect(result).toEqual({
        clerkUsers: 6,
        created: 0,
        updated: 0,
        deleted: 0,
        unchanged: 6,
        invalid: 0,
        subscriptionsRepaired: 0,
        billing: "checked",
      }),
  },
};

async function outcomeOf(
  promise: Promise<unknown>,
): Promise<{ outcome: Outcome; result?: unknown; error?: unknown }> {
  try {
    return { outcome: "ok", result: await promise };
  } catch (error) {
    const code = errorCodeOf(error);
    if (code === undefined) throw error; // an untyped error is itself a failure
    return { outcome: code, error };
  }
}

let clerk: ReturnType<typeof fakeClerkApi>;
beforeEach(() => {
  clerk = fakeClerkApi();
  vi.stubGlobal("fetch", clerk.fetch);
  vi.stubEnv("CLERK_SECRET_KEY", "sk_test_matrix");
  // Clerk Billing reads unpaced (lib/billingReconcile.ts): the fake Clerk has no rate limit.
  vi.stubEnv("CLERK_API_READS_PER_SECOND", "0");
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});

describe.each(Object.entries(MATRIX))("%s", (name, row) => {
  test.each(ACTOR_NAMES)(`${name} as %s`, async (actor) => {
    const w = await seedWorld();
    const before = await snapshot(w.t);
    const { outcome, result } = await outcomeOf(row.call(w.as(actor), w));
    expect(outcome).toBe(row.expect[actor]);
    if (outcome === "ok") {
      await row.check?.(result, actor, w);
    } else {
      expect(await snapshot(w.t)).toEqual(before);
      if (name.startsWith("admin:")) expect(clerk.calls).toHaveLength(0);
    }
  });
});

test("admin actions call Clerk's Backend API and write an audit entry", async () => {
  const w = await seedWorld();
  await w.as("admin").action(api.admin.setPlan, { clerkId: w.clerkIds.free, plan: "pro" });
  expect(clerk.calls).toEqual([
    {
      method: "PATCH",
      path: `/v1/users/${w.clerkIds.free}/metadata`,
      // An administrator's plan is an override (ADR 009), and `plan` carries it into the token.
      body: { public_metadata: { plan: "pro", planOverride: "pro" } },
      authorization: "Bearer sk_test_matrix",
    },
  ]);
  const audit = await w.as("admin").query(api.admin.auditLog, page);
  expect(audit.page[0]).toMatchObject({
    action: "admin.setPlan",
    actor: w.clerkIds.admin,
    target: w.clerkIds.free,
  });
  // The row changes only when Clerk's user.updated webhook lands, not from the action.
  const row = await w.t.run((ctx) =>
    ctx.db
      .query("users")
      .withIndex("by_clerkId", (q) => q.eq("clerkId", w.clerkIds.free))
      .unique(),
  );
  expect(row?.plan).toBe("free_user");
});

test("every public function is in the matrix, and nothing in the matrix is missing", async () => {
  const publicFunctions: string[] = [];
  for (const [path, load] of Object.entries(modules)) {
    if (path.startsWith("./_generated/")) continue;
    const exports = (await load()) as Record<string, unknown>;
    const module = path.replace(/^\.\//, "").replace(/\.ts$/, "");
    for (const [exportName, value] of Object.entries(exports)) {
      const fn = value as { isPublic?: boolean; isQuery?: boolean; isMutation?: boolean; isAction?: boolean };
      if (fn && fn.isPublic && (fn.isQuery || fn.isMutation || fn.isAction)) {
        publicFunctions.push(`${module}:${exportName}`);
      }
    }
  }
  expect(publicFunctions.sort()).toEqual(Object.keys(MATRIX).sort());
});
