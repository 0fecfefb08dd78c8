/**
 * What the admin page reads: users searched and filtered on the server (bounded reads), and an
 * audit log where an admin's change and Clerk's webhook echo of it are one entry, before → after.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "./_generated/api";
import { errorCodeOf } from "./lib/errors";
import { deliver, userEvent, WEBHOOK_SECRET } from "./test.webhooks";
import { documentsRead } from "./test.reads";
import { fakeClerkApi, seedWorld, type World } from "./test.world";

let clerk: ReturnType<typeof fakeClerkApi>;
beforeEach(() => {
  clerk = fakeClerkApi();
  vi.stubGlobal("fetch", clerk.fetch);
  vi.stubEnv("CLERK_SECRET_KEY", "sk_test_admin_page");
  vi.stubEnv("CLERK_WEBHOOK_SECRET", WEBHOOK_SECRET);
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const first = (numItems: number) => ({ numItems, cursor: null });

describe("admin.listUsers: search and filters", () => {
  async function withPeople(): Promise<World> {
    const w = await seedWorld();
    await w.t.run(async (ctx) => {
      for (let i = 0; i < 150; i++) {
        await ctx.db.insert("users", {
          clerkId: `user_bulk_${i}`,
          email: `bulk${i}@example.com`,
          name: i === 7 ? "Ada Lovelace" : `Bulk ${i}`,
          imageUrl: "",
          role: "user",
          plan: i % 3 === 0 ? "pro" : "free_user",
          clerkUpdatedAt: 1,
          synced: true,
        });
      }
    });
    return w;
  }

  test("search matches a name or an email in any case, within the page it reads", async () => {
    const w = await withPeople();
    const admin = w.as("admin");
    const byName = await admin.query(api.admin.listUsers, {
      paginationOpts: first(100),
      search: "  LOVELACE ",
    });
    // The newest 100 rows hold bulk 50..149: Ada (bulk 7) is further back.
    expect(byName.page).toEqual([]);
    expect(byName.isDone).toBe(false);
    const next = await admin.query(api.admin.listUsers, {
      paginationOpts: { numItems: 100, cursor: byName.continueCursor },
      search: "lovelace",
    });
    expect(next.page.map((u) => u.email)).toEqual(["bulk7@example.com"]);
    const byEmail = await admin.query(api.admin.listUsers, {
      paginationOpts: first(100),
      search: "BULK149@",
    });
    expect(byEmail.page.map((u) => u.name)).toEqual(["Bulk 149"]);
  });

  test("a search page reads at most numItems users however many there are", async () => {
    const w = await withPeople();
    const { reads, result } = await documentsRead(() =>
      w.as("admin").query(api.admin.listUsers, { paginationOpts: first(20), search: "bulk" }),
    );
    expect(result.page).toHaveLength(20);
    // The page's 20 rows plus the admin's own users row (the viewer): never the 157-row table.
    expect(reads).toBeLessThanOrEqual(21);
  });

  test("role and plan filter through an index: only matching rows are read", async () => {
    const w = await withPeople();
    const admin = w.as("admin");
    const pro = await admin.query(api.admin.listUsers, { paginationOpts: first(100), plan: "pro" });
    expect(pro.page.length).toBeGreaterThan(0);
    expect(pro.page.every((u) => u.plan === "pro")).toBe(true);
    const admins = await documentsRead(() =>
      admin.query(api.admin.listUsers, { paginationOpts: first(100), role: "admin" }),
    );
    expect(admins.result.page.map((u) => u.clerkId)).toEqual([w.clerkIds.admin]);
    expect(admins.result.isDone).toBe(true);
    expect(admins.reads).toBeLessThanOrEqual(2);
    const proAdmins = await admin.query(api.admin.listUsers, {
      paginationOpts: first(100),
      role: "admin",
      plan: "free_user",
    });
    expect(proAdmins.page).toEqual([]);
    const freeMembers = await admin.query(api.admin.listUsers, {
      paginationOpts: first(100),
      role: "user",
      plan: "free_user",
      search: "bulk1",
    });
    expect(freeMembers.page.every((u) => u.role === "user" && u.plan === "free_user")).toBe(true);
    expect(freeMembers.page.map((u) => u.email)).toContain("bulk10@example.com");
  });

  test("a search longer than 100 characters is INVALID_INPUT", async () => {
    const w = await seedWorld();
    const error = await w
      .as("admin")
      .query(api.admin.listUsers, { paginationOpts: first(10), search: "x".repeat(101) })
      .catch((e: unknown) => e);
    expect(errorCodeOf(error)).toBe("INVALID_INPUT");
  });
});

describe("admin.auditLog: before → after, one entry per change", () => {
  /** A world whose free user was synced from Clerk, so later webhooks differ only where Clerk changed. */
  async function synced() {
    const w = await seedWorld();
    const free = w.clerkIds.free;
    await deliver(
      w.t,
      userEvent("user.updated", free, { publicMetadata: { role: "user", plan: "free_user" } }),
    );
    return { w, free };
  }
  const readable = (w: World, extra: Record<string, unknown> = {}) =>
    w.as("admin").query(api.admin.auditLog, { paginationOpts: first(50), fold: true, ...extra });

  test("an admin's plan change records the plan before and after", async () => {
    const { w, free } = await synced();
    await w.as("admin").action(api.admin.setPlan, { clerkId: free, plan: "pro" });
    const raw = await w.as("admin").query(api.admin.auditLog, { paginationOpts: first(10) });
    expect(raw.page[0]).toMatchObject({
      action: "admin.setPlan",
      actor: w.clerkIds.admin,
      target: free,
      details: { plan: "pro", from: "free_user" },
    });
  });

  test("Clerk's echo of a plan change records what changed and folds into the admin's entry", async () => {
    const { w, free } = await synced();
    await w.as("admin").action(api.admin.setPlan, { clerkId: free, plan: "pro" });
    await deliver(w.t, userEvent("user.updated", free, { publicMetadata: { role: "user", plan: "pro" } }));
    const raw = await w.as("admin").query(api.admin.auditLog, { paginationOpts: first(10) });
    // Raw, both are there (the webhook's entry says what it changed).
    expect(raw.page[0]).toMatchObject({
      action: "clerk.user.updated",
      target: free,
      details: { plan: "pro", planFrom: "free_user" },
    });
    const log = await readable(w);
    const changes = log.page.filter((e) => e.target === free && e.action !== "clerk.user.updated");
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      action: "admin.setPlan",
      details: { plan: "pro", from: "free_user" },
      kinds: ["plan"],
      echo: { _id: raw.page[0]!._id, svixId: expect.stringMatching(/^msg_/) },
    });
    // The echo is not a second line.
    expect(log.page.filter((e) => e.action === "clerk.user.updated" && e._id === raw.page[0]!._id)).toEqual(
      [],
    );
  });

  test("an echo that lands before the admin's own audit write folds as well", async () => {
    const { w, free } = await synced();
    await deliver(
      w.t,
      userEvent("user.updated", free, { publicMetadata: { role: "admin", plan: "free_user" } }),
    );
    await w.t.mutation(
      // What setRole records after Clerk accepted, here arriving after the webhook.
      (await import("./_generated/api")).internal.admin.recordRoleChange,
      { actor: w.clerkIds.admin, clerkId: free, role: "admin", from: "user" },
    );
    const log = await readable(w, { person: free });
    expect(log.page.map((e) => e.action)).toEqual(["admin.setRole", "clerk.user.updated"]);
    expect(log.page[0]).toMatchObject({
      details: { role: "admin", from: "user" },
      echo: { svixId: expect.any(String) },
    });
    // The remaining clerk.user.updated is the first sync (no role/plan change): an account entry.
    expect(log.page[1]).toMatchObject({ kinds: ["account"] });
  });

  test("an echo outside the page read is still matched by person and time", async () => {
    const { w, free } = await synced();
    await w.as("admin").action(api.admin.setPlan, { clerkId: free, plan: "pro" });
    await deliver(w.t, userEvent("user.updated", free, { publicMetadata: { role: "user", plan: "pro" } }));
    // A page of one entry: the echo (newest) alone, then the admin entry alone.
    const one = await w.as("admin").query(api.admin.auditLog, { paginationOpts: first(1), fold: true });
    expect(one.page).toEqual([]);
    const two = await w.as("admin").query(api.admin.auditLog, {
      paginationOpts: { numItems: 1, cursor: one.continueCursor },
      fold: true,
    });
    expect(two.page).toMatchObject([{ action: "admin.setPlan", echo: { svixId: expect.any(String) } }]);
  });

  test("a webhook that also changed the profile is not hidden", async () => {
    const w = await seedWorld(); // the seeded row's email differs from Clerk's: a profile change too
    const free = w.clerkIds.free;
    await w.as("admin").action(api.admin.setPlan, { clerkId: free, plan: "pro" });
    await deliver(w.t, userEvent("user.updated", free, { publicMetadata: { plan: "pro" } }));
    const log = await readable(w, { person: free });
    expect(log.page.map((e) => e.action)).toEqual(["clerk.user.updated", "admin.setPlan"]);
    expect(log.page[0]).toMatchObject({
      details: { profile: true, plan: "pro" },
      kinds: ["plan", "account"],
    });
  });

  test("filters by kind and by person", async () => {
    const { w, free } = await synced();
    await w.as("admin").action(api.admin.setPlan, { clerkId: free, plan: "pro" });
    await w.as("admin").action(api.admin.setRole, { clerkId: w.clerkIds.pro, role: "admin" });
    const plans = await readable(w, { kind: "plan" });
    expect(plans.page.map((e) => e.action)).toEqual(["admin.setPlan"]);
    const roles = await readable(w, { kind: "role" });
    expect(roles.page).toMatchObject([
      { action: "admin.setRole", target: w.clerkIds.pro, details: { role: "admin", from: "user" } },
    ]);
    const account = await readable(w, { kind: "account" });
    expect(account.page.map((e) => e.action)).toEqual(["clerk.user.updated"]);
    const byAdmin = await readable(w, { person: w.clerkIds.admin });
    expect(byAdmin.page.map((e) => e.action)).toEqual(["admin.setRole", "admin.setPlan"]);
    const aboutPro = await readable(w, { person: w.clerkIds.pro });
    expect(aboutPro.page.map((e) => e.action)).toEqual(["admin.setRole"]);
  });

  test("reconciliation runs are the sync kind", async () => {
    const w = await seedWorld();
    await w.t.run((ctx) =>
      ctx.db.insert("auditLog", {
        action: "users.reconcile",
        actor: w.clerkIds.admin,
        details: { created: 1 },
      }),
    );
    const sync = await readable(w, { kind: "sync" });
    expect(sync.page).toMatchObject([{ action: "users.reconcile", kinds: ["sync"] }]);
  });
});
