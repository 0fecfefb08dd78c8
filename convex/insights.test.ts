/** insights.overview's range: 7, 30 or 90 days up to today, read by index range, and "last posted". */
import { afterEach, expect, test, vi } from "vitest";
import { api } from "./_generated/api";
import { errorCodeOf } from "./lib/errors";
import { dayOf, rangeOf } from "./lib/postStats";
import { documentsRead } from "./test.reads";
import { identityFor, newTest } from "./test.world";

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2026, 2, 15, 12, 0);

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A pro author who posted once a day for the last 365 days (statistics as posts.create keeps them). */
async function yearOfPosts() {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
  const t = newTest();
  await t.run(async (ctx) => {
    for (let i = 0; i < 365; i++) {
      await ctx.db.insert("authorDays", {
        authorId: "user_me",
        day: dayOf(NOW - i * DAY),
        count: 1 + (i % 3),
      });
      // Someone else's days in the same range must not be read.
      await ctx.db.insert("authorDays", { authorId: "user_zz", day: dayOf(NOW - i * DAY), count: 1 });
    }
    await ctx.db.insert("authorStats", { authorId: "user_me", total: 730, public: 300, words: 5000 });
    await ctx.db.insert("posts", {
      authorId: "user_me",
      title: "latest",
      body: "b",
      visibility: "public",
      updatedAt: NOW,
    });
  });
  return t.withIdentity(identityFor("user_me", { plan: "pro" }));
}

test("the range is the last N UTC days up to today", () => {
  expect(rangeOf(7, NOW)).toEqual({ from: "2026-03-09", to: "2026-03-15" });
  expect(rangeOf(30, NOW)).toEqual({ from: "2026-02-14", to: "2026-03-15" });
  expect(rangeOf(90, NOW)).toEqual({ from: "2025-12-16", to: "2026-03-15" });
});

test.each([7, 30, 90] as const)(
  "days=%i reads that many day rows, the totals and the newest post",
  async (days) => {
    const me = await yearOfPosts();
    const { reads, result } = await documentsRead(() => me.query(api.insights.overview, { days }));
    expect(result.perDay).toHaveLength(days);
    expect(result.perDay[0]!.day).toBe(rangeOf(days, NOW).from);
    expect(result.perDay.at(-1)!.day).toBe("2026-03-15");
    expect(result).toMatchObject({
      total: 730,
      public: 300,
      private: 430,
      from: rangeOf(days, NOW).from,
      to: "2026-03-15",
    });
    expect(Math.floor(result.lastPostAt!)).toBe(NOW);
    // Totals row + `days` day rows + the newest post: not the author's other 365 - days rows.
    expect(reads).toBe(days + 2);
  },
);

test("without posts: zeros, no day rows and no last post", async () => {
  const t = newTest();
  const me = t.withIdentity(identityFor("user_new", { plan: "pro" }));
  expect(await me.query(api.insights.overview, { days: 7 })).toMatchObject({
    total: 0,
    public: 0,
    private: 0,
    perDay: [],
  });
  expect((await me.query(api.insights.overview, { days: 7 })).lastPostAt).toBeUndefined();
});

test("other ranges are refused by the validator; free users get UPGRADE_REQUIRED", async () => {
  const t = newTest();
  const pro = t.withIdentity(identityFor("user_p", { plan: "pro" }));
  await expect(pro.query(api.insights.overview, { days: 365 as never })).rejects.toThrow();
  const free = t.withIdentity(identityFor("user_f", { plan: "free_user" }));
  const error = await free.query(api.insights.overview, { days: 7 }).catch((e: unknown) => e);
  expect(errorCodeOf(error)).toBe("UPGRADE_REQUIRED");
});

test("the caller's `today` ends the range, so a page left open past midnight moves on", async () => {
  const me = await yearOfPosts();
  // The server's clock says 2026-03-15 12:00; a client already past midnight says the 16th.
  const tomorrow = await me.query(api.insights.overview, { days: 7, today: "2026-03-16" });
  expect(tomorrow).toMatchObject({ from: "2026-03-10", to: "2026-03-16" });
  // The 16th has no posts yet: six of the seven days have rows.
  expect(tomorrow.perDay.map((d) => d.day)).toEqual([
    "2026-03-10",
    "2026-03-11",
    "2026-03-12",
    "2026-03-13",
    "2026-03-14",
    "2026-03-15",
  ]);
  const yesterday = await me.query(api.insights.overview, { days: 7, today: "2026-03-14" });
  expect(yesterday).toMatchObject({ from: "2026-03-08", to: "2026-03-14" });
});

test.each([
  "2026-03-17",
  "2026-03-13",
  "1970-01-01",
  "2026-02-30",
  "2026-3-15",
  "15/03/2026",
  "",
  "x".repeat(10_000),
])("a `today` that is not within a day of the server's (%j) is INVALID_INPUT", async (today) => {
  const me = await yearOfPosts();
  const error = await me.query(api.insights.overview, { days: 7, today }).catch((e: unknown) => e);
  expect(errorCodeOf(error)).toBe("INVALID_INPUT");
});
