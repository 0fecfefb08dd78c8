/**
 * POST /clerk-users-webhook: svix verification on the raw body, zod validation,
 * exactly-once effects per svix-id, Clerk's ordering by updated_at, and tombstones.
 * Every payload is signed by the real svix library.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { Webhook } from "svix";
import { api } from "./_generated/api";
import {
  deletedEvent,
  deliver,
  newSvixId,
  signedHeaders,
  userEvent,
  usersRow,
  WEBHOOK_SECRET,
} from "./test.webhooks";
import { identityFor, newTest, snapshot, type TestConvex } from "./test.world";

let t: TestConvex;
beforeEach(() => {
  vi.stubEnv("CLERK_WEBHOOK_SECRET", WEBHOOK_SECRET);
  t = newTest();
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

const auditCount = () => t.run(async (ctx) => (await ctx.db.query("auditLog").collect()).length);

describe("each event type", () => {
  test("user.created stores the profile and public-metadata privileges, never unsafe or private metadata", async () => {
    const event = userEvent("user.created", "user_a", { publicMetadata: { role: "admin", plan: "pro" } });
    expect(await deliver(t, event)).toEqual({ status: 200, body: { outcome: "applied" } });
    const row = await usersRow(t, "user_a");
    expect(row).toMatchObject({
      clerkId: "user_a",
      email: "user_a@example.com",
      name: "Test User",
      imageUrl: "https://img.gatehouse.test/x.png",
      role: "admin",
      plan: "pro",
      synced: true,
      clerkUpdatedAt: event.data.updated_at,
    });
    expect(JSON.stringify(row)).not.toContain("never stored");
    expect(await auditCount()).toBe(1);
  });

  test("unsafe metadata never grants anything", async () => {
    await deliver(t, userEvent("user.created", "user_b")); // clerkUser() puts role admin in unsafe_metadata
    expect(await usersRow(t, "user_b")).toMatchObject({ role: "user", plan: "free_user" });
  });

  test("unknown role or plan values in public metadata mean least privilege", async () => {
    await deliver(
      t,
      userEvent("user.created", "user_c", { publicMetadata: { role: "superadmin", plan: "enterprise" } }),
    );
    expect(await usersRow(t, "user_c")).toMatchObject({ role: "user", plan: "free_user" });
  });

  test("user.updated applies a newer state", async () => {
    await deliver(t, userEvent("user.created", "user_d", { updatedAt: 1000 }));
    await deliver(
      t,
      userEvent("user.updated", "user_d", { updatedAt: 2000, publicMetadata: { plan: "pro" } }),
    );
    expect(await usersRow(t, "user_d")).toMatchObject({ plan: "pro", clerkUpdatedAt: 2000 });
  });

  test("user.deleted tombstones the user, deletes their posts and denies them at once", async () => {
    await deliver(t, userEvent("user.created", "user_e", { publicMetadata: { plan: "pro" } }));
    const asE = t.withIdentity(identityFor("user_e", { plan: "pro" }));
    await asE.mutation(api.posts.create, { title: "one", body: "x" });
    await asE.mutation(api.posts.create, { title: "two", body: "y" });
    expect(await deliver(t, deletedEvent("user_e"))).toEqual({ status: 200, body: { outcome: "deleted" } });
    expect((await usersRow(t, "user_e"))?.deletedAt).toBeTypeOf("number");
    expect(await t.run((ctx) => ctx.db.query("posts").collect())).toEqual([]);
    await expect(
      asE.query(api.posts.listMine, { paginationOpts: { numItems: 5, cursor: null } }),
    ).rejects.toMatchObject({
      data: { code: "UNAUTHENTICATED" },
    });
  });

  test("a deletion cascades in batches when a user has many posts", async () => {
    await deliver(t, userEvent("user.created", "user_many"));
    await t.run(async (ctx) => {
      for (let i = 0; i < 450; i++) {
        await ctx.db.insert("posts", {
          authorId: "user_many",
          title: `p${i}`,
          body: "",
          visibility: "private",
          updatedAt: 0,
        });
      }
      await ctx.db.insert("posts", {
        authorId: "user_keep",
        title: "keep",
        body: "",
        visibility: "public",
        updatedAt: 0,
      });
    });
    vi.useFakeTimers();
    await deliver(t, deletedEvent("user_many"));
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const left = await t.run((ctx) => ctx.db.query("posts").collect());
    expect(left.map((p) => p.authorId)).toEqual(["user_keep"]);
  });

  test("unknown event types are acknowledged with 200 and change nothing", async () => {
    const before = await snapshot(t);
    for (const type of ["session.created", "organization.created", "foo.bar"]) {
      expect(await deliver(t, { type, object: "event", data: { id: "x" } })).toEqual({
        status: 200,
        body: { outcome: "ignored" },
      });
    }
    expect(await snapshot(t)).toEqual(before);
  });
});

describe("requests that are not valid Clerk events get 400 and change nothing", () => {
  const body = JSON.stringify(userEvent("user.created", "user_x"));
  let before: Awaited<ReturnType<typeof snapshot>>;
  beforeEach(async () => {
    before = await snapshot(t);
  });
  afterEach(async () => {
    expect(await snapshot(t)).toEqual(before);
  });
  const post = (headers: Record<string, string>, payload = body) =>
    t.fetch("/clerk-users-webhook", { method: "POST", body: payload, headers });

  test.each(["svix-id", "svix-timestamp", "svix-signature"])("missing %s", async (header) => {
    const headers: Record<string, string> = signedHeaders(body);
    delete headers[header];
    const response = await post(headers);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "missing svix headers" });
  });

  test("no svix headers at all", async () => {
    expect((await post({ "content-type": "application/json" })).status).toBe(400);
  });

  test.each([
    "v1,dawfeoifkpqwoekfpqoekf",
    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=",
    "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    "v1,",
    "garbage",
  ])("bad signature %s", async (signature) => {
    const response = await post({ ...signedHeaders(body), "svix-signature": signature });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "invalid signature" });
  });

  test("a signature for a different body (re-serialized JSON, one byte changed)", async () => {
    const headers = signedHeaders(body);
    expect((await post(headers, JSON.stringify(JSON.parse(body), null, 1))).status).toBe(400);
    expect((await post(headers, body.replace("user_x", "user_y"))).status).toBe(400);
  });

  test("a signature made with another secret", async () => {
    const other = "whsec_" + Buffer.from("another-secret-entirely-0123456789").toString("base64");
    expect((await deliver(t, JSON.parse(body), { secret: other })).status).toBe(400);
  });

  test("a signed timestamp more than five minutes old or ahead (replay window)", async () => {
    expect((await deliver(t, JSON.parse(body), { at: new Date(Date.now() - 301_000) })).status).toBe(400);
    expect((await deliver(t, JSON.parse(body), { at: new Date(Date.now() - 86_400_000) })).status).toBe(400);
    expect((await deliver(t, JSON.parse(body), { at: new Date(Date.now() + 301_000) })).status).toBe(400);
  });

  test("the svix-id or timestamp header changed after signing", async () => {
    expect((await post({ ...signedHeaders(body), "svix-id": "msg_other" })).status).toBe(400);
    const headers = signedHeaders(body);
    expect(
      (await post({ ...headers, "svix-timestamp": String(Number(headers["svix-timestamp"]) + 1) })).status,
    ).toBe(400);
    expect((await post({ ...headers, "svix-timestamp": "hello" })).status).toBe(400);
  });

  test.each([
    ["not JSON", "this is not json"],
    ["a JSON array", "[1,2,3]"],
    ["no type", JSON.stringify({ object: "event", data: { id: "user_x" } })],
    [
      "user.created without data.id",
      JSON.stringify({
        ...userEvent("user.created", "user_x"),
        data: { updated_at: 1, email_addresses: [] },
      }),
    ],
    [
      "user.created with a numeric id",
      JSON.stringify({
        ...userEvent("user.created", "user_x"),
        data: { ...userEvent("user.created", "user_x").data, id: 42 },
      }),
    ],
    [
      "user.updated with updated_at as a string",
      JSON.stringify({
        ...userEvent("user.updated", "user_x"),
        data: { ...userEvent("user.updated", "user_x").data, updated_at: "yesterday" },
      }),
    ],
    [
      "user.deleted without an id",
      JSON.stringify({ type: "user.deleted", object: "event", data: { deleted: true } }),
    ],
  ])("a correctly signed but malformed payload: %s", async (_name, payload) => {
    const response = await post(signedHeaders(payload), payload);
    expect(response.status).toBe(400);
  });

  test("an oversized body is refused before parsing", async () => {
    const huge = JSON.stringify({ ...JSON.parse(body), padding: "x".repeat(300_000) });
    expect((await post(signedHeaders(huge), huge)).status).toBe(413);
  });
});

describe("at-least-once delivery, exactly-once effect", () => {
  test("a duplicate delivery (same svix-id, fresh signature) is acknowledged once and applied once", async () => {
    const event = userEvent("user.created", "user_dup");
    const svixId = newSvixId();
    const first = await deliver(t, event, { svixId });
    const again = await deliver(t, event, { svixId });
    const concurrent = await Promise.all([1, 2, 3].map(() => deliver(t, event, { svixId })));
    expect(first.body).toEqual({ outcome: "applied" });
    expect([again, ...concurrent].map((r) => r.body)).toEqual(Array(4).fill({ outcome: "duplicate" }));
    expect(await auditCount()).toBe(1);
    expect(await t.run(async (ctx) => (await ctx.db.query("webhookEvents").collect()).length)).toBe(1);
  });

  test("a byte-identical replay inside the window is a no-op", async () => {
    const body = JSON.stringify(userEvent("user.created", "user_replay"));
    const headers = signedHeaders(body);
    await t.fetch("/clerk-users-webhook", { method: "POST", body, headers });
    const before = await snapshot(t);
    const replay = await t.fetch("/clerk-users-webhook", { method: "POST", body, headers });
    expect(replay.status).toBe(200);
    expect(await snapshot(t)).toEqual(before);
  });

  test("updated (newer) before created (older): the row ends at the newer state", async () => {
    await deliver(
      t,
      userEvent("user.updated", "user_o", { updatedAt: 2000, publicMetadata: { plan: "pro" } }),
    );
    expect((await deliver(t, userEvent("user.created", "user_o", { updatedAt: 1000 }))).body).toEqual({
      outcome: "stale",
    });
    expect(await usersRow(t, "user_o")).toMatchObject({ plan: "pro", clerkUpdatedAt: 2000 });
  });

  test("a stale update never rolls a newer row back", async () => {
    await deliver(t, userEvent("user.created", "user_s", { updatedAt: 1000 }));
    await deliver(
      t,
      userEvent("user.updated", "user_s", { updatedAt: 3000, publicMetadata: { role: "admin" } }),
    );
    await deliver(
      t,
      userEvent("user.updated", "user_s", { updatedAt: 2000, publicMetadata: { role: "user" } }),
    );
    expect(await usersRow(t, "user_s")).toMatchObject({ role: "admin", clerkUpdatedAt: 3000 });
  });

  test("a late update after delete never resurrects the user", async () => {
    await deliver(t, userEvent("user.created", "user_z", { updatedAt: 1000 }));
    await deliver(t, deletedEvent("user_z"));
    const late = await deliver(
      t,
      userEvent("user.updated", "user_z", {
        updatedAt: Date.now() + 10_000,
        publicMetadata: { role: "admin" },
      }),
    );
    expect(late).toEqual({ status: 200, body: { outcome: "tombstoned" } });
    expect(await usersRow(t, "user_z")).toMatchObject({ role: "user", deletedAt: expect.any(Number) });
  });

  test("deleted before created: the tombstone wins and the user never appears", async () => {
    await deliver(t, deletedEvent("user_q"));
    await deliver(t, userEvent("user.created", "user_q"));
    await deliver(t, userEvent("user.updated", "user_q", { updatedAt: Date.now() + 1 }));
    const row = await usersRow(t, "user_q");
    expect(row?.deletedAt).toBeTypeOf("number");
    await expect(t.withIdentity(identityFor("user_q")).query(api.users.me, {})).rejects.toMatchObject({
      data: { code: "UNAUTHENTICATED" },
    });
  });

  test("a second user.deleted is acknowledged and changes nothing", async () => {
    await deliver(t, deletedEvent("user_dd"));
    const before = await snapshot(t);
    expect((await deliver(t, deletedEvent("user_dd"))).status).toBe(200);
    const after = await snapshot(t);
    expect(after.users).toEqual(before.users);
  });

  test("webhook data replaces a provisional row made by users.ensure", async () => {
    const asNew = t.withIdentity(identityFor("user_n", { plan: "pro" }));
    expect(await asNew.mutation(api.users.ensure, {})).toMatchObject({ synced: false, plan: "pro" });
    await deliver(
      t,
      userEvent("user.created", "user_n", { updatedAt: 5, publicMetadata: { plan: "free_user" } }),
    );
    expect(await usersRow(t, "user_n")).toMatchObject({
      synced: true,
      plan: "free_user",
      email: "user_n@example.com",
    });
  });
});

describe("configuration", () => {
  test("a missing secret fails closed with 500 (svix retries) and changes nothing", async () => {
    vi.stubEnv("CLERK_WEBHOOK_SECRET", "");
    const before = await snapshot(t);
    expect((await deliver(t, userEvent("user.created", "user_cfg"))).status).toBe(500);
    expect(await snapshot(t)).toEqual(before);
  });

  test("secret rotation: several signatures, one valid, is accepted; only decoys is refused", async () => {
    const body = JSON.stringify(userEvent("user.created", "user_rot"));
    const headers = signedHeaders(body);
    const decoys =
      "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
    const send = (signature: string) =>
      t.fetch("/clerk-users-webhook", {
        method: "POST",
        body,
        headers: { ...headers, "svix-signature": signature },
      });
    expect((await send(decoys)).status).toBe(400);
    expect((await send(`${decoys} ${headers["svix-signature"]}`)).status).toBe(200);
  });

  test("only POST is routed", async () => {
    expect((await t.fetch("/clerk-users-webhook", { method: "GET" })).status).toBe(404);
  });
});

describe("svix's official test vectors through the same verification code", () => {
  // Vector A (svix JS/Python/Go/Java/C#) and vector B (svix Rust), verbatim.
  const vectors = [
    {
      secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
      timestamp: 1614265330,
      payload: '{"test": 2432232314}',
      signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    },
    {
      secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
      id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
      timestamp: 1649367553,
      payload: '{"email":"test@example.com","username":"test_user"}',
      signature: "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
    },
  ];

  test.each(vectors)("vector $id: the signer reproduces it byte for byte", (vector) => {
    expect(
      new Webhook(vector.secret).sign(vector.id, new Date(vector.timestamp * 1000), vector.payload),
    ).toBe(vector.signature);
  });

  test.each(vectors)(
    "vector $id: the webhook route accepts the signature and rejects the tampered ones",
    async (vector) => {
      vi.stubEnv("CLERK_WEBHOOK_SECRET", vector.secret);
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(vector.timestamp * 1000 + 10_000);
      const send = (signature: string, timestamp = String(vector.timestamp)) =>
        t.fetch("/clerk-users-webhook", {
          method: "POST",
          body: vector.payload,
          headers: { "svix-id": vector.id, "svix-timestamp": timestamp, "svix-signature": signature },
        });
      // A valid signature gets past verification; the vector's payload is not a Clerk event, so 400 "malformed".
      const valid = await send(vector.signature);
      expect(valid.status).toBe(400);
      expect(await valid.json()).toEqual({ error: "malformed event" });
      const lastCharFlipped =
        vector.signature.slice(0, -2) + (vector.signature.at(-2) === "A" ? "B" : "A") + "=";
      for (const bad of [
        lastCharFlipped,
        vector.signature.replace("v1,", "v2,"),
        vector.signature.slice(0, 8),
        "v1,",
      ]) {
        const response = await send(bad);
        expect(await response.json()).toEqual({ error: "invalid signature" });
      }
      expect(await (await send(vector.signature, String(vector.timestamp + 1))).json()).toEqual({
        error: "invalid signature",
      });
      // Outside the five-minute tolerance the same valid signature is refused.
      vi.setSystemTime((vector.timestamp + 301) * 1000);
      expect(await (await send(vector.signature)).json()).toEqual({ error: "invalid signature" });
    },
  );
});
