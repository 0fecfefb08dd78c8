/**
 * What the IdP keeps per billing payer (one per user: Gatehouse has no organizations), persisted
 * in `state.json` with the users so that a change, its webhooks and the user it belongs to are
 * written by one atomic rename. The JSON that clerk-js, `@clerk/backend` and webhooks see is
 * built from these records (`fapiJson.ts`, `backendJson.ts`, `events.ts`).
 */
import type { PlanPeriod, PlanSlug } from "./plans.ts";

/** A subscription item's status as `@clerk/backend` types it (`BillingSubscriptionItemStatus`, less `expired`). */
export type ItemStatus =
  "active" | "canceled" | "ended" | "past_due" | "upcoming" | "abandoned" | "incomplete";

export interface ItemRecord {
  id: string;
  planSlug: PlanSlug;
  planPeriod: PlanPeriod;
  status: ItemStatus;
  createdAt: number;
  updatedAt: number;
  /** When the current period started (the free item: when it last became active, or will). */
  periodStart: number;
  /** When the paid period ends; null for the free plan's open-ended item. */
  periodEnd: number | null;
  canceledAt: number | null;
  pastDueAt: number | null;
  endedAt: number | null;
  /** Cents paid for this item so far. */
  lifetimePaid: number;
}

/** One charge of a saved card: a checkout or a renewal, paid or declined. */
export interface AttemptRecord {
  id: string;
  /** Clerk's payment the attempt belongs to (one attempt per payment here). */
  paymentId: string;
  statementId: string;
  status: "paid" | "failed";
  chargeType: "checkout" | "recurring";
  /** Cents. */
  amount: number;
  paymentMethodId: string;
  createdAt: number;
  updatedAt: number;
  paidAt: number | null;
  failedAt: number | null;
  /**
   * The item charged for, as it was once the charge settled (a declined upgrade's item never
   * started: it is kept here as `incomplete` and nowhere else).
   */
  item: ItemRecord;
}

/** Charges are grouped into one statement per UTC month. */
export interface StatementRecord {
  id: string;
  /** `YYYY-MM`. */
  month: string;
  /** The month's first millisecond (Clerk's statement `timestamp`). */
  timestamp: number;
}

/** What a checkout would change, worked out when it starts and again when it is confirmed. */
export type ChangeKind =
  /** Free → Pro: a new item, charged now. */
  | "upgrade"
  /** Pro → the other period while active: the same item, charged now for a new period. */
  | "switch_period"
  /** A past-due Pro paid (either period): active again, charged now for a new period. */
  | "pay_past_due"
  /** A canceled Pro, same period, before its end: active again, nothing to pay. */
  | "resubscribe"
  /** A canceled Pro, the other period: active again, charged now for a new period. */
  | "resubscribe_switch"
  /** Pro → Free: Pro canceled until its period ends, Free upcoming; nothing to pay. */
  | "downgrade"
  /** A past-due Pro → Free: nothing was paid for this period, so Pro ends and Free starts now. */
  | "downgrade_now";

export interface PlanChange {
  kind: ChangeKind;
  /** Cents charged on confirm (0: no payment method needed). */
  charge: number;
  immediate: boolean;
  /** When the checked-out plan starts (ms). */
  planPeriodStart: number;
}

export interface CheckoutRecord {
  id: string;
  planSlug: PlanSlug;
  planPeriod: PlanPeriod;
  status: "needs_confirmation" | "completed";
  change: PlanChange;
  /** The card that paid, once completed with a charge. */
  paymentMethodId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface PayerRecord {
  userId: string;
  payerId: string;
  subscriptionId: string;
  /** The default plan's item keeps one id for the payer's life, as Clerk documents. */
  freeItemId: string;
  createdAt: number;
  updatedAt: number;
  activeAt: number;
  pastDueAt: number | null;
  /** Every item the payer had, oldest first (ended and abandoned ones stay, up to MAX_ITEM_HISTORY). */
  items: ItemRecord[];
  /** Newest last, at most MAX_ATTEMPTS. */
  attempts: AttemptRecord[];
  statements: StatementRecord[];
  /** Newest last, at most MAX_CHECKOUTS. */
  checkouts: CheckoutRecord[];
  defaultPaymentMethodId: string;
  /** The `timestamp` of the payer's last webhook envelope: the next one is strictly later. */
  lastEventAt: number;
}

/** Bounds on what a signed-in script can pile up in `state.json`. */
export const MAX_ATTEMPTS = 200;
export const MAX_CHECKOUTS = 20;
export const MAX_ITEM_HISTORY = 50;

/** Items that are part of the subscription now (ended and abandoned ones are history). */
const CURRENT: ReadonlySet<ItemStatus> = new Set(["active", "canceled", "past_due", "upcoming"]);

export function currentItems(payer: PayerRecord): ItemRecord[] {
  return payer.items.filter((i) => CURRENT.has(i.status));
}

export function freeItem(payer: PayerRecord): ItemRecord {
  const item = payer.items.find((i) => i.id === payer.freeItemId);
  if (!item) throw new Error(`payer ${payer.payerId} lost its free item`);
  return item;
}

/** The Pro item that is part of the subscription now (active, canceled or past due), if any. */
export function paidItem(payer: PayerRecord): ItemRecord | undefined {
  return payer.items.find((i) => i.planSlug === "pro" && CURRENT.has(i.status) && i.status !== "upcoming");
}

/**
 * The plan the payer has now, for the `pla` claim: Pro while its item is active, canceled (it is
 * kept until its period ends) or past due; otherwise Free.
 */
export function planNow(payer: PayerRecord | undefined): PlanSlug {
  return payer && paidItem(payer) ? "pro" : "free_user";
}

/** The subscription's status: past due while an item is, else active (the free item always is, or Pro). */
export function subscriptionStatus(payer: PayerRecord): "active" | "past_due" {
  return payer.items.some((i) => i.status === "past_due") ? "past_due" : "active";
}

/** The renewal the subscription expects: Pro active and not canceled, or past due (what is owed). */
export function nextPayment(payer: PayerRecord): { item: ItemRecord; date: number } | undefined {
  const item = paidItem(payer);
  if (!item || item.status === "canceled" || item.periodEnd === null) return undefined;
  return { item, date: item.periodEnd };
}
