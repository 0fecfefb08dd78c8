/**
 * What the admin page reads: users searched and filtered on the server (bounded reads), and an
 * audit log where an admin's change and Clerk's webhook echo of it are one entry, before → after.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Doc } from "./_generated/dataModel";
import { errorCodeOf } from "./lib/errors";
import { deliver, userEvent, WEBHOOK_SECRET } from "./test.webhooks";
import { documentsRead } from "./test.reads";
import type { MutationCtx } from "./_generated/server";
import { fakeClerkApi, modules, seedWorld, type World } from "./test.world";

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

type Handler = (ctx: MutationCtx, args: unknown) => Promise<unknown>;

/**
 * A world whose internal function `admin:<name>` runs `first` once, at the start of its first run
 * and in its transaction: as if another change had committed just before that function read
 * anything (after the action calling it began).
 */
async function worldWhere(name: string, first: (ctx: MutationCtx) => Promise<void>): Promise<World> {
  const load = modules["./admin.ts"]!;
  let done = false;
  modules["./admin.ts"] = async () => {
    const module = (await load()) as Record<string, { _handler: Handler }>;
    const registered = module[name]!;
    const _handler: Handler = async (ctx, args) => {
      if (!done) {
        done = true;
        await first(ctx);
      }
      return await registered._handler(ctx, args);
    };
    return { ...module, [name]: Object.assign(() => {}, registered, { _handler }) };
  };
  try {
    // convex-test takes the module loaders when the deployment is created.
    return await seedWorld();
  } finally {
    modules["./admin.ts"] = load;
  }
}

describe("admin.auditLog: each change folds its own echo, paired one to one when recorded", () => {
  async function synced() {
    const w = await seedWorld();
    const free = w.clerkIds.free;
    await deliver(
      w.t,
      userEvent("user.updated", free, { publicMetadata: { role: "user", plan: "free_user" } }),
    );
    return { w, free };
  }
  type Entry = { _id: string; action: string; kinds?: string[]; echo?: { _id: string } };
  /** Every line of the log, read page by page as the admin page does. */
  async function allLines(w: World, numItems: number, extra: Record<string, unknown> = {}) {
    const lines: Entry[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page: { page: Entry[]; isDone: boolean; continueCursor: string } = await w
        .as("admin")
        .query(api.admin.auditLog, { paginationOpts: { numItems, cursor }, fold: true, ...extra });
      lines.push(...page.page);
      if (page.isDone) return lines;
      cursor = page.continueCursor;
    }
  }
  const stored = (w: World) => w.t.run((ctx) => ctx.db.query("auditLog").collect());
  const planEchoes = (entries: Doc<"auditLog">[]) =>
    entries.filter((e) => e.action === "clerk.user.updated" && e.details?.["planFrom"] !== undefined);

  // Free → Pro, Pro → Free, Free → Pro within the window: each change's admin entry (A) and
  // Clerk's echo of it (E), in the orders they can be recorded in (an echo can beat the audit write).
  const PLANS = ["pro", "free_user", "pro"] as const;
  const orders: Record<string, string[]> = {
    "each echo after its change": ["A0", "E0", "A1", "E1", "A2", "E2"],
    "each echo before its change's audit write": ["E0", "A0", "E1", "A1", "E2", "A2"],
    "every change first, then every echo": ["A0", "A1", "A2", "E0", "E1", "E2"],
    "mixed: one echo early": ["A0", "E0", "E1", "A1", "A2", "E2"],
  };
  test.each(Object.entries(orders))(
    "Free → Pro → Free → Pro, %s: three lines, each with its own echo",
    async (_, order) => {
      const { w, free } = await synced();
      const base = Date.now() + 1_000;
      for (const step of order) {
        const i = Number(step[1]);
        const plan = PLANS[i]!;
        if (step[0] === "A") {
          // What setPlan records once Clerk accepted the change.
          await w.t.mutation(internal.admin.recordChange, {
            action: "admin.setPlan",
            actor: w.clerkIds.admin,
            target: free,
            details: { plan, from: i === 0 ? "free_user" : PLANS[i - 1]! },
          });
        } else {
          await deliver(
            w.t,
            userEvent("user.updated", free, { updatedAt: base + i, publicMetadata: { role: "user", plan } }),
          );
        }
      }
      const all = await stored(w);
      const changes = all.filter((e) => e.action === "admin.setPlan");
      const echoes = planEchoes(all);
      expect(changes).toHaveLength(3);
      expect(echoes).toHaveLength(3);
      const expected = [2, 1, 0].map((i) => ({ id: changes[i]!._id, echo: echoes[i]!._id }));
      for (const numItems of [50, 1]) {
        const lines = (await allLines(w, numItems)).filter((e) => e.kinds?.includes("plan"));
        expect(lines.map((e) => ({ id: e._id, echo: e.echo?._id }))).toEqual(expected);
      }
      // The links are stored both ways.
      for (const [i, change] of changes.entries()) {
        expect(change.echoedBy).toBe(echoes[i]!._id);
        expect(echoes[i]!.echoOf).toEqual({ plan: change._id });
      }
    },
  );

  test("an echo beyond 20 other entries of the same person is still folded", async () => {
    const { w, free } = await synced();
    const others = (tag: string) =>
      w.t.run(async (ctx) => {
        for (let i = 0; i < 25; i++)
          await ctx.db.insert("auditLog", {
            action: "clerk.user.updated",
            actor: "clerk",
            target: free,
            details: { svixId: `msg_${tag}_${i}`, profile: true },
          });
      });
    await others("before");
    await w.as("admin").action(api.admin.setPlan, { clerkId: free, plan: "pro" });
    await others("between");
    await deliver(w.t, userEvent("user.updated", free, { publicMetadata: { role: "user", plan: "pro" } }));
    const [echo] = planEchoes(await stored(w));
    for (const numItems of [10, 100]) {
      const lines = (await allLines(w, numItems)).filter((e) => e.kinds?.includes("plan"));
      expect(lines).toMatchObject([{ action: "admin.setPlan", echo: { _id: echo!._id } }]);
    }
  });

  test("an echo outside the window, or of another value, is not paired", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const { w, free } = await synced();
      await w.as("admin").action(api.admin.setPlan, { clerkId: free, plan: "pro" });
      vi.setSystemTime(Date.now() + 5 * 60 * 1000 + 1_000);
      await deliver(w.t, userEvent("user.updated", free, { publicMetadata: { role: "user", plan: "pro" } }));
      const lines = (await allLines(w, 50)).filter((e) => e.kinds?.includes("plan"));
      expect(lines.map((e) => [e.action, e.echo])).toEqual([
        ["clerk.user.updated", undefined],
        ["admin.setPlan", undefined],
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  test("entries recorded before links existed read as unpaired", async () => {
    const w = await seedWorld();
    const free = w.clerkIds.free;
    await w.t.run(async (ctx) => {
      await ctx.db.insert("auditLog", {
        action: "admin.setPlan",
        actor: w.clerkIds.admin,
        target: free,
        details: { plan: "pro" },
      });
      await ctx.db.insert("auditLog", {
        action: "clerk.user.updated",
        actor: "clerk",
        target: free,
        details: { svixId: "msg_old", plan: "pro", planFrom: "free_user" },
      });
    });
    const lines = await allLines(w, 50, { person: free });
    expect(lines.map((e) => [e.action, e.kinds, e.echo])).toEqual([
      ["clerk.user.updated", ["plan"], undefined],
      ["admin.setPlan", ["plan"], undefined],
    ]);
  });

  test("one webhook changing role and plan folds only when both changes are paired", async () => {
    const { w, free } = await synced();
    await w.t.mutation(internal.admin.recordChange, {
      action: "admin.setPlan",
      actor: w.clerkIds.admin,
      target: free,
      details: { plan: "pro", from: "free_user" },
    });
    // Clerk's first echo was lost: the second carries both changes.
    await deliver(w.t, userEvent("user.updated", free, { publicMetadata: { role: "admin", plan: "pro" } }));
    let lines = (await allLines(w, 50)).filter((e) => e.kinds?.some((k) => k === "plan" || k === "role"));
    expect(lines.map((e) => e.action)).toEqual(["clerk.user.updated", "admin.setPlan"]);
    expect(lines[1]!.echo?._id).toBe(lines[0]!._id);
    await w.t.mutation(internal.admin.recordRoleChange, {
      actor: w.clerkIds.admin,
      clerkId: free,
      role: "admin",
      from: "user",
    });
    lines = (await allLines(w, 50)).filter((e) => e.kinds?.some((k) => k === "plan" || k === "role"));
    expect(lines.map((e) => [e.action, e.echo?._id !== undefined])).toEqual([
      ["admin.setRole", true],
      ["admin.setPlan", true],
    ]);
  });

  test("filters: fold false lists entries as recorded, fold true folds, with or without kind and person", async () => {
    const { w, free } = await synced();
    await w.as("admin").action(api.admin.setPlan, { clerkId: free, plan: "pro" });
    await deliver(w.t, userEvent("user.updated", free, { publicMetadata: { role: "user", plan: "pro" } }));
    await w.as("admin").action(api.admin.setRole, { clerkId: w.clerkIds.pro, role: "admin" });
    const log = async (args: Record<string, unknown>) =>
      (await w.as("admin").query(api.admin.auditLog, { paginationOpts: first(50), ...args })).page.map(
        (e) => [e.action, e.echo !== undefined],
      );
    const echo = ["clerk.user.updated", false];
    const sync = ["clerk.user.updated", false];
    // Unfolded (fold omitted or false): every entry, the echo as its own line, nothing attached.
    for (const fold of [undefined, false]) {
      const raw = fold === undefined ? {} : { fold };
      expect(await log({ ...raw, kind: "plan" })).toEqual([echo, ["admin.setPlan", false]]);
      expect(await log({ ...raw, person: free })).toEqual([echo, ["admin.setPlan", false], sync]);
      expect(await log({ ...raw, kind: "role", person: w.clerkIds.pro })).toEqual([["admin.setRole", false]]);
      expect(await log(raw)).toHaveLength((await stored(w)).length);
    }
    // Folded: the echo is part of its change's line.
    expect(await log({ fold: true, kind: "plan" })).toEqual([["admin.setPlan", true]]);
    expect(await log({ fold: true, person: free })).toEqual([["admin.setPlan", true], sync]);
    expect(await log({ fold: true })).toHaveLength((await stored(w)).length - 1);
    // Every entry says its kinds, folded or not.
    const raw = await w.as("admin").query(api.admin.auditLog, { paginationOpts: first(50) });
    expect(raw.page.every((e) => Array.isArray(e.kinds) && e.kinds.length > 0)).toBe(true);
  });

  test("setRole records the role its reservation read, though the row changed after the action began", async () => {
    // Another admin's promotion of the user lands (its webhook) while this action is under way.
    const w = await worldWhere("reserveRoleChange", async (ctx) => {
      const row = await ctx.db
        .query("users")
        .withIndex("by_clerkId", (q) => q.eq("clerkId", "user_free"))
        .unique();
      await ctx.db.patch("users", row!._id, { role: "admin", clerkUpdatedAt: Date.now() });
    });
    await w.as("admin").action(api.admin.setRole, { clerkId: w.clerkIds.free, role: "user" });
    const change = (await stored(w)).find((e) => e.action === "admin.setRole");
    expect(change?.details).toEqual({ role: "user", from: "admin" });
  });
});
