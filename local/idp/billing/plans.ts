/**
 * Gatehouse's Clerk Billing catalog as the emulation serves it: two user plans, `free_user` (the
 * default, "Free", $0) and `pro` ("Pro", $10 a month or $96 a year), in USD cents. Organizations
 * have no plans. Plan ids are fixed (not random like Clerk's) so that a data dir, a test and the
 * SPA all name the same plan.
 */

import { FREE_POST_QUOTA } from "../../../convex/lib/permissions.ts";

export type PlanSlug = "free_user" | "pro";
export type PlanPeriod = "month" | "annual";

export interface Feature {
  slug: string;
  name: string;
}

export interface Plan {
  id: string;
  slug: PlanSlug;
  name: string;
  description: string;
  isDefault: boolean;
  /** Cents per month; 0 for the free plan. */
  monthlyFee: number;
  /** Cents per year, or null for a plan without an annual price (clerk-js then shows no annual toggle). */
  annualFee: number | null;
  features: Feature[];
}

/**
 * What each plan includes, as Clerk's `<PricingTable>` shows it on /pricing: the same promises as
 * the SPA's plan cards (`src/features/landing/planOffers.ts`; plans.test.ts holds them together).
 * Free's quota is in its description, not a feature: features are entitlements (the `fea` claim).
 */
const POSTS: Feature = { slug: "posts", name: "Private and public posts" };

export const PLANS: readonly Plan[] = [
  {
    id: "cplan_free_user",
    slug: "free_user",
    name: "Free",
    description: `Up to ${FREE_POST_QUOTA} posts. Everything you need to start writing.`,
    isDefault: true,
    monthlyFee: 0,
    annualFee: null,
    features: [POSTS],
  },
  {
    id: "cplan_pro",
    slug: "pro",
    name: "Pro",
    description: "For people who post a lot, and on a schedule.",
    isDefault: false,
    monthlyFee: 1_000,
    annualFee: 9_600,
    // Pro's own first (a compact table shows the first three), then everything Free has.
    features: [
      { slug: "unlimited_posts", name: "Unlimited posts" },
      { slug: "insights", name: "Insights: charts of your posts over time" },
      { slug: "scheduled_posts", name: "Scheduled publishing" },
      POSTS,
    ],
  },
];

export const FREE_PLAN = PLANS[0]!;
export const PRO_PLAN = PLANS[1]!;

/** Clerk's product grouping plans (only in webhook payloads' flat `plan`). */
export const PRODUCT_ID = "cprod_gatehouse";

export function planBySlug(slug: PlanSlug): Plan {
  return slug === "pro" ? PRO_PLAN : FREE_PLAN;
}

export function planById(id: string): Plan | undefined {
  return PLANS.find((p) => p.id === id);
}

/** The price of one period of the plan, in cents. */
export function priceOf(plan: Plan, period: PlanPeriod): number {
  return period === "annual" ? (plan.annualFee ?? plan.monthlyFee * 12) : plan.monthlyFee;
}

/** Clerk's money object (`BillingMoneyAmountJSON`); clerk-js reads every field without a guard. */
export interface Money {
  amount: number;
  amount_formatted: string;
  currency: string;
  currency_symbol: string;
}

export function money(cents: number): Money {
  return { amount: cents, amount_formatted: (cents / 100).toFixed(2), currency: "USD", currency_symbol: "$" };
}

/** The end of a period that starts at `start` (ms): one calendar month or year later, in UTC. */
export function periodEnd(start: number, period: PlanPeriod): number {
  return addUtcMonths(start, period === "annual" ? 12 : 1);
}

/** Jan 31 + 1 month is Feb 28 (29), as billing systems count it, not Mar 3. */
function addUtcMonths(ms: number, months: number): number {
  const date = new Date(ms);
  const day = date.getUTCDate();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  date.setUTCDate(Math.min(day, lastDay));
  return date.getTime();
}
