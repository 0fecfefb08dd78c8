/** Clerk Billing events for webhook suites, shaped as `@clerk/backend` types them. */
import type {
  BillingSubscriptionItemJSON,
  BillingSubscriptionItemWebhookEvent,
  BillingSubscriptionJSON,
  BillingSubscriptionWebhookEvent,
} from "@clerk/backend";

type ItemJSON = BillingSubscriptionItemWebhookEvent["data"];

const DAY = 24 * 60 * 60 * 1000;

const plans = {
  free_user: { name: "Free", amount: 0, is_default: true },
  pro: { name: "Pro", amount: 1000, is_default: false },
} as const;

export type ItemOptions = {
  userId: string;
  itemId?: string;
  plan?: keyof typeof plans | "enterprise";
  status: ItemJSON["status"];
  /** The event's own time (envelope `timestamp`), which orders states of an item. */
  at: number;
  periodEnd?: number | null;
  canceledAt?: number;
  pastDueAt?: number;
};

function planJson(slug: ItemOptions["plan"] & string) {
  const p =
    slug in plans
      ? plans[slug as keyof typeof plans]
      : { name: "Enterprise", amount: 9900, is_default: false };
  return {
    id: `cplan_${slug}`,
    instance_id: "ins_test",
    product_id: "prod_test",
    name: p.name,
    slug,
    is_default: p.is_default,
    is_recurring: true,
    amount: p.amount,
    period: "month" as const,
    interval: 1,
    has_base_fee: p.amount > 0,
    currency: "USD",
    annual_monthly_amount: p.amount * 0.8,
    publicly_visible: true,
  };
}

function money(amount: number) {
  return { amount, amount_formatted: (amount / 100).toFixed(2), currency: "USD", currency_symbol: "$" };
}

export function itemJson(o: ItemOptions): ItemJSON {
  const slug = o.plan ?? "pro";
  const amount = slug === "free_user" ? 0 : 1000;
  return {
    object: "commerce_subscription_item",
    id: o.itemId ?? `csubi_${slug}_${o.userId}`,
    status: o.status,
    credit: {
      amount: money(0),
      cycle_days_remaining: 30,
      cycle_days_total: 30,
      cycle_remaining_percent: 100,
    },
    proration_date: new Date(o.at).toISOString(),
    plan_period: "month",
    period_start: o.at,
    period_end: o.periodEnd === undefined ? (slug === "free_user" ? null : o.at + 30 * DAY) : o.periodEnd,
    ...(o.canceledAt !== undefined ? { canceled_at: o.canceledAt } : {}),
    ...(o.pastDueAt !== undefined ? { past_due_at: o.pastDueAt } : {}),
    lifetime_paid: amount,
    next_payment_amount: amount,
    next_payment_date: o.at + 30 * DAY,
    amount: money(amount),
    plan: planJson(slug),
    plan_id: `cplan_${slug}`,
    payer: {
      object: "commerce_payer",
      id: `cpayer_${o.userId}`,
      instance_id: "ins_test",
      user_id: o.userId,
      email: `${o.userId}@example.com`,
      image_url: "",
      created_at: 0,
      updated_at: 0,
    },
  };
}

const ITEM_EVENT = {
  active: "subscriptionItem.active",
  canceled: "subscriptionItem.canceled",
  ended: "subscriptionItem.ended",
  past_due: "subscriptionItem.pastDue",
  upcoming: "subscriptionItem.upcoming",
  abandoned: "subscriptionItem.abandoned",
  incomplete: "subscriptionItem.incomplete",
  expired: "subscriptionItem.updated",
} as const;

/** A `subscriptionItem.*` event; the type follows the status unless given. */
export function itemEvent(
  o: ItemOptions,
  type?: BillingSubscriptionItemWebhookEvent["type"],
): BillingSubscriptionItemWebhookEvent {
  return {
    type: type ?? ITEM_EVENT[o.status],
    object: "event",
    data: itemJson(o),
    timestamp: o.at,
    instance_id: "ins_test",
    event_attributes: { http_request: { client_ip: "", user_agent: "" } },
  };
}

/** A `subscription.*` event carrying every item's state at `at`. */
export function subscriptionEvent(
  type: BillingSubscriptionWebhookEvent["type"],
  userId: string,
  at: number,
  items: Omit<ItemOptions, "userId" | "at">[],
): BillingSubscriptionWebhookEvent {
  const itemJsons = items.map((i) => itemJson({ ...i, userId, at }));
  return {
    type,
    object: "event",
    data: {
      object: "commerce_subscription",
      id: `csub_${userId}`,
      status: "active",
      created_at: at,
      updated_at: at,
      latest_payment_id: "",
      payer_id: `cpayer_${userId}`,
      payer: itemJson({ userId, at, status: "active" }).payer!,
      payment_source_id: "",
      items: itemJsons,
    },
    timestamp: at,
    instance_id: "ins_test",
    event_attributes: { http_request: { client_ip: "", user_agent: "" } },
  };
}

export { DAY };

/**
 * A user's subscription as Clerk's Backend API answers `getUserBillingSubscription`, its items as
 * `ItemOptions` say (`at` is each item's `updated_at`), with the ids billing events use.
 */
export function backendSubscription(
  userId: string,
  items: Omit<ItemOptions, "userId">[],
): BillingSubscriptionJSON {
  const at = Math.max(0, ...items.map((i) => i.at));
  return {
    object: "commerce_subscription",
    id: `csub_${userId}`,
    instance_id: "ins_test",
    status: "active",
    payer_id: `cpayer_${userId}`,
    created_at: 0,
    updated_at: at,
    active_at: 0,
    past_due_at: null,
    subscription_items: items.map((o): BillingSubscriptionItemJSON => {
      const event = itemJson({ ...o, userId });
      return {
        object: "commerce_subscription_item",
        id: event.id,
        instance_id: "ins_test",
        status: o.status,
        plan_period: "month",
        payer_id: `cpayer_${userId}`,
        period_start: event.period_start,
        period_end: event.period_end,
        is_free_trial: false,
        ended_at: o.status === "ended" ? o.at : null,
        created_at: 0,
        updated_at: o.at,
        canceled_at: o.canceledAt ?? null,
        past_due_at: o.pastDueAt ?? null,
        plan: { ...planJson(o.plan ?? "pro"), fee: money(event.amount.amount) } as never,
        plan_id: `cplan_${o.plan ?? "pro"}`,
      };
    }),
  } as BillingSubscriptionJSON;
}
