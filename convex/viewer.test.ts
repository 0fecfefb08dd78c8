/** The freshest-source rule, the sign-in-before-webhook race, tombstones and admin rules. */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "./_generated/api";
import { effectivePrivileges, tokenClaims } from "./lib/viewer";
import { deliver, userEvent, usersRow, WEBHOOK_SECRET } from "./test.webhooks";
import { fakeClerkApi, identityFor, newTest, seedWorld, snapshot } from "./test.world";
import type { Doc } from "./_generated/dataModel";

const page = { paginationOpts: { numItems: 10, cursor: null } };

describe("freshest trusted source (pure rule)", () => {
  const row = (role: "user" | "admin", clerkUpdatedAt: number, synced = true) =>
    ({ role, plan: "free_user", clerkUpdatedAt, synced }) as Doc<"users">;
  const token = (role: "user" | "admin", claims: { userUpdatedAt?: number; iatMs?: number } = {}) =>
    tokenClaims(identityFor("u", { role, ...claims }) as never);

  test("a synced row newer than the token wins (revocation is immediate)", () => {
    expect(effectivePrivileges(token("admin", { userUpdatedAt: 1000 }), row("user", 1500)).role).toBe("user");
  });
  test("a token newer than the row wins (a promotion, or a demotion whose webhook is late or lost)", () => {
    expect(effectivePrivileges(token("admin", { userUpdatedAt: 2000 }), row("user", 1000)).role).toBe(
      "admin",
    );
    expect(effectivePrivileges(token("user", { userUpdatedAt: 2000 }), row("admin", 1000)).role).toBe("user");
  });
  test("on a tie the row wins (the same Clerk state)", () => {
    expect(effectivePrivileges(token("admin", { userUpdatedAt: 1000 }), row("user", 1000)).role).toBe("user");
  });
  test("iat stands in when the freshness claim is missing", () => {
    expect(effectivePrivileges(token("admin", { iatMs: 2_000_000 }), row("user", 1_000_000)).role).toBe(
      "admin",
    );
    expect(effectivePrivileges(token("admin", { iatMs: 1_000_000 }), row("user", 2_000_000)).role).toBe(
      "user",
    );
  });
  test("with no way to order them, the lesser of token and row", () => {
    expect(effectivePrivileges(token("admin"), row("user", 1)).role).toBe("user");
    expect(effectivePrivileges(token("user"), row("admin", 1)).role).toBe("user");
    expect(effectivePrivileges(token("admin"), row("admin", 1)).role).toBe("admin");
  });
  test("a provisional row never outranks the token", () => {
    expect(effectivePrivileges(token("user", { userUpdatedAt: 5 }), row("admin", 10, false)).role).toBe(
      "user",
    );
  });
  test("no row: the token's claims, and missing claims mean least privilege", () => {
    expect(effectivePrivileges(token("admin", { userUpdatedAt: 1 }), null).role).toBe("admin");
    const bare = tokenClaims({ issuer: "i", subject: "s", tokenIdentifier: "i|s" });
    expect(effectivePrivileges(bare, null)).toEqual({ role: "user", plan: "free_user" });
  });
  test("flattened customJwt claims are read too", () => {
    const claims = tokenClaims({
      issuer: "i",
      subject: "s",
      tokenIdentifier: "i|s",
      "metadata.role": "admin",
      "metadata.plan": "pro",
    });
    expect(claims).toMatchObject({ role: "admin", plan: "pro" });
  });
  test("unsafe metadata claims are never read", () => {
    const identity = identityFor("u", {
      extra: {
        unsafe_metadata: { role: "admin", plan: "pro" },
        unsafeMetadata: { role: "admin" },
        metadata: {},
      },
    });
    expect(tokenClaims(identity as never)).toMatchObject({ role: "user", plan: "free_user" });
  });
});

describe("freshest source, end to end", () => {
  beforeEach(() => vi.stubEnv("CLERK_WEBHOOK_SECRET", WEBHOOK_SECRET));
  afterEach(() => vi.unstubAllEnvs());

  test("a promotion applies from the newer token before its webhook lands, and the webhook keeps it", async () => {
    const t = newTest();
    await deliver(t, userEvent("user.created", "user_up", { updatedAt: 1000 }));
    const asNewToken = t.withIdentity(identityFor("user_up", { role: "admin", userUpdatedAt: 2000 }));
    expect((await asNewToken.query(api.admin.listUsers, page)).page).toHaveLength(1);
    const asOldToken = t.withIdentity(identityFor("user_up", { role: "user", userUpdatedAt: 1000 }));
    await expect(asOldToken.query(api.admin.listUsers, page)).rejects.toMatchObject({
      data: { code: "FORBIDDEN" },
    });
    await deliver(
      t,
      userEvent("user.updated", "user_up", { updatedAt: 2000, publicMetadata: { role: "admin" } }),
    );
    expect((await asOldToken.query(api.admin.listUsers, page)).page).toHaveLength(1);
  });
});

describe("signed in before user.created arrived", () => {
  test("queries work from token claims; ensure writes a provisional row; the webhook replaces it", async () => {
    const t = newTest();
    const asNew = t.withIdentity(identityFor("user_new", { plan: "pro", email: "new@x.test" }));
    expect(await asNew.query(api.users.me, {})).toMatchObject({
      clerkId: "user_new",
      plan: "pro",
      synced: false,
    });
    expect(await asNew.mutation(api.users.ensure, {})).toMatchObject({
      plan: "pro",
      synced: false,
      email: "new@x.test",
    });
    expect(await asNew.mutation(api.users.ensure, {})).toMatchObject({ synced: false }); // idempotent
    expect(await t.run(async (ctx) => (await ctx.db.query("users").collect()).length)).toBe(1);
    vi.stubEnv("CLERK_WEBHOOK_SECRET", WEBHOOK_SECRET);
    await deliver(t, userEvent("user.created", "user_new", { updatedAt: 1 }));
    vi.unstubAllEnvs();
    expect(await usersRow(t, "user_new")).toMatchObject({ synced: true, plan: "free_user" });
  });

  test("a write provisions the row too, and never grants more than the token", async () => {
    const t = newTest();
    const asNew = t.withIdentity(identityFor("user_w", { role: "user", plan: "free_user" }));
    await asNew.mutation(api.posts.create, { title: "first", body: "" });
    expect(await usersRow(t, "user_w")).toMatchObject({ role: "user", plan: "free_user", synced: false });
    await expect(asNew.query(api.admin.listUsers, page)).rejects.toMatchObject({
      data: { code: "FORBIDDEN" },
    });
  });
});

describe("revocation takes effect on the next call", () => {
  beforeEach(() => vi.stubEnv("CLERK_WEBHOOK_SECRET", WEBHOOK_SECRET));
  afterEach(() => vi.unstubAllEnvs());

  test("an admin demoted by webhook loses admin although their token still says admin", async () => {
    const t = newTest();
    const tokenAt = Date.now() - 30_000;
    await deliver(
      t,
      userEvent("user.created", "user_boss", {
        updatedAt: tokenAt - 60_000,
        publicMetadata: { role: "admin" },
      }),
    );
    const asBoss = t.withIdentity(identityFor("user_boss", { role: "admin", iatMs: tokenAt }));
    expect((await asBoss.query(api.admin.listUsers, page)).page).toHaveLength(1);
    await deliver(
      t,
      userEvent("user.updated", "user_boss", { updatedAt: tokenAt + 1000, publicMetadata: { role: "user" } }),
    );
    await expect(asBoss.query(api.admin.listUsers, page)).rejects.toMatchObject({
      data: { code: "FORBIDDEN" },
    });
  });

  test("a deleted user's still-valid token is refused everywhere", async () => {
    const w = await seedWorld();
    for (const call of [
      () => w.as("deleted").query(api.users.me, {}),
      () => w.as("deleted").mutation(api.users.ensure, {}),
      () => w.as("deleted").mutation(api.posts.create, { title: "x", body: "" }),
    ]) {
      await expect(call()).rejects.toMatchObject({ data: { code: "UNAUTHENTICATED" } });
    }
  });
});

describe("admin actions", () => {
  let clerk: ReturnType<typeof fakeClerkApi>;
  beforeEach(() => {
    clerk = fakeClerkApi();
    vi.stubGlobal("fetch", clerk.fetch);
    vi.stubEnv("CLERK_SECRET_KEY", "sk_test_admin");
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.unstubAllEnvs();
  });

  test("an admin cannot remove their own admin role; the refusal changes nothing", async () => {
    const w = await seedWorld();
    const before = await snapshot(w.t);
    await expect(
      w.as("admin").action(api.admin.setRole, { clerkId: w.clerkIds.admin, role: "user" }),
    ).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });
    expect(clerk.calls).toEqual([]);
    expect(await snapshot(w.t)).toEqual(before);
    await w.as("admin").action(api.admin.setRole, { clerkId: w.clerkIds.admin, role: "admin" });
  });

  test("no demotion may leave the deployment without an admin", async () => {
    const w = await seedWorld();
    // A user whose newer token already says admin (the promotion's webhook has not landed):
    // admin by the freshest-source rule, but the only admin row is user_admin's.
    const promoted = w.t.withIdentity(
      identityFor(w.clerkIds.pro, { role: "admin", plan: "pro", userUpdatedAt: Date.now() }),
    );
    const before = await snapshot(w.t);
    await expect(
      promoted.action(api.admin.setRole, { clerkId: w.clerkIds.admin, role: "user" }),
    ).rejects.toMatchObject({
      data: { code: "FORBIDDEN", message: "The last admin cannot be demoted" },
    });
    expect(await snapshot(w.t)).toEqual(before);
    // Once a second admin row exists, one admin may demote the other.
    await w.t.run(async (ctx) => {
      const row = await ctx.db
        .query("users")
        .withIndex("by_clerkId", (q) => q.eq("clerkId", w.clerkIds.pro))
        .unique();
      await ctx.db.patch("users", row!._id, { role: "admin" });
    });
    await promoted.action(api.admin.setRole, { clerkId: w.clerkIds.admin, role: "user" });
    expect(clerk.calls.map((c) => c.body)).toEqual([{ public_metadata: { role: "user" } }]);
  });

  test("an admin can promote a user", async () => {
    const w = await seedWorld();
    await w.as("admin").action(api.admin.setRole, { clerkId: w.clerkIds.free, role: "admin" });
    expect(clerk.calls.map((c) => c.body)).toEqual([{ public_metadata: { role: "admin" } }]);
  });

  test.each(["setRole", "setPlan"] as const)(
    "%s: unknown or deleted targets are NOT_FOUND, Clerk is not called, nothing changes",
    async (fn) => {
      const w = await seedWorld();
      const before = await snapshot(w.t);
      for (const clerkId of ["user_nobody", w.clerkIds.deleted]) {
        const call =
          fn === "setRole"
            ? w.as("admin").action(api.admin.setRole, { clerkId, role: "admin" })
            : w.as("admin").action(api.admin.setPlan, { clerkId, plan: "pro" });
        await expect(call).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
      }
      expect(clerk.calls).toEqual([]);
      expect(await snapshot(w.t)).toEqual(before);
    },
  );

  test("Clerk's 404 is NOT_FOUND; Clerk unreachable or unconfigured is UPSTREAM_ERROR; nothing changes", async () => {
    const w = await seedWorld();
    await w.t.run((ctx) =>
      ctx.db.insert("users", {
        clerkId: "user_missing_in_clerk",
        email: "",
        name: "",
        imageUrl: "",
        role: "user",
        plan: "free_user",
        clerkUpdatedAt: 1,
        synced: true,
      }),
    );
    const before = await snapshot(w.t);
    await expect(
      w.as("admin").action(api.admin.setPlan, { clerkId: "user_missing_in_clerk", plan: "pro" }),
    ).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => {
        throw new TypeError("fetch failed");
      }),
    );
    await expect(
      w.as("admin").action(api.admin.setPlan, { clerkId: w.clerkIds.free, plan: "pro" }),
    ).rejects.toMatchObject({
      data: { code: "UPSTREAM_ERROR" },
    });
    vi.stubEnv("CLERK_SECRET_KEY", "");
    await expect(
      w.as("admin").action(api.admin.setPlan, { clerkId: w.clerkIds.free, plan: "pro" }),
    ).rejects.toMatchObject({
      data: { code: "UPSTREAM_ERROR" },
    });
    expect(await snapshot(w.t)).toEqual(before);
  });

  test("admin writes are rate limited too", async () => {
    const w = await seedWorld();
    for (let i = 0; i < 20; i++)
      await w.as("admin").action(api.admin.setPlan, { clerkId: w.clerkIds.free, plan: "pro" });
    await expect(
      w.as("admin").action(api.admin.setPlan, { clerkId: w.clerkIds.free, plan: "pro" }),
    ).rejects.toMatchObject({
      data: { code: "RATE_LIMITED" },
    });
    expect(clerk.calls).toHaveLength(20);
  });

  test("concurrent admin actions cannot all spend the same tokens; no claim outlives its action", async () => {
    const w = await seedWorld();
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () =>
        w.as("admin").action(api.admin.setPlan, { clerkId: w.clerkIds.free, plan: "pro" }),
      ),
    );
    const refused = results.filter((r) => r.status === "rejected");
    for (const r of refused) expect(r.reason).toMatchObject({ data: { code: "RATE_LIMITED" } });
    expect(results.length - refused.length).toBeLessThanOrEqual(20);
    expect(clerk.calls).toHaveLength(results.length - refused.length);
    expect((await snapshot(w.t)).writeClaims).toEqual([]);
  });

  test("listUsers shows tombstones and no private metadata", async () => {
    const w = await seedWorld();
    const users = (await w.as("admin").query(api.admin.listUsers, page)).page;
    expect(users.find((u) => u.clerkId === w.clerkIds.deleted)?.deletedAt).toBeTypeOf("number");
    expect(
      Object.keys(users[0]!).every((k) =>
        ["clerkId", "email", "name", "imageUrl", "role", "plan", "synced", "deletedAt"].includes(k),
      ),
    ).toBe(true);
  });
});
