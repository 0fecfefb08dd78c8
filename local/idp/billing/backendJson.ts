/**
 * Billing resources as Clerk's Backend API returns them to `@clerk/backend`'s `clerkClient.billing`
 * (its `BillingSubscriptionJSON`, `BillingSubscriptionItemJSON`, `BillingPlanJSON`): the item's
 * real status (`canceled` included, unlike the Frontend API), `subscription_items`, money objects
 * for `lifetime_paid`. Plans are the Frontend API's JSON, which fits both types.
 */
import { currentItems, nextPayment, subscriptionStatus, type ItemRecord, type PayerRecord } from "./model.ts";
import { planWire, type PlanWire } from "./fapiJson.ts";
import { money, planBySlug, priceOf, type Money, type PlanPeriod } from "./plans.ts";

export interface BackendItemJson {
  object: "commerce_subscription_item";
  id: string;
  instance_id: string;
  status: ItemRecord["status"];
  plan_period: PlanPeriod;
  payer_id: string;
  period_start: number;
  period_end: number | null;
  is_free_trial: boolean;
  ended_at: number | null;
  created_at: number;
  updated_at: number;
  canceled_at: number | null;
  past_due_at: number | null;
  lifetime_paid: Money;
  next_payment: { amount: Money; date: number } | null;
  amount: Money;
  plan: PlanWire;
  plan_id: string;
}

export interface BackendSubscriptionJson {
  object: "commerce_subscription";
  id: string;
  instance_id: string;
  status: "active" | "past_due";
  payer_id: string;
  created_at: number;
  updated_at: number;
  active_at: number;
  past_due_at: number | null;
  subscription_items: BackendItemJson[];
  next_payment?: { date: number; amount: Money };
  eligible_for_free_trial: boolean;
}

export function backendItemJson(item: ItemRecord, payer: PayerRecord, instanceId: string): BackendItemJson {
  const plan = planBySlug(item.planSlug);
  const price = money(priceOf(plan, item.planPeriod));
  const next = nextPayment(payer);
  return {
    object: "commerce_subscription_item",
    id: item.id,
    instance_id: instanceId,
    status: item.status,
    plan_period: item.planPeriod,
    payer_id: payer.payerId,
    period_start: item.periodStart,
    period_end: item.periodEnd,
    is_free_trial: false,
    ended_at: item.endedAt,
    created_at: item.createdAt,
    updated_at: item.updatedAt,
    canceled_at: item.canceledAt,
    past_due_at: item.pastDueAt,
    lifetime_paid: money(item.lifetimePaid),
    next_payment: next?.item.id === item.id ? { amount: price, date: next.date } : null,
    amount: price,
    plan: planWire(plan),
    plan_id: plan.id,
  };
}

export function backendSubscriptionJson(payer: PayerRecord, instanceId: string): BackendSubscriptionJson {
  const next = nextPayment(payer);
  return {
    object: "commerce_subscription",
    id: payer.subscriptionId,
    instance_id: instanceId,
    status: subscriptionStatus(payer),
    payer_id: payer.payerId,
    created_at: payer.createdAt,
    updated_at: payer.updatedAt,
    active_at: payer.activeAt,
    past_due_at: payer.pastDueAt,
    subscription_items: currentItems(payer).map((i) => backendItemJson(i, payer, instanceId)),
    ...(next && {
      next_payment: {
        date: next.date,
        amount: money(priceOf(planBySlug(next.item.planSlug), next.item.planPeriod)),
      },
    }),
    eligible_for_free_trial: false,
  };
}
