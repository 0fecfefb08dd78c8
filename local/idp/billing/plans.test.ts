/**
 * The emulated catalog is what /pricing shows (Clerk's `<PricingTable>` renders each plan's name,
 * description and features), so it must promise what the SPA's plan cards promise and the server
 * enforces: the free quota, and every Pro feature.
 */
import { describe, expect, it } from "vitest";
import { FREE_POST_QUOTA } from "../../../convex/lib/permissions.ts";
import { PLAN_OFFERS } from "../../../src/features/landing/planOffers.ts";
import { FREE_PLAN, PRO_PLAN } from "./plans.ts";

const offer = (plan: "free_user" | "pro") => PLAN_OFFERS.find((o) => o.plan === plan)!;
const names = (plan: typeof FREE_PLAN) => plan.features.map((f) => f.name);

describe("the emulated plan catalog", () => {
  it("Free's card states the free quota the server enforces", () => {
    const card = [FREE_PLAN.description, ...names(FREE_PLAN)].join(" ");
    expect(card).toContain(`Up to ${FREE_POST_QUOTA} posts`);
  });

  it("Pro lists every feature the plan cards promise for it, and everything Free has", () => {
    const promised = offer("pro").features.filter((f) => !f.startsWith("Everything in"));
    expect(names(PRO_PLAN)).toEqual(expect.arrayContaining(promised));
    expect(names(PRO_PLAN)).toEqual(expect.arrayContaining(names(FREE_PLAN)));
    // Pro's own features first: a narrow card shows the first few.
    expect(names(PRO_PLAN).slice(0, promised.length)).toEqual(promised);
  });

  it("descriptions and feature names are the plan cards' words", () => {
    expect(FREE_PLAN.description).toContain(offer("free_user").summary);
    expect(PRO_PLAN.description).toBe(offer("pro").summary);
  });
});
