import { render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { describe, expect, test } from "vitest";
// The IdP's seed as text: its module is Node-only, and the SPA must not bundle it.
import idpConfig from "../../../local/idp/config.ts?raw";
import { FREE_POST_QUOTA } from "../../../convex/lib/permissions";
import { DevHints } from "./DevHints";
import { Landing } from "./Landing";
import { SEEDED_ACCOUNTS, SEEDED_PASSWORD } from "./seededAccounts";

const renderLanding = () =>
  render(
    <MemoryRouter>
      <Landing />
    </MemoryRouter>,
  );

describe("Landing", () => {
  test("one h1 saying what Gatehouse is, and a document title", () => {
    renderLanding();
    expect(screen.getAllByRole("heading", { level: 1 })).toHaveLength(1);
    expect(screen.getByText(/Gatehouse is a realtime posting app/)).toBeTruthy();
    expect(screen.getByRole("heading", { name: "Authorized on the server" })).toBeTruthy();
    expect(screen.getByRole("heading", { name: "Roles and plans with an audit trail" })).toBeTruthy();
    expect(document.title).toBe("Realtime posts, authorized on the server · Gatehouse");
  });

  test("calls to action: sign up, sign in, the public feed", () => {
    renderLanding();
    const hero = screen.getByRole("region", { name: /Write posts that update live/ });
    expect(within(hero).getByRole("link", { name: "Sign up free" }).getAttribute("href")).toBe("/sign-up");
    expect(within(hero).getByRole("link", { name: "Sign in" }).getAttribute("href")).toBe("/sign-in");
    expect(within(hero).getByRole("link", { name: "Read the public feed" }).getAttribute("href")).toBe(
      "/public",
    );
  });

  test("both plans side by side, with the server's numbers", () => {
    renderLanding();
    const free = screen.getByRole("listitem", { name: "Free plan" });
    const pro = screen.getByRole("listitem", { name: "Pro plan" });
    expect(within(free).getByText(`Up to ${FREE_POST_QUOTA} posts`)).toBeTruthy();
    expect(within(free).getByRole("link", { name: "Start on Free" }).getAttribute("href")).toBe("/sign-up");
    for (const feature of [
      "Unlimited posts",
      "Insights: charts of your posts over time",
      "Scheduled publishing",
    ])
      expect(within(pro).getByText(feature)).toBeTruthy();
    expect(within(pro).getByRole("link", { name: "How to get Pro" }).getAttribute("href")).toBe("/pricing");
  });

  test("no developer hints outside local mode (the test build sets no VITE_CLERK_JS_URL)", () => {
    renderLanding();
    expect(screen.queryByText(/gatehouse-dev/)).toBeNull();
    expect(screen.queryByText(/admin@gatehouse\.test/)).toBeNull();
  });
});

describe("DevHints", () => {
  test("in local mode: the seeded accounts and password, labelled as development", () => {
    render(<DevHints localMode />);
    const hints = screen.getByRole("complementary", { name: /Local development/ });
    for (const { email } of SEEDED_ACCOUNTS) expect(within(hints).getByText(email)).toBeTruthy();
    expect(within(hints).getByText(SEEDED_PASSWORD)).toBeTruthy();
  });

  test("lists exactly the IdP's seed", () => {
    expect(idpConfig).toContain(`export const SEED_PASSWORD = "${SEEDED_PASSWORD}";`);
    const seeded = idpConfig.slice(idpConfig.indexOf("SEEDED_ACCOUNTS"));
    const emails = [...seeded.matchAll(/email: "([^"]+)"/g)].map((m) => m[1]);
    expect(SEEDED_ACCOUNTS.map((a) => a.email)).toEqual(emails);
  });
});
