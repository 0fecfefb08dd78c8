import { describe, expect, it } from "vitest";
import { decideChange } from "./changes.ts";
import { planNow, type ItemRecord, type PayerRecord } from "./model.ts";
import { periodEnd } from "./plans.ts";

const T = Date.UTC(2027, 5, 1);

function item(over: Partial<ItemRecord>): ItemRecord {
  return {
    id: "csubi_x",
    planSlug: "pro",
    planPeriod: "month",
    status: "active",
    createdAt: T,
    updatedAt: T,
    periodStart: T,
    periodEnd: periodEnd(T, "month"),
    canceledAt: null,
    pastDueAt: null,
    endedAt: null,
    lifetimePaid: 1000,
    ...over,
  };
}

/** A payer with the free item (status as given) and, if given, a Pro item. */
function payer(freeStatus: ItemRecord["status"], pro?: Partial<ItemRecord>): PayerRecord {
  const free = item({
    id: "csubi_free",
    planSlug: "free_user",
    status: freeStatus,
    periodEnd: null,
    lifetimePaid: 0,
  });
  return {
    userId: "user_x",
    payerId: "cpayer_x",
    subscriptionId: "csub_x",
    freeItemId: free.id,
    createdAt: T,
    updatedAt: T,
    activeAt: T,
    pastDueAt: null,
    items: pro ? [free, item(pro)] : [free],
    attempts: [],
    statements: [],
    checkouts: [],
    defaultPaymentMethodId: "cpm_test_4242",
    lastEventAt: T,
  };
}

describe("billing periods", () => {
  it("end a calendar month or year later in UTC, clamped to the month's last day", () => {
    expect(periodEnd(Date.UTC(2027, 0, 31, 9), "month")).toBe(Date.UTC(2027, 1, 28, 9));
    expect(periodEnd(Date.UTC(2028, 0, 31), "month")).toBe(Date.UTC(2028, 1, 29));
    expect(periodEnd(Date.UTC(2027, 11, 15), "month")).toBe(Date.UTC(2028, 0, 15));
    expect(periodEnd(Date.UTC(2028, 1, 29), "annual")).toBe(Date.UTC(2029, 1, 28));
  });
});

describe("what a checkout would do", () => {
  const decide = (p: PayerRecord, slug: "free_user" | "pro", period: "month" | "annual") =>
    decideChange(p, slug, period, T + 1);

  it("decides each plan change from the subscription alone", () => {
    const cases: Array<[string, PayerRecord, "free_user" | "pro", "month" | "annual", unknown]> = [
      [
        "Free → Pro monthly",
        payer("active"),
        "pro",
        "month",
        { kind: "upgrade", charge: 1000, immediate: true },
      ],
      [
        "Free → Pro annual",
        payer("active"),
        "pro",
        "annual",
        { kind: "upgrade", charge: 9600, immediate: true },
      ],
      [
        "Pro → Free",
        payer("ended", {}),
        "free_user",
        "month",
        { kind: "downgrade", charge: 0, immediate: false },
      ],
      ["Pro monthly → annual", payer("ended", {}), "pro", "annual", { kind: "switch_period", charge: 9600 }],
      [
        "canceled Pro, same period",
        payer("upcoming", { status: "canceled", canceledAt: T }),
        "pro",
        "month",
        { kind: "resubscribe", charge: 0, immediate: true },
      ],
      [
        "canceled Pro, other period",
        payer("upcoming", { status: "canceled", canceledAt: T }),
        "pro",
        "annual",
        { kind: "resubscribe_switch", charge: 9600 },
      ],
      [
        "past-due Pro paid",
        payer("ended", { status: "past_due", pastDueAt: T }),
        "pro",
        "month",
        { kind: "pay_past_due", charge: 1000 },
      ],
      [
        "past-due Pro → Free",
        payer("ended", { status: "past_due", pastDueAt: T }),
        "free_user",
        "month",
        { kind: "downgrade_now", charge: 0, immediate: true },
      ],
    ];
    for (const [name, p, slug, period, expected] of cases) {
      expect(decide(p, slug, period), name).toEqual({ change: expect.objectContaining(expected) });
    }
  });

  it("refuses what changes nothing", () => {
    expect(decide(payer("active"), "free_user", "month")).toEqual({
      refusal: expect.stringMatching(/already/),
    });
    expect(decide(payer("ended", {}), "pro", "month")).toEqual({ refusal: expect.stringMatching(/already/) });
    const canceled = payer("upcoming", { status: "canceled", canceledAt: T });
    expect(decide(canceled, "free_user", "month")).toEqual({
      refusal: expect.stringMatching(/already canceled/),
    });
  });

  it("a downgrade starts Free when Pro's period ends", () => {
    const decision = decide(payer("ended", {}), "free_user", "month");
    expect(decision).toMatchObject({ change: { planPeriodStart: periodEnd(T, "month") } });
  });

  it("the plan now: Pro while active, canceled or past due; Free otherwise", () => {
    expect(planNow(undefined)).toBe("free_user");
    expect(planNow(payer("active"))).toBe("free_user");
    for (const status of ["active", "canceled", "past_due"] as const)
      expect(planNow(payer("ended", { status }))).toBe("pro");
    for (const status of ["ended", "abandoned", "incomplete"] as const) {
      expect(planNow(payer("active", { status }))).toBe("free_user");
    }
  });
});
