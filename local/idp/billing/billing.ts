/**
 * Clerk Billing's rules for Gatehouse's user payers, in one place for the Frontend API (checkout,
 * cancel, cards), the Backend API (cancel), the dev endpoints (end a period, past due) and the
 * accounts (a payer per user). Every change is one `store.commit` together with its webhooks, in
 * the order Clerk's billing webhook guide describes for each flow (docs/local-stack.md has the table).
 * An emulation: no money moves; the two saved test cards decide whether a charge succeeds.
 */
import { HttpError, notFound } from "../http.ts";
import { newId } from "../ids.ts";
import type { IdpState, Store } from "../store.ts";
import type { UserJson } from "../users.ts";
import { cardById, DECLINE, SUCCEEDING_CARD, type TestCard } from "./cards.ts";
import { decideChange, sameChange } from "./changes.ts";
import {
  billingEventMessage,
  itemJson,
  paymentAttemptJson,
  subscriptionJson,
  type EventSubject,
  type ItemEventType,
  type PaymentAttemptEventType,
} from "./events.ts";
import { monthOf } from "./fapiJson.ts";
import {
  freeItem,
  MAX_ATTEMPTS,
  MAX_CHECKOUTS,
  MAX_ITEM_HISTORY,
  paidItem,
  planNow,
  subscriptionStatus,
  type AttemptRecord,
  type CheckoutRecord,
  type ItemRecord,
  type PayerRecord,
  type PlanChange,
} from "./model.ts";
import { periodEnd, planBySlug, priceOf, PRO_PLAN, type PlanPeriod, type PlanSlug } from "./plans.ts";

export interface BillingOptions {
  store: Store;
  now: () => number;
  /** False without a webhook URL: then no events are recorded (as for `user.*`). */
  webhooksEnabled: () => boolean;
}

/** Queues a payer's events within a commit, and knows the subscription status it started from. */
interface Emitter {
  item(type: ItemEventType, item: ItemRecord): void;
  attempt(attempt: AttemptRecord): void;
  /** `subscription.active` / `.pastDue` if the status changed since the emitter was made, else `.updated`. */
  subscriptionChanged(): void;
  subscription(type: "subscription.created" | "subscription.active"): void;
}

export class Billing {
  constructor(private readonly options: BillingOptions) {}

  private get state(): IdpState {
    return this.options.store.state;
  }

  private now(): number {
    return this.options.now();
  }

  payer(userId: string): PayerRecord | undefined {
    return this.state.billing.get(userId);
  }

  /** The user's payer, or 404 (a deleted user has none). */
  requirePayer(userId: string): PayerRecord {
    const payer = this.payer(userId);
    if (!payer) throw notFound("user");
    return payer;
  }

  /** The plan the user has now (the `pla` claim's slug). */
  planOf(userId: string): PlanSlug {
    return planNow(this.payer(userId));
  }

  /** The slugs of the features of the user's plan now (the `fea` claim). */
  featuresOf(userId: string): string[] {
    return planBySlug(this.planOf(userId)).features.map((f) => f.slug);
  }

  /** A subscription item by id, with its payer (the Backend API names items without a user). */
  findItem(itemId: string): { payer: PayerRecord; item: ItemRecord } | undefined {
    for (const payer of this.state.billing.values()) {
      const item = payer.items.find((i) => i.id === itemId);
      if (item) return { payer, item };
    }
    return undefined;
  }

  /**
   * Inside the commit that creates the user: their payer, with the default plan's item active from
   * now (Clerk: `subscription.created` when the user is created).
   */
  userCreated(state: IdpState, user: UserJson): void {
    const now = this.now();
    const free: ItemRecord = {
      id: newId("csubi"),
      planSlug: "free_user",
      planPeriod: "month",
      status: "active",
      createdAt: now,
      updatedAt: now,
      periodStart: now,
      periodEnd: null,
      canceledAt: null,
      pastDueAt: null,
      endedAt: null,
      lifetimePaid: 0,
    };
    const payer: PayerRecord = {
      userId: user.id,
      payerId: newId("cpayer"),
      subscriptionId: newId("csub"),
      freeItemId: free.id,
      createdAt: now,
      updatedAt: now,
      activeAt: now,
      pastDueAt: null,
      items: [free],
      attempts: [],
      statements: [],
      checkouts: [],
      defaultPaymentMethodId: SUCCEEDING_CARD.id,
      // The first billing event comes after the user's `user.created` (same lane, same ms).
      lastEventAt: now,
    };
    state.billing.set(user.id, payer);
    const emit = this.emitter(state, payer);
    emit.subscription("subscription.created");
    emit.item("subscriptionItem.active", free);
    emit.subscription("subscription.active");
  }

  /**
   * Inside the commit that deletes the user: their billing goes with them, with no billing event
   * (Clerk's `user.deleted` is the only one sent; docs/local-stack.md).
   */
  userDeleted(state: IdpState, userId: string): void {
    state.billing.delete(userId);
  }

  /** Users from a data dir written before billing existed get their payer now (Clerk: billing enabled for existing users). */
  backfill(): void {
    const missing = [...this.state.users.values()].filter((u) => !this.state.billing.has(u.id));
    if (missing.length === 0) return;
    this.options.store.commit((state) => {
      for (const user of missing) this.userCreated(state, user);
    });
  }

  /** Starts a checkout for a plan and period (free has only monthly), or 422 when it changes nothing. */
  startCheckout(userId: string, planSlug: PlanSlug, period: PlanPeriod): CheckoutRecord {
    const payer = this.requirePayer(userId);
    const planPeriod = planSlug === "free_user" ? "month" : period;
    const now = this.now();
    const decision = decideChange(payer, planSlug, planPeriod, now);
    if ("refusal" in decision) throw billingError("billing_plan_unchanged", decision.refusal);
    const checkout: CheckoutRecord = {
      id: newId("cchk"),
      planSlug,
      planPeriod,
      status: "needs_confirmation",
      change: decision.change,
      paymentMethodId: null,
      createdAt: now,
      updatedAt: now,
    };
    return this.options.store.commit(() => {
      payer.checkouts = [...payer.checkouts, checkout].slice(-MAX_CHECKOUTS);
      return checkout;
    });
  }

  checkout(userId: string, checkoutId: string): CheckoutRecord {
    const found = this.requirePayer(userId).checkouts.find((c) => c.id === checkoutId);
    if (!found) throw notFound("checkout");
    return found;
  }

  /**
   * Confirms a checkout: checks it still describes what it would do, charges the card when
   * something is due (a declined card records its failed charge and changes nothing else, then
   * 422 `card_declined`), and applies the change. Confirming a completed checkout again answers it
   * unchanged (a retried request must not charge twice).
   */
  confirmCheckout(userId: string, checkoutId: string, paymentMethodId: string | undefined): CheckoutRecord {
    const payer = this.requirePayer(userId);
    const checkout = this.checkout(userId, checkoutId);
    if (checkout.status === "completed") return checkout;
    const card = paymentMethodId === undefined ? undefined : cardById(paymentMethodId);
    if (paymentMethodId !== undefined && !card) {
      throw billingError(
        "payment_method_not_found",
        "That payment method is not one of your saved cards.",
        422,
      );
    }
    const now = this.now();
    const decision = decideChange(payer, checkout.planSlug, checkout.planPeriod, now);
    if ("refusal" in decision || !sameChange(decision.change, checkout.change)) {
      throw billingError(
        "checkout_outdated",
        "Your subscription changed since this checkout started. Close it and start again.",
      );
    }
    const change = decision.change;
    if (change.charge > 0 && !card) {
      throw billingError("payment_method_required", "Choose a saved card to pay with.");
    }
    const declined = this.options.store.commit((state) => {
      const emit = this.emitter(state, payer);
      if (change.charge > 0 && card) {
        const attempt = this.charge(payer, card, change.charge, "checkout", now);
        if (attempt.status === "failed") {
          // The item it would have paid for never starts: reported as `incomplete` on the charge only.
          attempt.item = this.wouldBeItem(payer, checkout, change, now);
          emit.attempt(attempt);
          return true;
        }
        this.apply(payer, checkout, change, now, emit, attempt);
      } else {
        this.apply(payer, checkout, change, now, emit, undefined);
      }
      checkout.status = "completed";
      checkout.change = change;
      checkout.paymentMethodId = change.charge > 0 && card ? card.id : null;
      checkout.updatedAt = now;
      return false;
    });
    if (declined)
      throw billingError("card_declined", DECLINE.message, 422, { decline_code: DECLINE.declineCode });
    return checkout;
  }

  /**
   * Cancels an item. At period end (the profile's "Cancel subscription", the Backend API's
   * default): Pro stays until its period ends, Free is upcoming; a past-due Pro (its period was
   * never paid) ends at once. `endNow` (the Backend API's `end_now=true`): Pro ends and Free
   * starts now. Canceling a canceled item again changes nothing.
   */
  cancelItem(payer: PayerRecord, itemId: string, endNow: boolean): ItemRecord {
    const item = payer.items.find((i) => i.id === itemId);
    if (!item) throw notFound("subscription item");
    if (item.id === payer.freeItemId) {
      throw billingError("subscription_item_not_cancelable", "The free plan cannot be canceled.");
    }
    if (item.status !== "active" && item.status !== "canceled" && item.status !== "past_due") {
      throw billingError("subscription_item_not_cancelable", "This subscription item has already ended.");
    }
    if (item.status === "canceled" && !endNow) return item;
    const now = this.now();
    return this.options.store.commit((state) => {
      const emit = this.emitter(state, payer);
      if (endNow || item.status === "past_due") this.endPaidNow(payer, item, now, emit);
      else this.cancelAtPeriodEnd(payer, item, now, emit);
      return item;
    });
  }

  /** "Make default" in UserProfile's payment methods. */
  setDefaultPaymentMethod(userId: string, paymentMethodId: string): TestCard {
    const payer = this.requirePayer(userId);
    const card = cardById(paymentMethodId);
    if (!card) throw notFound("payment method");
    if (payer.defaultPaymentMethodId !== card.id) {
      this.options.store.commit(() => {
        payer.defaultPaymentMethodId = card.id;
        payer.updatedAt = Math.max(this.now(), payer.updatedAt);
      });
    }
    return card;
  }

  /**
   * Dev: the paid item's period ends now. A canceled or past-due Pro ends and Free becomes active;
   * an active Pro renews on the default card (a new period from now), or, if that card declines,
   * becomes past due. 422 without a paid item.
   */
  endPeriod(userId: string): PayerRecord {
    const payer = this.requirePayer(userId);
    const pro = paidItem(payer);
    if (!pro) throw billingError("billing_no_paid_item", "This user has no Pro subscription item.");
    const now = this.now();
    return this.options.store.commit((state) => {
      const emit = this.emitter(state, payer);
      if (pro.status !== "active") {
        this.endPaidNow(payer, pro, now, emit);
        return payer;
      }
      const attempt = this.charge(
        payer,
        this.defaultCard(payer),
        priceOf(PRO_PLAN, pro.planPeriod),
        "recurring",
        now,
      );
      if (attempt.status === "failed") {
        this.pastDue(payer, pro, attempt, now, emit);
        return payer;
      }
      Object.assign(pro, { periodStart: now, periodEnd: periodEnd(now, pro.planPeriod), updatedAt: now });
      pro.lifetimePaid += attempt.amount;
      attempt.item = { ...pro };
      touch(payer, now);
      emit.attempt(attempt);
      emit.item("subscriptionItem.updated", pro);
      emit.subscriptionChanged();
      return payer;
    });
  }

  /** Dev: the active Pro's renewal fails now: a declined recurring charge, then past due. 422 otherwise. */
  makePastDue(userId: string): PayerRecord {
    const payer = this.requirePayer(userId);
    const pro = paidItem(payer);
    if (!pro || pro.status !== "active") {
      throw billingError(
        "billing_no_active_paid_item",
        "Only an active (not canceled, not past-due) Pro subscription item can become past due.",
      );
    }
    const now = this.now();
    return this.options.store.commit((state) => {
      const emit = this.emitter(state, payer);
      const card = this.defaultCard(payer);
      const attempt = this.charge(
        payer,
        { ...card, declines: true },
        priceOf(PRO_PLAN, pro.planPeriod),
        "recurring",
        now,
      );
      this.pastDue(payer, pro, attempt, now, emit);
      return payer;
    });
  }

  /** Seeding: subscribes the user as a checkout confirmed with the default card would. */
  subscribe(userId: string, planSlug: PlanSlug, period: PlanPeriod): void {
    const payer = this.requirePayer(userId);
    const checkout = this.startCheckout(userId, planSlug, period);
    this.confirmCheckout(userId, checkout.id, payer.defaultPaymentMethodId);
  }

  /** Whether the user ever had a Pro item (a seed leaves a user who canceled on Free). */
  everPaid(userId: string): boolean {
    return this.payer(userId)?.items.some((i) => i.planSlug === "pro") ?? false;
  }

  // --- changes, each within a commit ---

  private apply(
    payer: PayerRecord,
    checkout: CheckoutRecord,
    change: PlanChange,
    now: number,
    emit: Emitter,
    attempt: AttemptRecord | undefined,
  ): void {
    const free = freeItem(payer);
    const pro = paidItem(payer);
    const period = checkout.planPeriod;
    touch(payer, now);
    switch (change.kind) {
      case "upgrade": {
        const item: ItemRecord = {
          ...this.wouldBeItem(payer, checkout, change, now),
          status: "active",
          lifetimePaid: attempt?.amount ?? 0,
        };
        payer.items.push(item);
        Object.assign(free, { status: "ended", endedAt: now, updatedAt: now });
        this.settled(attempt, item, emit);
        emit.item("subscriptionItem.active", item);
        emit.item("subscriptionItem.ended", free);
        break;
      }
      case "switch_period":
      case "pay_past_due":
      case "resubscribe_switch": {
        const item = pro!;
        const reactivated = item.status === "past_due";
        Object.assign(item, {
          status: "active",
          planPeriod: period,
          periodStart: now,
          periodEnd: periodEnd(now, period),
          canceledAt: null,
          pastDueAt: null,
          updatedAt: now,
        });
        item.lifetimePaid += attempt?.amount ?? 0;
        payer.pastDueAt = null;
        this.settled(attempt, item, emit);
        emit.item(reactivated ? "subscriptionItem.active" : "subscriptionItem.updated", item);
        if (change.kind === "resubscribe_switch") {
          Object.assign(free, { status: "abandoned", updatedAt: now });
          emit.item("subscriptionItem.abandoned", free);
        }
        break;
      }
      case "resubscribe": {
        const item = pro!;
        Object.assign(item, { status: "active", canceledAt: null, updatedAt: now });
        Object.assign(free, { status: "abandoned", updatedAt: now });
        emit.item("subscriptionItem.updated", item);
        emit.item("subscriptionItem.abandoned", free);
        break;
      }
      case "downgrade":
        this.cancelAtPeriodEnd(payer, pro!, now, emit);
        return; // emitted the subscription event
      case "downgrade_now":
        this.endPaidNow(payer, pro!, now, emit);
        return;
    }
    trimHistory(payer);
    emit.subscriptionChanged();
  }

  /** Pro canceled until its period ends, Free upcoming from then. */
  private cancelAtPeriodEnd(payer: PayerRecord, pro: ItemRecord, now: number, emit: Emitter): void {
    const free = freeItem(payer);
    touch(payer, now);
    Object.assign(pro, { status: "canceled", canceledAt: now, updatedAt: now });
    Object.assign(free, {
      status: "upcoming",
      periodStart: pro.periodEnd ?? now,
      endedAt: null,
      updatedAt: now,
    });
    emit.item("subscriptionItem.canceled", pro);
    emit.item("subscriptionItem.upcoming", free);
    emit.subscriptionChanged();
  }

  /** Pro ends now (its period too), Free is active from now. */
  private endPaidNow(payer: PayerRecord, pro: ItemRecord, now: number, emit: Emitter): void {
    const free = freeItem(payer);
    touch(payer, now);
    Object.assign(pro, { status: "ended", endedAt: now, periodEnd: now, updatedAt: now });
    Object.assign(free, { status: "active", periodStart: now, endedAt: null, updatedAt: now });
    payer.pastDueAt = null;
    emit.item("subscriptionItem.ended", pro);
    emit.item("subscriptionItem.active", free);
    trimHistory(payer);
    emit.subscriptionChanged();
  }

  /** After a declined renewal: Pro past due for the new (unpaid) period, which starts now. */
  private pastDue(
    payer: PayerRecord,
    pro: ItemRecord,
    attempt: AttemptRecord,
    now: number,
    emit: Emitter,
  ): void {
    touch(payer, now);
    Object.assign(pro, {
      status: "past_due",
      pastDueAt: now,
      periodStart: now,
      periodEnd: periodEnd(now, pro.planPeriod),
      updatedAt: now,
    });
    payer.pastDueAt = now;
    attempt.item = { ...pro };
    emit.attempt(attempt);
    emit.item("subscriptionItem.pastDue", pro);
    emit.subscriptionChanged();
  }

  /** A charge that went through is reported before the items it paid for. */
  private settled(attempt: AttemptRecord | undefined, item: ItemRecord, emit: Emitter): void {
    if (!attempt) return;
    attempt.item = { ...item };
    emit.attempt(attempt);
  }

  /** The Pro item a checkout would start (the upgrade's new item; a declined one keeps it as `incomplete`). */
  private wouldBeItem(
    payer: PayerRecord,
    checkout: CheckoutRecord,
    change: PlanChange,
    now: number,
  ): ItemRecord {
    const existing = paidItem(payer);
    if (existing && change.kind !== "upgrade") return { ...existing };
    return {
      id: newId("csubi"),
      planSlug: checkout.planSlug,
      planPeriod: checkout.planPeriod,
      status: "incomplete",
      createdAt: now,
      updatedAt: now,
      periodStart: now,
      periodEnd: periodEnd(now, checkout.planPeriod),
      canceledAt: null,
      pastDueAt: null,
      endedAt: null,
      lifetimePaid: 0,
    };
  }

  /** Records a charge of the card (declined if it is the declining test card) in this month's statement. */
  private charge(
    payer: PayerRecord,
    card: TestCard,
    amount: number,
    chargeType: AttemptRecord["chargeType"],
    now: number,
  ): AttemptRecord {
    const failed = card.declines;
    const attempt: AttemptRecord = {
      id: newId("cpa"),
      paymentId: newId("cpay"),
      statementId: this.statementFor(payer, now),
      status: failed ? "failed" : "paid",
      chargeType,
      amount,
      paymentMethodId: card.id,
      createdAt: now,
      updatedAt: now,
      paidAt: failed ? null : now,
      failedAt: failed ? now : null,
      item: freeItem(payer), // replaced by the item charged for once settled
    };
    payer.attempts = [...payer.attempts, attempt].slice(-MAX_ATTEMPTS);
    return attempt;
  }

  private statementFor(payer: PayerRecord, now: number): string {
    const month = monthOf(now);
    let statement = payer.statements.find((s) => s.month === month);
    if (!statement) {
      statement = { id: newId("cstmt"), month, timestamp: Date.parse(`${month}-01T00:00:00Z`) };
      payer.statements.push(statement);
    }
    return statement.id;
  }

  private defaultCard(payer: PayerRecord): TestCard {
    return cardById(payer.defaultPaymentMethodId) ?? SUCCEEDING_CARD;
  }

  private emitter(state: IdpState, payer: PayerRecord): Emitter {
    const statusBefore = subscriptionStatus(payer);
    const enabled = this.options.webhooksEnabled();
    const now = this.now();
    const subject = (): EventSubject => {
      const user = state.users.get(payer.userId);
      if (!user) throw new Error(`billing event for unknown user ${payer.userId}`);
      return { payer, user, instanceId: state.instanceId };
    };
    const push = (
      type: Parameters<typeof billingEventMessage>[0],
      data: Parameters<typeof billingEventMessage>[1],
    ) => {
      state.outbox.push(billingEventMessage(type, data, payer, state.instanceId, now));
    };
    const attemptEvent = (type: PaymentAttemptEventType, attempt: AttemptRecord) =>
      push(
        type,
        paymentAttemptJson(
          attempt,
          type === "paymentAttempt.created" ? "pending" : "settled",
          subject(),
          now,
        ),
      );
    return {
      item: (type, item) => {
        if (enabled) push(type, itemJson(item, subject(), now));
      },
      attempt: (attempt) => {
        if (!enabled) return;
        attemptEvent("paymentAttempt.created", attempt);
        attemptEvent("paymentAttempt.updated", attempt);
      },
      subscription: (type) => {
        if (enabled) push(type, subscriptionJson(subject(), now));
      },
      subscriptionChanged: () => {
        if (!enabled) return;
        const status = subscriptionStatus(payer);
        const type =
          status === statusBefore
            ? "subscription.updated"
            : status === "past_due"
              ? "subscription.pastDue"
              : "subscription.active";
        push(type, subscriptionJson(subject(), now));
      },
    };
  }
}

/** Moves the payer's `updated_at` (strictly, like a user's: readers may order by it). */
function touch(payer: PayerRecord, now: number): void {
  payer.updatedAt = Math.max(now, payer.updatedAt + 1);
}

/** Keeps the current items and the newest MAX_ITEM_HISTORY ended or abandoned ones. */
function trimHistory(payer: PayerRecord): void {
  const past = payer.items.filter(
    (i) => i.id !== payer.freeItemId && (i.status === "ended" || i.status === "abandoned"),
  );
  const drop = new Set(past.slice(0, Math.max(0, past.length - MAX_ITEM_HISTORY)).map((i) => i.id));
  if (drop.size > 0) payer.items = payer.items.filter((i) => !drop.has(i.id));
}

/**
 * A billing error in Clerk's shape, without `meta.param_name`: the checkout drawer shows a
 * field-less error's `long_message` in its alert. Never 5xx or 409: clerk-js retries those on
 * confirm (and would charge again).
 */
export function billingError(
  code: string,
  longMessage: string,
  status = 422,
  meta: Record<string, unknown> = {},
) {
  return new HttpError(status, code, longMessage, longMessage, meta);
}
