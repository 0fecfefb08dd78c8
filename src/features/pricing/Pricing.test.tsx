import { render, screen } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter } from "react-router-dom";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { Pricing } from "./Pricing";

const state = vi.hoisted(() => ({
  signedIn: false,
  viewer: null as null | { plan: "free_user" | "pro"; role: "user" | "admin" },
  subscription: undefined as undefined | { plan: "free_user" | "pro"; source: string; paid: null },
  tableProps: [] as Record<string, unknown>[],
}));
vi.mock("@clerk/clerk-react", () => ({
  useAuth: () => ({ isLoaded: true, isSignedIn: state.signedIn }),
  // Clerk's table is clerk-js's own UI (driven in the browser suite); here, what Gatehouse passes it.
  PricingTable: (props: { fallback?: ReactNode } & Record<string, unknown>) => {
    state.tableProps.push(props);
    return <div data-testid="clerk-pricing-table" />;
  },
}));
vi.mock("convex/react", () => ({
  useQuery: (_fn: unknown, args: unknown) => (args === "skip" ? undefined : state.subscription),
}));
vi.mock("../../../convex/_generated/api", () => ({ api: { billing: { mine: "mine" } } }));
vi.mock("../../auth/useViewer", () => ({ useViewer: () => state.viewer }));

const renderPricing = () =>
  render(
    <MemoryRouter>
      <Pricing />
    </MemoryRouter>,
  );

describe("Pricing", () => {
  beforeEach(() => {
    state.signedIn = false;
    state.viewer = null;
    state.subscription = undefined;
    state.tableProps = [];
  });

  test("Clerk's pricing table, sending a new subscriber home; one h1 and a title", () => {
    renderPricing();
    expect(screen.getAllByRole("heading", { level: 1 }).map((h) => h.textContent)).toEqual(["Plans"]);
    expect(document.title).toBe("Plans · Gatehouse");
    expect(screen.getByTestId("clerk-pricing-table")).toBeTruthy();
    expect(state.tableProps.at(-1)).toMatchObject({ newSubscriptionRedirectUrl: "/" });
    expect(state.tableProps.at(-1)?.["fallback"]).toBeTruthy();
  });

  test("signed out: a way to sign up, and how plans work", () => {
    renderPricing();
    expect(screen.getByRole("link", { name: "Sign up free" }).getAttribute("href")).toBe("/sign-up");
    expect(screen.getByRole("heading", { name: "How plans work" })).toBeTruthy();
    expect(document.body.textContent).toContain("stays until the end of the period you paid for");
  });

  test("signed in: no sign-up; an administrator's grant is explained", () => {
    state.signedIn = true;
    state.viewer = { plan: "pro", role: "user" };
    state.subscription = { plan: "pro", source: "admin", paid: null };
    renderPricing();
    expect(screen.queryByRole("link", { name: "Sign up free" })).toBeNull();
    expect(document.body.textContent).toContain("Your Pro plan was set by an administrator");
    expect(screen.queryByRole("link", { name: "Admin" })).toBeNull();
  });

  test("an administrator is pointed at the Admin page", () => {
    state.signedIn = true;
    state.viewer = { plan: "pro", role: "admin" };
    state.subscription = { plan: "pro", source: "subscription", paid: null };
    renderPricing();
    expect(screen.getByRole("link", { name: "Admin" }).getAttribute("href")).toBe("/admin");
    expect(document.body.textContent).not.toContain("set by an administrator");
  });
});
