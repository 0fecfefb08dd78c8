/**
 * Clerk Billing's webhooks: each action's events, in order, svix-signed (verified with the real
 * `svix` library) and shaped as `@clerk/backend` types them (compile-time in `test.billing.ts`; here
 * the fields Gatehouse's receiver relies on). The contract: envelope `timestamp` in ms and
 * strictly increasing per payer, every item names `payer.user_id` and `plan.slug`, `period_end`
 * in ms; delivered in the user's lane with their `user.*` events, kept across restarts.
 */
import { createClerkClient } from "@clerk/backend";
import { rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { idpClient } from "../client.ts";
import { APP_ORIGIN, fapiClient, idpWithWebhooks, signInWithPassword } from "../fapi/test.fapi.ts";
import { generateDevSecrets } from "../secrets.ts";
import {
  callAsBackend,
  startTestIdp,
  startWebhookReceiver,
  tempDataDir,
  type ReceivedWebhook,
} from "../test.idp.ts";
import type { BackendSubscriptionJson } from "./backendJson.ts";
import type { WebhookItemJson, WebhookPaymentAttemptJson, WebhookSubscriptionJson } from "./events.ts";
import { periodEnd } from "./plans.ts";
import {
  billingCalls,
  DECLINED_CARD,
  FREE_PLAN_ID,
  GOOD_CARD,
  itemsBySlug,
  PRO_PLAN_ID,
  verifyDelivery,
} from "./test.billing.ts";

const SECRET = generateDevSecrets().webhookSecret;
const START = Date.UTC(2027, 4, 10, 8, 0);
const PASSWORD = "long enough";

interface Event {
  type: string;
  object: string;
  timestamp: number;
  instance_id: string;
  event_attributes: unknown;
  data: Record<string, unknown> & { object: string; id: string };
}

/** The payer's events, each verified with svix and checked against the receiver's contract. */
function verified(received: ReceivedWebhook[], userId: string, lastTimestamp: { at: number }): Event[] {
  return received.map((webhook) => {
    const event = verifyDelivery<Event>(webhook, SECRET);
    expect(event).toMatchObject({
      object: "event",
      instance_id: expect.stringMatching(/^ins_/),
      event_attributes: { http_request: { client_ip: "127.0.0.1", user_agent: "gatehouse-local-idp" } },
    });
    if (!event.type.startsWith("user.")) {
      // Strictly increasing per payer, in ms (within a few ms of the IdP's frozen clock).
      expect(event.timestamp).toBeGreaterThan(lastTimestamp.at);
      expect(event.timestamp - START).toBeLessThan(24 * 60 * 60 * 1000);
      lastTimestamp.at = event.timestamp;
      for (const item of itemsOf(event)) {
        expect(item).toMatchObject({
          object: "commerce_subscription_item",
          payer: { object: "commerce_payer", user_id: userId },
          plan: { slug: expect.stringMatching(/^(free_user|pro)$/) },
        });
        expect(item.period_end === null || Number.isInteger(item.period_end)).toBe(true);
      }
    }
    return event;
  });
}

function itemsOf(event: Event): WebhookItemJson[] {
  if (event.type.startsWith("subscriptionItem.")) return [event.data as unknown as WebhookItemJson];
  if (event.type.startsWith("subscription.")) return (event.data as unknown as WebhookSubscriptionJson).items;
  if (event.type.startsWith("paymentAttempt.")) {
    return (event.data as unknown as WebhookPaymentAttemptJson).subscription_items;
  }
  return [];
}

const item = (e: Event | undefined) => e?.data as unknown as WebhookItemJson;
const subscription = (e: Event | undefined) => e?.data as unknown as WebhookSubscriptionJson;
const attempt = (e: Event | undefined) => e?.data as unknown as WebhookPaymentAttemptJson;

describe("Clerk Billing webhooks", () => {
  let clock = START;
  const env = idpWithWebhooks({ webhookSecret: SECRET, now: () => clock });
  let n = 0;

  /**
   * A user signed up through the dev API (its events returned), signed in in a browser. `events()`
   * returns what was delivered since the last call, verified.
   */
  async function newPayer() {
    const email = `payer-${++n}@example.test`;
    const { userId } = await idpClient(env.idp.url, { secretKey: env.idp.secretKey }).signUp({
      email,
      password: PASSWORD,
    });
    const last = { at: 0 };
    const events = async () => {
      const received = await env.deliveredWebhooks();
      const mine = verified([...received], userId, last);
      received.length = 0;
      return mine;
    };
    const created = await events();
    const fapi = fapiClient(env.idp.url, { origin: APP_ORIGIN });
    const sessionId = await signInWithPassword(fapi, email, PASSWORD);
    return { userId, created, events, billing: billingCalls(fapi, sessionId) };
  }
  const types = (events: Event[]) => events.map((e) => e.type);
  const dev = () => idpClient(env.idp.url, { secretKey: env.idp.secretKey });

  it("user created: subscription.created, the free item active, subscription.active, after user.created", async () => {
    const { created, userId } = await newPayer();
    expect(types(created)).toEqual([
      "user.created",
      "subscription.created",
      "subscriptionItem.active",
      "subscription.active",
    ]);
    const [, sub, free] = created;
    expect(subscription(sub)).toMatchObject({
      object: "commerce_subscription",
      id: expect.stringMatching(/^csub_/),
      status: "active",
      payer_id: expect.stringMatching(/^cpayer_/),
      payer: { user_id: userId, email: expect.stringMatching(/@example\.test$/) },
      payment_source_id: GOOD_CARD,
      latest_payment_id: "",
      items: [{ id: item(free).id, status: "active", plan: { slug: "free_user" } }],
    });
    expect(item(free)).toMatchObject({
      status: "active",
      plan_period: "month",
      period_start: START,
      period_end: null,
      amount: { amount: 0 },
      next_payment_amount: 0,
      plan: { slug: "free_user", amount: 0, is_default: true, product_id: expect.any(String) },
    });
    expect(item(free)).not.toHaveProperty("canceled_at");
  });

  it("upgrade: the charge (pending, then paid), Pro active, the free item ended, subscription.updated", async () => {
    const { billing, events, created } = await newPayer();
    const freeId = item(created[2]).id;
    await billing.checkout(PRO_PLAN_ID, "month", GOOD_CARD);
    const upgrade = await events();
    expect(types(upgrade)).toEqual([
      "paymentAttempt.created",
      "paymentAttempt.updated",
      "subscriptionItem.active",
      "subscriptionItem.ended",
      "subscription.updated",
    ]);
    const [pending, paid, pro, ended, sub] = upgrade;
    expect(attempt(pending)).toMatchObject({ status: "pending", charge_type: "checkout" });
    expect(attempt(pending)).not.toHaveProperty("paid_at");
    expect(attempt(paid)).toMatchObject({
      object: "commerce_payment_attempt",
      id: attempt(pending).id,
      status: "paid",
      paid_at: START,
      totals: { grand_total: { amount: 1000 } },
      payment_source: { id: GOOD_CARD, last4: "4242", card_type: "visa" },
      subscription_items: [{ id: item(pro).id, status: "active" }],
    });
    expect(item(pro)).toMatchObject({
      status: "active",
      plan: { slug: "pro", amount: 1000, period: "month", annual_monthly_amount: 800, has_base_fee: true },
      period_start: START,
      period_end: periodEnd(START, "month"),
      lifetime_paid: 1000,
      next_payment_amount: 1000,
      next_payment_date: periodEnd(START, "month"),
    });
    expect(item(ended)).toMatchObject({ id: freeId, status: "ended", plan: { slug: "free_user" } });
    expect(subscription(sub)).toMatchObject({
      status: "active",
      latest_payment_id: attempt(paid).payment_id,
      items: [{ id: item(pro).id }],
    });
  });

  it("a declined card: only the charge (pending, then failed with card_declined); no subscription or item event", async () => {
    const { billing, events } = await newPayer();
    const started = await billing.startCheckout(PRO_PLAN_ID, "annual");
    expect(await events()).toEqual([]); // starting a checkout changes nothing
    expect((await billing.confirm(started.body.response.id, DECLINED_CARD)).status).toBe(422);
    const declined = await events();
    expect(types(declined)).toEqual(["paymentAttempt.created", "paymentAttempt.updated"]);
    expect(attempt(declined[1])).toMatchObject({
      status: "failed",
      failed_at: START,
      failed_reason: { code: "card_declined", decline_code: "generic_decline" },
      payment_source: { id: DECLINED_CARD, last4: "0002" },
      totals: { grand_total: { amount: 9600 } },
      // The item it would have paid for never started.
      subscription_items: [{ status: "incomplete", plan: { slug: "pro", period: "annual" } }],
    });
  });

  it("cancel, then resubscribe, then cancel and the period ends: the sequences, and the free item keeps its id", async () => {
    const { billing, events, created, userId } = await newPayer();
    const freeId = item(created[2]).id;
    await billing.checkout(PRO_PLAN_ID, "month", GOOD_CARD);
    const proId = item((await events())[2]).id;

    clock += 1_000;
    await billing.cancel(proId);
    const canceled = await events();
    expect(types(canceled)).toEqual([
      "subscriptionItem.canceled",
      "subscriptionItem.upcoming",
      "subscription.updated",
    ]);
    expect(item(canceled[0])).toMatchObject({
      id: proId,
      status: "canceled",
      canceled_at: clock,
      period_end: periodEnd(START, "month"),
      next_payment_amount: 0,
    });
    expect(item(canceled[1])).toMatchObject({
      id: freeId,
      status: "upcoming",
      period_start: periodEnd(START, "month"),
    });
    expect(subscription(canceled[2]).items.map((i) => [i.id, i.status])).toEqual([
      [freeId, "upcoming"],
      [proId, "canceled"],
    ]);

    clock += 1_000;
    await billing.checkout(PRO_PLAN_ID, "month"); // resubscribe: nothing due, empty confirm
    const resubscribed = await events();
    expect(types(resubscribed)).toEqual([
      "subscriptionItem.updated",
      "subscriptionItem.abandoned",
      "subscription.updated",
    ]);
    expect(item(resubscribed[0])).toMatchObject({ id: proId, status: "active" });
    expect(item(resubscribed[0])).not.toHaveProperty("canceled_at");
    expect(item(resubscribed[1])).toMatchObject({ id: freeId, status: "abandoned" });

    // Downgrading through a checkout is the same as canceling.
    clock += 1_000;
    await billing.checkout(FREE_PLAN_ID, "month");
    expect(types(await events())).toEqual([
      "subscriptionItem.canceled",
      "subscriptionItem.upcoming",
      "subscription.updated",
    ]);

    clock += 1_000;
    await dev().endBillingPeriod(userId);
    const ended = await events();
    expect(types(ended)).toEqual([
      "subscriptionItem.ended",
      "subscriptionItem.active",
      "subscription.updated",
    ]);
    expect(item(ended[0])).toMatchObject({ id: proId, status: "ended", period_end: clock });
    expect(item(ended[1])).toMatchObject({
      id: freeId,
      status: "active",
      period_start: clock,
      period_end: null,
    });
    expect(subscription(ended[2]).items.map((i) => i.id)).toEqual([freeId]);
  });

  it("renewal (the period ends on an active Pro): a recurring charge, the item's period moves on", async () => {
    const { billing, events, userId } = await newPayer();
    await billing.checkout(PRO_PLAN_ID, "annual", GOOD_CARD);
    await events();
    clock += 5_000;
    await dev().endBillingPeriod(userId);
    const renewed = await events();
    expect(types(renewed)).toEqual([
      "paymentAttempt.created",
      "paymentAttempt.updated",
      "subscriptionItem.updated",
      "subscription.updated",
    ]);
    expect(attempt(renewed[1])).toMatchObject({
      status: "paid",
      charge_type: "recurring",
      totals: { grand_total: { amount: 9600 } },
    });
    expect(item(renewed[2])).toMatchObject({
      status: "active",
      period_start: clock,
      period_end: periodEnd(clock, "annual"),
      lifetime_paid: 19_200,
    });
  });

  it("past due, then the period ends unpaid: pastDue events, then Pro ended and subscription.active", async () => {
    const { billing, events, userId } = await newPayer();
    await billing.checkout(PRO_PLAN_ID, "month", GOOD_CARD);
    await events();
    clock += 1_000;
    await dev().makeBillingPastDue(userId);
    const pastDue = await events();
    expect(types(pastDue)).toEqual([
      "paymentAttempt.created",
      "paymentAttempt.updated",
      "subscriptionItem.pastDue",
      "subscription.pastDue",
    ]);
    expect(attempt(pastDue[1])).toMatchObject({ status: "failed", charge_type: "recurring" });
    expect(item(pastDue[2])).toMatchObject({ status: "past_due", past_due_at: clock, plan: { slug: "pro" } });
    expect(subscription(pastDue[3])).toMatchObject({ status: "past_due", past_due_at: clock });

    clock += 1_000;
    await dev().endBillingPeriod(userId);
    const ended = await events();
    expect(types(ended)).toEqual([
      "subscriptionItem.ended",
      "subscriptionItem.active",
      "subscription.active",
    ]);
    expect(subscription(ended[2]).status).toBe("active");
    expect(subscription(ended[2])).not.toHaveProperty("past_due_at");
  });

  it("a declining default card makes the renewal fail: past due", async () => {
    const { billing, events, userId } = await newPayer();
    await billing.checkout(PRO_PLAN_ID, "month", GOOD_CARD);
    expect((await billing.makeDefault(DECLINED_CARD)).status).toBe(200);
    expect(await events()).toHaveLength(5); // the upgrade's; a new default card is no subscription event
    clock += 1_000;
    await dev().endBillingPeriod(userId);
    const failed = await events();
    expect(types(failed)).toEqual([
      "paymentAttempt.created",
      "paymentAttempt.updated",
      "subscriptionItem.pastDue",
      "subscription.pastDue",
    ]);
    expect(attempt(failed[1])).toMatchObject({ status: "failed", payment_source: { id: DECLINED_CARD } });
    expect(subscription(failed[3]).payment_source_id).toBe(DECLINED_CARD);
  });

  it("deleting the user sends user.deleted only; their billing is gone", async () => {
    const { billing, events, userId } = await newPayer();
    await billing.checkout(PRO_PLAN_ID, "month", GOOD_CARD);
    await events();
    const clerk = createClerkClient({ secretKey: env.idp.secretKey, apiUrl: env.idp.url });
    await clerk.users.deleteUser(userId);
    expect(types(await events())).toEqual(["user.deleted"]);
    expect((await callAsBackend(env.idp, `/v1/users/${userId}/billing/subscription`)).status).toBe(404);
    expect(
      (
        await dev()
          .endBillingPeriod(userId)
          .catch((e: { status: number }) => e)
      ).status,
    ).toBe(404);
  });
});

describe("Clerk Billing across an IdP restart", () => {
  it("keeps subscriptions and delivers queued billing events after the restart, in order", async () => {
    const dataDir = tempDataDir();
    const down = await startWebhookReceiver();
    await down.close(); // nothing listens: every event stays queued
    // One attempt before the restart (the next would be a minute later): nothing is given up.
    const first = await startTestIdp({
      dataDir,
      webhookUrl: down.url,
      webhookSecret: SECRET,
      retryDelaysMs: [60_000],
    });
    let receiver: Awaited<ReturnType<typeof startWebhookReceiver>> | undefined;
    let second: Awaited<ReturnType<typeof startTestIdp>> | undefined;
    try {
      const email = "restart-payer@example.test";
      const { userId } = await idpClient(first.url, { secretKey: first.secretKey }).signUp({
        email,
        password: PASSWORD,
      });
      const fapi = fapiClient(first.url, { origin: APP_ORIGIN });
      const sessionId = await signInWithPassword(fapi, email, PASSWORD);
      const billing = billingCalls(fapi, sessionId);
      await billing.checkout(PRO_PLAN_ID, "annual", GOOD_CARD);
      const before = (await billing.subscription()).body.response;
      await first.close();

      receiver = await startWebhookReceiver();
      second = await startTestIdp({ dataDir, webhookUrl: receiver.url, webhookSecret: SECRET });
      const bapi = await callAsBackend(second, `/v1/users/${userId}/billing/subscription`);
      const after = (await bapi.json()) as BackendSubscriptionJson;
      expect(after.id).toBe(before.id);
      expect(after.subscription_items.map((i) => [i.id, i.status, i.plan_period])).toEqual([
        [itemsBySlug(before).pro!.id, "active", "annual"],
      ]);
      // The browser (its cookie) still sees the same subscription.
      const browser = fapiClient(second.url, { origin: APP_ORIGIN });
      for (const [name, value] of fapi.jar) browser.jar.set(name, value);
      expect((await billingCalls(browser, sessionId).subscription()).body.response).toEqual(before);

      await second.whenDelivered(5_000);
      const last = { at: 0 };
      expect(verified(receiver.received, userId, last).map((e) => e.type)).toEqual([
        "user.created",
        "subscription.created",
        "subscriptionItem.active",
        "subscription.active",
        "paymentAttempt.created",
        "paymentAttempt.updated",
        "subscriptionItem.active",
        "subscriptionItem.ended",
        "subscription.updated",
      ]);
    } finally {
      await first.close();
      await second?.close();
      await receiver?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
