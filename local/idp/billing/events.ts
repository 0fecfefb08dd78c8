/**
 * Clerk Billing's webhook payloads as `@clerk/backend` 3.x types them
 * (`BillingSubscriptionWebhookEventJSON`, `BillingSubscriptionItemWebhookEventJSON`,
 * `BillingPaymentAttemptWebhookEventJSON`; billing.test.ts checks these interfaces against them):
 * the subscription lists `items` (not `subscription_items`), an item carries the flat webhook
 * `plan` (`amount`, `period`, `interval`, …) and its `payer` with `user_id`, a payment attempt
 * calls its card `payment_source`. Optional fields Clerk's types do not allow as null are left
 * out instead. What Gatehouse's receiver relies on: every item names `payer.user_id` and
 * `plan.slug`, and `period_end` is in ms (null for the free item).
 */
import { newId } from "../ids.ts";
import type { OutboxMessage } from "../store.ts";
import { primaryEmail, type UserJson } from "../users.ts";
import { eventEnvelope } from "../webhooks/events.ts";
import { cardById, DECLINE, SUCCEEDING_CARD } from "./cards.ts";
import {
  currentItems,
  nextPayment,
  subscriptionStatus,
  type AttemptRecord,
  type ItemRecord,
  type PayerRecord,
} from "./model.ts";
import { money, planBySlug, priceOf, PRODUCT_ID, type Money, type PlanPeriod } from "./plans.ts";

export type SubscriptionEventType =
  "subscription.created" | "subscription.updated" | "subscription.active" | "subscription.pastDue";
export type ItemEventType =
  | "subscriptionItem.updated"
  | "subscriptionItem.active"
  | "subscriptionItem.canceled"
  | "subscriptionItem.upcoming"
  | "subscriptionItem.ended"
  | "subscriptionItem.abandoned"
  | "subscriptionItem.pastDue";
export type PaymentAttemptEventType = "paymentAttempt.created" | "paymentAttempt.updated";
export type BillingEventType = SubscriptionEventType | ItemEventType | PaymentAttemptEventType;

export interface WebhookPayerJson {
  object: "commerce_payer";
  id: string;
  instance_id: string;
  user_id: string;
  first_name?: string;
  last_name?: string;
  email: string;
  image_url: string;
  created_at: number;
  updated_at: number;
}

export interface WebhookPlanJson {
  id: string;
  instance_id: string;
  product_id: string;
  name: string;
  slug: string;
  description?: string;
  is_default: boolean;
  is_recurring: boolean;
  /** Cents for one `period`. */
  amount: number;
  period: PlanPeriod;
  interval: number;
  has_base_fee: boolean;
  currency: string;
  annual_monthly_amount: number;
  publicly_visible: boolean;
}

export interface WebhookItemJson {
  object: "commerce_subscription_item";
  id: string;
  status: ItemRecord["status"];
  credit: {
    amount: Money;
    cycle_days_remaining: number;
    cycle_days_total: number;
    cycle_remaining_percent: number;
  };
  proration_date: string;
  plan_period: PlanPeriod;
  period_start: number;
  period_end: number | null;
  canceled_at?: number;
  past_due_at?: number;
  lifetime_paid: number;
  /** Cents of the next renewal; 0 when the item does not renew. */
  next_payment_amount: number;
  /** When it renews (ms); 0 when it does not. */
  next_payment_date: number;
  amount: Money;
  plan: WebhookPlanJson;
  plan_id: string;
  payer: WebhookPayerJson;
}

export interface WebhookSubscriptionJson {
  object: "commerce_subscription";
  id: string;
  status: "active" | "past_due";
  active_at?: number;
  created_at: number;
  past_due_at?: number;
  updated_at: number;
  /** The last paid payment's id; "" before the first. */
  latest_payment_id: string;
  payer_id: string;
  payer: WebhookPayerJson;
  payment_source_id: string;
  /** The subscription's current items (active, canceled, past due, upcoming). */
  items: WebhookItemJson[];
}

export interface WebhookPaymentAttemptJson {
  object: "commerce_payment_attempt";
  id: string;
  instance_id: string;
  payment_id: string;
  statement_id: string;
  gateway_external_id: string;
  status: "pending" | "paid" | "failed";
  created_at: number;
  updated_at: number;
  paid_at?: number;
  failed_at?: number;
  failed_reason?: { code: string; decline_code: string };
  billing_date: number;
  charge_type: "checkout" | "recurring";
  payee: { id: string; gateway_type: string; gateway_external_id: string; gateway_status: "active" };
  payer: WebhookPayerJson;
  totals: { subtotal: Money; tax_total: Money; grand_total: Money };
  payment_source: {
    id: string;
    gateway: string;
    gateway_external_id: string;
    payment_method: string;
    status: "active";
    card_type: string;
    last4: string;
  };
  subscription_items: WebhookItemJson[];
}

/** The payer an event is about: its record, its user (names, email, image) and the instance. */
export interface EventSubject {
  payer: PayerRecord;
  user: UserJson;
  instanceId: string;
}

function payerJson({ payer, user, instanceId }: EventSubject): WebhookPayerJson {
  return {
    object: "commerce_payer",
    id: payer.payerId,
    instance_id: instanceId,
    user_id: user.id,
    ...(user.first_name !== null && { first_name: user.first_name }),
    ...(user.last_name !== null && { last_name: user.last_name }),
    email: primaryEmail(user),
    image_url: user.image_url,
    created_at: payer.createdAt,
    updated_at: payer.updatedAt,
  };
}

export function itemJson(item: ItemRecord, subject: EventSubject, now: number): WebhookItemJson {
  const plan = planBySlug(item.planSlug);
  const price = priceOf(plan, item.planPeriod);
  const next = nextPayment(subject.payer);
  const renews = next?.item.id === item.id;
  return {
    object: "commerce_subscription_item",
    id: item.id,
    status: item.status,
    // No proration here: the credit is always zero.
    credit: { amount: money(0), cycle_days_remaining: 0, cycle_days_total: 0, cycle_remaining_percent: 0 },
    proration_date: new Date(now).toISOString().slice(0, 10),
    plan_period: item.planPeriod,
    period_start: item.periodStart,
    period_end: item.periodEnd,
    ...(item.canceledAt !== null && { canceled_at: item.canceledAt }),
    ...(item.pastDueAt !== null && { past_due_at: item.pastDueAt }),
    lifetime_paid: item.lifetimePaid,
    next_payment_amount: renews ? price : 0,
    next_payment_date: renews ? next.date : 0,
    amount: money(price),
    plan: {
      id: plan.id,
      instance_id: subject.instanceId,
      product_id: PRODUCT_ID,
      name: plan.name,
      slug: plan.slug,
      description: plan.description,
      is_default: plan.isDefault,
      is_recurring: true,
      amount: price,
      period: item.planPeriod,
      interval: 1,
      has_base_fee: plan.monthlyFee > 0,
      currency: "USD",
      annual_monthly_amount: plan.annualFee === null ? 0 : Math.round(plan.annualFee / 12),
      publicly_visible: true,
    },
    plan_id: plan.id,
    payer: payerJson(subject),
  };
}

export function subscriptionJson(subject: EventSubject, now: number): WebhookSubscriptionJson {
  const { payer } = subject;
  const latestPaid = payer.attempts.filter((a) => a.status === "paid").at(-1);
  return {
    object: "commerce_subscription",
    id: payer.subscriptionId,
    status: subscriptionStatus(payer),
    active_at: payer.activeAt,
    created_at: payer.createdAt,
    ...(payer.pastDueAt !== null && { past_due_at: payer.pastDueAt }),
    updated_at: payer.updatedAt,
    latest_payment_id: latestPaid?.paymentId ?? "",
    payer_id: payer.payerId,
    payer: payerJson(subject),
    payment_source_id: payer.defaultPaymentMethodId,
    items: currentItems(payer).map((i) => itemJson(i, subject, now)),
  };
}

/** A charge as `paymentAttempt.created` (`pending`, before the outcome) or `.updated` (settled) reports it. */
export function paymentAttemptJson(
  attempt: AttemptRecord,
  phase: "pending" | "settled",
  subject: EventSubject,
  now: number,
): WebhookPaymentAttemptJson {
  const card = cardById(attempt.paymentMethodId) ?? SUCCEEDING_CARD;
  const pending = phase === "pending";
  const total = money(attempt.amount);
  return {
    object: "commerce_payment_attempt",
    id: attempt.id,
    instance_id: subject.instanceId,
    payment_id: attempt.paymentId,
    statement_id: attempt.statementId,
    gateway_external_id: "",
    status: pending ? "pending" : attempt.status,
    created_at: attempt.createdAt,
    updated_at: pending ? attempt.createdAt : attempt.updatedAt,
    ...(!pending && attempt.paidAt !== null && { paid_at: attempt.paidAt }),
    ...(!pending && attempt.failedAt !== null && { failed_at: attempt.failedAt }),
    ...(!pending &&
      attempt.status === "failed" && {
        failed_reason: { code: DECLINE.code, decline_code: DECLINE.declineCode },
      }),
    billing_date: attempt.createdAt,
    charge_type: attempt.chargeType,
    payee: {
      id: "cpayee_offline",
      gateway_type: "stripe",
      gateway_external_id: "",
      gateway_status: "active",
    },
    payer: payerJson(subject),
    totals: { subtotal: total, tax_total: money(0), grand_total: total },
    payment_source: {
      id: card.id,
      gateway: "stripe",
      gateway_external_id: "",
      payment_method: "card",
      status: "active",
      card_type: card.cardType,
      last4: card.last4,
    },
    subscription_items: [itemJson(attempt.item, subject, now)],
  };
}

export type BillingEventData = WebhookSubscriptionJson | WebhookItemJson | WebhookPaymentAttemptJson;

/**
 * Queues one billing event in the payer's user's lane (so it goes out in order with their
 * `user.*` events). The envelope's `timestamp` is strictly later than the payer's previous one,
 * even within a millisecond or under a test clock that stands still: the receiver orders an
 * item's states by it.
 */
export function billingEventMessage(
  type: BillingEventType,
  data: BillingEventData,
  payer: PayerRecord,
  instanceId: string,
  now: number,
): OutboxMessage {
  const timestamp = Math.max(now, payer.lastEventAt + 1);
  payer.lastEventAt = timestamp;
  return {
    id: newId("msg"),
    type,
    userId: payer.userId,
    payload: JSON.stringify(eventEnvelope(type, data, instanceId, timestamp)),
    attempts: 0,
    createdAt: now,
  };
}
