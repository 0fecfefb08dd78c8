/**
 * The last-admin lock-out under concurrency and stale rows: Clerk must never be left without
 * an admin, and nobody removes their own admin role, whatever their row says.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "./_generated/api";
import { deletedEvent, deliver, userEvent, usersRow, WEBHOOK_SECRET } from "./test.webhooks";
import { fakeClerkApi, identityFor, seedWorld, snapshot, type World } from "./test.world";

let clerk: ReturnType<typeof fakeClerkApi>;
beforeEach(() => {
  clerk = fakeClerkApi();
  vi.stubGlobal("fetch", clerk.fetch);
  vi.stubEnv("CLERK_SECRET_KEY", "sk_test_admin");
  vi.stubEnv("CLERK_WEBHOOK_SECRET", WEBHOOK_SECRET);
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});

/** A world with two admins (user_admin and user_pro), both synced from webhooks. */
async function twoAdmins(): Promise<World & { second: string }> {
  const w = await seedWorld();
  const second = w.clerkIds.pro;
  const updatedAt = Date.now() - 1000;
  await deliver(
    w.t,
    userEvent("user.updated", second, { updatedAt, publicMetadata: { role: "admin", plan: "pro" } }),
  );
  expect((await usersRow(w.t, second))?.role).toBe("admin");
  return { ...w, second };
}

const adminToken = (w: World, clerkId: string) =>
  w.t.withIdentity(identityFor(clerkId, { role: "admin", plan: "pro", userUpdatedAt: Date.now() - 1000 }));

const demotions = () =>
  clerk.calls.filter((c) => JSON.stringify(c.body) === JSON.stringify({ public_metadata: { role: "user" } }));

describe("two admins demoting each other before either webhook lands", () => {
  test("one after the other: the second is refused and Clerk is asked once", async () => {
    const w = await twoAdmins();
    await adminToken(w, w.clerkIds.admin).action(api.admin.setRole, { clerkId: w.second, role: "user" });
    const before = await snapshot(w.t);
    await expect(
      adminToken(w, w.second).action(api.admin.setRole, { clerkId: w.clerkIds.admin, role: "user" }),
    ).rejects.toMatchObject({ data: { code: "FORBIDDEN", message: "The last admin cannot be demoted" } });
    expect(demotions()).toHaveLength(1);
    expect(await snapshot(w.t)).toEqual(before);
  });

  test("at the same time: exactly one succeeds", async () => {
    const w = await twoAdmins();
    const results = await Promise.allSettled([
      adminToken(w, w.clerkIds.admin).action(api.admin.setRole, { clerkId: w.second, role: "user" }),
      adminToken(w, w.second).action(api.admin.setRole, { clerkId: w.clerkIds.admin, role: "user" }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected");
    expect(refused?.reason).toMatchObject({ data: { code: "FORBIDDEN" } });
    expect(demotions()).toHaveLength(1);
  });
});

test("an admin whose own row is stale (still 'user') cannot demote themselves", async () => {
  const w = await twoAdmins();
  // user_free was just promoted in Clerk: the token says admin, the webhook has not landed.
  const promoted = adminToken(w, w.clerkIds.free);
  expect((await usersRow(w.t, w.clerkIds.free))?.role).toBe("user");
  const before = await snapshot(w.t);
  await expect(
    promoted.action(api.admin.setRole, { clerkId: w.clerkIds.free, role: "user" }),
  ).rejects.toMatchObject({ data: { code: "FORBIDDEN", message: "You cannot remove your own admin role" } });
  expect(clerk.calls).toEqual([]);
  expect(await snapshot(w.t)).toEqual(before);
});

test("a demotion Clerk refused does not count: the other admin can still be demoted", async () => {
  const w = await twoAdmins();
  const before = await snapshot(w.t);
  vi.stubGlobal(
    "fetch",
    vi.fn(async () => {
      throw new TypeError("fetch failed");
    }),
  );
  await expect(
    adminToken(w, w.clerkIds.admin).action(api.admin.setRole, { clerkId: w.second, role: "user" }),
  ).rejects.toMatchObject({ data: { code: "UPSTREAM_ERROR" } });
  expect(await snapshot(w.t)).toEqual(before);
  vi.stubGlobal("fetch", clerk.fetch);
  await adminToken(w, w.second).action(api.admin.setRole, { clerkId: w.clerkIds.admin, role: "user" });
  expect(demotions()).toHaveLength(1);
});

test("the demotion's webhook settles the reservation; a later promotion lifts it", async () => {
  const w = await twoAdmins();
  await adminToken(w, w.clerkIds.admin).action(api.admin.setRole, { clerkId: w.second, role: "user" });
  const pending = () => w.t.run((ctx) => ctx.db.query("pendingDemotions").collect());
  expect(await pending()).toHaveLength(1);
  // An older event still saying admin (redelivered out of order) does not settle it.
  await deliver(
    w.t,
    userEvent("user.updated", w.second, { updatedAt: Date.now() - 500, publicMetadata: { role: "admin" } }),
  );
  expect(await pending()).toHaveLength(1);
  await deliver(w.t, userEvent("user.updated", w.second, { publicMetadata: { role: "user", plan: "pro" } }));
  expect(await pending()).toEqual([]);
  expect((await usersRow(w.t, w.second))?.role).toBe("user");

  // Promote again (Clerk accepts), demote again, and promote once more: the promotion clears it.
  await adminToken(w, w.clerkIds.admin).action(api.admin.setRole, { clerkId: w.second, role: "admin" });
  await deliver(w.t, userEvent("user.updated", w.second, { publicMetadata: { role: "admin", plan: "pro" } }));
  await adminToken(w, w.clerkIds.admin).action(api.admin.setRole, { clerkId: w.second, role: "user" });
  expect(await pending()).toHaveLength(1);
  await adminToken(w, w.clerkIds.admin).action(api.admin.setRole, { clerkId: w.second, role: "admin" });
  expect(await pending()).toEqual([]);
});

test("a provisional admin row (copied from a token, not from Clerk) does not count as an admin who remains", async () => {
  const w = await seedWorld();
  // user_free signed in with a token saying admin before any webhook: users.ensure wrote a
  // provisional row. Clerk may well have demoted them since; only synced rows are Clerk's word.
  await w.t.run(async (ctx) => {
    const row = await ctx.db
      .query("users")
      .withIndex("by_clerkId", (q) => q.eq("clerkId", w.clerkIds.free))
      .unique();
    await ctx.db.patch("users", row!._id, { role: "admin", synced: false, clerkUpdatedAt: 0 });
  });
  const before = await snapshot(w.t);
  await expect(
    adminToken(w, w.clerkIds.free).action(api.admin.setRole, { clerkId: w.clerkIds.admin, role: "user" }),
  ).rejects.toMatchObject({ data: { code: "FORBIDDEN", message: "The last admin cannot be demoted" } });
  expect(clerk.calls).toEqual([]);
  expect(await snapshot(w.t)).toEqual(before);
});

test("the demoted user's deletion settles the reservation too", async () => {
  const w = await twoAdmins();
  await adminToken(w, w.clerkIds.admin).action(api.admin.setRole, { clerkId: w.second, role: "user" });
  const pending = () => w.t.run((ctx) => ctx.db.query("pendingDemotions").collect());
  expect(await pending()).toHaveLength(1);
  await deliver(w.t, deletedEvent(w.second));
  expect(await pending()).toEqual([]);
});
