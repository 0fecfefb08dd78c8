import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { PlanAndUsage } from "./PlanAndUsage";

type Paid = { status: "active" | "canceled" | "past_due"; periodEnd: number | null } | null;
const state = vi.hoisted(() => ({
  viewer: { clerkId: "user_a", plan: "pro" as "pro" | "free_user", role: "user" },
  subscription: { plan: "pro", source: "subscription" as string, paid: null as Paid },
  quota: { used: 3, limit: null as number | null },
}));
vi.mock("../../../convex/_generated/api", () => ({
  api: { posts: { quota: "quota" }, billing: { mine: "mine" } },
}));
vi.mock("convex/react", () => ({
  useQuery: (fn: string) => (fn === "quota" ? state.quota : state.subscription),
}));
vi.mock("../../auth/useViewer", () => ({ useViewer: () => state.viewer }));

const END = Date.UTC(2026, 11, 31, 12);
const endText = new Date(END).toLocaleDateString(undefined, {
  year: "numeric",
  month: "long",
  day: "numeric",
});

function show() {
  render(
    <MemoryRouter>
      <PlanAndUsage />
    </MemoryRouter>,
  );
  return document.body.textContent ?? "";
}

describe("the account's plan section", () => {
  beforeEach(() => {
    state.viewer.plan = "pro";
    state.subscription = { plan: "pro", source: "subscription", paid: null };
    state.quota = { used: 3, limit: null };
  });

  test("a renewing subscription says when it renews, and links to managing it", () => {
    state.subscription.paid = { status: "active", periodEnd: END };
    expect(show()).toContain(`Your subscription to Pro is active; it renews on ${endText}.`);
    expect(screen.getByRole("link", { name: "Manage your subscription" }).getAttribute("href")).toBe(
      "/account/billing",
    );
  });

  test("a canceled one says the day Pro ends, as a status", () => {
    state.subscription.paid = { status: "canceled", periodEnd: END };
    render(
      <MemoryRouter>
        <PlanAndUsage />
      </MemoryRouter>,
    );
    expect(screen.getByRole("status").textContent).toContain(`is canceled and ends on ${endText}`);
  });

  test("past due is a warning that Pro stays on for now", () => {
    state.subscription.paid = { status: "past_due", periodEnd: END };
    expect(show()).toContain("did not go through. Pro stays on while it is retried");
  });

  test("an administrator's grant says so, and a free member is offered the upgrade", () => {
    state.subscription.source = "admin";
    expect(show()).toContain("You are on the Pro plan, granted by an administrator.");
    document.body.innerHTML = "";
    state.viewer.plan = "free_user";
    state.subscription = { plan: "free_user", source: "default", paid: null };
    state.quota = { used: 7, limit: 10 };
    expect(show()).toContain("7 of 10 posts used.");
    expect(screen.getByRole("link", { name: "Upgrade to Pro" }).getAttribute("href")).toBe("/pricing");
    expect(screen.queryByRole("link", { name: "Manage your subscription" })).toBeNull();
  });

  test("past the free quota after Pro ended: every post kept, no '11 of 10'", () => {
    state.viewer.plan = "free_user";
    state.subscription = { plan: "free_user", source: "subscription", paid: null };
    state.quota = { used: 11, limit: 10 };
    const text = show();
    expect(text).not.toContain("11 of 10");
    expect(text).toContain(
      "11 posts, more than the 10 of the Free plan: they all stay, to read and edit; to add more, upgrade to Pro or keep fewer than 10.",
    );
    expect(screen.getByRole("progressbar", { name: "Posts used" }).getAttribute("value")).toBe("10");
  });
});
