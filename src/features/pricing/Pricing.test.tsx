import { render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { Pricing } from "./Pricing";

const state = vi.hoisted(() => ({
  signedIn: false,
  viewer: null as null | { plan: "free_user" | "pro"; role: "user" | "admin" },
}));
vi.mock("@clerk/clerk-react", () => ({ useAuth: () => ({ isLoaded: true, isSignedIn: state.signedIn }) }));
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
  });

  test("signed out: both plans, none marked, a way to sign up; one h1 and a title", () => {
    renderPricing();
    expect(screen.getAllByRole("heading", { level: 1 }).map((h) => h.textContent)).toEqual(["Plans"]);
    expect(document.title).toBe("Plans · Gatehouse");
    expect(screen.getByRole("listitem", { name: "Free plan" })).toBeTruthy();
    expect(screen.getByRole("listitem", { name: "Pro plan" })).toBeTruthy();
    expect(screen.queryByText("Your plan")).toBeNull();
    expect(screen.getByRole("link", { name: "Sign up free" }).getAttribute("href")).toBe("/sign-up");
  });

  test("signed in on Free: Free is marked, and it says how to get Pro", () => {
    state.signedIn = true;
    state.viewer = { plan: "free_user", role: "user" };
    renderPricing();
    const free = screen.getByRole("listitem", { name: "Free plan (your plan)" });
    expect(within(free).getByText("Your plan")).toBeTruthy();
    expect(within(screen.getByRole("listitem", { name: "Pro plan" })).queryByText("Your plan")).toBeNull();
    expect(screen.getByText(/an administrator can move your account to\s+Pro/)).toBeTruthy();
    expect(screen.queryByRole("link", { name: "Sign up free" })).toBeNull();
    expect(screen.queryByRole("link", { name: "Admin" })).toBeNull();
  });

  test("signed in on Pro: Pro is marked and no upgrade is offered", () => {
    state.signedIn = true;
    state.viewer = { plan: "pro", role: "user" };
    renderPricing();
    expect(screen.getByRole("listitem", { name: "Pro plan (your plan)" })).toBeTruthy();
    expect(screen.getByRole("heading", { name: "You are on Pro" })).toBeTruthy();
    expect(screen.queryByText(/an administrator can move your account/)).toBeNull();
  });

  test("an administrator is pointed at the Admin page", () => {
    state.signedIn = true;
    state.viewer = { plan: "pro", role: "admin" };
    renderPricing();
    expect(screen.getByRole("link", { name: "Admin" }).getAttribute("href")).toBe("/admin");
  });
});
