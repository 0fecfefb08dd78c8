/**
 * Clerk Billing through the Backend API, with the real `@clerk/backend` client
 * (`clerkClient.billing`), the dev endpoints behind the secret key (`idpClient`), and the seeded
 * accounts' billing.
 */
import { createClerkClient } from "@clerk/backend";
import { isClerkAPIResponseError } from "@clerk/backend/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { idpClient, IdpRequestError } from "../client.ts";
import { APP_ORIGIN, fapiClient, signInWithPassword } from "../fapi/test.fapi.ts";
import { SEED_PASSWORD } from "../config.ts";
import { callAsBackend, startTestIdp, type TestIdp } from "../test.idp.ts";
import type { BackendItemJson, BackendSubscriptionJson } from "./backendJson.ts";
import type { PlanWire } from "./fapiJson.ts";
import { periodEnd } from "./plans.ts";
import { asBackend, billingCalls, GOOD_CARD, PRO_PLAN_ID } from "./test.billing.ts";

const START = Date.UTC(2027, 2, 15, 12, 0);

async function clerkStatus(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
  } catch (error) {
    if (isClerkAPIResponseError(error)) return error.status;
    throw error;
  }
  throw new Error("expected the Clerk call to fail");
}

describe("Clerk Billing: Backend API (@clerk/backend) and dev endpoints", () => {
  let idp: TestIdp;
  let clerk: ReturnType<typeof createClerkClient>;
  const clock = START;
  let n = 0;

  beforeAll(async () => {
    idp = await startTestIdp({ seed: true, now: () => clock });
    clerk = createClerkClient({ secretKey: idp.secretKey, apiUrl: idp.url });
  });
  afterAll(() => idp.dispose());

  async function proSubscriber() {
    const email = `bapi-billing-${++n}@example.test`;
    const { userId } = await idpClient(idp.url, { secretKey: idp.secretKey }).signUp({
      email,
      password: "long enough",
    });
    const fapi = fapiClient(idp.url, { origin: APP_ORIGIN });
    const billing = billingCalls(fapi, await signInWithPassword(fapi, email, "long enough"));
    await billing.checkout(PRO_PLAN_ID, "month", GOOD_CARD);
    return { userId, billing };
  }
  const bapiJson = async <T>(path: string) => (await (await callAsBackend(idp, path)).json()) as T;

  it("getPlanList: the two plans as BillingPlan objects", async () => {
    const { data, totalCount } = await clerk.billing.getPlanList();
    expect(totalCount).toBe(2);
    expect(
      data.map((p) => [p.slug, p.name, p.isDefault, p.hasBaseFee, p.fee?.amount, p.annualFee?.amount]),
    ).toEqual([
      ["free_user", "Free", true, false, 0, undefined],
      ["pro", "Pro", false, true, 1000, 9600],
    ]);
    expect(data[1]?.features.map((f) => f.slug)).toContain("insights");
    const raw = await bapiJson<{ data: PlanWire[] }>("/v1/billing/plans?payer_type=user");
    raw.data.forEach((plan) => asBackend.plan(plan));
  });

  it("getUserBillingSubscription: the free item for a new user; Pro with its next payment after an upgrade", async () => {
    const { userId } = await idpClient(idp.url, { secretKey: idp.secretKey }).signUp({
      email: `bapi-free-${++n}@example.test`,
      password: "long enough",
    });
    const free = await clerk.billing.getUserBillingSubscription(userId);
    expect(free.status).toBe("active");
    expect(free.subscriptionItems.map((i) => [i.plan?.slug, i.status, i.periodEnd])).toEqual([
      ["free_user", "active", null],
    ]);
    expect(free.nextPayment).toBeNull();

    const { userId: proId } = await proSubscriber();
    const pro = await clerk.billing.getUserBillingSubscription(proId);
    expect(pro.id).toMatch(/^csub_/);
    expect(pro.payerId).toMatch(/^cpayer_/);
    expect(pro.subscriptionItems.map((i) => [i.plan?.slug, i.status, i.planPeriod])).toEqual([
      ["pro", "active", "month"],
    ]);
    expect(pro.nextPayment).toMatchObject({ date: periodEnd(START, "month"), amount: { amount: 1000 } });
    expect(pro.subscriptionItems[0]?.lifetimePaid?.amount).toBe(1000);
    asBackend.subscription(
      await bapiJson<BackendSubscriptionJson>(`/v1/users/${proId}/billing/subscription`),
    );

    expect(await clerkStatus(clerk.billing.getUserBillingSubscription("user_nobody"))).toBe(404);
  });

  it("cancelSubscriptionItem: at period end by default (canceled, Free upcoming), then endNow (ended, Free active)", async () => {
    const { userId, billing } = await proSubscriber();
    const itemId = (await clerk.billing.getUserBillingSubscription(userId)).subscriptionItems[0]!.id;

    const canceled = await clerk.billing.cancelSubscriptionItem(itemId);
    expect(canceled).toMatchObject({ id: itemId, status: "canceled", canceledAt: START });
    const raw = await callAsBackend(idp, `/v1/billing/subscription_items/${itemId}?end_now=false`, {
      method: "DELETE",
    });
    asBackend.item((await raw.json()) as BackendItemJson);
    expect(
      (await clerk.billing.getUserBillingSubscription(userId)).subscriptionItems.map((i) => [
        i.plan?.slug,
        i.status,
      ]),
    ).toEqual([
      ["free_user", "upcoming"],
      ["pro", "canceled"],
    ]);

    const ended = await clerk.billing.cancelSubscriptionItem(itemId, { endNow: true });
    expect(ended).toMatchObject({ id: itemId, status: "ended", endedAt: START });
    const now = await clerk.billing.getUserBillingSubscription(userId);
    expect(now.subscriptionItems.map((i) => [i.plan?.slug, i.status])).toEqual([["free_user", "active"]]);
    // The browser sees the same.
    expect((await billing.subscription()).body.response.subscription_items.map((i) => i.plan.slug)).toEqual([
      "free_user",
    ]);

    expect(await clerkStatus(clerk.billing.cancelSubscriptionItem(itemId))).toBe(422); // already ended
    expect(await clerkStatus(clerk.billing.cancelSubscriptionItem(now.subscriptionItems[0]!.id))).toBe(422); // free
    expect(await clerkStatus(clerk.billing.cancelSubscriptionItem("csubi_nope"))).toBe(404);
    const bad = await callAsBackend(idp, `/v1/billing/subscription_items/${itemId}?end_now=maybe`, {
      method: "DELETE",
    });
    expect(bad.status).toBe(400);
  });

  it("takes the secret key: without it every billing Backend API and dev call is 401 and changes nothing", async () => {
    const { userId } = await proSubscriber();
    const itemId = (await clerk.billing.getUserBillingSubscription(userId)).subscriptionItems[0]!.id;
    const calls: Array<[string, string]> = [
      ["GET", `/v1/users/${userId}/billing/subscription`],
      ["DELETE", `/v1/billing/subscription_items/${itemId}?end_now=true`],
      ["POST", `/v1/dev/billing/users/${userId}/end_period`],
      ["POST", `/v1/dev/billing/users/${userId}/past_due`],
    ];
    for (const [method, path] of calls) {
      for (const authorization of [undefined, "Bearer sk_test_wrong", `Bearer ${idp.webhookSecret}`]) {
        const res = await fetch(`${idp.url}${path}`, {
          method,
          headers: authorization ? { Authorization: authorization } : {},
        });
        expect(res.status, `${method} ${path}`).toBe(401);
      }
    }
    expect((await clerk.billing.getUserBillingSubscription(userId)).subscriptionItems[0]?.status).toBe(
      "active",
    );
  });

  it("dev endpoints through idpClient: end the period (renewal), past due, then end it (Free); 422 and 404 otherwise", async () => {
    const dev = idpClient(idp.url, { secretKey: idp.secretKey });
    const { userId } = await proSubscriber();
    const renewed = await dev.endBillingPeriod(userId);
    expect(renewed.subscription_items.map((i) => [i.plan.slug, i.status, i.lifetime_paid.amount])).toEqual([
      ["pro", "active", 2000],
    ]);
    const pastDue = await dev.makeBillingPastDue(userId);
    expect(pastDue).toMatchObject({ status: "past_due", past_due_at: START });
    const ended = await dev.endBillingPeriod(userId);
    expect(ended.subscription_items.map((i) => [i.plan.slug, i.status])).toEqual([["free_user", "active"]]);

    const refused = async (call: Promise<unknown>) => {
      const error = await call.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdpRequestError);
      return [(error as IdpRequestError).status, (error as IdpRequestError).code];
    };
    expect(await refused(dev.endBillingPeriod(userId))).toEqual([422, "billing_no_paid_item"]);
    expect(await refused(dev.makeBillingPastDue(userId))).toEqual([422, "billing_no_active_paid_item"]);
    expect(await refused(dev.endBillingPeriod("user_nobody"))).toEqual([404, "resource_not_found"]);
  });

  it("seeds: pro@ has an annual Pro subscription; admin@'s Pro is a grant (planOverride) on Free billing; free@ is on Free", async () => {
    const users = await clerk.users.getUserList({
      emailAddress: ["admin@gatehouse.test", "pro@gatehouse.test", "free@gatehouse.test"],
    });
    const byEmail = new Map(users.data.map((u) => [u.primaryEmailAddress?.emailAddress, u]));
    const admin = byEmail.get("admin@gatehouse.test")!;
    const pro = byEmail.get("pro@gatehouse.test")!;
    const free = byEmail.get("free@gatehouse.test")!;
    expect(admin.publicMetadata).toEqual({ role: "admin", plan: "pro", planOverride: "pro" });
    // Billing leaves metadata alone: Pat signed up Free, and only Gatehouse writes his plan there.
    expect(pro.publicMetadata).toEqual({ role: "user", plan: "free_user" });
    expect(free.publicMetadata).toEqual({ role: "user", plan: "free_user" });

    const planOf = async (userId: string) =>
      (await clerk.billing.getUserBillingSubscription(userId)).subscriptionItems.map((i) => [
        i.plan?.slug,
        i.status,
        i.planPeriod,
      ]);
    expect(await planOf(pro.id)).toEqual([["pro", "active", "annual"]]);
    expect(await planOf(admin.id)).toEqual([["free_user", "active", "month"]]);
    expect(await planOf(free.id)).toEqual([["free_user", "active", "month"]]);

    // pro@ signs in with Pro in its token.
    const fapi = fapiClient(idp.url, { origin: APP_ORIGIN });
    const sessionId = await signInWithPassword(fapi, "pro@gatehouse.test", SEED_PASSWORD);
    const statements = (await billingCalls(fapi, sessionId).statements()).body.response;
    expect(statements.data[0]?.totals.grand_total.amount).toBe(9600);

    // Seeding again buys nothing more; a seeded subscriber who canceled stays canceled.
    await clerk.billing.cancelSubscriptionItem(
      (await clerk.billing.getUserBillingSubscription(pro.id)).subscriptionItems[0]!.id,
      {
        endNow: true,
      },
    );
    expect(await idp.seed()).toEqual([]);
    expect(await planOf(pro.id)).toEqual([["free_user", "active", "month"]]);
  });
});
