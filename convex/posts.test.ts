/** Product rules for posts: validation, the free quota, rate limiting and scheduled publishing. */
import fc from "fast-check";
import { afterEach, describe, expect, test, vi } from "vitest";
import { api } from "./_generated/api";
import { FREE_POST_QUOTA } from "./lib/permissions";
import { BODY_MAX, TITLE_MAX } from "./lib/postText";
import { WRITE_BURST } from "./lib/rateLimit";
import { identityFor, newTest, seedWorld, snapshot } from "./test.world";

afterEach(() => vi.useRealTimers());

const freeUser = (t: ReturnType<typeof newTest>) =>
  t.withIdentity(identityFor("user_f", { plan: "free_user" }));
const proUser = (t: ReturnType<typeof newTest>) => t.withIdentity(identityFor("user_p", { plan: "pro" }));
const page = { paginationOpts: { numItems: 50, cursor: null } };

describe("input validation", () => {
  test.each([
    ["a blank title", { title: "   ", body: "" }],
    ["a title over the limit", { title: "x".repeat(TITLE_MAX + 1), body: "" }],
    ["a body over the limit", { title: "ok", body: "x".repeat(BODY_MAX + 1) }],
  ])("%s is INVALID_INPUT with the issues listed, and nothing is written", async (_name, args) => {
    const t = newTest();
    const before = await snapshot(t);
    await expect(freeUser(t).mutation(api.posts.create, args)).rejects.toMatchObject({
      data: { code: "INVALID_INPUT", issues: [expect.objectContaining({ message: expect.any(String) })] },
    });
    expect(await snapshot(t)).toEqual(before);
  });

  test("limits count characters, not UTF-16 units", async () => {
    const t = newTest();
    const title = "🦊".repeat(TITLE_MAX); // 240 UTF-16 units, 120 characters
    const id = await proUser(t).mutation(api.posts.create, { title, body: "" });
    expect((await proUser(t).query(api.posts.get, { id })).title).toBe(title);
  });

  test("property: create accepts exactly the valid inputs; a rejection is typed and writes nothing", async () => {
    const title = fc.oneof(
      fc.string({ maxLength: 130 }),
      fc.string({ unit: "grapheme", maxLength: 125 }),
      fc.constant(" \t\n"),
    );
    const body = fc.oneof(
      fc.string({ maxLength: 50 }),
      fc.constant("y".repeat(BODY_MAX)),
      fc.constant("y".repeat(BODY_MAX + 1)),
    );
    await fc.assert(
      fc.asyncProperty(title, body, async (title, body) => {
        const t = newTest();
        const visible = title.replace(/[\u200B-\u200D\u2060\uFEFF]/gu, "").trim();
        const valid = visible.length > 0 && [...visible].length <= TITLE_MAX && [...body].length <= BODY_MAX;
        try {
          const id = await proUser(t).mutation(api.posts.create, { title, body });
          expect(valid).toBe(true);
          expect(await proUser(t).query(api.posts.get, { id })).toMatchObject({ title: visible, body });
        } catch (error) {
          expect(valid).toBe(false);
          expect(error).toMatchObject({ data: { code: "INVALID_INPUT" } });
          expect((await snapshot(t)).posts).toEqual([]);
        }
      }),
      { numRuns: 60 },
    );
  });

  test("property: update with any visibility-preserving valid title keeps the author and id", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ""),
        async (title) => {
          const t = newTest();
          const id = await proUser(t).mutation(api.posts.create, { title: "first", body: "b" });
          await proUser(t).mutation(api.posts.update, { id, title });
          expect(await proUser(t).query(api.posts.get, { id })).toMatchObject({
            _id: id,
            authorId: "user_p",
            title: title.trim(),
          });
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe("plans", () => {
  test(`the free plan holds ${FREE_POST_QUOTA} posts; the next asks for an upgrade`, async () => {
    const t = newTest();
    for (let i = 0; i < FREE_POST_QUOTA; i++)
      await freeUser(t).mutation(api.posts.create, { title: `p${i}`, body: "" });
    await expect(
      freeUser(t).mutation(api.posts.create, { title: "one more", body: "" }),
    ).rejects.toMatchObject({
      data: { code: "UPGRADE_REQUIRED", requiredPlan: "pro" },
    });
    expect((await freeUser(t).query(api.posts.listMine, page)).page).toHaveLength(FREE_POST_QUOTA);
  });

  test("quota reports the maintained count: free against the quota, pro without one", async () => {
    const t = newTest();
    expect(await freeUser(t).query(api.posts.quota, {})).toEqual({ used: 0, limit: FREE_POST_QUOTA });
    const ids = [];
    for (let i = 0; i < 3; i++)
      ids.push(await freeUser(t).mutation(api.posts.create, { title: `p${i}`, body: "" }));
    expect(await freeUser(t).query(api.posts.quota, {})).toEqual({ used: 3, limit: FREE_POST_QUOTA });
    await freeUser(t).mutation(api.posts.remove, { id: ids[0]! });
    expect(await freeUser(t).query(api.posts.quota, {})).toEqual({ used: 2, limit: FREE_POST_QUOTA });
    await proUser(t).mutation(api.posts.create, { title: "pro", body: "" });
    expect(await proUser(t).query(api.posts.quota, {})).toEqual({ used: 1, limit: null });
  });

  test("pro has no post quota", async () => {
    const t = newTest();
    for (let i = 0; i < FREE_POST_QUOTA + 2; i++)
      await proUser(t).mutation(api.posts.create, { title: `p${i}`, body: "" });
    expect((await proUser(t).query(api.posts.listMine, page)).page).toHaveLength(FREE_POST_QUOTA + 2);
  });

  test("listMine pages newest first and the pages cover everything once", async () => {
    const t = newTest();
    const ids = [];
    for (let i = 0; i < 7; i++)
      ids.push(await proUser(t).mutation(api.posts.create, { title: `p${i}`, body: "" }));
    const first = await proUser(t).query(api.posts.listMine, {
      paginationOpts: { numItems: 4, cursor: null },
    });
    const second = await proUser(t).query(api.posts.listMine, {
      paginationOpts: { numItems: 4, cursor: first.continueCursor },
    });
    expect([...first.page, ...second.page].map((p) => p._id)).toEqual(ids.reverse());
    expect(second.isDone).toBe(true);
  });
});

describe("rate limiting", () => {
  test(`a burst of ${WRITE_BURST} writes, then RATE_LIMITED with retryAfterMs, then about one per second`, async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(1_800_000_000_000);
    const t = newTest();
    for (let i = 0; i < WRITE_BURST; i++)
      await proUser(t).mutation(api.posts.create, { title: `p${i}`, body: "" });
    const before = await snapshot(t);
    const limited = await proUser(t)
      .mutation(api.posts.create, { title: "late", body: "" })
      .catch((e: unknown) => e);
    expect(limited).toMatchObject({ data: { code: "RATE_LIMITED" } });
    // About one second until the next token (the engine's clock may have ticked a millisecond).
    const { retryAfterMs } = (limited as { data: { retryAfterMs: number } }).data;
    expect(retryAfterMs).toBeGreaterThan(990);
    expect(retryAfterMs).toBeLessThanOrEqual(1000);
    expect(await snapshot(t)).toEqual(before);
    vi.setSystemTime(1_800_000_000_000 + 1000);
    await proUser(t).mutation(api.posts.create, { title: "after a second", body: "" });
    await expect(
      proUser(t).mutation(api.posts.create, { title: "too soon", body: "" }),
    ).rejects.toMatchObject({
      data: { code: "RATE_LIMITED" },
    });
  });

  test("limits are per user", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(1_800_000_000_000);
    const t = newTest();
    for (let i = 0; i < WRITE_BURST; i++)
      await proUser(t).mutation(api.posts.create, { title: `p${i}`, body: "" });
    await expect(freeUser(t).mutation(api.posts.create, { title: "mine", body: "" })).resolves.toBeDefined();
  });

  test("a rejected write does not spend a token", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(1_800_000_000_000);
    const t = newTest();
    for (let i = 0; i < 30; i++) {
      await expect(proUser(t).mutation(api.posts.create, { title: "", body: "" })).rejects.toMatchObject({
        data: { code: "INVALID_INPUT" },
      });
    }
    for (let i = 0; i < WRITE_BURST; i++)
      await proUser(t).mutation(api.posts.create, { title: `p${i}`, body: "" });
  });
});

describe("scheduled publishing (pro)", () => {
  test("a scheduled private post becomes public at publishAt through the Convex scheduler", async () => {
    vi.useFakeTimers();
    const t = newTest();
    const id = await proUser(t).mutation(api.posts.create, { title: "later", body: "" });
    await proUser(t).mutation(api.posts.schedulePublish, { id, publishAt: Date.now() + 60_000 });
    expect((await freeUser(t).query(api.posts.listPublic, page)).page).toEqual([]);
    vi.advanceTimersByTime(59_000);
    await t.finishInProgressScheduledFunctions();
    expect((await proUser(t).query(api.posts.get, { id })).visibility).toBe("private");
    vi.advanceTimersByTime(2_000);
    await t.finishInProgressScheduledFunctions();
    const post = await freeUser(t).query(api.posts.get, { id });
    expect(post).toMatchObject({ visibility: "public" });
    expect(post.publishAt).toBeUndefined();
  });

  test("rescheduling replaces the earlier job; removing the post cancels it", async () => {
    vi.useFakeTimers();
    const t = newTest();
    const id = await proUser(t).mutation(api.posts.create, { title: "later", body: "" });
    await proUser(t).mutation(api.posts.schedulePublish, { id, publishAt: Date.now() + 10_000 });
    await proUser(t).mutation(api.posts.schedulePublish, { id, publishAt: Date.now() + 100_000 });
    const jobs = await t.run((ctx) => ctx.db.system.query("_scheduled_functions").collect());
    expect(jobs.map((j) => j.state.kind).sort()).toEqual(["canceled", "pending"]);
    vi.advanceTimersByTime(20_000);
    await t.finishInProgressScheduledFunctions();
    expect((await proUser(t).query(api.posts.get, { id })).visibility).toBe("private");
    await proUser(t).mutation(api.posts.remove, { id });
    const after = await t.run((ctx) => ctx.db.system.query("_scheduled_functions").collect());
    expect(after.every((j) => j.state.kind === "canceled")).toBe(true);
  });

  test("cancelling a schedule cancels its job; the post stays private and can be rescheduled", async () => {
    vi.useFakeTimers();
    const t = newTest();
    const id = await proUser(t).mutation(api.posts.create, { title: "later", body: "" });
    await proUser(t).mutation(api.posts.schedulePublish, { id, publishAt: Date.now() + 10_000 });
    await proUser(t).mutation(api.posts.cancelSchedule, { id });
    const jobs = await t.run((ctx) => ctx.db.system.query("_scheduled_functions").collect());
    expect(jobs.map((j) => j.state.kind)).toEqual(["canceled"]);
    const post = await t.run((ctx) => ctx.db.get("posts", id));
    expect(post?.publishAt).toBeUndefined();
    expect(post?.publishJobId).toBeUndefined();
    vi.advanceTimersByTime(20_000);
    await t.finishInProgressScheduledFunctions();
    expect((await proUser(t).query(api.posts.get, { id })).visibility).toBe("private");
    // Cancelling again is harmless; scheduling again works.
    await proUser(t).mutation(api.posts.cancelSchedule, { id });
    await proUser(t).mutation(api.posts.schedulePublish, { id, publishAt: Date.now() + 10_000 });
    expect((await proUser(t).query(api.posts.get, { id })).publishAt).toBeGreaterThan(Date.now());
  });

  test("an author who left Pro can still cancel what they scheduled", async () => {
    vi.useFakeTimers();
    const t = newTest();
    const id = await proUser(t).mutation(api.posts.create, { title: "later", body: "" });
    await proUser(t).mutation(api.posts.schedulePublish, { id, publishAt: Date.now() + 10_000 });
    const downgraded = t.withIdentity(identityFor("user_p", { plan: "free_user" }));
    await downgraded.mutation(api.posts.cancelSchedule, { id });
    const jobs = await t.run((ctx) => ctx.db.system.query("_scheduled_functions").collect());
    expect(jobs.map((j) => j.state.kind)).toEqual(["canceled"]);
  });

  test.each([
    ["in the past", -1000],
    ["now", 0],
    ["more than a year ahead", 400 * 24 * 3600 * 1000],
  ])("publishAt %s is INVALID_INPUT", async (_name, delta) => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(1_800_000_000_000);
    const t = newTest();
    const id = await proUser(t).mutation(api.posts.create, { title: "x", body: "" });
    await expect(
      proUser(t).mutation(api.posts.schedulePublish, { id, publishAt: Date.now() + delta }),
    ).rejects.toMatchObject({ data: { code: "INVALID_INPUT" } });
  });

  test("a fractional publishAt is INVALID_INPUT", async () => {
    const t = newTest();
    const id = await proUser(t).mutation(api.posts.create, { title: "x", body: "" });
    await expect(
      proUser(t).mutation(api.posts.schedulePublish, { id, publishAt: Date.now() + 60_000.5 }),
    ).rejects.toMatchObject({ data: { code: "INVALID_INPUT" } });
  });
});

test("admins may remove anyone's post but not edit it", async () => {
  const w = await seedWorld();
  await expect(
    w.as("admin").mutation(api.posts.update, { id: w.posts.otherPrivate, title: "x" }),
  ).rejects.toMatchObject({
    data: { code: "FORBIDDEN" },
  });
  await w.as("admin").mutation(api.posts.remove, { id: w.posts.otherPrivate });
  expect(await w.t.run((ctx) => ctx.db.get("posts", w.posts.otherPrivate))).toBeNull();
});
