/**
 * Clerk Billing → the user's plan (ADR 009): every event type and status, duplicates, reordering,
 * deleted users, forged signatures, the administrator's override, the mirror into Clerk's
 * metadata, and what a downgrade does to quota, insights and scheduled posts.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import { errorCodeOf } from "./lib/errors";
import { FREE_POST_QUOTA } from "./lib/permissions";
import { tokenClaims } from "./lib/viewer";
import { backendSubscription, DAY, itemEvent, subscriptionEvent } from "./test.billing";
import { deletedEvent, deliver, userEvent, usersRow, WEBHOOK_SECRET } from "./test.webhooks";
import { clerkUser, fakeClerkApi, identityFor, newTest, type TestConvex } from "./test.world";

const T0 = Date.UTC(2026, 10, 1, 12, 0);
const ADA = "user_ada";
let clerk: ReturnType<typeof fakeClerkApi>;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date", "setTimeout", "clearTimeout"] });
  vi.setSystemTime(T0);
  clerk = fakeClerkApi();
  vi.stubGlobal("fetch", clerk.fetch);
  vi.stubEnv("CLERK_SECRET_KEY", "sk_test_billing");
  // Clerk Billing reads unpaced (lib/billingReconcile.ts): the fake Clerk has no rate limit.
  vi.stubEnv("CLERK_API_READS_PER_SECOND", "0");
  vi.stubEnv("CLERK_WEBHOOK_SECRET", WEBHOOK_SECRET);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** A synced free user, as Clerk's user.created leaves them. */
async function withAda(metadata: Record<string, unknown> = {}) {
  const t = newTest();
  expect(
    (await deliver(t, userEvent("user.created", ADA, { updatedAt: T0 - 1000, publicMetadata: metadata })))
      .status,
  ).toBe(200);
  return t;
}

const planOf = async (t: TestConvex) => (await usersRow(t, ADA))?.plan;
const ada = (t: TestConvex) =>
  t.withIdentity(identityFor(ADA, { plan: "free_user", userUpdatedAt: T0 - 1000 }));

/** Runs the scheduled follow-ups due now (the metadata mirror), not ones set for later. */
async function runDueJobs(t: TestConvex) {
  vi.advanceTimersByTime(1);
  await t.finishInProgressScheduledFunctions();
}

const metadataWrites = () =>
  clerk.calls
    .filter((c) => c.method === "PATCH")
    .map((c) => (c.body as { public_metadata: unknown }).public_metadata);

describe("each status of a Pro item", () => {
  test("active grants Pro at once, and Gatehouse writes the plan into Clerk's metadata", async () => {
    const t = await withAda();
    const res = await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 }));
    expect(res).toEqual({ status: 200, body: { outcome: "applied" } });
    expect(await planOf(t)).toBe("pro");
    expect(await ada(t).query(api.billing.mine, {})).toEqual({
      plan: "pro",
      source: "subscription",
      paid: { status: "active", periodEnd: T0 + 30 * DAY },
    });
    await runDueJobs(t);
    expect(metadataWrites()).toEqual([{ plan: "pro" }]);
    // Clerk's echo reports the new metadata: nothing more to write.
    await deliver(t, userEvent("user.updated", ADA, { updatedAt: T0 + 10, publicMetadata: { plan: "pro" } }));
    await runDueJobs(t);
    expect(metadataWrites()).toHaveLength(1);
    expect(await usersRow(t, ADA)).toMatchObject({ plan: "pro", metadataPlan: "pro" });
  });

  test("canceled keeps Pro until the period ends, shows the end, then lapses even if `ended` never comes", async () => {
    const t = await withAda();
    await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 }));
    const end = T0 + 10 * DAY;
    await deliver(
      t,
      itemEvent({ userId: ADA, status: "canceled", at: T0 + DAY, canceledAt: T0 + DAY, periodEnd: end }),
    );
    expect(await planOf(t)).toBe("pro");
    expect((await ada(t).query(api.billing.mine, {})).paid).toEqual({ status: "canceled", periodEnd: end });
    vi.advanceTimersByTime(end - T0 - 2000);
    await t.finishInProgressScheduledFunctions();
    expect(await planOf(t)).toBe("pro");
    vi.advanceTimersByTime(5000);
    await t.finishInProgressScheduledFunctions();
    expect(await planOf(t)).toBe("free_user");
    const log = await t.run((ctx) => ctx.db.query("auditLog").collect());
    expect(log.map((e) => e.action)).toContain("billing.periodEnded");
  });

  test("a canceled period's end gets one lapse check, however many events repeat it", async () => {
    const t = await withAda();
    await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 }));
    const end = T0 + 10 * DAY;
    const canceled = { userId: ADA, status: "canceled", canceledAt: T0 + DAY, periodEnd: end } as const;
    await deliver(t, itemEvent({ ...canceled, at: T0 + DAY }));
    // Clerk's subscription.updated repeats the item; the metadata echo is a user event.
    await deliver(
      t,
      subscriptionEvent("subscription.updated", ADA, T0 + DAY + 1, [{ ...canceled, plan: "pro" }]),
    );
    await deliver(
      t,
      userEvent("user.updated", ADA, { updatedAt: T0 + DAY + 2, publicMetadata: { plan: "pro" } }),
    );
    const rechecks = () =>
      t.run(async (ctx) =>
        (await ctx.db.system.query("_scheduled_functions").collect())
          .filter((job) => job.name.includes("recheckPlan") && job.state.kind === "pending")
          .map((job) => job.scheduledTime),
      );
    expect(await rechecks()).toEqual([end + 1000]);
    // A resumed and canceled again period with a new end: a check for that end too.
    await deliver(
      t,
      itemEvent({ ...canceled, at: T0 + 2 * DAY, canceledAt: T0 + 2 * DAY, periodEnd: end + DAY }),
    );
    expect((await rechecks()).sort()).toEqual([end + 1000, end + DAY + 1000]);
  });

  test("ended returns the user to Free", async () => {
    const t = await withAda();
    await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 }));
    await deliver(t, itemEvent({ userId: ADA, status: "ended", at: T0 + DAY }));
    expect(await planOf(t)).toBe("free_user");
    expect(await ada(t).query(api.billing.mine, {})).toEqual({
      plan: "free_user",
      source: "subscription",
      paid: null,
    });
  });

  test("past due keeps Pro, marked as past due, until Clerk ends it", async () => {
    const t = await withAda();
    await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 }));
    await deliver(t, itemEvent({ userId: ADA, status: "past_due", at: T0 + DAY, pastDueAt: T0 + DAY }));
    expect(await planOf(t)).toBe("pro");
    expect((await ada(t).query(api.billing.mine, {})).paid?.status).toBe("past_due");
    await deliver(t, itemEvent({ userId: ADA, status: "ended", at: T0 + 2 * DAY }));
    expect(await planOf(t)).toBe("free_user");
  });

  test.each(["incomplete", "abandoned", "upcoming", "expired"] as const)(
    "%s never grants anything",
    async (status) => {
      const t = await withAda();
      expect((await deliver(t, itemEvent({ userId: ADA, status, at: T0 }))).status).toBe(200);
      expect(await planOf(t)).toBe("free_user");
    },
  );

  test("a status Clerk may add later is stored, grants nothing, and is not a 400 that svix retries", async () => {
    const t = await withAda();
    const event = itemEvent({ userId: ADA, status: "active", at: T0 }, "subscriptionItem.updated");
    const res = await deliver(t, { ...event, data: { ...event.data, status: "paused_for_review" } });
    expect(res.status).toBe(200);
    expect(await planOf(t)).toBe("free_user");
  });

  test("an active item of a plan Gatehouse does not sell grants nothing", async () => {
    const t = await withAda();
    await deliver(t, itemEvent({ userId: ADA, plan: "enterprise", status: "active", at: T0 }));
    expect(await planOf(t)).toBe("free_user");
  });

  test("the free plan's item active, and Pro's ended: Free", async () => {
    const t = await withAda();
    await deliver(t, itemEvent({ userId: ADA, plan: "free_user", status: "active", at: T0 }));
    expect(await planOf(t)).toBe("free_user");
    expect((await ada(t).query(api.billing.mine, {})).source).toBe("subscription");
  });
});

describe("order and repetition", () => {
  test("a redelivered event (same svix-id) changes nothing the second time", async () => {
    const t = await withAda();
    const event = itemEvent({ userId: ADA, status: "active", at: T0 });
    expect((await deliver(t, event, { svixId: "msg_same" })).body).toEqual({ outcome: "applied" });
    expect((await deliver(t, event, { svixId: "msg_same" })).body).toEqual({ outcome: "duplicate" });
    const entries = await t.run((ctx) => ctx.db.query("auditLog").collect());
    expect(entries.filter((e) => e.action === "clerk.subscriptionItem.active")).toHaveLength(1);
  });

  test("the audit log has a line per plan change or paid status, not per repeated or free-item event", async () => {
    const t = await withAda();
    // Sign-up: the free item, reported three times (Clerk's subscription.created/active repeat it).
    await deliver(
      t,
      subscriptionEvent("subscription.created", ADA, T0, [{ plan: "free_user", status: "active" }]),
    );
    await deliver(t, itemEvent({ userId: ADA, plan: "free_user", status: "active", at: T0 + 1 }));
    await deliver(
      t,
      subscriptionEvent("subscription.active", ADA, T0 + 2, [{ plan: "free_user", status: "active" }]),
    );
    // Upgrade: Pro active (Free → Pro), the free item ends, the subscription repeats both.
    await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 + 3 }));
    await deliver(t, itemEvent({ userId: ADA, plan: "free_user", status: "ended", at: T0 + 4 }));
    await deliver(
      t,
      subscriptionEvent("subscription.updated", ADA, T0 + 5, [
        { plan: "pro", status: "active" },
        { plan: "free_user", status: "ended" },
      ]),
    );
    // Cancel: a paid status change without a plan change.
    await deliver(t, itemEvent({ userId: ADA, status: "canceled", at: T0 + 6, canceledAt: T0 + 6 }));
    const lines = await t.run((ctx) =>
      ctx.db
        .query("auditLog")
        .withIndex("by_target_action", (q) => q.eq("target", ADA))
        .collect(),
    );
    const billing = lines.filter((e) => e.action.startsWith("clerk.subscription"));
    expect(billing.map((e) => [e.action, e.details?.["status"], e.details?.["planFrom"] ?? null])).toEqual([
      ["clerk.subscriptionItem.active", "active", "free_user"],
      ["clerk.subscriptionItem.canceled", "canceled", null],
    ]);
  });

  test("an `ended` delivered before its `active`: the user ends up Free, and the item stays ended", async () => {
    const t = await withAda();
    await deliver(t, itemEvent({ userId: ADA, status: "ended", at: T0 + DAY }));
    const late = await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 }));
    expect(late.body).toEqual({ outcome: "stale" });
    expect(await planOf(t)).toBe("free_user");
  });

  test("an ended item is never revived, even by a later-stamped `active`", async () => {
    const t = await withAda();
    await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 }));
    await deliver(t, itemEvent({ userId: ADA, status: "ended", at: T0 + DAY }));
    await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 + 2 * DAY }));
    expect(await planOf(t)).toBe("free_user");
    // A new subscription is a new item: that one grants.
    await deliver(
      t,
      itemEvent({ userId: ADA, itemId: "csubi_pro_again", status: "active", at: T0 + 3 * DAY }),
    );
    expect(await planOf(t)).toBe("pro");
  });

  test("the free plan's item, which keeps its id, is active again when Pro ends", async () => {
    const t = await withAda();
    await deliver(t, itemEvent({ userId: ADA, plan: "free_user", status: "active", at: T0 }));
    await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 + 1 }));
    await deliver(t, itemEvent({ userId: ADA, plan: "free_user", status: "ended", at: T0 + 2 }));
    await deliver(t, itemEvent({ userId: ADA, status: "ended", at: T0 + DAY }));
    await deliver(t, itemEvent({ userId: ADA, plan: "free_user", status: "active", at: T0 + DAY + 1 }));
    const free = await t.run((ctx) =>
      ctx.db
        .query("subscriptionItems")
        .withIndex("by_itemId", (q) => q.eq("itemId", `csubi_free_user_${ADA}`))
        .unique(),
    );
    expect(free?.status).toBe("active");
    expect(await planOf(t)).toBe("free_user");
  });

  test("a subscription event's items apply like item events (and an older one is ignored item by item)", async () => {
    const t = await withAda();
    await deliver(
      t,
      subscriptionEvent("subscription.updated", ADA, T0 + DAY, [
        { plan: "free_user", status: "ended" },
        { plan: "pro", status: "active" },
      ]),
    );
    expect(await planOf(t)).toBe("pro");
    const older = await deliver(
      t,
      subscriptionEvent("subscription.created", ADA, T0, [{ plan: "free_user", status: "active" }]),
    );
    expect(older.body).toEqual({ outcome: "stale" });
    expect(await planOf(t)).toBe("pro");
  });

  test("billing events that arrive before user.created are kept and decide the plan when the user lands", async () => {
    const t = newTest();
    expect((await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 }))).body).toEqual({
      outcome: "applied",
    });
    expect(await usersRow(t, ADA)).toBeNull();
    await deliver(t, userEvent("user.created", ADA, { updatedAt: T0 + 5 }));
    expect(await planOf(t)).toBe("pro");
  });
});

describe("reconciliation reads each user's subscription from Clerk", () => {
  /** Ada as Clerk lists her, and her subscription as Clerk's Backend API reports it now. */
  function clerkHas(items: Parameters<typeof backendSubscription>[1]) {
    clerk.users.set(ADA, clerkUser(ADA, {}, T0 - 1000));
    clerk.subscriptions.set(ADA, backendSubscription(ADA, items));
  }
  const sync = (t: TestConvex) => t.action(internal.reconcile.daily, {});
  const repairs = (t: TestConvex) =>
    t.run(async (ctx) =>
      (await ctx.db.query("auditLog").collect()).filter((e) => e.action === "reconcile.billing"),
    );

  test("a lost `active` is repaired: Pro, one audit line, and the next run repairs nothing", async () => {
    const t = await withAda();
    // Clerk's answer lists the subscription's current items: Pro; the free item has ended.
    clerkHas([{ plan: "pro", status: "active", at: T0 }]);
    expect(await sync(t)).toMatchObject({ clerkUsers: 1, subscriptionsRepaired: 1, billing: "checked" });
    expect(await planOf(t)).toBe("pro");
    expect((await repairs(t)).map((e) => [e.actor, e.target, e.details])).toEqual([
      ["cron", ADA, { item: "pro", status: "active", plan: "pro", planFrom: "free_user" }],
    ]);
    await runDueJobs(t);
    expect(metadataWrites()).toEqual([{ plan: "pro" }]);
    expect(await sync(t)).toMatchObject({ subscriptionsRepaired: 0 });
    expect(await repairs(t)).toHaveLength(1);
  });

  test("a lost `ended` is repaired: the item Clerk no longer lists is ended, and the user is Free again", async () => {
    const t = await withAda();
    await deliver(t, itemEvent({ userId: ADA, plan: "free_user", status: "ended", at: T0 - 1 }));
    await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 }));
    expect(await planOf(t)).toBe("pro");
    // Pro ended a day later (that event was lost): the answer lists only the free item, active again.
    clerkHas([{ plan: "free_user", status: "active", at: T0 + DAY }]);
    vi.setSystemTime(T0 + DAY + 1000);
    expect(await sync(t)).toMatchObject({ subscriptionsRepaired: 1 });
    expect(await planOf(t)).toBe("free_user");
    const items = await t.run((ctx) => ctx.db.query("subscriptionItems").collect());
    expect(items.map((i) => [i.planSlug, i.status, i.asOf]).sort()).toEqual([
      ["free_user", "active", T0 + DAY],
      ["pro", "ended", T0 + DAY + 1000],
    ]);
    expect((await repairs(t)).map((e) => e.details)).toEqual([
      { item: "pro", status: "ended", plan: "free_user", planFrom: "pro" },
    ]);
    // An item already final is not touched again.
    expect(await sync(t)).toMatchObject({ subscriptionsRepaired: 0 });
  });

  test("an item Clerk's answer leaves out is not ended when Gatehouse knows a state later than the read", async () => {
    const t = await withAda();
    await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 + 10 }));
    // The answer is as of T0 + 5 (read before the upgrade reached it): it cannot end what came after.
    vi.setSystemTime(T0 + 5);
    clerkHas([{ plan: "free_user", status: "active", at: T0 - 100 }]);
    await sync(t);
    expect(await planOf(t)).toBe("pro");
    const items = await t.run((ctx) => ctx.db.query("subscriptionItems").collect());
    expect(items.find((i) => i.planSlug === "pro")).toMatchObject({ status: "active", asOf: T0 + 10 });
  });

  test("a sweep out of time hands on to a continuation, which reads every user from where it stopped", async () => {
    const t = newTest();
    for (let i = 0; i < 150; i++) {
      const id = `user_${String(i).padStart(3, "0")}`;
      clerk.users.set(id, clerkUser(id, {}, T0 - 1000 + i));
      clerk.subscriptions.set(id, backendSubscription(id, [{ plan: "pro", status: "active", at: T0 }]));
    }
    const summary = await t.action(internal.reconcile.daily, { billingBudgetMs: 0 });
    expect(summary).toMatchObject({
      clerkUsers: 150,
      created: 150,
      subscriptionsRepaired: 0,
      billing: "continuing",
    });
    await t.finishAllScheduledFunctions(() => vi.advanceTimersByTime(1));
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.filter((u) => u.plan === "pro")).toHaveLength(150);
    // Each user's subscription was read once: the continuation went on, it did not start over.
    const reads = clerk.calls.filter((c) => c.path.endsWith("/billing/subscription")).map((c) => c.path);
    expect(reads).toHaveLength(150);
    expect(new Set(reads).size).toBe(150);
  });

  test("Clerk's rate limit (429): the sweep waits its Retry-After and goes on where it stopped", async () => {
    const t = newTest();
    for (let i = 0; i < 6; i++) {
      const id = `user_${i}`;
      clerk.users.set(id, clerkUser(id, {}, T0 - 1000 + i));
      clerk.subscriptions.set(id, backendSubscription(id, [{ plan: "pro", status: "active", at: T0 }]));
    }
    clerk.billing.rateLimitNext = 2;
    const summary = await sync(t);
    expect(summary).toMatchObject({ clerkUsers: 6, created: 6, billing: "continuing" });
    const pro = async () =>
      (await t.run((ctx) => ctx.db.query("users").collect())).filter((u) => u.plan === "pro").length;
    expect(await pro()).toBeLessThan(6);
    // Not before Clerk's Retry-After (2 s)...
    vi.advanceTimersByTime(1500);
    await t.finishInProgressScheduledFunctions();
    expect(await pro()).toBeLessThan(6);
    // ...then the continuation reads the rest.
    vi.advanceTimersByTime(1000);
    await t.finishAllScheduledFunctions(() => vi.advanceTimersByTime(1));
    expect(await pro()).toBe(6);
    expect(await repairs(t)).toHaveLength(6);
  });

  test("an answer older than an event already applied changes nothing", async () => {
    const t = await withAda();
    await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 + 10 }));
    // Clerk's Backend API answered before the upgrade reached it (a read replica, a slow run).
    clerkHas([{ plan: "pro", status: "incomplete", at: T0 + 5 }]);
    expect(await sync(t)).toMatchObject({ subscriptionsRepaired: 0 });
    expect(await planOf(t)).toBe("pro");
    expect(await repairs(t)).toEqual([]);
  });

  test("a tombstoned user's subscription is not stored, whatever Clerk still reports", async () => {
    const t = await withAda();
    await deliver(t, deletedEvent(ADA));
    clerkHas([{ plan: "pro", status: "active", at: T0 + DAY }]);
    const summary = await sync(t);
    expect(summary).toMatchObject({ subscriptionsRepaired: 0 });
    expect(await t.run((ctx) => ctx.db.query("subscriptionItems").collect())).toEqual([]);
    expect((await usersRow(t, ADA))?.deletedAt).toBeTypeOf("number");
  });

  test("Clerk Billing off (Clerk refuses the question): users still synced, asked once, reported unchecked", async () => {
    const t = newTest();
    for (let i = 0; i < 12; i++) clerk.users.set(`user_${i}`, clerkUser(`user_${i}`, {}, T0 - 1000 + i));
    clerk.billing.refuseWith = 403;
    const summary = await sync(t);
    expect(summary).toMatchObject({
      clerkUsers: 12,
      created: 12,
      subscriptionsRepaired: 0,
      billing: "off",
    });
    // The batch in flight when the refusal came (four at once); no later batch asks again.
    const asked = clerk.calls.filter((c) => c.path.endsWith("/billing/subscription"));
    expect(asked).toHaveLength(4);
  });

  test("an answer that is not a subscription is counted invalid and skipped; the others are still repaired", async () => {
    const t = await withAda();
    clerk.users.set(ADA, clerkUser(ADA, {}, T0 - 1000));
    clerk.subscriptions.set(ADA, {
      object: "commerce_subscription",
      subscription_items: [{ object: "commerce_subscription_item", id: "csubi_x", status: "active" }],
    });
    const BO = "user_bo";
    clerk.users.set(BO, clerkUser(BO, {}, T0 - 500));
    clerk.subscriptions.set(BO, backendSubscription(BO, [{ plan: "pro", status: "active", at: T0 }]));
    expect(await sync(t)).toMatchObject({ clerkUsers: 2, created: 1, invalid: 1, subscriptionsRepaired: 1 });
    const items = await t.run((ctx) => ctx.db.query("subscriptionItems").collect());
    expect(items.map((i) => [i.clerkId, i.planSlug, i.status])).toEqual([[BO, "pro", "active"]]);
    expect(await planOf(t)).toBe("free_user");
    expect((await usersRow(t, BO))?.plan).toBe("pro");
  });
});

describe("who the event is about", () => {
  test("a deleted user's billing event changes nothing and revives nothing", async () => {
    const t = await withAda();
    await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 }));
    await deliver(t, deletedEvent(ADA));
    const res = await deliver(
      t,
      itemEvent({ userId: ADA, status: "active", at: T0 + DAY, itemId: "csubi_after" }),
    );
    expect(res.body).toEqual({ outcome: "tombstoned" });
    expect(await usersRow(t, ADA)).toMatchObject({ plan: "free_user", email: "" });
    expect(await t.run((ctx) => ctx.db.query("subscriptionItems").collect())).toEqual([]);
    // The mirror scheduled while she was Pro finds her deleted and writes nothing.
    await runDueJobs(t);
    expect(metadataWrites()).toEqual([]);
  });

  test("an organization's subscription is acknowledged and ignored", async () => {
    const t = await withAda();
    const event = itemEvent({ userId: ADA, status: "active", at: T0 });
    const orgEvent = {
      ...event,
      data: { ...event.data, payer: { ...event.data.payer!, user_id: undefined, organization_id: "org_1" } },
    };
    expect((await deliver(t, orgEvent)).body).toEqual({ outcome: "ignored" });
    expect(await planOf(t)).toBe("free_user");
  });

  test("an item id reported under another payer is not applied to either", async () => {
    const t = await withAda();
    await deliver(t, itemEvent({ userId: ADA, itemId: "csubi_shared", status: "ended", at: T0 }));
    await deliver(t, userEvent("user.created", "user_eve", { updatedAt: T0 }));
    await deliver(
      t,
      itemEvent({ userId: "user_eve", itemId: "csubi_shared", status: "active", at: T0 + DAY }),
    );
    expect((await usersRow(t, "user_eve"))?.plan).toBe("free_user");
  });
});

describe("what is refused", () => {
  test("a forged signature: 400, nothing stored", async () => {
    const t = await withAda();
    const res = await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 }), {
      secret: "whsec_" + Buffer.from("not-the-secret-at-all-32-bytes!!").toString("base64"),
    });
    expect(res.status).toBe(400);
    expect(await planOf(t)).toBe("free_user");
    expect(await t.run((ctx) => ctx.db.query("subscriptionItems").collect())).toEqual([]);
  });

  test.each([
    ["no timestamp", (e: Record<string, unknown>) => ({ ...e, timestamp: undefined })],
    ["no item id", (e: Record<string, unknown>) => ({ ...e, data: { ...(e["data"] as object), id: "" } })],
    [
      "period_end a string",
      (e: Record<string, unknown>) => ({ ...e, data: { ...(e["data"] as object), period_end: "soon" } }),
    ],
  ])(
    "a signed but malformed billing event (%s): 400 with the issue, nothing stored",
    async (_name, spoil) => {
      const t = await withAda();
      const res = await deliver(
        t,
        spoil(itemEvent({ userId: ADA, status: "active", at: T0 }) as unknown as Record<string, unknown>),
      );
      expect(res.status).toBe(400);
      expect(res.body?.["error"]).toBe("malformed event");
      expect(await planOf(t)).toBe("free_user");
    },
  );

  test("payment attempts are acknowledged and ignored", async () => {
    const t = await withAda();
    const res = await deliver(t, {
      type: "paymentAttempt.created",
      object: "event",
      data: { id: "cpa_1" },
      timestamp: T0,
    });
    expect(res).toEqual({ status: 200, body: { outcome: "ignored" } });
  });
});

describe("an administrator's override", () => {
  test("wins over the subscription both ways until it is lifted; then the subscription decides", async () => {
    const t = await withAda({ planOverride: "pro", plan: "pro" });
    expect(await planOf(t)).toBe("pro");
    // Her subscription ends: the administrator's grant stands.
    await deliver(t, itemEvent({ userId: ADA, plan: "free_user", status: "active", at: T0 }));
    expect(await planOf(t)).toBe("pro");
    expect((await ada(t).query(api.billing.mine, {})).source).toBe("admin");
    // A revocation to Free also wins over a paid subscription.
    await deliver(
      t,
      userEvent("user.updated", ADA, {
        updatedAt: T0 + 1,
        publicMetadata: { planOverride: "free_user", plan: "free_user" },
      }),
    );
    await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 + 2 }));
    expect(await planOf(t)).toBe("free_user");
    // Lifted: the Pro subscription decides, and the mirror writes it.
    await deliver(
      t,
      userEvent("user.updated", ADA, { updatedAt: T0 + 3, publicMetadata: { plan: "free_user" } }),
    );
    expect(await planOf(t)).toBe("pro");
    await runDueJobs(t);
    expect(metadataWrites().at(-1)).toEqual({ plan: "pro" });
  });

  test("admin.setPlan writes the override, and with null lifts it to the subscription's plan", async () => {
    const t = await withAda();
    await deliver(
      t,
      userEvent("user.created", "user_root", { updatedAt: T0, publicMetadata: { role: "admin" } }),
    );
    const root = t.withIdentity(identityFor("user_root", { role: "admin", userUpdatedAt: T0 }));
    await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 }));
    await runDueJobs(t);
    clerk.calls.length = 0;
    await root.action(api.admin.setPlan, { clerkId: ADA, plan: "free_user" });
    expect(metadataWrites()).toEqual([{ plan: "free_user", planOverride: "free_user" }]);
    await root.action(api.admin.setPlan, { clerkId: ADA, plan: null });
    expect(metadataWrites().at(-1)).toEqual({ plan: "pro", planOverride: null });
    const entries = await t.run((ctx) => ctx.db.query("auditLog").collect());
    expect(entries.filter((e) => e.action === "admin.setPlan").map((e) => e.details)).toEqual([
      { plan: "free_user", from: "pro" },
      { plan: "pro", from: "pro", override: "lifted" },
    ]);
  });
});

describe("the session token", () => {
  const claims = (extra: Record<string, unknown>) => tokenClaims(identityFor(ADA, { extra }) as never).plan;

  test("Clerk Billing's `pla` claim is a plan source; an override in the metadata claim wins over it", () => {
    expect(claims({ pla: "u:pro" })).toBe("pro");
    expect(claims({ pla: "u:free_user", metadata: { plan: "pro" } })).toBe("free_user");
    expect(claims({ pla: "o:pro,u:free_user" })).toBe("free_user");
    expect(claims({ pla: "o:pro", metadata: { plan: "free_user" } })).toBe("free_user");
    expect(claims({ pla: "u:free_user", metadata: { plan: "pro", planOverride: "pro" } })).toBe("pro");
    expect(claims({ metadata: { plan: "pro" } })).toBe("pro");
    expect(claims({ pla: 42, metadata: { plan: "free_user" } })).toBe("free_user");
  });
});

describe("a downgrade", () => {
  async function proAdaWithPosts(count: number) {
    const t = await withAda();
    await deliver(t, itemEvent({ userId: ADA, status: "active", at: T0 }));
    const me = ada(t);
    for (let i = 0; i < count; i++)
      await me.mutation(api.posts.create, { title: `p${i}`, body: "b", visibility: "private" });
    return { t, me };
  }

  test("keeps every post, refuses creating past the free quota, and locks insights", async () => {
    const { t, me } = await proAdaWithPosts(FREE_POST_QUOTA + 2);
    expect((await me.query(api.insights.overview, {})).total).toBe(FREE_POST_QUOTA + 2);
    await deliver(t, itemEvent({ userId: ADA, status: "ended", at: T0 + DAY }));
    expect(
      (await me.query(api.posts.listMine, { paginationOpts: { numItems: 50, cursor: null } })).page,
    ).toHaveLength(FREE_POST_QUOTA + 2);
    const create = await me
      .mutation(api.posts.create, { title: "one more", body: "b", visibility: "private" })
      .catch((e: unknown) => e);
    expect(errorCodeOf(create)).toBe("UPGRADE_REQUIRED");
    expect(errorCodeOf(await me.query(api.insights.overview, {}).catch((e: unknown) => e))).toBe(
      "UPGRADE_REQUIRED",
    );
  });

  test("a post scheduled while Pro does not publish once the plan has lapsed", async () => {
    const { t, me } = await proAdaWithPosts(1);
    const id = await me.mutation(api.posts.create, { title: "later", body: "b", visibility: "private" });
    await me.mutation(api.posts.schedulePublish, { id, publishAt: T0 + 2 * DAY });
    await deliver(t, itemEvent({ userId: ADA, status: "ended", at: T0 + DAY }));
    vi.advanceTimersByTime(2 * DAY + 1000);
    await t.finishInProgressScheduledFunctions();
    const post = await t.run((ctx) => ctx.db.get("posts", id));
    expect(post?.visibility).toBe("private");
  });
});

test("the internal recheck is harmless when nothing lapsed", async () => {
  const t = await withAda();
  await t.mutation(internal.billing.recheckPlan, { clerkId: ADA });
  await t.mutation(internal.billing.recheckPlan, { clerkId: "user_nobody" });
  expect(await planOf(t)).toBe("free_user");
});
