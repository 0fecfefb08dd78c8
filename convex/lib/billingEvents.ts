import { z } from "zod";
import type { ItemState } from "./billing";

/**
 * The parts of Clerk Billing's webhook payloads Gatehouse uses, as `@clerk/backend` types them
 * (`BillingSubscriptionItemWebhookEventJSON`, `BillingSubscriptionWebhookEventJSON`). Unknown keys
 * pass (Clerk adds fields); the ones relied on must be present and well typed. Statuses stay
 * strings: one Clerk adds later must not turn a valid event into a 400 that svix retries for a day.
 */
const payer = z.object({ user_id: z.string().min(1).optional() }).passthrough();

/** What every item, from a webhook or the Backend API, must carry: its id, status and plan. */
const itemBasics = {
  id: z.string().min(1),
  status: z.string().min(1).max(64),
  plan: z
    .object({ slug: z.string().min(1).max(256) })
    .passthrough()
    .nullish(),
};

const itemJson = z.object({
  ...itemBasics,
  period_end: z.number().nullable(),
  canceled_at: z.number().nullish(),
  past_due_at: z.number().nullish(),
  payer: payer.optional(),
});

const subscriptionJson = z.object({
  id: z.string().min(1),
  status: z.string().min(1).max(64),
  payer,
  items: z.array(itemJson).max(100),
});

/** Clerk's event time orders states of the same item; billing events without it are malformed. */
const envelope = { object: z.literal("event"), timestamp: z.number().int().nonnegative() };

export const SUBSCRIPTION_EVENT_TYPES = [
  "subscription.created",
  "subscription.updated",
  "subscription.active",
  "subscription.pastDue",
] as const;

export const SUBSCRIPTION_ITEM_EVENT_TYPES = [
  "subscriptionItem.created",
  "subscriptionItem.updated",
  "subscriptionItem.active",
  "subscriptionItem.canceled",
  "subscriptionItem.upcoming",
  "subscriptionItem.ended",
  "subscriptionItem.abandoned",
  "subscriptionItem.incomplete",
  "subscriptionItem.pastDue",
  "subscriptionItem.freeTrialEnding",
] as const;

export const BILLING_EVENT_TYPES: readonly string[] = [
  ...SUBSCRIPTION_EVENT_TYPES,
  ...SUBSCRIPTION_ITEM_EVENT_TYPES,
];

export const billingEvent = z.union([
  z.object({ ...envelope, type: z.enum(SUBSCRIPTION_EVENT_TYPES), data: subscriptionJson }),
  z.object({ ...envelope, type: z.enum(SUBSCRIPTION_ITEM_EVENT_TYPES), data: itemJson }),
]);
export type BillingEvent = z.infer<typeof billingEvent>;

type ItemJson = z.infer<typeof itemJson>;

function itemState(item: ItemJson, asOf: number): ItemState {
  return {
    itemId: item.id,
    // An item without a plan grants nothing: it is kept under a slug no rule matches.
    planSlug: item.plan?.slug ?? "",
    status: item.status,
    periodEnd: item.period_end,
    canceledAt: item.canceled_at ?? null,
    pastDueAt: item.past_due_at ?? null,
    asOf,
  };
}

/**
 * The user an event is about and the item states it reports, or null for a payer that is not a
 * user (an organization: Gatehouse has none, so its events are acknowledged and ignored).
 */
export function billingUpdate(event: BillingEvent): { clerkId: string; items: ItemState[] } | null {
  if ("items" in event.data) {
    const clerkId = event.data.payer.user_id;
    if (clerkId === undefined) return null;
    return { clerkId, items: event.data.items.map((i) => itemState(i, event.timestamp)) };
  }
  const clerkId = event.data.payer?.user_id;
  if (clerkId === undefined) return null;
  return { clerkId, items: [itemState(event.data, event.timestamp)] };
}

/**
 * A user's subscription as Clerk's Backend API returns it through `@clerk/backend`
 * (`clerkClient.billing.getUserBillingSubscription`: a `BillingSubscription` whose
 * `subscriptionItems` are `BillingSubscriptionItem`s). Checked like a webhook's payload: it
 * crossed the network.
 */
const backendItem = z.object({
  ...itemBasics,
  periodEnd: z.number().nullable(),
  canceledAt: z.number().nullish(),
  pastDueAt: z.number().nullish(),
  updatedAt: z.number().int().nonnegative(),
});
export const backendSubscription = z.object({ subscriptionItems: z.array(backendItem).max(100) });

/**
 * The item states of a subscription read from the Backend API, each as of its own `updated_at`
 * (Clerk's clock, as event timestamps are): an event about a later change still supersedes it, and
 * it supersedes only states older than the change it reports.
 */
export function backendItemStates(subscription: z.infer<typeof backendSubscription>): ItemState[] {
  return subscription.subscriptionItems.map((item) =>
    itemState(
      {
        id: item.id,
        status: item.status,
        plan: item.plan,
        period_end: item.periodEnd,
        canceled_at: item.canceledAt,
        past_due_at: item.pastDueAt,
      },
      item.updatedAt,
    ),
  );
}
