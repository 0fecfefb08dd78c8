/**
 * Object-level and property-level authorization: foreign, guessed, deleted, malformed and
 * cross-table ids, and arguments that try to set fields only the server may set.
 */
import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { PUBLIC_POST_KEYS, seedWorld, snapshot, type World } from "./test.world";

async function errorOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error as Error & { data?: unknown };
  }
  throw new Error("expected the call to be refused");
}

/** An id of the posts table that no longer exists. */
async function deletedPostId(w: World): Promise<Id<"posts">> {
  return await w.t.run(async (ctx) => {
    const id = await ctx.db.insert("posts", {
      authorId: "user_gone",
      title: "t",
      body: "",
      visibility: "private",
      updatedAt: 0,
    });
    await ctx.db.delete("posts", id);
    return id;
  });
}

describe("foreign ids look exactly like missing ones (no existence oracle)", () => {
  const calls = {
    get: (w: World, id: Id<"posts">) => w.as("free").query(api.posts.get, { id }),
    update: (w: World, id: Id<"posts">) => w.as("free").mutation(api.posts.update, { id, body: "pwned" }),
    remove: (w: World, id: Id<"posts">) => w.as("free").mutation(api.posts.remove, { id }),
    schedulePublish: (w: World, id: Id<"posts">) =>
      w.as("pro").mutation(api.posts.schedulePublish, { id, publishAt: Date.now() + 60_000 }),
  };
  test.each(Object.entries(calls))("posts.%s", async (_name, call) => {
    const w = await seedWorld();
    const before = await snapshot(w.t);
    const foreign = await errorOf(call(w, w.posts.otherPrivate));
    const missing = await errorOf(call(w, await deletedPostId(w)));
    expect(foreign.data).toEqual({ code: "NOT_FOUND", message: "No such post" });
    expect(missing.data).toEqual(foreign.data);
    const after = await snapshot(w.t);
    expect(after.posts!.filter((p) => (p as { authorId: string }).authorId !== "user_gone")).toEqual(
      before.posts,
    );
  });

  test("a public post can be read by anyone signed in, but not changed by them", async () => {
    const w = await seedWorld();
    expect(await w.as("free").query(api.posts.get, { id: w.posts.ownerPublic })).toMatchObject({
      title: "owner public",
    });
    const error = await errorOf(
      w.as("free").mutation(api.posts.update, { id: w.posts.ownerPublic, title: "x" }),
    );
    expect(error.data).toMatchObject({ code: "FORBIDDEN" });
  });
});

describe("malformed and cross-table ids are refused by argument validation before any handler runs", () => {
  const bad: [string, unknown][] = [
    ["empty string", ""],
    ["not an id", "abc"],
    ["10 kB string", "x".repeat(10_000)],
    ["null", null],
    ["number", 42],
    ["object", { id: "x" }],
  ];
  test.each(bad)("%s", async (_name, id) => {
    const w = await seedWorld();
    const before = await snapshot(w.t);
    for (const call of [
      () => w.as("owner").query(api.posts.get, { id } as never),
      () => w.as("owner").mutation(api.posts.update, { id, title: "x" } as never),
      () => w.as("owner").mutation(api.posts.remove, { id } as never),
    ]) {
      const error = await errorOf(call());
      expect(error.message).toMatch(/validator|Validator|not a valid ID|Value does not match/);
    }
    expect(await snapshot(w.t)).toEqual(before);
  });

  test("an id of another table (users) is refused", async () => {
    const w = await seedWorld();
    const userId = await w.t.run(async (ctx) => (await ctx.db.query("users").first())!._id);
    const error = await errorOf(w.as("owner").query(api.posts.get, { id: userId as unknown as Id<"posts"> }));
    expect(error.message).toMatch(/posts|validator|Validator/);
    expect(error.data).toBeUndefined();
  });
});

describe("mass assignment: fields only the server sets cannot be sent", () => {
  const extras = [
    { authorId: "user_admin" },
    { role: "admin" },
    { plan: "pro" },
    { isAdmin: true },
    { deletedAt: 1 },
    { _id: "x" },
    { _creationTime: 1 },
    { updatedAt: 1 },
  ];
  test.each(extras)("posts.create with %o", async (extra) => {
    const w = await seedWorld();
    const before = await snapshot(w.t);
    await expect(
      w.as("free").mutation(api.posts.create, { title: "t", body: "b", ...extra } as never),
    ).rejects.toThrow(/extra field|Object contains extra field|validator/i);
    expect(await snapshot(w.t)).toEqual(before);
  });

  test.each(extras)("posts.update with %o", async (extra) => {
    const w = await seedWorld();
    await expect(
      w.as("owner").mutation(api.posts.update, { id: w.posts.ownerPrivate, ...extra } as never),
    ).rejects.toThrow(/extra field|validator/i);
  });

  test.each([{ role: "admin" }, { plan: "pro" }, { clerkId: "user_admin" }])(
    "users.ensure with %o",
    async (extra) => {
      const w = await seedWorld();
      await expect(w.as("free").mutation(api.users.ensure, extra as never)).rejects.toThrow(
        /extra field|validator/i,
      );
    },
  );

  test("admin.setRole refuses a role outside the enum", async () => {
    const w = await seedWorld();
    await expect(
      w.as("admin").action(api.admin.setRole, { clerkId: w.clerkIds.free, role: "superadmin" } as never),
    ).rejects.toThrow(/validator|Value does not match/i);
  });

  test("public reads never expose another user's email or private fields", async () => {
    const w = await seedWorld();
    const page = await w
      .as("free")
      .query(api.posts.listPublic, { paginationOpts: { numItems: 10, cursor: null } });
    const text = JSON.stringify(page);
    expect(text).not.toContain("@gatehouse.test");
    expect(Object.keys(page.page[0]!).sort()).toEqual(PUBLIC_POST_KEYS);
  });
});
