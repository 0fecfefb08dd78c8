/**
 * Which plan a user has: the rules that turn Clerk Billing's subscription items, an
 * administrator's override and Clerk's public metadata into one plan (ADR 009). Pure: the same
 * rules serve the users row (lib/billingSync.ts) and the session token (lib/viewer.ts).
 */
import type { Plan } from "./permissions";

/** One subscription item as Gatehouse keeps it: its latest state, as of Clerk's event time. */
export type ItemState = {
  itemId: string;
  planSlug: string;
  status: string;
  /** End of the paid period (ms); null for the free plan's open-ended item. */
  periodEnd: number | null;
  canceledAt: number | null;
  pastDueAt: number | null;
  /** The `timestamp` of the Clerk event this state comes from (ms). */
  asOf: number;
};

/**
 * States a paid plan's item never leaves: Clerk starts a new item for a new subscription. The
 * default (free) plan's item is the exception: Clerk keeps one id for it, which ends when Pro
 * starts and is active again when Pro ends.
 */
const TERMINAL = new Set(["ended", "abandoned", "expired"]);

/** Whether an item's status is one a paid item never leaves (see TERMINAL). */
export function isFinal(status: string): boolean {
  return TERMINAL.has(status);
}

/** The paid plan's slug in Clerk Billing, as for `has({ plan })` and `metadata.plan`. */
export const PRO_SLUG = "pro";
/** The default plan's slug: every user's free item. */
export const DEFAULT_SLUG = "free_user";

/**
 * Whether `incoming` replaces `current`: only a state at least as new (Clerk's event time; on a
 * tie, the later delivery), and a paid item never out of a terminal state, so a redelivered or
 * reordered `active` cannot undo an `ended`.
 */
export function supersedes(current: ItemState | null, incoming: ItemState): boolean {
  if (current === null) return true;
  if (incoming.asOf < current.asOf) return false;
  if (current.planSlug === DEFAULT_SLUG) return true;
  return !(TERMINAL.has(current.status) && !TERMINAL.has(incoming.status));
}

/**
 * Whether an item gives its plan now: `active`; `past_due` (kept, with a warning, until Clerk
 * ends it); `canceled` until its period ends. `upcoming`, `incomplete`, `abandoned`, `ended`,
 * `expired` and statuses this code does not know never grant anything.
 */
export function grants(item: ItemState, now: number): boolean {
  if (item.status === "active" || item.status === "past_due") return true;
  if (item.status === "canceled") return item.periodEnd === null || now < item.periodEnd;
  return false;
}

/** The plan a user's subscription gives now; undefined when Gatehouse has no billing state for them. */
export function billingPlanOf(items: readonly ItemState[], now: number): Plan | undefined {
  if (items.length === 0) return undefined;
  return items.some((i) => i.planSlug === PRO_SLUG && grants(i, now)) ? "pro" : "free_user";
}

/** The paid item that decides the plan now (for "renews on" / "ends on" / "past due"), if any. */
export function currentPaidItem(items: readonly ItemState[], now: number): ItemState | undefined {
  return items.filter((i) => i.planSlug === PRO_SLUG && grants(i, now)).sort((a, b) => b.asOf - a.asOf)[0];
}

/** When a canceled item's period ends next (ms), so the plan can be checked again then. */
export function nextLapse(items: readonly ItemState[], now: number): number | undefined {
  const ends = items
    .filter((i) => i.status === "canceled" && i.periodEnd !== null && i.periodEnd > now)
    .map((i) => i.periodEnd as number);
  return ends.length > 0 ? Math.min(...ends) : undefined;
}

export type PlanSource = "admin" | "subscription" | "metadata";

/**
 * One plan from three sources: an administrator's override wins while it is set (a comp or a
 * revocation is deliberate, and a renewal must not undo it); otherwise the subscription;
 * otherwise `metadata.plan` (a deployment without Clerk Billing, or before its first event).
 */
export function decidePlan(sources: {
  override: Plan | undefined;
  billing: Plan | undefined;
  metadata: Plan;
}): { plan: Plan; source: PlanSource } {
  if (sources.override !== undefined) return { plan: sources.override, source: "admin" };
  if (sources.billing !== undefined) return { plan: sources.billing, source: "subscription" };
  return { plan: sources.metadata, source: "metadata" };
}

/** An override as public metadata stores it: only a known plan counts, anything else is none. */
export function parseOverride(value: unknown): Plan | undefined {
  return value === "pro" || value === "free_user" ? value : undefined;
}

/**
 * Clerk's `pla` session claim ("u:pro", or a comma list of `scope:slug`): the user's plan by
 * their subscription, or undefined when the token has no user-scoped plan.
 */
export function planFromPlaClaim(value: unknown): Plan | undefined {
  if (typeof value !== "string" || value.length > 1024) return undefined;
  const userPlans = value
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p.startsWith("u:"))
    .map((p) => p.slice(2));
  if (userPlans.length === 0) return undefined;
  return userPlans.includes(PRO_SLUG) ? "pro" : "free_user";
}

const PAID_STATUSES = ["active", "canceled", "past_due"] as const;
export type PaidStatus = (typeof PAID_STATUSES)[number];

/** What the account page shows of the paid item behind a Pro plan: renewing, canceled or past due. */
export function paidView(item: ItemState): { status: PaidStatus; periodEnd: number | null } | null {
  const status = PAID_STATUSES.find((s) => s === item.status);
  return status === undefined ? null : { status, periodEnd: item.periodEnd };
}
