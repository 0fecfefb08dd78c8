/**
 * The product as a visitor meets it: the landing and signing up from it (at desktop and phone
 * width), the plans, the public feed signed out (author names, never emails), a protected URL that
 * comes back after sign-in, a 404, and every one of these pages at 360 px wide without sideways
 * scrolling.
 */
import { ConvexHttpClient } from "convex/browser";
import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { api } from "../convex/_generated/api";
import {
  chromiumForSuite,
  enterPassword,
  keyStep,
  screenshot,
  signIn,
  signUp,
  stack,
  uniqueEmail,
  testAtEachWidth,
} from "./browser";
import { E2E_PORTS } from "./globalSetup";

const baseUrl = stack.baseUrl;
const { newPage } = chromiumForSuite();
const NARROW = { width: 360, height: 740 };

/** The Convex token the signed-in page's clerk-js holds (the same one the app sends). */
async function convexAs(page: Page): Promise<ConvexHttpClient> {
  const token = await page.evaluate(async () => {
    const clerk = (window as unknown as { Clerk: { session: { getToken(o: object): Promise<string> } } })
      .Clerk;
    return clerk.session.getToken({ template: "convex" });
  });
  const client = new ConvexHttpClient(`http://127.0.0.1:${E2E_PORTS.backend}`);
  client.setAuth(token);
  return client;
}

const scrollWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);
const h1s = (page: Page) => page.locator("h1").allTextContents();

describe("signed out", () => {
  testAtEachWidth(
    "the landing says what Gatehouse is, shows both plans, and leads to sign-up, onboarding and the dashboard",
    async (width) => {
      const page = await newPage(width.viewport);
      await page.goto(baseUrl);
      await page.getByRole("heading", { level: 1, name: /Write posts that update live/ }).waitFor();
      expect(page.url()).toBe(`${baseUrl}/`);
      expect(await h1s(page)).toHaveLength(1);
      await expect(page.title()).resolves.toBe("Realtime posts, authorized on the server · Gatehouse");
      await page.getByRole("listitem", { name: "Free plan" }).getByText("Up to 10 posts").waitFor();
      await page.getByRole("listitem", { name: "Pro plan" }).getByText("Scheduled publishing").waitFor();
      // `npm start`'s stack is local mode: the seeded accounts are shown, set apart as development.
      await page
        .getByRole("complementary", { name: /Local development/ })
        .getByText("free@gatehouse.test")
        .waitFor();
      await keyStep(page, width, "landing");

      await page.getByRole("main").getByRole("link", { name: "Sign up free" }).click();
      await page.waitForURL(/\/sign-up$/);
      const email = uniqueEmail("lena");
      await signUp(page, email, "Lena", (step) => keyStep(page, width, step));
      expect(new URL(page.url()).pathname).toBe("/");
      // The name went to Clerk; it comes back to Convex as a verified user.updated webhook.
      await page
        .getByRole("region", { name: "You, as others see you" })
        .getByText("Lena", { exact: true })
        .waitFor();
      await page.getByText("No posts yet").waitFor();
      await keyStep(page, width, "signed-up");
    },
  );

  test("/pricing: both plans, none marked, a way to sign up", async () => {
    const page = await newPage();
    await page.goto(`${baseUrl}/pricing`);
    await page.getByRole("heading", { level: 1, name: "Plans" }).waitFor();
    await expect(page.title()).resolves.toBe("Plans · Gatehouse");
    // Clerk's own pricing table, from the (emulated) Clerk Billing catalogue: each plan offers Subscribe.
    await expect.poll(() => page.getByRole("button", { name: "Subscribe" }).count()).toBe(2);
    await page.getByText("Always free").waitFor();
    await expect(page.getByText("Active", { exact: true }).count()).resolves.toBe(0);
    await page.getByRole("main").getByRole("link", { name: "Sign up free" }).waitFor();
    await screenshot(page, "pricing-signed-out");
  });

  test("an unknown path shows the 404 page with a way home", async () => {
    const page = await newPage();
    await page.goto(`${baseUrl}/no/such/page`);
    await page.getByRole("heading", { level: 1, name: "Page not found" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/no/such/page");
    await page.getByRole("link", { name: "Go to the home page" }).click();
    await page.getByRole("heading", { level: 1, name: /Write posts that update live/ }).waitFor();
  });
});

describe("the public feed", () => {
  test("signed out, it shows a member's public post with their name and never their email", async () => {
    // A new member with a name, who posts publicly (through the API, as the app would).
    const author = await newPage();
    const email = uniqueEmail("orla");
    await signUp(author, email, "Orla");
    const convex = await convexAs(author);
    const title = `Hello from Orla ${Date.now()}`;
    await convex.mutation(api.posts.create, { title, body: "Public words", visibility: "public" });
    await convex.mutation(api.posts.create, {
      title: `${title} (private)`,
      body: "Hidden",
      visibility: "private",
    });

    const visitor = await newPage();
    await visitor.goto(`${baseUrl}/public`);
    await visitor.getByRole("heading", { level: 1, name: "Public posts" }).waitFor();
    expect(new URL(visitor.url()).pathname).toBe("/public");
    const post = visitor
      .getByRole("listitem")
      .filter({ has: visitor.getByRole("heading", { name: title, exact: true }) });
    // The name reaches Convex by Clerk's user.updated webhook, so it may follow the post by a moment.
    await post.getByText("Orla", { exact: true }).waitFor({ timeout: 15_000 });
    const text = await visitor.locator("main").textContent();
    expect(text).not.toContain(email);
    expect(text).not.toContain("@gatehouse.test");
    expect(text).not.toContain(`${title} (private)`);
    await visitor.getByRole("note").getByRole("link", { name: "Sign up" }).waitFor();
    await screenshot(visitor, "public-feed-signed-out");
  });
});

describe("signing in", () => {
  test("a protected URL sends a visitor to sign-in and back to it after signing in", async () => {
    const page = await newPage();
    await page.goto(`${baseUrl}/insights`);
    await page.waitForURL(/\/sign-in\?redirect_url=%2Finsights$/);
    await enterPassword(page, "pro@gatehouse.test", "gatehouse-dev");
    await page.waitForURL((url) => url.pathname === "/insights", { timeout: 15_000 });
    await page.getByRole("link", { name: "Insights" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/insights");
  });

  test("a return target to another origin is ignored: signing in lands at home", async () => {
    const page = await newPage();
    await page.goto(`${baseUrl}/sign-in?redirect_url=${encodeURIComponent("//example.com/x")}`);
    await enterPassword(page, "free@gatehouse.test", "gatehouse-dev");
    await page.waitForURL((url) => url.pathname === "/", { timeout: 15_000 });
    expect(new URL(page.url()).origin).toBe(new URL(baseUrl).origin);
  });

  test("/pricing signed in marks the member's plan and offers Pro", async () => {
    const page = await newPage();
    await signIn(page, baseUrl, "free@gatehouse.test");
    await page.goto(`${baseUrl}/pricing`);
    // Free is marked as the member's plan; Pro is the one to subscribe to.
    await page.getByText("Active", { exact: true }).waitFor();
    await expect(page.getByText("Active", { exact: true }).count()).resolves.toBe(1);
    await expect(page.getByRole("button", { name: "Subscribe" }).count()).resolves.toBe(1);
    await page.getByRole("heading", { name: "How plans work" }).waitFor();
    await screenshot(page, "pricing-free");
  });
});

describe("keyboard", () => {
  test("focus on the landing's links is visible: an outline and a dark halo", async () => {
    const page = await newPage();
    await page.goto(baseUrl);
    const signUp = page.getByRole("main").getByRole("link", { name: "Sign up free" });
    await signUp.waitFor();
    // Tab until the call to action has focus, as a keyboard user would.
    for (let i = 0; i < 15 && !(await signUp.evaluate((el) => el === document.activeElement)); i++) {
      await page.keyboard.press("Tab");
    }
    const ring = await signUp.evaluate((el) => {
      const style = getComputedStyle(el);
      return { focused: el.matches(":focus-visible"), outline: style.outlineStyle, halo: style.boxShadow };
    });
    expect(ring.focused).toBe(true);
    expect(ring.outline).toBe("solid");
    expect(ring.halo).not.toBe("none");
    await screenshot(page, "landing-focus");
  });
});

describe("at 360 px wide", () => {
  test("no page of the visitor's journey scrolls sideways", async () => {
    const page = await newPage(NARROW);
    for (const [path, heading] of [
      ["/", /Write posts that update live/],
      ["/pricing", "Plans"],
      ["/public", "Public posts"],
      ["/no/such/page", "Page not found"],
    ] as const) {
      await page.goto(`${baseUrl}${path}`);
      await page.getByRole("heading", { level: 1, name: heading }).waitFor();
      await page.waitForLoadState("networkidle");
      const name = `narrow-360${path === "/" ? "-landing" : path.replaceAll("/", "-")}`;
      await screenshot(page, name);
      expect(await scrollWidth(page), path).toBeLessThanOrEqual(360);
    }
    for (const path of ["/sign-in", "/sign-up"]) {
      await page.goto(`${baseUrl}${path}`);
      await page.getByLabel("Email address").waitFor();
      await screenshot(page, `narrow-360${path.replace("/", "-")}`);
      expect(await scrollWidth(page), path).toBeLessThanOrEqual(360);
    }
  });

  test("signed in: pricing and the dashboard fit too", async () => {
    const page = await newPage(NARROW);
    await signIn(page, baseUrl, "pro@gatehouse.test");
    expect(await scrollWidth(page), "/").toBeLessThanOrEqual(360);
    await page.goto(`${baseUrl}/pricing`);
    await page.getByText("Active", { exact: true }).waitFor();
    await screenshot(page, "narrow-360-pricing-pro");
    expect(await scrollWidth(page), "/pricing").toBeLessThanOrEqual(360);
  });
});
