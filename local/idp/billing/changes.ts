/**
 * What a checkout for a plan and period would do to a payer's subscription, decided from the
 * subscription alone (pure, so a checkout is worked out again at confirm time: the subscription
 * may have changed in another tab meanwhile). Prices are whole periods: there is no proration
 * and no credit, unlike Clerk (docs/local-stack.md).
 */
import { paidItem, type PayerRecord, type PlanChange } from "./model.ts";
import { priceOf, PRO_PLAN, type PlanPeriod, type PlanSlug } from "./plans.ts";

export type ChangeDecision = { change: PlanChange } | { refusal: string };

const BILLED = { month: "monthly", annual: "annually" } as const;

export function decideChange(
  payer: PayerRecord,
  planSlug: PlanSlug,
  planPeriod: PlanPeriod,
  now: number,
): ChangeDecision {
  const pro = paidItem(payer);
  if (planSlug === "free_user") {
    if (!pro) return { refusal: "You are already on the Free plan." };
    if (pro.status === "canceled") {
      return { refusal: "Your Pro plan is already canceled: Free starts when its period ends." };
    }
    if (pro.status === "past_due") {
      return { change: { kind: "downgrade_now", charge: 0, immediate: true, planPeriodStart: now } };
    }
    return {
      change: { kind: "downgrade", charge: 0, immediate: false, planPeriodStart: pro.periodEnd ?? now },
    };
  }
  const price = priceOf(PRO_PLAN, planPeriod);
  const charged = (kind: PlanChange["kind"]): ChangeDecision => ({
    change: { kind, charge: price, immediate: true, planPeriodStart: now },
  });
  if (!pro) return charged("upgrade");
  if (pro.status === "past_due") return charged("pay_past_due");
  if (pro.status === "canceled") {
    if (pro.planPeriod !== planPeriod) return charged("resubscribe_switch");
    // Paid up to its period end already: only the cancellation is undone.
    return { change: { kind: "resubscribe", charge: 0, immediate: true, planPeriodStart: now } };
  }
  if (pro.planPeriod === planPeriod) {
    return { refusal: `You are already subscribed to Pro, billed ${BILLED[planPeriod]}.` };
  }
  return charged("switch_period");
}

/** Whether two decisions for one checkout agree (else the checkout is out of date). */
export function sameChange(a: PlanChange, b: PlanChange): boolean {
  return a.kind === b.kind && a.charge === b.charge && a.immediate === b.immediate;
}
