/**
 * Rules the review found unpinned: the contract's numbers, write paths beyond the matrix's
 * target, scheduled publishing against changed authority, and webhook boundaries.
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { FREE_POST_QUOTA } from "./lib/permissions";
import { BODY_MAX, TITLE_MAX } from "./lib/postText";
import { dayOf, wordCount } from "./lib/postStats";
import { WRITE_BURST, WRITE_REFILL_PER_MS } from "./lib/rateLimit";
import { deletedEvent, deliver, userEvent, usersRow, WEBHOOK_SECRET } from "./test.webhooks";
import { clerkUser, identityFor, newTest, seedWorld, snapshot } from "./test.world";

beforeEach(() => vi.stubEnv("CLERK_WEBHOOK_SECRET", WEBHOOK_SECRET));
afterEach(() => {
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

test("the API contract's numbers", () => {
  expect(FREE_POST_QUOTA).toBe(10);
  expect(TITLE_MAX).toBe(120);
  expect(BODY_MAX).toBe(10_000);
  expect(WRITE_BURST).toBe(20);
  expect(WRITE_REFILL_PER_MS * 1000).toBe(1);
});

describe("writes beyond the matrix's target post", () => {
  test("a non-owner cannot remove a public post (they may know it exists: FORBIDDEN)", async () => {
    const w = await seedWorld();
    const before = await snapshot(w.t);
    for (const actor of ["free", "pro", "other", "revoked"] as const) {
      await expect(w.as(actor).mutation(api.posts.remove, { id: w.posts.ownerPublic })).rejects.toMatchObject(
        {
          data: { code: "FORBIDDEN" },
        },
      );
    }
    expect(await snapshot(w.t)).toEqual(before);
  });

  test.each([
    ["a blank title", { title: " \u200B " }],
    ["a title over 120 characters", { title: "x".repeat(121) }],
    ["a body over 10 000 characters", { body: "y".repeat(10_001) }],
  ])("update with %s is INVALID_INPUT and changes nothing", async (_name, change) => {
    const w = await seedWorld();
    const before = await snapshot(w.t);
    await expect(
      w.as("owner").mutation(api.posts.update, { id: w.posts.ownerPrivate, ...change }),
    ).rejects.toMatchObject({
      data: { code: "INVALID_INPUT" },
    });
    expect(await snapshot(w.t)).toEqual(before);
  });

  test("titles are trimmed before the length limit, and invisible characters do not count as a title", async () => {
    const w = await seedWorld();
    const id = await w.as("pro").mutation(api.posts.create, { title: `  ${"x".repeat(120)}  `, body: "" });
    expect((await w.as("pro").query(api.posts.get, { id })).title).toBe("x".repeat(120));
    await expect(
      w.as("pro").mutation(api.posts.create, { title: "\u200B\uFEFF", body: "" }),
    ).rejects.toMatchObject({
      data: { code: "INVALID_INPUT" },
    });
  });
});

describe("scheduled publishing re-checks authority when it runs", () => {
  async function scheduled() {
    vi.useFakeTimers();
    const w = await seedWorld();
    await w
      .as("owner")
      .mutation(api.posts.schedulePublish, { id: w.posts.ownerPrivate, publishAt: Date.now() + 60_000 });
    const run = async () => {
      vi.advanceTimersByTime(61_000);
      await w.t.finishInProgressScheduledFunctions();
      return await w.t.run((ctx) => ctx.db.get("posts", w.posts.ownerPrivate));
    };
    return { w, run };
  }

  test("making the post private again cancels the schedule", async () => {
    const { w, run } = await scheduled();
    await w.as("owner").mutation(api.posts.update, { id: w.posts.ownerPrivate, visibility: "private" });
    const post = await run();
    expect(post).toMatchObject({ visibility: "private" });
    expect(post?.publishAt).toBeUndefined();
  });

  test("an author downgraded to free before publishAt publishes nothing", async () => {
    const { w, run } = await scheduled();
    await deliver(
      w.t,
      userEvent("user.updated", w.clerkIds.owner, { updatedAt: Date.now() }), // public metadata {}: free_user
    );
    expect((await usersRow(w.t, w.clerkIds.owner))?.plan).toBe("free_user");
    const post = await run();
    expect(post).toMatchObject({ visibility: "private" });
    expect(post?.publishAt).toBeUndefined();
  });

  test("a stale job (the post was rescheduled) does nothing", async () => {
    const w = await seedWorld();
    await w.t.run((ctx) => ctx.db.patch("posts", w.posts.ownerPrivate, { publishAt: 5 }));
    await w.t.mutation(internal.posts.publishDue, { id: w.posts.ownerPrivate, publishAt: 4 });
    expect(await w.t.run((ctx) => ctx.db.get("posts", w.posts.ownerPrivate))).toMatchObject({
      visibility: "private",
      publishAt: 5,
    });
  });

  test("a job that runs for an author tombstoned in the meantime publishes nothing", async () => {
    const { w, run } = await scheduled();
    // The tombstone without the cascade (say, the job was already running when it landed).
    await w.t.run(async (ctx) => {
      const row = await ctx.db
        .query("users")
        .withIndex("by_clerkId", (q) => q.eq("clerkId", w.clerkIds.owner))
        .unique();
      await ctx.db.patch("users", row!._id, { deletedAt: Date.now() });
    });
    const post = await run();
    expect(post).toMatchObject({ visibility: "private" });
    expect(post?.publishAt).toBeUndefined();
  });

  test("deleting the author cancels their pending publish jobs", async () => {
    const { w } = await scheduled();
    await deliver(w.t, deletedEvent(w.clerkIds.owner));
    const jobs = await w.t.run((ctx) => ctx.db.system.query("_scheduled_functions").collect());
    expect(jobs.map((j) => j.state.kind)).toEqual(["canceled"]);
  });
});

describe("webhook boundaries", () => {
  test("an event with the same updated_at as the row is stale (not re-applied)", async () => {
    const t = newTest();
    await deliver(
      t,
      userEvent("user.created", "user_tie", { updatedAt: 1000, publicMetadata: { plan: "pro" } }),
    );
    const again = await deliver(
      t,
      userEvent("user.updated", "user_tie", { updatedAt: 1000, publicMetadata: { plan: "free_user" } }),
    );
    expect(again.body).toEqual({ outcome: "stale" });
    expect((await usersRow(t, "user_tie"))?.plan).toBe("pro");
  });

  test("the primary email address is stored, not the first one", async () => {
    const t = newTest();
    const user = clerkUser("user_two_emails");
    user.email_addresses = [
      {
        object: "email_address",
        id: "idn_secondary",
        email_address: "old@example.com",
        verification: null,
        linked_to: [],
      },
      ...user.email_addresses,
    ];
    await deliver(t, { type: "user.created", object: "event", data: user });
    expect((await usersRow(t, "user_two_emails"))?.email).toBe("user_two_emails@example.com");
  });

  test("a tombstone keeps no personal data, resets privileges and drops the rate-limit state", async () => {
    const t = newTest();
    await deliver(
      t,
      userEvent("user.created", "user_gdpr", { publicMetadata: { role: "admin", plan: "pro" } }),
    );
    await t
      .withIdentity(identityFor("user_gdpr", { role: "admin", plan: "pro" }))
      .mutation(api.posts.create, { title: "t", body: "" });
    await deliver(t, deletedEvent("user_gdpr"));
    expect(await usersRow(t, "user_gdpr")).toMatchObject({
      email: "",
      name: "",
      imageUrl: "",
      role: "user",
      plan: "free_user",
    });
    expect((await snapshot(t)).rateLimits).toEqual([]);
  });

  test("a correctly signed body that is not JSON is a malformed event", async () => {
    const t = newTest();
    expect(await deliver(t, "definitely not json")).toEqual({
      status: 400,
      body: { error: "malformed event" },
    });
  });

  test("the dedupe purge keeps going while full batches remain", async () => {
    vi.useFakeTimers();
    const t = newTest();
    await t.run(async (ctx) => {
      for (let i = 0; i < 1200; i++)
        await ctx.db.insert("webhookEvents", {
          svixId: `m${i}`,
          type: "user.updated",
          outcome: "applied",
          receivedAt: 0,
        });
      await ctx.db.insert("webhookEvents", {
        svixId: "recent",
        type: "user.updated",
        outcome: "applied",
        receivedAt: Date.now(),
      });
    });
    await t.mutation(internal.clerkWebhooks.purgeOldWebhookEvents, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect((await snapshot(t)).webhookEvents!.map((e) => (e as { svixId: string }).svixId)).toEqual([
      "recent",
    ]);
  });
});

test("insights count per UTC day of creation, and words of post bodies", async () => {
  vi.useFakeTimers({ toFake: ["Date"] });
  const t = newTest();
  const pro = t.withIdentity(identityFor("user_stats", { plan: "pro" }));
  vi.setSystemTime(Date.UTC(2026, 10, 24, 23, 59));
  await pro.mutation(api.posts.create, { title: "a", body: "one two three" });
  vi.setSystemTime(Date.UTC(2026, 10, 25, 0, 1));
  await pro.mutation(api.posts.create, { title: "b", body: "  four\n five ", visibility: "public" });
  await pro.mutation(api.posts.create, { title: "c", body: "" });
  expect(await pro.query(api.insights.overview, {})).toEqual({
    total: 3,
    public: 1,
    private: 2,
    words: 5,
    perDay: [
      { day: "2026-11-24", count: 1 },
      { day: "2026-11-25", count: 2 },
    ],
    // The newest post's creation time (Convex keeps creation times distinct by fractions of a ms).
    lastPostAt: expect.closeTo(Date.UTC(2026, 10, 25, 0, 1), 0),
  });
});

describe("pagination arguments", () => {
  test.each([0, -1, 1.5, 101])("numItems %s is INVALID_INPUT", async (numItems) => {
    const w = await seedWorld();
    for (const call of [
      () => w.as("owner").query(api.posts.listMine, { paginationOpts: { numItems, cursor: null } }),
      () => w.as("owner").query(api.posts.listPublic, { paginationOpts: { numItems, cursor: null } }),
      () => w.as("admin").query(api.admin.listUsers, { paginationOpts: { numItems, cursor: null } }),
      () => w.as("admin").query(api.admin.auditLog, { paginationOpts: { numItems, cursor: null } }),
    ]) {
      await expect(call()).rejects.toMatchObject({ data: { code: "INVALID_INPUT" } });
    }
  });

  test.each(["garbage", "{}"])("a forged cursor %j is INVALID_INPUT", async (cursor) => {
    const w = await seedWorld();
    await expect(
      w.as("owner").query(api.posts.listMine, { paginationOpts: { numItems: 5, cursor } }),
    ).rejects.toMatchObject({ data: { code: "INVALID_INPUT" } });
  });

  test.each(["garbage", "{}"])("a forged endCursor %j is INVALID_INPUT too", async (endCursor) => {
    const w = await seedWorld();
    await expect(
      w.as("owner").query(api.posts.listMine, { paginationOpts: { numItems: 5, cursor: null, endCursor } }),
    ).rejects.toMatchObject({
      data: { code: "INVALID_INPUT", message: expect.stringContaining("InvalidCursor") },
    });
  });

  test.each([0, -5, 1.5])("maximumRowsRead %s is INVALID_INPUT", async (maximumRowsRead) => {
    const w = await seedWorld();
    await expect(
      w
        .as("owner")
        .query(api.posts.listMine, { paginationOpts: { numItems: 5, cursor: null, maximumRowsRead } }),
    ).rejects.toMatchObject({ data: { code: "INVALID_INPUT" } });
  });
});

test("property: maintained insights always equal a recount of the author's posts", async () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant("create" as const), body: fc.lorem({ maxCount: 6 }), pub: fc.boolean() }),
    fc.record({
      kind: fc.constant("update" as const),
      index: fc.nat(),
      body: fc.option(fc.lorem({ maxCount: 4 })),
      pub: fc.option(fc.boolean()),
    }),
    fc.record({ kind: fc.constant("remove" as const), index: fc.nat() }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 15 }), async (ops) => {
      const t = newTest();
      const me = t.withIdentity(identityFor("user_model", { plan: "pro" }));
      const ids: Id<"posts">[] = [];
      for (const o of ops) {
        if (o.kind === "create") {
          ids.push(
            await me.mutation(api.posts.create, {
              title: "t",
              body: o.body,
              visibility: o.pub ? "public" : "private",
            }),
          );
        } else if (ids.length > 0) {
          const id = ids[o.index % ids.length]!;
          if (o.kind === "remove") {
            await me.mutation(api.posts.remove, { id });
            ids.splice(ids.indexOf(id), 1);
          } else {
            await me.mutation(api.posts.update, {
              id,
              ...(o.body === null ? {} : { body: o.body }),
              ...(o.pub === null ? {} : { visibility: o.pub ? "public" : "private" }),
            });
          }
        }
      }
      const posts = await t.run((ctx) => ctx.db.query("posts").collect());
      const perDay = new Map<string, number>();
      for (const p of posts)
        perDay.set(dayOf(p._creationTime), (perDay.get(dayOf(p._creationTime)) ?? 0) + 1);
      expect(await me.query(api.insights.overview, {})).toEqual({
        total: posts.length,
        public: posts.filter((p) => p.visibility === "public").length,
        private: posts.filter((p) => p.visibility === "private").length,
        words: posts.reduce((n, p) => n + wordCount(p.body), 0),
        perDay: [...perDay].sort(([a], [b]) => a.localeCompare(b)).map(([day, count]) => ({ day, count })),
        ...(posts.length ? { lastPostAt: Math.max(...posts.map((p) => p._creationTime)) } : {}),
      });
    }),
    { numRuns: 40 },
  );
});
