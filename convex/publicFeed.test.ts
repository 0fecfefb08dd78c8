/**
 * The public feed (posts.listPublic): readable signed out, each post with its author's display
 * name and nothing private about the author, in bounded reads however big the tables are.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { api } from "./_generated/api";
import { UNNAMED_AUTHOR } from "./lib/publicFeed";
import { documentsRead } from "./test.reads";
import { identityFor, newTest, PUBLIC_POST_KEYS, type TestConvex } from "./test.world";

afterEach(() => vi.restoreAllMocks());

const page = (numItems = 50, cursor: string | null = null) => ({ paginationOpts: { numItems, cursor } });

type Author = { clerkId: string; name: string; deleted?: boolean; row?: boolean; provisional?: boolean };

/** Users rows (with emails and avatars that must not leak) and one public + one private post each. */
async function seed(t: TestConvex, authors: Author[]) {
  await t.run(async (ctx) => {
    for (const [i, a] of authors.entries()) {
      if (a.row !== false) {
        await ctx.db.insert("users", {
          clerkId: a.clerkId,
          email: `${a.clerkId}@private.example`,
          name: a.name,
          imageUrl: `https://img.example/${a.clerkId}.png`,
          role: i === 0 ? "admin" : "user",
          plan: "pro",
          clerkUpdatedAt: 1,
          synced: !a.provisional,
          ...(a.deleted ? { deletedAt: 2 } : {}),
        });
      }
      for (const visibility of ["public", "private"] as const) {
        await ctx.db.insert("posts", {
          authorId: a.clerkId,
          title: `${a.clerkId} ${visibility}`,
          body: "text",
          visibility,
          updatedAt: 0,
        });
      }
    }
  });
}

describe("posts.listPublic", () => {
  test("signed out: public posts only, newest first, each with its author's display name", async () => {
    const t = newTest();
    await seed(t, [
      { clerkId: "user_ada", name: "Ada Lovelace" },
      { clerkId: "user_blank", name: "   " },
      { clerkId: "user_late", name: "unused", row: false }, // the webhook has not landed yet
      { clerkId: "user_gone", name: "Gone Person", deleted: true },
    ]);
    const result = await t.query(api.posts.listPublic, page());
    expect(result.isDone).toBe(true);
    expect(result.page.map((p) => [p.title, p.authorName])).toEqual([
      ["user_gone public", UNNAMED_AUTHOR],
      ["user_late public", UNNAMED_AUTHOR],
      ["user_blank public", UNNAMED_AUTHOR],
      ["user_ada public", "Ada Lovelace"],
    ]);
  });

  test("an anonymous caller sees exactly the post's public fields: no email, avatar, role or plan", async () => {
    const t = newTest();
    await seed(t, [{ clerkId: "user_ada", name: "Ada Lovelace" }]);
    const result = await t.query(api.posts.listPublic, page());
    expect(Object.keys(result.page[0]!).sort()).toEqual(PUBLIC_POST_KEYS);
    const text = JSON.stringify(result);
    for (const secret of ["@private.example", "img.example", "admin", "pro"])
      expect(text).not.toContain(secret);
  });

  test("a provisional row (token claims only, before the webhook) shows no name: the claim may be the email", async () => {
    const t = newTest();
    await seed(t, [{ clerkId: "user_new", name: "user_new@private.example", provisional: true }]);
    const result = await t.query(api.posts.listPublic, page());
    expect(result.page.map((p) => p.authorName)).toEqual([UNNAMED_AUTHOR]);
    expect(JSON.stringify(result)).not.toContain("@private.example");
  });

  test("signed in sees the same feed as signed out", async () => {
    const t = newTest();
    await seed(t, [
      { clerkId: "user_ada", name: "Ada" },
      { clerkId: "user_bob", name: "Bob" },
    ]);
    const anonymous = await t.query(api.posts.listPublic, page());
    const signedIn = await t.withIdentity(identityFor("user_bob")).query(api.posts.listPublic, page());
    expect(signedIn.page).toEqual(anonymous.page);
  });

  test("anonymous pages cover every public post once", async () => {
    const t = newTest();
    await seed(
      t,
      Array.from({ length: 7 }, (_, i) => ({ clerkId: `user_${i}`, name: `Name ${i}` })),
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const result: { page: { authorName: string }[]; isDone: boolean; continueCursor: string } =
        await t.query(api.posts.listPublic, page(3, cursor));
      seen.push(...result.page.map((p) => p.authorName));
      if (result.isDone) break;
      cursor = result.continueCursor;
    }
    expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `Name ${6 - i}`));
  });

  test("an anonymous caller's bad page size is INVALID_INPUT, not an untyped error", async () => {
    const t = newTest();
    await expect(t.query(api.posts.listPublic, page(0))).rejects.toMatchObject({
      data: { code: "INVALID_INPUT" },
    });
  });

  test("reads the page and one users row per distinct author on it, not the tables (2 000 posts, 1 000 authors)", async () => {
    const t = newTest();
    await seed(
      t,
      Array.from({ length: 1_000 }, (_, i) => ({ clerkId: `user_${i}`, name: `Name ${i}` })),
    );
    const { reads, result } = await documentsRead(() => t.query(api.posts.listPublic, page(20)));
    expect(result.page).toHaveLength(20);
    // 20 posts + 20 authors' rows (no viewer: signed out).
    expect(reads).toBeLessThanOrEqual(40);
    console.log(`[query cost] posts.listPublic: ${reads} documents read for a page of 20 (2 000 posts)`);
  });
});
