/**
 * The account as Clerk's `<UserProfile>` manages it, offline: a profile change travels to the IdP,
 * back to Convex as a verified webhook and onto the open dashboard; another device is signed out;
 * and deleting the account removes its posts and signs out every tab.
 */
import path from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, inject, test } from "vitest";
import {
  continueButton,
  createAccount,
  fieldError,
  chromiumForSuite,
  keyStep,
  PHONE,
  screenshot,
  signIn,
  uniqueEmail,
  testAtEachWidth,
  type Width,
} from "./browser";

const baseUrl = inject("spaUrl");
const { newDevice, openTab } = chromiumForSuite();

/**
 * A tab that was on the dashboard is signed out: at / it shows the visitors' landing, or, when the
 * tab ended the session itself (its query was refused), Clerk's sign-in page. Either way no posts.
 */
async function landingShown(page: Page, timeout: number) {
  await page
    .getByRole("link", { name: "Sign up free" })
    .or(page.getByRole("heading", { name: "Sign in to Gatehouse" }))
    .waitFor({ timeout });
  await expect(page.getByRole("heading", { name: "My posts" }).count()).resolves.toBe(0);
  await expect(
    page.evaluate(() => (window as unknown as { Clerk: { user: unknown } }).Clerk.user ?? null),
  ).resolves.toBeNull();
}

const authorCard = (page: Page) => page.getByRole("region", { name: "You, as others see you" });

/** Clerk's user menu in the header, "Manage account": the account page. */
async function manageAccount(page: Page, width: Width) {
  await page.locator(".cl-userButtonTrigger").click();
  const item = page.getByRole("menuitem", { name: "Manage account" });
  await item.waitFor();
  await keyStep(page, width, "account-user-menu");
  await item.click();
  await page.waitForURL((url) => url.pathname === "/account");
}

/** One of <UserProfile>'s pages from its own navigation, which a phone keeps behind a menu button. */
async function accountSection(page: Page, width: Width, name: string) {
  if (width.phone) {
    await page.locator(".cl-navbarMobileMenuButton").click();
    await page.getByRole("button", { name }).waitFor();
    await keyStep(page, width, "account-nav");
  }
  await page.getByRole("button", { name }).click();
}

describe("the account page", () => {
  testAtEachWidth(
    "a new name and picture made in <UserProfile> show on the open dashboard, through the webhook",
    async (width) => {
      const { email, password } = await createAccount(uniqueEmail("rename"));
      const device = await newDevice(width.viewport);
      const dashboard = await openTab(device);
      await signIn(dashboard, baseUrl, email, password);
      await authorCard(dashboard).getByText("Test Account", { exact: true }).waitFor();

      const account = await openTab(device);
      await account.goto(baseUrl);
      await account.getByRole("heading", { name: "My posts" }).waitFor();
      await manageAccount(account, width);
      await account.getByRole("button", { name: "Update profile" }).click();
      await account.getByLabel("First name").fill("Renamed");
      await account.getByLabel("Last name").fill("Person");
      await keyStep(account, width, "account-profile-form");
      await account.getByRole("button", { name: "Save" }).click();
      await account.getByText("Renamed Person").first().waitFor();
      // Clerk saves a chosen picture at once, on its own (it is not part of the name form's Save).
      await account.getByRole("button", { name: "Update profile" }).click();
      // (The form that just closed may still be fading out: pick the one showing the new name.)
      const form = account.locator("form", { has: account.getByTitle("Renamed Person") });
      await form
        .locator("input[type=file]")
        .setInputFiles(path.join(import.meta.dirname, "fixtures/avatar.png"));
      await account.getByRole("button", { name: "Update profile" }).waitFor();
      await keyStep(account, width, "account-renamed");

      // The other tab was not touched: Convex pushed the webhook-updated users row to it.
      await authorCard(dashboard).getByText("Renamed Person", { exact: true }).waitFor({ timeout: 15_000 });
      await expect
        .poll(() => authorCard(dashboard).locator("img.avatar").getAttribute("src"), { timeout: 15_000 })
        .toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.+/);
      const src = await authorCard(dashboard).locator("img.avatar").getAttribute("src");
      expect(src).not.toContain("avatar_placeholder");
      const image = await fetch(src!);
      expect(image.headers.get("content-type")).toBe("image/png");
      await keyStep(dashboard, width, "dashboard-renamed");
    },
  );

  testAtEachWidth(
    "Gatehouse's own account pages: the plan with its usage, and what deleting removes",
    async (width) => {
      const { email, password } = await createAccount(uniqueEmail("usage"));
      const page = await openTab(await newDevice(width.viewport));
      await signIn(page, baseUrl, email, password);
      await page.getByLabel("Title").fill("One of ten");
      await page.getByRole("button", { name: "Post", exact: true }).click();
      await page.getByRole("heading", { name: "One of ten" }).waitFor();
      await manageAccount(page, width);
      await accountSection(page, width, "Plan and usage");
      await page.getByRole("heading", { name: "Plan and usage" }).waitFor();
      await page.getByText("1 of 10 posts used.").waitFor();
      expect(new URL(page.url()).pathname).toBe("/account/plan");
      await keyStep(page, width, "account-plan");
      await accountSection(page, width, "Your data");
      await page.getByText("deletes all your posts, public and private, at once;").waitFor();
      expect(new URL(page.url()).pathname).toBe("/account/data");
      await keyStep(page, width, "account-data");
    },
  );

  test("signing out another device from the profile takes that device's access away", async () => {
    const { email, password } = await createAccount(uniqueEmail("devices"));
    const laptop = await openTab(await newDevice());
    await signIn(laptop, baseUrl, email, password);
    const phone = await openTab(await newDevice(PHONE));
    await signIn(phone, baseUrl, email, password);

    await laptop.goto(`${baseUrl}/account/security`);
    const devices = laptop.locator(".cl-activeDeviceListItem");
    await expect.poll(() => devices.count()).toBe(2);
    await screenshot(laptop, "account-devices");
    const other = devices.filter({ hasNotText: "This device" });
    await other.getByRole("button").click();
    await laptop.getByRole("menuitem", { name: "Sign out of device" }).click();
    await expect.poll(() => devices.count()).toBe(1);
    const revokedAt = Date.now();

    // The phone learns at its next session check; its Convex token expires within a minute. Its
    // open dashboard at / turns into the visitors' landing.
    await landingShown(phone, 90_000);
    console.log(
      `[e2e] the revoked device was signed out ${((Date.now() - revokedAt) / 1000).toFixed(1)} s later`,
    );
    await laptop.goto(`${baseUrl}/`);
    await laptop.getByRole("heading", { name: "My posts" }).waitFor();
  }, 150_000);

  testAtEachWidth("deleting the account removes its posts and signs out every tab", async (width) => {
    const { email, password } = await createAccount(uniqueEmail("leaving"));
    const device = await newDevice(width.viewport);
    const dashboard = await openTab(device);
    await signIn(dashboard, baseUrl, email, password);
    const title = `Farewell ${Date.now()}`;
    await dashboard.getByLabel("Title").fill(title);
    await dashboard.getByRole("button", { name: "Post" }).click();
    const item = dashboard.getByRole("listitem").filter({ hasText: title });
    await item.getByRole("button", { name: "Make public" }).click();

    const reader = await openTab(await newDevice(width.viewport));
    await signIn(reader, baseUrl, "free@gatehouse.test");
    await reader.goto(`${baseUrl}/public`);
    await reader.getByRole("heading", { name: title }).waitFor();

    const account = await openTab(device);
    await account.goto(`${baseUrl}/account`);
    await accountSection(account, width, "Security");
    await account.getByRole("button", { name: "Delete account" }).click();
    await account.getByLabel(/type "Delete account"/i).fill("Delete account");
    const confirm = account.getByRole("button", { name: "Delete account" }).last();
    await confirm.scrollIntoViewIfNeeded();
    await keyStep(account, width, "account-delete-confirm");
    await confirm.click();

    await account.waitForURL(/\/sign-in/);
    await landingShown(dashboard, 15_000);
    // From its top (the header, and why it was signed out), not where the dashboard was scrolled to.
    await expect(dashboard.evaluate(() => window.scrollY)).resolves.toBe(0);
    await keyStep(dashboard, width, "account-deleted-other-tab");
    // The user.deleted webhook took the post with it, live on another user's feed.
    await reader.getByRole("heading", { name: title }).waitFor({ state: "detached", timeout: 15_000 });

    await account.getByLabel("Email address").fill(email);
    await continueButton(account).click();
    await expect
      .poll(() => fieldError(account, "identifier").textContent())
      .toMatch(/couldn.t find your account/i);
  });
});
