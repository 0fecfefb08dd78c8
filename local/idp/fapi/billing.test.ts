/**
 * Clerk Billing through the Frontend API, as clerk-js 5.128.0's PricingTable, checkout drawer
 * and UserProfile call it (read off clerk-js 5.128.0's bundle): each endpoint's envelope and
 * JSON (type-checked against `@clerk/shared`), checkout with the saved cards, cancel,
 * resubscribe, past due and period end (dev endpoints), the `pla` / `fea` claims of the next token
 * and of the touch response, and bad input answered with 4xx.
 */
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { idpClient } from "../client.ts";
import { periodEnd } from "../billing/plans.ts";
import type { PaymentWire, PlanWire } from "../billing/fapiJson.ts";
import {
  asClerkBilling,
  billingCalls,
  DECLINED_CARD,
  FREE_PLAN_ID,
  GOOD_CARD,
  itemsBySlug,
  PRO_PLAN_ID,
} from "../billing/test.billing.ts";
import type { SessionWire, TokenWire } from "./json.ts";
import {
  APP_ORIGIN,
  expectClerkError,
  fapiClient,
  idpWithWebhooks,
  signUpFreshUser,
  type Envelope,
  type ErrorBody,
  type FapiResponse,
} from "./test.fapi.ts";

/** A Jan 31st, so that a monthly period ends on Feb 28th (not Mar 3rd). */
const START = Date.UTC(2027, 0, 31, 9, 30);

describe("Clerk Billing: Frontend API", () => {
  let clock = START;
  const env = idpWithWebhooks({ seed: true, now: () => clock });

  /** A new user in a browser on the app's page, with the calls clerk-js's billing UI makes. */
  async function payer() {
    const { fapi, sessionId, user } = await signUpFreshUser(env, { origin: APP_ORIGIN });
    return { fapi, sessionId, userId: user.id, billing: billingCalls(fapi, sessionId) };
  }
  const dev = () => idpClient(env.idp.url, { secretKey: env.idp.secretKey });
  const types = async () =>
    (await env.deliveredWebhooks()).map((w) => (JSON.parse(w.body) as { type: string }).type);

  /** The claims of the session's next default token. */
  async function nextToken(fapi: ReturnType<typeof fapiClient>, sessionId: string) {
    const res = await fapi.call<TokenWire>("POST", `/client/sessions/${sessionId}/tokens`, {
      organization_id: "",
    });
    return decodeJwt(res.body.jwt);
  }

  it("lists the plans bare, signed out, at /v1 and /__clerk/v1; one plan bare; organizations have none", async () => {
    for (const prefix of ["/__clerk", ""]) {
      const visitor = fapiClient(env.idp.url, { prefix });
      const res = await visitor.call<{ data: PlanWire[]; total_count: number }>(
        "GET",
        "/billing/plans",
        undefined,
        {
          payer_type: "user",
          limit: "50",
          offset: "0",
        },
      );
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(["data", "total_count"]); // bare, no envelope
      const plans = asClerkBilling.plans(res.body);
      expect(plans.total_count).toBe(2);
      const [free, pro] = res.body.data;
      expect(free).toMatchObject({
        object: "commerce_plan",
        id: FREE_PLAN_ID,
        slug: "free_user",
        name: "Free",
        is_default: true,
        has_base_fee: false,
        // clerk-js requires `fee` on the free plan too; no annual price: no annual toggle.
        fee: { amount: 0, amount_formatted: "0.00", currency: "USD", currency_symbol: "$" },
        annual_fee: null,
        annual_monthly_fee: null,
        for_payer_type: "user",
        avatar_url: null,
      });
      expect(pro).toMatchObject({
        id: PRO_PLAN_ID,
        slug: "pro",
        name: "Pro",
        is_default: false,
        has_base_fee: true,
        fee: { amount: 1000, amount_formatted: "10.00" },
        annual_fee: { amount: 9600, amount_formatted: "96.00" },
        annual_monthly_fee: { amount: 800, amount_formatted: "8.00" },
      });
      expect(pro?.features?.map((f) => f.slug)).toEqual([
        "unlimited_posts",
        "insights",
        "scheduled_posts",
        "posts",
      ]);

      const one = await visitor.call<PlanWire>("GET", `/billing/plans/${PRO_PLAN_ID}`);
      expect(one.status).toBe(200);
      expect(asClerkBilling.plan(one.body)).toEqual(pro);
    }
    const orgs = await fapiClient(env.idp.url).call("GET", "/billing/plans", undefined, {
      payer_type: "org",
    });
    expect(orgs.body).toEqual({ data: [], total_count: 0 });
    expectClerkError(
      await fapiClient(env.idp.url).call("GET", "/billing/plans/cplan_nope"),
      404,
      "resource_not_found",
    );
  });

  it("a new user: the free item active (no next_payment), two saved cards with 4242 the default, nothing charged", async () => {
    const { billing } = await payer();
    const sub = await billing.subscription();
    expect(sub.status).toBe(200);
    expect(Object.keys(sub.body).sort()).toEqual(["client", "response"]); // `.response`
    const subscription = asClerkBilling.subscription(sub.body.response);
    expect(subscription).toMatchObject({
      object: "commerce_subscription",
      id: expect.stringMatching(/^csub_/),
      status: "active",
      past_due_at: null,
      eligible_for_free_trial: false,
    });
    expect(subscription.next_payment).toBeUndefined();
    expect(sub.body.response.subscription_items).toEqual([
      expect.objectContaining({
        object: "commerce_subscription_item",
        id: expect.stringMatching(/^csubi_/),
        status: "active",
        plan: expect.objectContaining({ slug: "free_user" }),
        period_start: START,
        period_end: null,
        canceled_at: null,
        amount: expect.objectContaining({ amount: 0 }),
      }),
    ]);

    const methods = await billing.paymentMethods();
    expect(Object.keys(methods.body).sort()).toEqual(["client", "response"]);
    const cards = asClerkBilling.paymentMethods(methods.body.response);
    expect(cards.total_count).toBe(2);
    expect(cards.data.map((c) => [c.id, c.card_type, c.last4, c.is_default, c.is_removable])).toEqual([
      [GOOD_CARD, "visa", "4242", true, false],
      [DECLINED_CARD, "visa", "0002", false, false],
    ]);

    const statements = await billing.statements();
    expect(asClerkBilling.statements(statements.body.response)).toEqual({ data: [], total_count: 0 });
    const attempts = await billing.paymentAttempts();
    expect(asClerkBilling.payments(attempts.body)).toEqual({ data: [], total_count: 0 }); // bare
  });

  it("upgrade: a checkout that needs a card and charges the fee now; 4242 completes it; Pro with next_payment; the charge in payments and statements", async () => {
    const { billing, fapi, sessionId } = await payer();
    const started = await billing.startCheckout(PRO_PLAN_ID, "month");
    expect(started.status).toBe(200);
    const checkout = asClerkBilling.checkout(started.body.response);
    expect(checkout).toMatchObject({
      object: "commerce_checkout",
      status: "needs_confirmation",
      plan: { id: PRO_PLAN_ID },
      plan_period: "month",
      plan_period_start: START,
      is_immediate_plan_change: true,
      needs_payment_method: true,
      totals: { total_due_now: { amount: 1000 }, grand_total: { amount: 1000 }, subtotal: { amount: 1000 } },
      payer: { object: "commerce_payer", organization_id: null },
    });
    expect(checkout.payment_method).toBeUndefined();

    const done = await billing.confirm(checkout.id, GOOD_CARD);
    expect(done.status).toBe(200);
    expect(asClerkBilling.checkout(done.body.response)).toMatchObject({
      id: checkout.id,
      status: "completed",
      payment_method: { id: GOOD_CARD, last4: "4242" },
      totals: { total_due_now: { amount: 1000 } },
    });
    expect(done.body.client?.sessions[0]?.id).toBe(sessionId); // the client rides along

    const subscription = (await billing.subscription()).body.response;
    const { pro, free_user: free } = itemsBySlug(subscription);
    expect(free).toBeUndefined(); // ended: no longer part of the subscription
    expect(pro).toMatchObject({
      status: "active",
      plan_period: "month",
      period_start: START,
      period_end: Date.UTC(2027, 1, 28, 9, 30),
      canceled_at: null,
      amount: { amount: 1000 },
    });
    expect(subscription.next_payment).toEqual({
      amount: expect.objectContaining({ amount: 1000 }),
      date: pro?.period_end,
    });
    expect((await nextToken(fapi, sessionId))["pla"]).toBe("u:pro");

    const attempts = (await billing.paymentAttempts()).body;
    expect(attempts.total_count).toBe(1);
    const [payment] = attempts.data;
    expect(payment).toMatchObject({
      object: "commerce_payment",
      status: "paid",
      charge_type: "checkout",
      amount: { amount: 1000 },
      paid_at: START,
      failed_at: null,
      payment_method: { id: GOOD_CARD },
      subscription_item: { id: pro?.id, plan: { slug: "pro" }, plan_period: "month" },
    });
    const one = await fapi.call<PaymentWire>("GET", `/me/billing/payment_attempts/${payment!.id}`);
    expect(asClerkBilling.payment(one.body)).toEqual(payment); // bare

    const statements = (await billing.statements()).body.response;
    expect(statements.total_count).toBe(1);
    const statement = asClerkBilling.statement(statements.data[0]!);
    expect(statement).toMatchObject({
      object: "commerce_statement",
      status: "open",
      timestamp: Date.UTC(2027, 0, 1),
      totals: { grand_total: { amount: 1000 } },
      groups: [{ object: "commerce_statement_group", items: [{ id: payment!.id }] }],
    });
    const byId = await fapi.call<Envelope<unknown>>("GET", `/me/billing/statements/${statement.id}`);
    expect(byId.body.response).toEqual(statement); // `.response`

    // Confirming again (a retried request) changes and charges nothing.
    expect((await billing.confirm(checkout.id, GOOD_CARD)).body.response.status).toBe("completed");
    expect((await billing.paymentAttempts()).body.total_count).toBe(1);
  });

  it("annual: $96 due now, a year's period", async () => {
    const { billing } = await payer();
    const started = await billing.startCheckout(PRO_PLAN_ID, "annual");
    expect(started.body.response.totals.total_due_now.amount).toBe(9600);
    await billing.confirm(started.body.response.id, GOOD_CARD);
    const { pro } = itemsBySlug((await billing.subscription()).body.response);
    expect(pro).toMatchObject({ plan_period: "annual", period_end: periodEnd(START, "annual") });
  });

  it("a declined card: 422 card_declined, 'Your card was declined.', nothing changes but the failed charge; 4242 then works", async () => {
    const { billing, fapi, sessionId } = await payer();
    const before = (await billing.subscription()).body.response;
    const started = await billing.startCheckout(PRO_PLAN_ID, "month");
    await env.forgetWebhooks();

    const declined = await billing.confirm(started.body.response.id, DECLINED_CARD);
    const error = expectClerkError(declined, 422, "card_declined");
    expect(error?.long_message).toBe("Your card was declined.");
    expect(error?.meta?.param_name).toBeUndefined(); // shown in the drawer's alert
    expect((await billing.subscription()).body.response).toEqual(before);
    expect((await nextToken(fapi, sessionId))["pla"]).toBe("u:free_user");
    // Only the charge is reported: no subscription or item event.
    expect(await types()).toEqual(["paymentAttempt.created", "paymentAttempt.updated"]);
    const [failed] = (await billing.paymentAttempts()).body.data;
    expect(failed).toMatchObject({
      status: "failed",
      paid_at: null,
      failed_at: START,
      payment_method: { id: DECLINED_CARD },
      subscription_item: { plan: { slug: "pro" } },
    });
    expect((await billing.statements()).body.response.data[0]?.totals.grand_total.amount).toBe(0);

    const paid = await billing.confirm(started.body.response.id, GOOD_CARD);
    expect(paid.body.response.status).toBe("completed");
    expect(itemsBySlug((await billing.subscription()).body.response).pro?.status).toBe("active");
  });

  it("downgrade to Free: deferred, no card, empty confirm; Pro canceled until its period ends, Free upcoming; still u:pro", async () => {
    const { billing, fapi, sessionId } = await payer();
    await billing.checkout(PRO_PLAN_ID, "month", GOOD_CARD);
    clock += 60_000;
    const started = await billing.startCheckout(FREE_PLAN_ID, "month");
    expect(started.status).toBe(200);
    expect(asClerkBilling.checkout(started.body.response)).toMatchObject({
      plan: { id: FREE_PLAN_ID },
      is_immediate_plan_change: false,
      needs_payment_method: false,
      plan_period_start: Date.UTC(2027, 1, 28, 9, 30),
      totals: { total_due_now: { amount: 0 } },
    });
    const done = await billing.confirm(started.body.response.id); // empty body
    expect(done.status).toBe(200);
    expect(done.body.response.status).toBe("completed");

    const subscription = (await billing.subscription()).body.response;
    const { pro, free_user: free } = itemsBySlug(subscription);
    // clerk-js knows a canceled item as active with canceled_at ("Ends <date>").
    expect(pro).toMatchObject({
      status: "active",
      canceled_at: clock,
      period_end: Date.UTC(2027, 1, 28, 9, 30),
    });
    expect(free).toMatchObject({ status: "upcoming", period_start: pro?.period_end });
    expect(subscription.next_payment).toBeUndefined();
    expect((await nextToken(fapi, sessionId))["pla"]).toBe("u:pro");
    // Downgrading twice changes nothing: a clear 422.
    expectClerkError(await billing.startCheckout(FREE_PLAN_ID, "month"), 422, "billing_plan_unchanged");
  });

  it("cancel from the profile, then the period ends (dev endpoint): Free is active, the next token says u:free_user", async () => {
    const { billing, fapi, sessionId, userId } = await payer();
    await billing.checkout(PRO_PLAN_ID, "annual", GOOD_CARD);
    const proId = itemsBySlug((await billing.subscription()).body.response).pro!.id;
    const canceled = await billing.cancel(proId);
    expect(canceled.status).toBe(200);
    expect(asClerkBilling.deleted(canceled.body.response)).toEqual({
      object: "commerce_subscription_item",
      id: proId,
      deleted: true,
    });
    const after = itemsBySlug((await billing.subscription()).body.response);
    expect(after.pro?.canceled_at).toBe(clock);
    expect(after.free_user?.status).toBe("upcoming");
    expect((await billing.cancel(proId)).status).toBe(200); // again: nothing more to do

    clock += 1_000;
    await dev().endBillingPeriod(userId);
    const ended = (await billing.subscription()).body.response;
    expect(ended.subscription_items.map((i) => [i.plan.slug, i.status, i.period_start])).toEqual([
      ["free_user", "active", clock],
    ]);
    expect((await nextToken(fapi, sessionId))["pla"]).toBe("u:free_user");
    expectClerkError(await billing.cancel(proId), 422, "subscription_item_not_cancelable");
  });

  it("resubscribe before the period ends: a new checkout for the same plan and period, nothing due; Pro active again, Free abandoned", async () => {
    const { billing, fapi, sessionId } = await payer();
    await billing.checkout(PRO_PLAN_ID, "month", GOOD_CARD);
    const proId = itemsBySlug((await billing.subscription()).body.response).pro!.id;
    await billing.cancel(proId);

    const started = await billing.startCheckout(PRO_PLAN_ID, "month");
    expect(started.body.response).toMatchObject({
      needs_payment_method: false,
      is_immediate_plan_change: true,
      totals: { total_due_now: { amount: 0 } },
    });
    expect((await billing.confirm(started.body.response.id)).status).toBe(200);
    const subscription = (await billing.subscription()).body.response;
    expect(subscription.subscription_items.map((i) => [i.id, i.status, i.canceled_at])).toEqual([
      [proId, "active", null],
    ]);
    expect(subscription.next_payment?.amount.amount).toBe(1000);
    expect((await nextToken(fapi, sessionId))["pla"]).toBe("u:pro");
    expect((await billing.paymentAttempts()).body.total_count).toBe(1); // no second charge
  });

  it("past due (dev endpoint): the subscription and item past due, still u:pro; paying it or the period's end settles it", async () => {
    const { billing, fapi, sessionId, userId } = await payer();
    await billing.checkout(PRO_PLAN_ID, "month", GOOD_CARD);
    clock += 1_000;
    await dev().makeBillingPastDue(userId);
    const subscription = (await billing.subscription()).body.response;
    expect(subscription).toMatchObject({ status: "past_due", past_due_at: clock });
    expect(itemsBySlug(subscription).pro).toMatchObject({ status: "past_due", past_due_at: clock });
    expect((await nextToken(fapi, sessionId))["pla"]).toBe("u:pro");
    const [renewal] = (await billing.paymentAttempts()).body.data;
    expect(renewal).toMatchObject({ status: "failed", charge_type: "recurring" });

    // Paying the past-due plan (a checkout for it) makes it active again.
    const pay = await billing.startCheckout(PRO_PLAN_ID, "month");
    expect(pay.body.response).toMatchObject({
      needs_payment_method: true,
      totals: { past_due: { amount: 1000 } },
    });
    await billing.confirm(pay.body.response.id, GOOD_CARD);
    expect((await billing.subscription()).body.response).toMatchObject({
      status: "active",
      past_due_at: null,
    });

    // Past due again, then the period ends unpaid: Free.
    await dev().makeBillingPastDue(userId);
    await dev().endBillingPeriod(userId);
    const ended = (await billing.subscription()).body.response;
    expect(ended.status).toBe("active");
    expect(ended.subscription_items.map((i) => i.plan.slug)).toEqual(["free_user"]);
    expect((await nextToken(fapi, sessionId))["pla"]).toBe("u:free_user");
  });

  it("pla and fea: in the next token, the convex template and the touch response clerk-js uses after the checkout closes", async () => {
    const { billing, fapi, sessionId } = await payer();
    const touch = () =>
      fapi.call<Envelope<SessionWire>>("POST", `/client/sessions/${sessionId}/touch`, {
        intent: "select_session",
      });
    const claims = (jwt: string | undefined) => decodeJwt(jwt ?? "");
    expect(claims((await touch()).body.response.last_active_token?.jwt)).toMatchObject({
      pla: "u:free_user",
      fea: "u:posts",
    });

    await billing.checkout(PRO_PLAN_ID, "month", GOOD_CARD);
    const touched = claims((await touch()).body.response.last_active_token?.jwt);
    expect(touched).toMatchObject({
      pla: "u:pro",
      fea: "u:unlimited_posts,u:insights,u:scheduled_posts,u:posts",
    });
    const convex = await fapi.call<TokenWire>("POST", `/client/sessions/${sessionId}/tokens/convex`);
    expect(decodeJwt(convex.body.jwt)).toMatchObject({ aud: "convex", pla: "u:pro" });
    // Billing leaves public metadata (and so the `metadata` claim) alone: Gatehouse mirrors it itself.
    expect(touched["metadata"]).toMatchObject({ plan: "free_user" });
  });

  it("make default; the saved cards cannot be removed; adding a card (Stripe) answers a clear 422", async () => {
    const { billing, fapi, sessionId } = await payer();
    const q = { _clerk_session_id: sessionId };
    const put = await fapi.call<Envelope<{ id: string; is_default: boolean }>>(
      "PUT",
      "/me/billing/payers/default_payment_method",
      { payment_method_id: DECLINED_CARD },
      q,
    );
    expect(put.status).toBe(200);
    expect(put.body.response).toMatchObject({ id: DECLINED_CARD, is_default: true });
    const cards = (await billing.paymentMethods()).body.response.data;
    expect(cards.map((c) => [c.id, c.is_default])).toEqual([
      [DECLINED_CARD, true],
      [GOOD_CARD, false],
    ]);
    // The checkout drawer preselects the default: this one declines.
    const started = await billing.startCheckout(PRO_PLAN_ID, "month");
    expectClerkError(await billing.confirm(started.body.response.id, DECLINED_CARD), 422, "card_declined");

    expectClerkError(
      await fapi.call("DELETE", `/me/billing/payment_methods/${GOOD_CARD}`, undefined, q),
      422,
      "payment_method_not_removable",
    );
    for (const [path, form] of [
      ["/me/billing/payment_methods/initialize", { gateway: "stripe" }],
      ["/me/billing/payment_methods", { gateway: "stripe", payment_token: "pm_card_visa" }],
    ] as const) {
      const res = await fapi.call("POST", path, form, q);
      expect(expectClerkError(res, 422, "payment_gateway_unavailable")?.long_message).toMatch(/4242/);
    }
    // Stripe's confirm variants too.
    const stripeForms: Array<Record<string, string>> = [
      { gateway: "stripe", payment_token: "pm_card_visa" },
      { gateway: "stripe", use_test_card: "true" },
    ];
    for (const form of stripeForms) {
      const res = await fapi.call(
        "PATCH",
        `/me/billing/checkouts/${started.body.response.id}/confirm`,
        form,
        q,
      );
      expectClerkError(res, 422, "payment_gateway_unavailable");
    }
  });

  it("refuses what it cannot do with a clear 4xx, never a 500", async () => {
    const { billing, fapi, sessionId } = await payer();
    const other = await payer();
    const otherCheckout = (await other.billing.startCheckout(PRO_PLAN_ID, "month")).body.response.id;
    const q = { _clerk_session_id: sessionId };
    const freeItem = (await billing.subscription()).body.response.subscription_items[0]!.id;
    const started = (await billing.startCheckout(PRO_PLAN_ID, "month")).body.response.id;

    const cases: Array<[string, () => Promise<FapiResponse<unknown>>, number, string]> = [
      [
        "limit=0",
        () => fapi.call("GET", "/billing/plans", undefined, { limit: "0" }),
        422,
        "form_param_format_invalid",
      ],
      [
        "limit=abc",
        () => fapi.call("GET", "/billing/plans", undefined, { limit: "abc" }),
        422,
        "form_param_format_invalid",
      ],
      [
        "offset=-1",
        () => fapi.call("GET", "/me/billing/statements", undefined, { ...q, offset: "-1" }),
        422,
        "form_param_format_invalid",
      ],
      [
        "limit=1e99",
        () => fapi.call("GET", "/me/billing/payment_attempts", undefined, { ...q, limit: "1e99" }),
        422,
        "form_param_format_invalid",
      ],
      [
        "payer_type=team",
        () => fapi.call("GET", "/billing/plans", undefined, { payer_type: "team" }),
        422,
        "form_param_format_invalid",
      ],
      [
        "no plan_id",
        () => fapi.call("POST", "/me/billing/checkouts", { plan_period: "month" }, q),
        422,
        "form_param_missing",
      ],
      [
        "plan_period=weekly",
        () => fapi.call("POST", "/me/billing/checkouts", { plan_id: PRO_PLAN_ID, plan_period: "weekly" }, q),
        422,
        "form_param_value_invalid",
      ],
      [
        "unknown plan",
        () => fapi.call("POST", "/me/billing/checkouts", { plan_id: "cplan_gold", plan_period: "month" }, q),
        404,
        "resource_not_found",
      ],
      [
        "unknown field",
        () =>
          fapi.call(
            "POST",
            "/me/billing/checkouts",
            { plan_id: PRO_PLAN_ID, plan_period: "month", seats: "3" },
            q,
          ),
        422,
        "form_param_unknown",
      ],
      [
        "Free while on Free",
        () => billing.startCheckout(FREE_PLAN_ID, "month"),
        422,
        "billing_plan_unchanged",
      ],
      ["unknown checkout", () => billing.confirm("cchk_nope", GOOD_CARD), 404, "resource_not_found"],
      ["someone else's checkout", () => billing.confirm(otherCheckout, GOOD_CARD), 404, "resource_not_found"],
      ["no card when one is due", () => billing.confirm(started), 422, "payment_method_required"],
      ["an unknown card", () => billing.confirm(started, "cpm_stolen"), 422, "payment_method_not_found"],
      [
        "a very long card id",
        () => billing.confirm(started, "x".repeat(100)),
        422,
        "form_param_format_invalid",
      ],
      ["cancel the free plan", () => billing.cancel(freeItem), 422, "subscription_item_not_cancelable"],
      ["cancel an unknown item", () => billing.cancel("csubi_nope"), 404, "resource_not_found"],
      [
        "remove an unknown card",
        () => fapi.call("DELETE", "/me/billing/payment_methods/cpm_nope", undefined, q),
        404,
        "resource_not_found",
      ],
      [
        "default to an unknown card",
        () =>
          fapi.call("PUT", "/me/billing/payers/default_payment_method", { payment_method_id: "cpm_nope" }, q),
        404,
        "resource_not_found",
      ],
      [
        "default without a card",
        () => fapi.call("PUT", "/me/billing/payers/default_payment_method", {}, q),
        422,
        "form_param_missing",
      ],
      [
        "signed out",
        () => fapiClient(env.idp.url).call("GET", "/me/billing/subscription"),
        401,
        "signed_out",
      ],
      [
        "signed out checkout",
        () =>
          fapiClient(env.idp.url).call("POST", "/me/billing/checkouts", {
            plan_id: PRO_PLAN_ID,
            plan_period: "month",
          }),
        401,
        "signed_out",
      ],
      [
        "an organization's billing",
        () => fapi.call("GET", "/organizations/org_1/billing/subscription"),
        404,
        "resource_not_found",
      ],
    ];
    for (const [name, call, status, code] of cases) {
      const res = await call();
      expect(res.status, name).toBe(status);
      expect((res.body as ErrorBody).errors[0]?.code, name).toBe(code);
    }

    // Malformed bodies: another content type, a repeated field, an oversized form.
    const raw = (body: string, type = "application/x-www-form-urlencoded") =>
      fetch(`${env.idp.url}/__clerk/v1/me/billing/checkouts?_clerk_session_id=${sessionId}`, {
        method: "POST",
        headers: { Cookie: fapi.cookieHeader(), Origin: APP_ORIGIN, "Content-Type": type },
        body,
      });
    expect((await raw(JSON.stringify({ plan_id: PRO_PLAN_ID }), "application/json")).status).toBe(415);
    expect((await raw(`plan_id=${PRO_PLAN_ID}&plan_id=${FREE_PLAN_ID}&plan_period=month`)).status).toBe(422);
    expect((await raw(`plan_id=${"x".repeat(20_000)}`)).status).toBe(413);
    expect((await raw("plan_id=%ZZ&plan_period=month")).status).toBeLessThan(500);
    // Every case above was refused before it changed anything.
    expect((await billing.subscription()).body.response.subscription_items.map((i) => i.plan.slug)).toEqual([
      "free_user",
    ]);
  });
});

describe("Clerk Billing: the Frontend API's Origin check (fapiOrigins)", () => {
  const env = idpWithWebhooks({ fapiOrigins: [APP_ORIGIN] });

  it("billing writes go through it: another page's POST is 403 and buys nothing; the app's page buys", async () => {
    const { fapi, sessionId } = await signUpFreshUser(env, { origin: APP_ORIGIN });
    const billing = billingCalls(fapi, sessionId);
    const started = (await billing.startCheckout(PRO_PLAN_ID, "month")).body.response.id;
    for (const origin of ["http://127.0.0.1:8080", "null", undefined]) {
      const headers: Record<string, string> = {
        Cookie: fapi.cookieHeader(),
        "Content-Type": "application/x-www-form-urlencoded",
      };
      if (origin !== undefined) headers["Origin"] = origin;
      const res = await fetch(
        `${env.idp.url}/__clerk/v1/me/billing/checkouts/${started}/confirm?_method=PATCH&_clerk_session_id=${sessionId}`,
        { method: "POST", headers, body: `payment_method_id=${GOOD_CARD}` },
      );
      expect(res.status, String(origin)).toBe(403);
      expect(((await res.json()) as ErrorBody).errors[0]?.code).toBe("origin_invalid");
    }
    expect((await billing.paymentAttempts()).body.total_count).toBe(0);
    expect(itemsBySlug((await billing.subscription()).body.response).pro).toBeUndefined();
    expect(await env.deliveredWebhooks()).toEqual([]);

    expect((await billing.confirm(started, GOOD_CARD)).status).toBe(200);
    expect(itemsBySlug((await billing.subscription()).body.response).pro?.status).toBe("active");
  });
});
