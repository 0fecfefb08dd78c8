/**
 * Signing up, in and back in through Clerk's own components (`<SignIn>`, `<SignUp>`), run by the
 * pinned clerk-js against the local IdP's Frontend API emulation; and a session kept alive by
 * clerk-js's own token refresh while the tab sits idle.
 */
import type { Page, Request } from "playwright-core";
import { beforeAll, describe, expect, inject, test } from "vitest";
import {
  continueButton,
  createAccount,
  fieldError,
  enterCode,
  enterPassword,
  latestCode,
  chromiumForSuite,
  keyStep,
  screenshot,
  signIn,
  uniqueEmail,
  testAtEachWidth,
} from "./browser";
import { CLERK_JS_VERSION } from "../src/lib/clerkJs";

const baseUrl = inject("spaUrl");
const { newPage } = chromiumForSuite();

/** Opened first and left alone until the last test: an idle tab living on refreshed tokens. */
let idle: { page: Page; since: number; tokenCalls: string[] };

beforeAll(async () => {
  const page = await newPage();
  const tokenCalls: string[] = [];
  page.on("request", (request: Request) => {
    if (/\/__clerk\/v1\/client\/sessions\/[^/]+\/tokens/.test(request.url())) tokenCalls.push(request.url());
  });
  await signIn(page, baseUrl, "pro@gatehouse.test");
  idle = { page, since: Date.now(), tokenCalls };
});

describe("Clerk, offline", () => {
  test("the page runs the pinned clerk-js from the app's own origin, and no request leaves the machine", async () => {
    const page = await newPage();
    const requested: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    await signIn(page, baseUrl, "free@gatehouse.test");
    const version = await page.evaluate(
      () => (window as unknown as { Clerk: { version: string } }).Clerk.version,
    );
    expect(version).toBe(CLERK_JS_VERSION);
    const origins = new Set(requested.map((url) => new URL(url).origin));
    // The app (Vite, clerk-js, the proxied Frontend API), the local backend, and the IdP's avatars.
    for (const origin of origins) expect(origin).toMatch(/^(http|ws):\/\/127\.0\.0\.1:\d+$/);
    expect(requested.some((url) => url.includes(`/clerkjs/${CLERK_JS_VERSION}/clerk.browser.js`))).toBe(true);
    expect(requested.some((url) => new URL(url).pathname.startsWith("/__clerk/v1/client"))).toBe(true);
  });
});

describe("signing up", () => {
  // Signing up from the landing, through onboarding to the dashboard, at both widths: the first
  // journey of public.e2e.test.ts.
  test("a taken email gets Clerk's own message on the field, and no account is made", async () => {
    const page = await newPage();
    await page.goto(`${baseUrl}/sign-up`);
    await page.getByLabel("Email address").fill("free@gatehouse.test");
    await page.getByLabel("Password", { exact: true }).fill("correct horse battery");
    await continueButton(page).click();
    await expect
      .poll(() => fieldError(page, "emailAddress").textContent())
      .toBe("That email address is taken. Please try another.");
    await expect(page.url()).toMatch(/\/sign-up$/);
  });
});

describe("signing in", () => {
  test("a wrong password gets Clerk's field error; the right one opens the dashboard", async () => {
    const page = await newPage();
    await page.goto(baseUrl);
    // The landing's "Sign in" leads to Clerk's sign-in.
    await page.getByRole("main").getByRole("link", { name: "Sign in", exact: true }).click();
    await page.waitForURL(/\/sign-in$/);
    await enterPassword(page, "free@gatehouse.test", "not-the-password");
    await expect
      .poll(() => fieldError(page, "password").textContent())
      .toBe("Password is incorrect. Try again, or use another method.");
    await screenshot(page, "sign-in-refused");
    await page.getByLabel("Password", { exact: true }).fill("gatehouse-dev");
    await continueButton(page).click();
    await page.getByRole("heading", { name: "My posts" }).waitFor();
  });

  test("repeated wrong passwords slow the account down, and Clerk's form says when to try again", async () => {
    const { email } = await createAccount(uniqueEmail("guess"));
    const page = await newPage();
    await page.goto(`${baseUrl}/sign-in`);
    await enterPassword(page, email, "wrong-password");
    for (let attempt = 2; attempt <= 6; attempt++) {
      await page
        .getByText(/incorrect|try again/i)
        .first()
        .waitFor();
      await continueButton(page).click();
    }
    await page.getByText(/too many failed sign-in attempts.*try again in \d+ seconds?/i).waitFor();
    await screenshot(page, "sign-in-throttled");
  });

  test("a forgotten password is reset with an emailed code, which signs the user in", async () => {
    const { email } = await createAccount(uniqueEmail("forgetful"));
    const page = await newPage();
    await page.goto(`${baseUrl}/sign-in`);
    await page.getByLabel("Email address").fill(email);
    await continueButton(page).click();
    await page.getByRole("link", { name: "Forgot password?" }).click();
    const requested = Date.now();
    await page.getByRole("button", { name: /reset your password/i }).click();
    await enterCode(page, await latestCode(email, requested - 1));
    await page.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
    await page.getByLabel("Confirm password").fill("a brand new passphrase");
    await page.getByRole("button", { name: /reset password/i }).click();
    await page.getByRole("heading", { name: "My posts" }).waitFor();
  });
});

describe("signing out", () => {
  testAtEachWidth(
    "signing out from the user menu in one tab signs out the other tab of the browser too",
    async (width) => {
      const { email, password } = await createAccount(uniqueEmail("two-tabs"));
      const first = await newPage(width.viewport);
      await signIn(first, baseUrl, email, password);
      const second = await first.context().newPage();
      await second.goto(`${baseUrl}/public`);
      await second.getByRole("heading", { name: "Public posts" }).waitFor();
      await first.locator(".cl-userButtonTrigger").click();
      const signOut = first.getByRole("menuitem", { name: "Sign out" });
      await signOut.waitFor();
      await keyStep(first, width, "user-menu");
      await signOut.click();
      await first.waitForURL(/\/sign-in/);
      // Clerk tells the browser's other tabs; that one loses the session (and its Convex token) too.
      await expect
        .poll(
          () => second.evaluate(() => (window as unknown as { Clerk: { user: unknown } }).Clerk.user ?? null),
          { timeout: 10_000 },
        )
        .toBeNull();
      await keyStep(second, width, "signed-out-other-tab");
      await second.goto(`${baseUrl}/insights`);
      await second.waitForURL(/\/sign-in/);
    },
  );
});

describe("plans", () => {
  test("a free user's insights page is Clerk's <Protect> fallback, not the insights", async () => {
    const page = await newPage();
    await signIn(page, baseUrl, "free@gatehouse.test");
    await page.goto(`${baseUrl}/insights`);
    await page.getByRole("heading", { name: "Insights with Pro" }).waitFor();
    await expect(page.getByRole("region", { name: "Insights" }).count()).resolves.toBe(0);
    await screenshot(page, "insights-fallback");
  });
});

describe("staying signed in", () => {
  test("an idle tab stays signed in for over 2 minutes on clerk-js's refreshed tokens", async () => {
    const { page, since, tokenCalls } = idle;
    const wait = since + 125_000 - Date.now();
    if (wait > 0) await page.waitForTimeout(wait);
    const title = `Still here after ${Math.round((Date.now() - since) / 1000)} s`;
    await page.getByLabel("Title").fill(title);
    await page.getByRole("button", { name: "Post" }).click();
    await page.getByRole("heading", { name: title }).waitFor();
    // Tokens live 60 s; clerk-js fetched fresh ones by itself while nobody touched the tab.
    expect(tokenCalls.length).toBeGreaterThanOrEqual(2);
    console.log(
      `[e2e] idle ${Math.round((Date.now() - since) / 1000)} s: ${tokenCalls.length} token requests`,
    );
  }, 180_000);
});
