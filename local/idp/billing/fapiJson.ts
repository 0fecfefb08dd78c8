/**
 * Billing resources as the Frontend API sends them to clerk-js 5.128.0, shaped after
 * `@clerk/shared`'s `Billing*JSON` types (billing.test.ts checks them at compile time) and what
 * its parsers need (read off clerk-js 5.128.0's bundle): every money field present, a full plan
 * in every item, `groups` and `items` arrays in statements. Timestamps are milliseconds.
 */
import type { UserJson } from "../users.ts";
import { primaryEmail } from "../users.ts";
import { cardById, TEST_CARDS, type TestCard } from "./cards.ts";
import {
  currentItems,
  nextPayment,
  subscriptionStatus,
  type AttemptRecord,
  type CheckoutRecord,
  type ItemRecord,
  type PayerRecord,
  type StatementRecord,
} from "./model.ts";
import { money, planBySlug, priceOf, type Money, type Plan, type PlanPeriod } from "./plans.ts";

export interface FeatureWire {
  object: "feature";
  id: string;
  name: string;
  description: string | null;
  slug: string;
  avatar_url: string | null;
}

export interface PlanWire {
  object: "commerce_plan";
  id: string;
  name: string;
  slug: string;
  description: string | null;
  fee: Money;
  annual_fee: Money | null;
  annual_monthly_fee: Money | null;
  is_default: boolean;
  is_recurring: boolean;
  has_base_fee: boolean;
  for_payer_type: "user";
  publicly_visible: boolean;
  avatar_url: null;
  features: FeatureWire[];
  free_trial_days: null;
  free_trial_enabled: boolean;
}

/** clerk-js knows four item statuses; a canceled item shows as active with `canceled_at` set. */
export type FapiItemStatus = "active" | "ended" | "upcoming" | "past_due";

export interface SubscriptionItemWire {
  object: "commerce_subscription_item";
  id: string;
  plan: PlanWire;
  plan_period: PlanPeriod;
  status: FapiItemStatus;
  amount: Money;
  created_at: number;
  period_start: number;
  period_end: number | null;
  canceled_at: number | null;
  past_due_at: number | null;
  is_free_trial: boolean;
}

export interface SubscriptionWire {
  object: "commerce_subscription";
  id: string;
  status: "active" | "past_due";
  created_at: number;
  active_at: number;
  updated_at: number;
  past_due_at: number | null;
  subscription_items: SubscriptionItemWire[];
  eligible_for_free_trial: boolean;
  /** Only while a paid item renews: the SubscriptionDetails drawer opens its cancel dialog only with it. */
  next_payment?: { amount: Money; date: number };
}

export interface PaymentMethodWire {
  object: "commerce_payment_method";
  id: string;
  last4: string;
  payment_type: "card";
  card_type: string;
  is_default: boolean;
  is_removable: boolean;
  status: "active";
  wallet_type: null;
  expiry_month: number;
  expiry_year: number;
  created_at: number;
  updated_at: number;
}

export interface PaymentWire {
  object: "commerce_payment";
  id: string;
  amount: Money;
  paid_at: number | null;
  failed_at: number | null;
  updated_at: number;
  payment_method: PaymentMethodWire | null;
  subscription_item: SubscriptionItemWire;
  charge_type: "checkout" | "recurring";
  status: "paid" | "failed";
}

export interface StatementWire {
  object: "commerce_statement";
  id: string;
  status: "open" | "closed";
  timestamp: number;
  groups: Array<{ object: "commerce_statement_group"; id: string; timestamp: number; items: PaymentWire[] }>;
  totals: { grand_total: Money; subtotal: Money; tax_total: Money };
}

export interface PayerWire {
  object: "commerce_payer";
  id: string;
  created_at: number;
  updated_at: number;
  image_url: string;
  user_id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  organization_id: null;
  organization_name: null;
}

export interface CheckoutWire {
  object: "commerce_checkout";
  id: string;
  /** Stripe's; unused without a publishable key. */
  external_client_secret: string;
  external_gateway_id: string;
  payment_method?: PaymentMethodWire;
  plan: PlanWire;
  plan_period: PlanPeriod;
  plan_period_start: number;
  status: "needs_confirmation" | "completed";
  totals: {
    grand_total: Money;
    subtotal: Money;
    tax_total: Money;
    total_due_now: Money;
    credit: null;
    credits: null;
    account_credit: null;
    past_due: Money | null;
    total_due_after_free_trial: null;
  };
  is_immediate_plan_change: boolean;
  payer: PayerWire;
  needs_payment_method: boolean;
}

export interface Page<T> {
  data: T[];
  total_count: number;
}

export function planWire(plan: Plan): PlanWire {
  const annualFee = plan.annualFee;
  return {
    object: "commerce_plan",
    id: plan.id,
    name: plan.name,
    slug: plan.slug,
    description: plan.description,
    // clerk-js requires `fee` even for the free plan.
    fee: money(plan.monthlyFee),
    annual_fee: annualFee === null ? null : money(annualFee),
    annual_monthly_fee: annualFee === null ? null : money(Math.round(annualFee / 12)),
    is_default: plan.isDefault,
    is_recurring: true,
    has_base_fee: plan.monthlyFee > 0,
    for_payer_type: "user",
    publicly_visible: true,
    // A URL here is loaded by the browser: none offline.
    avatar_url: null,
    features: plan.features.map((f) => ({
      object: "feature",
      id: `feat_${f.slug}`,
      name: f.name,
      description: null,
      slug: f.slug,
      avatar_url: null,
    })),
    free_trial_days: null,
    free_trial_enabled: false,
  };
}

const FAPI_STATUS: Record<ItemRecord["status"], FapiItemStatus> = {
  active: "active",
  canceled: "active",
  past_due: "past_due",
  upcoming: "upcoming",
  ended: "ended",
  abandoned: "ended",
  incomplete: "ended",
};

export function itemWire(item: ItemRecord): SubscriptionItemWire {
  const plan = planBySlug(item.planSlug);
  return {
    object: "commerce_subscription_item",
    id: item.id,
    plan: planWire(plan),
    plan_period: item.planPeriod,
    status: FAPI_STATUS[item.status],
    amount: money(priceOf(plan, item.planPeriod)),
    created_at: item.createdAt,
    period_start: item.periodStart,
    period_end: item.periodEnd,
    canceled_at: item.canceledAt,
    past_due_at: item.pastDueAt,
    is_free_trial: false,
  };
}

/** clerk-js sorts active first itself; this lists the paid item first, then the rest by start. */
export function subscriptionWire(payer: PayerRecord): SubscriptionWire {
  const items = currentItems(payer).sort(
    (a, b) => Number(b.planSlug === "pro") - Number(a.planSlug === "pro") || a.periodStart - b.periodStart,
  );
  const next = nextPayment(payer);
  return {
    object: "commerce_subscription",
    id: payer.subscriptionId,
    status: subscriptionStatus(payer),
    created_at: payer.createdAt,
    active_at: payer.activeAt,
    updated_at: payer.updatedAt,
    past_due_at: payer.pastDueAt,
    subscription_items: items.map(itemWire),
    eligible_for_free_trial: false,
    ...(next && {
      next_payment: {
        amount: money(priceOf(planBySlug(next.item.planSlug), next.item.planPeriod)),
        date: next.date,
      },
    }),
  };
}

export function paymentMethodWire(card: TestCard, payer: PayerRecord): PaymentMethodWire {
  return {
    object: "commerce_payment_method",
    id: card.id,
    last4: card.last4,
    payment_type: "card",
    card_type: card.cardType,
    is_default: payer.defaultPaymentMethodId === card.id,
    is_removable: false,
    status: "active",
    wallet_type: null,
    expiry_month: card.expiryMonth,
    expiry_year: card.expiryYear,
    created_at: payer.createdAt,
    updated_at: payer.createdAt,
  };
}

/** The payer's saved cards, the default first (as UserProfile lists them). */
export function paymentMethodsWire(payer: PayerRecord): PaymentMethodWire[] {
  return TEST_CARDS.map((card) => paymentMethodWire(card, payer)).sort(
    (a, b) => Number(b.is_default) - Number(a.is_default),
  );
}

export function paymentWire(attempt: AttemptRecord, payer: PayerRecord): PaymentWire {
  const card = cardById(attempt.paymentMethodId);
  return {
    object: "commerce_payment",
    id: attempt.id,
    amount: money(attempt.amount),
    paid_at: attempt.paidAt,
    failed_at: attempt.failedAt,
    updated_at: attempt.updatedAt,
    payment_method: card ? paymentMethodWire(card, payer) : null,
    subscription_item: itemWire(attempt.item),
    charge_type: attempt.chargeType,
    status: attempt.status,
  };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A month's statement: its charges grouped by UTC day, newest first, paid and declined alike;
 * the totals count what was paid. Open for the current month, closed after.
 */
export function statementWire(statement: StatementRecord, payer: PayerRecord, now: number): StatementWire {
  const attempts = payer.attempts.filter((a) => a.statementId === statement.id);
  const days = new Map<number, AttemptRecord[]>();
  for (const attempt of attempts) {
    const day = Math.floor(attempt.createdAt / DAY_MS) * DAY_MS;
    days.set(day, [...(days.get(day) ?? []), attempt]);
  }
  const paid = attempts.filter((a) => a.status === "paid").reduce((sum, a) => sum + a.amount, 0);
  return {
    object: "commerce_statement",
    id: statement.id,
    status: statement.month === monthOf(now) ? "open" : "closed",
    timestamp: statement.timestamp,
    groups: [...days.entries()]
      .sort(([a], [b]) => b - a)
      .map(([day, items]) => ({
        object: "commerce_statement_group",
        id: `${statement.id}_${day}`,
        timestamp: day,
        items: items.sort((a, b) => b.createdAt - a.createdAt).map((a) => paymentWire(a, payer)),
      })),
    totals: { grand_total: money(paid), subtotal: money(paid), tax_total: money(0) },
  };
}

/** `YYYY-MM` of a UTC time. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

export function payerWire(payer: PayerRecord, user: UserJson): PayerWire {
  return {
    object: "commerce_payer",
    id: payer.payerId,
    created_at: payer.createdAt,
    updated_at: payer.updatedAt,
    image_url: user.image_url,
    user_id: user.id,
    email: primaryEmail(user),
    first_name: user.first_name,
    last_name: user.last_name,
    // clerk-js's confirm reads `payer.organizationId`.
    organization_id: null,
    organization_name: null,
  };
}

export function checkoutWire(checkout: CheckoutRecord, payer: PayerRecord, user: UserJson): CheckoutWire {
  const { change } = checkout;
  const due = money(change.charge);
  const card = checkout.paymentMethodId === null ? undefined : cardById(checkout.paymentMethodId);
  return {
    object: "commerce_checkout",
    id: checkout.id,
    external_client_secret: "",
    external_gateway_id: "",
    ...(card && { payment_method: paymentMethodWire(card, payer) }),
    plan: planWire(planBySlug(checkout.planSlug)),
    plan_period: checkout.planPeriod,
    plan_period_start: change.planPeriodStart,
    status: checkout.status,
    totals: {
      grand_total: due,
      subtotal: due,
      tax_total: money(0),
      total_due_now: due,
      credit: null,
      credits: null,
      account_credit: null,
      past_due: change.kind === "pay_past_due" ? due : null,
      total_due_after_free_trial: null,
    },
    is_immediate_plan_change: change.immediate,
    payer: payerWire(payer, user),
    // False: the drawer shows a bare button and confirms with an empty body.
    needs_payment_method: change.charge > 0,
  };
}

/** A page of a list, as `{data, total_count}`. */
export function page<T>(all: T[], limit: number, offset: number): Page<T> {
  return { data: all.slice(offset, offset + limit), total_count: all.length };
}
