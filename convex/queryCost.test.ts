/**
 * Query cost: with 10 000 posts by other users in the table, the caller's own queries
 * read only the caller's documents (insights: the caller's maintained statistics). Reads are counted at the engine's metrics tracker
 * (each document a query reads from an index range); a deliberate full-table scan in the
 * same run is the control that shows the counter sees scans. `.filter()` is banned by
 * lint in convex/ because convex-test's tracker would not count what it scans.
 */
import { afterEach, beforeAll, expect, test, vi } from "vitest";
import { api } from "./_generated/api";
import { recordPostChange } from "./lib/postStats";
import { documentsRead } from "./test.reads";
import { identityFor, newTest, type TestConvex } from "./test.world";

const OTHERS = 10_000;
const MINE = 20;
let t: TestConvex;

beforeAll(async () => {
  t = newTest();
  await t.run(async (ctx) => {
    for (let i = 0; i < OTHERS; i++) {
      await ctx.db.insert("posts", {
        authorId: `user_other_${i % 500}`,
        title: `t${i}`,
        body: "some words here",
        visibility: i % 2 ? "public" : "private",
        updatedAt: 0,
      });
    }
    for (let i = 0; i < MINE; i++) {
      const id = await ctx.db.insert("posts", {
        authorId: "user_me",
        title: `m${i}`,
        body: "one two",
        visibility: "private",
        updatedAt: 0,
      });
      // What posts.create does: the author's statistics follow every post write.
      await recordPostChange(ctx, null, await ctx.db.get("posts", id));
    }
  });
}, 60_000);

afterEach(() => vi.restoreAllMocks());

const me = () => t.withIdentity(identityFor("user_me", { plan: "pro" }));

test(`posts.listMine reads only the caller's page (${OTHERS} others' posts in the table)`, async () => {
  const { reads, result } = await documentsRead(() =>
    me().query(api.posts.listMine, { paginationOpts: { numItems: MINE, cursor: null } }),
  );
  expect(result.page).toHaveLength(MINE);
  // The page plus the viewer's users row lookup (no row here: 0) — never the others' posts.
  expect(reads).toBeLessThanOrEqual(MINE + 1);
  console.log(`[query cost] posts.listMine: ${reads} documents read with ${OTHERS} others' posts`);
});

test(`insights.overview reads only the caller's posts (${OTHERS} others' posts in the table)`, async () => {
  const { reads, result } = await documentsRead(() => me().query(api.insights.overview, {}));
  expect(result).toMatchObject({ total: MINE, private: MINE, words: MINE * 2 });
  // The caller's totals row, one row per day they posted (all today) and their newest post (for
  // "last posted"): not all their posts, not others'.
  expect(reads).toBe(3);
  console.log(`[query cost] insights.overview: ${reads} documents read with ${OTHERS} others' posts`);
});

test("control: a collect-then-filter scan of the same table is counted in full", async () => {
  const { reads, result } = await documentsRead(() =>
    t.run(
      async (ctx) => (await ctx.db.query("posts").collect()).filter((p) => p.authorId === "user_me").length,
    ),
  );
  expect(result).toBe(MINE);
  expect(reads).toBe(OTHERS + MINE);
  console.log(`[query cost] control full scan: ${reads} documents read`);
});
