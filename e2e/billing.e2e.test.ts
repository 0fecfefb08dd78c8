/**
 * Self-serve billing in Chromium, through Clerk's own components on the offline stack (ADR 009):
 * a free member at the quota upgrades from the locked form through Clerk's `<PricingTable>` and
 * checkout drawer, and the dashboard open in another tab unlocks by itself; they cancel from
 * UserProfile's Billing page, the account shows the end date, and when the period ends the open
 * pages lock again. A declined card changes nothing. No request leaves 127.0.0.1 (Stripe.js is
 * never asked for), and axe finds nothing wrong in Gatehouse's own markup on these pages.
 */
import { createRequire } from "node:module";
import { createClerkClient } from "@clerk/backend";
import { ConvexHttpClient } from "convex/browser";
import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { api } from "../convex/_generated/api";
import { FREE_POST_QUOTA } from "../convex/lib/permissions";
import { idpClient } from "../local/idp/client";
import {
  chromiumForSuite,
  createAccount,
  keyStep,
  signIn,
  stack,
  testAtEachWidth,
  uniqueEmail,
  type Width,
} from "./browser";
import { E2E_PORTS } from "./globalSetup";

const baseUrl = stack.baseUrl;
const { newDevice, openTab } = chromiumForSuite();
const dev = () => idpClient(stack.idpUrl, { secretKey: stack.idpSecretKey });
const clerk = () => createClerkClient({ secretKey: stack.idpSecretKey, apiUrl: stack.idpUrl });

/**
 * A device (browser context) whose every request and WebSocket is recorded, from every tab it
 * opens: what "nothing leaves this machine" is checked against.
 */
async function recordedDevice(width: Width) {
  const device = await newDevice(width.viewport);
  const requested: string[] = [];
  device.on("request", (request) => requested.push(request.url()));
  device.on("page", (page) => page.on("websocket", (ws) => requested.push(ws.url())));
  return { device, requested };
}

/** Every origin the device asked for is on this machine; Stripe.js was never requested. */
function expectOnlyLoopback(requested: string[]) {
  expect(requested.length).toBeGreaterThan(0);
  expect(requested.filter((url) => url.includes("stripe"))).toEqual([]);
  const origins = [...new Set(requested.map((url) => new URL(url).origin))];
  for (const origin of origins) expect(origin).toMatch(/^(http|ws):\/\/127\.0\.0\.1:\d+$/);
}

/** The Convex token the signed-in page's clerk-js holds (the same one the app sends). */
async function convexAs(page: Page): Promise<ConvexHttpClient> {
  const token = await page.evaluate(async () => {
    const clerkJs = (window as unknown as { Clerk: { session: { getToken(o: object): Promise<string> } } })
      .Clerk;
    return clerkJs.session.getToken({ template: "convex" });
  });
  const client = new ConvexHttpClient(`http://127.0.0.1:${E2E_PORTS.backend}`);
  client.setAuth(token);
  return client;
}

const userIdOf = (page: Page) =>
  page.evaluate(() => (window as unknown as { Clerk: { user: { id: string } } }).Clerk.user.id);

/** A new member on the dashboard with the free quota used up (posts made through the API). */
async function memberAtQuota(device: BrowserContext, who: string) {
  const { email, password } = await createAccount(uniqueEmail(who));
  const dashboard = await openTab(device);
  await signIn(dashboard, baseUrl, email, password);
  const convex = await convexAs(dashboard);
  for (let i = 1; i <= FREE_POST_QUOTA; i++) {
    await convex.mutation(api.posts.create, { title: `Post ${i} of ${FREE_POST_QUOTA}`, body: "" });
  }
  await dashboard.getByText(`${FREE_POST_QUOTA} / ${FREE_POST_QUOTA} posts`).waitFor();
  return { email, dashboard, userId: await userIdOf(dashboard) };
}

/**
 * A key step of a tab that may be behind another one: brought to the front first, as a person
 * switching to it would (a hidden tab paints no new frame to picture). Only for pictures: every
 * assertion about a tab in the background is made while it stays there.
 */
async function look(page: Page, width: Width, step: string) {
  await page.bringToFront();
  await keyStep(page, width, step);
}

const meter = (page: Page) => page.getByRole("meter", { name: "Posts used" });
const upgradeOffer = (page: Page) => page.getByRole("region", { name: "Upgrade to Pro" });
const insightsLink = (page: Page) =>
  page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Insights" });
const planBadge = (page: Page) => page.locator("header .badge").first();

/** The dashboard as a free member at the quota sees it: the meter, the locked form, no Insights. */
async function expectLocked(page: Page, timeout = 15_000) {
  await upgradeOffer(page).waitFor({ timeout });
  await expect(meter(page).getAttribute("aria-valuenow")).resolves.toBe(String(FREE_POST_QUOTA));
  await expect(page.getByLabel("Title").isDisabled()).resolves.toBe(true);
  await expect(insightsLink(page).count()).resolves.toBe(0);
  await expect(planBadge(page).textContent()).resolves.toBe("Free");
}

/** Clerk's checkout drawer, opened from the Pro card's "Subscribe" on /pricing. */
async function openCheckout(page: Page) {
  await page.getByRole("button", { name: "Subscribe", exact: true }).click();
  const pay = page.getByRole("button", { name: /^Pay / });
  await pay.waitFor();
  return pay;
}

/** The drawer's saved-card select (Clerk's own, without option roles): the card ending in `last4`. */
async function chooseCard(page: Page, last4: string) {
  await page.locator(".cl-selectButton__paymentMethod").click();
  await page.locator(".cl-selectOption__paymentMethod", { hasText: `⋯ ${last4}` }).click();
  await expect(page.locator(".cl-selectButton__paymentMethod").textContent()).resolves.toContain(last4);
}

describe("self-serve billing", () => {
  testAtEachWidth(
    "a member at the quota buys Pro from the locked form; the other tab unlocks; cancel, the end date, and Free again when the period ends",
    async (width) => {
      const { device, requested } = await recordedDevice(width);
      const { dashboard, userId } = await memberAtQuota(device, "upgrade");
      await expectLocked(dashboard);
      await keyStep(dashboard, width, "billing-locked");

      // The same member's second tab: Upgrade on the locked form leads to Clerk's pricing table.
      const shop = await openTab(device);
      await shop.goto(baseUrl);
      await upgradeOffer(shop).getByRole("link", { name: "See plans" }).click();
      await shop.waitForURL(`${baseUrl}/pricing`);
      const free = shop.locator(".cl-pricingTableCard__free_user");
      const pro = shop.locator(".cl-pricingTableCard__pro");
      await pro.getByRole("button", { name: "Subscribe" }).waitFor();
      // Clerk's cards say what each plan gives, as the landing's plan cards and the server do.
      await free.getByText(`Up to ${FREE_POST_QUOTA} posts`).waitFor();
      await free.getByText("Active").waitFor();
      for (const feature of ["Unlimited posts", "Insights", "Scheduled publishing"])
        await pro.getByText(feature, { exact: false }).first().waitFor();
      await keyStep(shop, width, "billing-pricing");

      const pay = await openCheckout(shop);
      await expect(pay.textContent()).resolves.toBe("Pay $96.00");
      await expect(shop.locator(".cl-selectButton__paymentMethod").textContent()).resolves.toContain("4242");
      await keyStep(shop, width, "billing-checkout");

      const paidAt = Date.now();
      await pay.click();
      // The other tab, untouched: the meter and the lock go, Insights appears.
      await Promise.all([
        meter(dashboard).waitFor({ state: "detached", timeout: 15_000 }),
        upgradeOffer(dashboard).waitFor({ state: "detached", timeout: 15_000 }),
        insightsLink(dashboard).waitFor({ timeout: 15_000 }),
      ]);
      const unlockedMs = Date.now() - paidAt;
      console.log(`[e2e] ${width.label}: Pay clicked → the other tab unlocked in ${unlockedMs} ms`);
      await expect(planBadge(dashboard).textContent()).resolves.toBe("Pro");
      await expect(dashboard.getByLabel("Title").isDisabled()).resolves.toBe(false);

      await shop.getByText("Payment was successful!").waitFor();
      await shop.getByText("Visa ⋯ 4242", { exact: true }).waitFor();
      await keyStep(shop, width, "billing-checkout-complete");
      await shop.getByRole("button", { name: "Continue" }).click();
      await shop.waitForURL(`${baseUrl}/`);

      // Past the free quota now, and the Insights page opens on the member's own numbers.
      const title = `Post ${FREE_POST_QUOTA + 1}, on Pro`;
      await dashboard.getByLabel("Title").fill(title);
      await dashboard.getByRole("button", { name: "Post", exact: true }).click();
      await dashboard.getByRole("heading", { name: title }).waitFor();
      await look(dashboard, width, "billing-dashboard-pro");
      const insights = await openTab(device);
      await insights.goto(baseUrl);
      await insightsLink(insights).click();
      await insights.waitForURL(`${baseUrl}/insights`);
      const posts = insights.getByRole("region", { name: "Totals" }).locator(".stat").first();
      await expect.poll(() => posts.innerText()).toMatch(new RegExp(`^${FREE_POST_QUOTA + 1}\\s+Posts$`));
      await expect(upgradeOffer(insights).count()).resolves.toBe(0);

      // The account's plan section says when Pro renews and leads to Clerk's Billing page.
      const account = await openTab(device);
      await account.goto(`${baseUrl}/account/plan`);
      const plan = account.getByRole("region", { name: "Plan and usage" });
      await plan.getByText(/Your subscription to Pro is active; it renews on .+\./).waitFor();
      await look(account, width, "billing-account-plan");
      await plan.getByRole("link", { name: "Manage your subscription" }).click();
      await account.waitForURL(`${baseUrl}/account/billing`);
      await account.getByRole("heading", { name: "Billing" }).waitFor();
      await account
        .getByText(/Renews /)
        .first()
        .waitFor();
      await keyStep(account, width, "billing-billing-page");

      // Cancel in Clerk's subscription details: Pro stays until the period's end.
      await account.getByRole("button", { name: "Manage" }).click();
      await account.getByRole("button", { name: "Cancel subscription" }).click();
      await account.getByText("Cancel Pro Subscription?").waitFor();
      await keyStep(account, width, "billing-cancel-confirm");
      await account.getByRole("button", { name: "Cancel subscription" }).last().click();
      await account.getByText("Cancel Pro Subscription?").waitFor({ state: "detached" });
      await account.getByText(/Canceled • Ends /).waitFor();
      await account.goto(`${baseUrl}/account/plan`);
      // The end date is Clerk's: the canceled item's period end, in the page's own words.
      const { subscriptionItems } = await clerk().billing.getUserBillingSubscription(userId);
      const periodEnd = subscriptionItems.find((i) => i.plan?.slug === "pro")?.periodEnd;
      expect(periodEnd).toBeTypeOf("number");
      const endDate = await account.evaluate(
        (ms) =>
          new Date(ms).toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" }),
        periodEnd!,
      );
      await expect(plan.getByRole("status").textContent()).resolves.toContain(
        `Your Pro subscription is canceled and ends on ${endDate}.`,
      );
      await keyStep(account, width, "billing-account-canceled");
      await expect(planBadge(dashboard).textContent()).resolves.toBe("Pro");

      // The period ends (the IdP's dev clock): every open page is Free again, without a reload.
      await dev().endBillingPeriod(userId);
      await expectLocked(dashboard);
      await dashboard.getByText(`${FREE_POST_QUOTA + 1} posts (Free includes ${FREE_POST_QUOTA})`).waitFor();
      await upgradeOffer(insights).waitFor({ timeout: 15_000 });
      await plan.getByText("You are on the Free plan.").waitFor({ timeout: 15_000 });
      await expect(plan.getByRole("status").count()).resolves.toBe(0);
      await plan.getByRole("link", { name: "Upgrade to Pro" }).waitFor();
      // Every post stays: the account says so instead of "11 of 10 posts used".
      await plan
        .getByText(`${FREE_POST_QUOTA + 1} posts, more than the ${FREE_POST_QUOTA} of the Free plan`)
        .waitFor();
      await look(account, width, "billing-account-free-again");
      await look(dashboard, width, "billing-free-again");
      await expect
        .poll(async () => (await clerk().users.getUser(userId)).publicMetadata["plan"], { timeout: 15_000 })
        .toBe("free_user");

      expectOnlyLoopback(requested);
    },
    120_000,
  );

  testAtEachWidth("a declined card shows Clerk's message and changes nothing", async (width) => {
    const { device, requested } = await recordedDevice(width);
    const { dashboard, userId } = await memberAtQuota(device, "declined");
    const shop = await openTab(device);
    await shop.goto(`${baseUrl}/pricing`);
    const pay = await openCheckout(shop);
    await chooseCard(shop, "0002");
    await pay.click();
    await shop.getByText("Your card was declined.").waitFor();
    await keyStep(shop, width, "billing-declined");
    await expect(pay.isEnabled()).resolves.toBe(true);

    // Nothing changed: the open dashboard stays locked, Clerk has no Pro item and no metadata write.
    await expectLocked(dashboard);
    const subscription = await clerk().billing.getUserBillingSubscription(userId);
    expect(subscription.subscriptionItems.map((i) => [i.plan?.slug, i.status])).toEqual([
      ["free_user", "active"],
    ]);
    expect((await clerk().users.getUser(userId)).publicMetadata["plan"]).toBeUndefined();
    await shop.getByRole("button", { name: "Close drawer" }).click();
    await shop.locator(".cl-pricingTableCard__free_user").getByText("Active").waitFor();
    await expect(planBadge(shop).textContent()).resolves.toBe("Free");
    expectOnlyLoopback(requested);
  });
});

const axeSource = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

type Finding = { id: string; impact: string; target: string; ours: boolean };

/**
 * Every axe-core rule on the page as it is, each finding marked as Gatehouse's own markup or
 * Clerk's (inside a `cl-` element, except Gatehouse's pages mounted in `<UserProfile>`).
 */
async function axeFindings(page: Page): Promise<Finding[]> {
  await page.addScriptTag({ path: axeSource });
  return page.evaluate(async () => {
    type Result = { id: string; impact: string; nodes: { target: string[] }[] };
    const axe = (window as unknown as { axe: { run: (o: object) => Promise<{ violations: Result[] }> } }).axe;
    const { violations } = await axe.run({});
    return violations.flatMap((v) =>
      v.nodes.map((n) => {
        const target = n.target.join(" ");
        const element = document.querySelector(n.target[0] ?? "");
        const inClerk = element?.closest("[class*='cl-']") && !element.closest(".account-section");
        return { id: v.id, impact: v.impact, target, ours: !inClerk };
      }),
    );
  });
}

describe("accessibility of the billing pages", () => {
  test("axe finds nothing in Gatehouse's markup on /pricing (also with the checkout open) and the account's plan and billing pages", async () => {
    const found: Record<string, Finding[]> = {};
    const check = async (page: Page, label: string) => {
      await page.waitForLoadState("networkidle").catch(() => undefined);
      found[label] = await axeFindings(page);
    };
    const visitor = await openTab(await newDevice());
    await visitor.goto(`${baseUrl}/pricing`);
    await visitor.locator(".cl-pricingTableCard__pro").getByRole("button", { name: "Subscribe" }).waitFor();
    await check(visitor, "signed out /pricing");

    const page = await openTab(await newDevice());
    await signIn(page, baseUrl, "free@gatehouse.test");
    await page.goto(`${baseUrl}/pricing`);
    await openCheckout(page);
    await check(page, "free@ /pricing, checkout open");
    await page.goto(`${baseUrl}/account/plan`);
    await page.getByRole("region", { name: "Plan and usage" }).waitFor();
    await check(page, "free@ /account/plan");

    const pro = await openTab(await newDevice());
    await signIn(pro, baseUrl, "pro@gatehouse.test");
    await pro.goto(`${baseUrl}/account/plan`);
    await pro.getByText(/Your subscription to Pro is active/).waitFor();
    await check(pro, "pro@ /account/plan");
    await pro.goto(`${baseUrl}/account/billing`);
    await pro
      .getByText(/Renews /)
      .first()
      .waitFor();
    await check(pro, "pro@ /account/billing");

    const summary = (filter: (f: Finding) => boolean) =>
      Object.fromEntries(
        Object.entries(found).map(([k, v]) => [
          k,
          v.filter(filter).map((f) => `${f.id} (${f.impact}): ${f.target}`),
        ]),
      );
    console.log(
      `[e2e] axe, Clerk's own markup: ${JSON.stringify(
        summary((f) => !f.ours),
        null,
        1,
      )}`,
    );
    expect(summary((f) => f.ours)).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])));
  }, 120_000);
});
