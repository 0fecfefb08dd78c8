/**
 * Test helpers for Clerk Billing: compile-time checks that the emulation's JSON fits Clerk's
 * published types (the Frontend API's against the `@clerk/shared` clerk-js uses, the Backend API's
 * and the webhooks' against `@clerk/backend`'s), and the calls clerk-js makes, as a signed-in
 * browser (`fapiClient`).
 */
import type {
  BillingPaymentAttemptWebhookEvent,
  BillingPlanJSON as BackendPlanJSON,
  BillingSubscriptionItemJSON as BackendItemJSON,
  BillingSubscriptionItemWebhookEvent,
  BillingSubscriptionJSON as BackendSubscriptionJSON,
  BillingSubscriptionWebhookEvent,
} from "@clerk/backend";
import { Webhook } from "svix";
import type {
  BillingCheckoutJSON,
  BillingPaymentJSON,
  BillingPaymentMethodJSON,
  BillingPlanJSON,
  BillingStatementJSON,
  BillingSubscriptionItemJSON,
  BillingSubscriptionJSON,
  ClerkPaginatedResponse,
  DeletedObjectJSON,
} from "../../../node_modules/@clerk/clerk-react/node_modules/@clerk/shared/dist/types/index.mjs";
import type { ReceivedWebhook } from "../test.idp.ts";
import type { Envelope, FapiTestClient, Wire } from "../fapi/test.fapi.ts";
import type { DeletedObjectWire } from "../fapi/json.ts";
import type { BackendItemJson, BackendSubscriptionJson } from "./backendJson.ts";
import type {
  BillingEventType,
  WebhookItemJson,
  WebhookPaymentAttemptJson,
  WebhookSubscriptionJson,
} from "./events.ts";
import type {
  CheckoutWire,
  Page,
  PaymentMethodWire,
  PaymentWire,
  PlanWire,
  StatementWire,
  SubscriptionItemWire,
  SubscriptionWire,
} from "./fapiJson.ts";

// Compile-time: each emulated resource is assignable to Clerk's type (tsc checks these lines).
export const asClerkBilling = {
  plan: (x: PlanWire): Wire<BillingPlanJSON> => x,
  plans: (x: Page<PlanWire>): ClerkPaginatedResponse<Wire<BillingPlanJSON>> => x,
  subscription: (x: SubscriptionWire): Wire<BillingSubscriptionJSON> => x,
  item: (x: SubscriptionItemWire): Wire<BillingSubscriptionItemJSON> => x,
  paymentMethods: (x: Page<PaymentMethodWire>): ClerkPaginatedResponse<Wire<BillingPaymentMethodJSON>> => x,
  payments: (x: Page<PaymentWire>): ClerkPaginatedResponse<Wire<BillingPaymentJSON>> => x,
  payment: (x: PaymentWire): Wire<BillingPaymentJSON> => x,
  statements: (x: Page<StatementWire>): ClerkPaginatedResponse<Wire<BillingStatementJSON>> => x,
  statement: (x: StatementWire): Wire<BillingStatementJSON> => x,
  checkout: (x: CheckoutWire): Wire<BillingCheckoutJSON> => x,
  deleted: (x: DeletedObjectWire): DeletedObjectJSON => x,
};

export const asBackend = {
  plan: (x: PlanWire): BackendPlanJSON => x,
  subscription: (x: BackendSubscriptionJson): BackendSubscriptionJSON => x,
  item: (x: BackendItemJson): BackendItemJSON => x,
};

export type SubscriptionEvent = BillingSubscriptionWebhookEvent;
export type ItemEvent = BillingSubscriptionItemWebhookEvent;
export type PaymentAttemptEvent = BillingPaymentAttemptWebhookEvent;
export type BillingWebhookEvent = SubscriptionEvent | ItemEvent | PaymentAttemptEvent;

export const asWebhook = {
  subscription: (x: WebhookSubscriptionJson): SubscriptionEvent["data"] => x,
  item: (x: WebhookItemJson): ItemEvent["data"] => x,
  paymentAttempt: (x: WebhookPaymentAttemptJson): PaymentAttemptEvent["data"] => x,
  type: (x: BillingEventType): BillingWebhookEvent["type"] => x,
};

/** A delivery verified with the real svix library, as Gatehouse's webhook handler does. */
export function verifyDelivery<T = { type: string; timestamp: number; data: Record<string, unknown> }>(
  webhook: ReceivedWebhook,
  secret: string,
): T {
  const header = (name: string) => String(webhook.headers[name] ?? "");
  return new Webhook(secret).verify(webhook.body, {
    "svix-id": header("svix-id"),
    "svix-timestamp": header("svix-timestamp"),
    "svix-signature": header("svix-signature"),
  }) as T;
}

export const PRO_PLAN_ID = "cplan_pro";
export const FREE_PLAN_ID = "cplan_free_user";
export const GOOD_CARD = "cpm_test_4242";
export const DECLINED_CARD = "cpm_test_0002";

/** The calls clerk-js's billing UI makes, as one signed-in browser. */
export function billingCalls(fapi: FapiTestClient, sessionId: string) {
  const q = { _clerk_session_id: sessionId };
  return {
    subscription: () =>
      fapi.call<Envelope<SubscriptionWire>>("GET", "/me/billing/subscription", undefined, q),
    paymentMethods: () =>
      fapi.call<Envelope<Page<PaymentMethodWire>>>("GET", "/me/billing/payment_methods", undefined, {
        ...q,
        limit: "10",
        offset: "0",
      }),
    statements: () =>
      fapi.call<Envelope<Page<StatementWire>>>("GET", "/me/billing/statements", undefined, {
        ...q,
        limit: "10",
        offset: "0",
      }),
    paymentAttempts: () =>
      fapi.call<Page<PaymentWire>>("GET", "/me/billing/payment_attempts", undefined, {
        ...q,
        limit: "10",
        offset: "0",
      }),
    startCheckout: (planId: string, planPeriod: "month" | "annual") =>
      fapi.call<Envelope<CheckoutWire>>(
        "POST",
        "/me/billing/checkouts",
        { plan_id: planId, plan_period: planPeriod },
        q,
      ),
    confirm: (checkoutId: string, paymentMethodId?: string) =>
      fapi.call<Envelope<CheckoutWire>>(
        "PATCH",
        `/me/billing/checkouts/${checkoutId}/confirm`,
        paymentMethodId === undefined ? {} : { payment_method_id: paymentMethodId },
        q,
      ),
    /** UserProfile's "Make default" (`PUT`, sent as `POST ?_method=PUT`). */
    makeDefault: (paymentMethodId: string) =>
      fapi.call<Envelope<PaymentMethodWire>>(
        "PUT",
        "/me/billing/payers/default_payment_method",
        { payment_method_id: paymentMethodId },
        q,
      ),
    cancel: (itemId: string) =>
      fapi.call<Envelope<DeletedObjectWire>>(
        "DELETE",
        `/me/billing/subscription_items/${itemId}`,
        undefined,
        q,
      ),
    /** A checkout for the plan and period, confirmed with the card (or nothing); the confirm's answer. */
    async checkout(planId: string, planPeriod: "month" | "annual", paymentMethodId?: string) {
      const started = await this.startCheckout(planId, planPeriod);
      if (started.status !== 200)
        throw new Error(`checkout start: ${started.status} ${JSON.stringify(started.body)}`);
      return this.confirm(started.body.response.id, paymentMethodId);
    },
  };
}

/** The subscription's items by plan slug. */
export function itemsBySlug(
  subscription: SubscriptionWire,
): Record<string, SubscriptionItemWire | undefined> {
  return Object.fromEntries(subscription.subscription_items.map((i) => [i.plan.slug, i]));
}
