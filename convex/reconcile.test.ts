/**
 * Reconciliation with Clerk's user list: the users table ends equal to Clerk's users — missing
 * rows created, stale rows updated, rows of deleted users tombstoned — audited, and never a
 * tombstone revived or a user deleted on the list's word alone.
 */
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import { clerkUser, fakeClerkApi, identityFor, newTest, snapshot, type TestConvex } from "./test.world";
import { usersRow } from "./test.webhooks";

let clerk: ReturnType<typeof fakeClerkApi>;
beforeEach(() => {
  clerk = fakeClerkApi();
  vi.stubGlobal("fetch", clerk.fetch);
  vi.stubEnv("CLERK_SECRET_KEY", "sk_test_reconcile");
  // Clerk Billing reads unpaced (lib/billingReconcile.ts): the fake Clerk has no rate limit.
  vi.stubEnv("CLERK_API_READS_PER_SECOND", "0");
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});

const ADMIN = "user_admin";
const admin = (t: TestConvex) =>
  t.withIdentity(identityFor(ADMIN, { role: "admin", plan: "pro", userUpdatedAt: Date.now() - 60_000 }));

/** Clerk has these users; the table starts with what `rows` says. */
async function world(clerkUsers: ReturnType<typeof clerkUser>[]) {
  const t = newTest();
  const adminUser = clerkUser(ADMIN, { role: "admin", plan: "pro" }, Date.now() - 60_000);
  for (const u of [adminUser, ...clerkUsers]) clerk.users.set(u.id, u);
  await t.run(async (ctx) => {
    await ctx.db.insert("users", {
      clerkId: ADMIN,
      email: `${ADMIN}@example.com`,
      name: "Test User",
      imageUrl: adminUser.image_url,
      role: "admin",
      plan: "pro",
      clerkUpdatedAt: adminUser.updated_at,
      synced: true,
    });
  });
  return t;
}

async function insertRow(
  t: TestConvex,
  clerkId: string,
  fields: { role?: "user" | "admin"; updatedAt: number },
) {
  await t.run((ctx) =>
    ctx.db.insert("users", {
      clerkId,
      email: `${clerkId}@example.com`,
      name: "Test User",
      imageUrl: "",
      role: fields.role ?? "user",
      plan: "free_user",
      clerkUpdatedAt: fields.updatedAt,
      synced: true,
    }),
  );
}

/** The table as Clerk's users would make it: id → role, plan, email for live rows. */
async function liveTable(t: TestConvex) {
  const rows = await t.run((ctx) => ctx.db.query("users").collect());
  return Object.fromEntries(
    rows.filter((r) => r.deletedAt === undefined).map((r) => [r.clerkId, `${r.role}/${r.plan}/${r.email}`]),
  );
}
function clerkTable() {
  return Object.fromEntries(
    [...clerk.users.values()].map((u) => [
      u.id,
      `${(u.public_metadata.role as string) ?? "user"}/${(u.public_metadata.plan as string) ?? "free_user"}/${u.email_addresses[0]!.email_address}`,
    ]),
  );
}

test("missing, stale and deleted rows are repaired, each audited, and the table equals Clerk's users", async () => {
  const now = Date.now();
  const t = await world([
    clerkUser("user_missing", { plan: "pro" }, now - 5000),
    clerkUser("user_stale", { role: "admin" }, now - 4000),
    clerkUser("user_current", {}, now - 3000),
  ]);
  await insertRow(t, "user_stale", { updatedAt: now - 90_000 });
  await insertRow(t, "user_current", { updatedAt: now - 3000 });
  await insertRow(t, "user_gone", { updatedAt: now - 90_000 });
  await t.run(async (ctx) => {
    await ctx.db.insert("posts", {
      authorId: "user_gone",
      title: "t",
      body: "",
      visibility: "public",
      updatedAt: 1,
    });
  });

  const summary = await admin(t).action(api.admin.reconcileUsers, {});
  expect(summary).toEqual({
    clerkUsers: 4,
    created: 1,
    updated: 1,
    deleted: 1,
    unchanged: 2,
    invalid: 0,
    // Clerk has no subscription for these users (404): nothing to repair, and Billing answered.
    subscriptionsRepaired: 0,
    billing: "checked",
  });
  expect(await liveTable(t)).toEqual(clerkTable());
  expect((await usersRow(t, "user_gone"))?.deletedAt).toBeTypeOf("number");
  expect((await snapshot(t)).posts).toEqual([]);

  const audit = await t.run((ctx) => ctx.db.query("auditLog").collect());
  expect(audit.map((a) => [a.action, a.actor, a.target])).toEqual([
    ["reconcile.created", ADMIN, "user_missing"],
    ["reconcile.updated", ADMIN, "user_stale"],
    ["reconcile.deleted", ADMIN, "user_gone"],
    ["users.reconcile", ADMIN, undefined],
  ]);

  // A second run finds nothing to do.
  expect(await admin(t).action(api.admin.reconcileUsers, {})).toMatchObject({
    created: 0,
    updated: 0,
    deleted: 0,
  });
});

test("pages through more users than one Clerk page holds", async () => {
  const now = Date.now();
  const many = Array.from({ length: 1203 }, (_, i) =>
    clerkUser(`user_${String(i).padStart(4, "0")}`, {}, now - i),
  );
  const t = await world(many);
  const summary = await t.action(internal.reconcile.daily, {});
  expect(summary).toMatchObject({ clerkUsers: 1204, created: 1203, deleted: 0 });
  expect(await liveTable(t)).toEqual(clerkTable());
  const runs = await t.run((ctx) => ctx.db.query("auditLog").collect());
  expect(runs.at(-1)).toMatchObject({ action: "users.reconcile", actor: "cron", details: { created: 1203 } });
});

test("a tombstone is never revived, and a user Clerk still has is never deleted on the list's word", async () => {
  const now = Date.now();
  const t = await world([clerkUser("user_dead", { role: "admin" }, now)]);
  await t.run((ctx) =>
    ctx.db.insert("users", {
      clerkId: "user_dead",
      email: "",
      name: "",
      imageUrl: "",
      role: "user",
      plan: "free_user",
      clerkUpdatedAt: 0,
      synced: true,
      deletedAt: now - 1000,
    }),
  );
  await insertRow(t, "user_hidden", { updatedAt: now - 90_000 });
  // Clerk's list misses user_hidden (a page shifted), but Clerk still has the user.
  const hidden = clerkUser("user_hidden", {}, now - 90_000);
  const realFetch = clerk.fetch;
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(new Request(input, init).url);
    if (url.pathname === "/v1/users/user_hidden") return Response.json(hidden);
    return realFetch(input, init);
  });
  const summary = await admin(t).action(api.admin.reconcileUsers, {});
  expect(summary).toMatchObject({ deleted: 0, created: 0, updated: 0 });
  expect((await usersRow(t, "user_dead"))?.deletedAt).toBe(now - 1000);
  expect((await usersRow(t, "user_hidden"))?.deletedAt).toBeUndefined();
});

test("Clerk unreachable: UPSTREAM_ERROR and nothing written", async () => {
  const t = await world([clerkUser("user_missing", {}, Date.now())]);
  const before = await snapshot(t);
  vi.stubGlobal(
    "fetch",
    vi.fn(async () => {
      throw new TypeError("fetch failed");
    }),
  );
  await expect(admin(t).action(api.admin.reconcileUsers, {})).rejects.toMatchObject({
    data: { code: "UPSTREAM_ERROR" },
  });
  expect(await snapshot(t)).toEqual(before);
});

test("a Clerk user that does not parse is counted invalid, never written, and its row is not deleted on that account", async () => {
  const now = Date.now();
  // The SDK takes it (it copies updated_at as it comes); the webhook schema does not.
  const broken = { ...clerkUser("user_broken", {}, now), updated_at: "yesterday" };
  const t = await world([broken as unknown as ReturnType<typeof clerkUser>]);
  await insertRow(t, "user_broken", { updatedAt: now - 90_000 });
  const before = await usersRow(t, "user_broken");
  const summary = await admin(t).action(api.admin.reconcileUsers, {});
  expect(summary).toMatchObject({ clerkUsers: 1, invalid: 1, created: 0, updated: 0, deleted: 0 });
  // Clerk still has the user (GET /v1/users/user_broken answers), so the row stays as it was.
  expect(await usersRow(t, "user_broken")).toEqual(before);
});

test("subscription reads keep to CLERK_API_READS_PER_SECOND", async () => {
  vi.stubEnv("CLERK_API_READS_PER_SECOND", "20");
  const now = Date.now();
  const t = await world(Array.from({ length: 11 }, (_, i) => clerkUser(`user_${i}`, {}, now - i)));
  const started = performance.now();
  await t.action(internal.reconcile.daily, {});
  const elapsed = performance.now() - started;
  // 12 users (with the admin) are 3 batches of 4, each taking at least 4 / 20 s.
  expect(clerk.calls.filter((c) => c.path.endsWith("/billing/subscription"))).toHaveLength(12);
  expect(elapsed).toBeGreaterThanOrEqual(3 * 200 - 10);
});
