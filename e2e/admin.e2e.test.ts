/**
 * The admin page and insights as people use them: search, plan change with a toast reaching the
 * user's open page live, admin granted through a confirmation, a readable audit log, 360 px; a
 * Pro user's chart and ranges, and a free user's preview with the way to Pro.
 */
import { describe, expect, inject, test } from "vitest";
import { chromiumForSuite, createAccount, screenshot, signIn, uniqueEmail } from "./browser";

const baseUrl = inject("spaUrl");
const { newPage } = chromiumForSuite();
const SMALL = { width: 360, height: 780 };

const noHorizontalScroll = (page: import("playwright-core").Page) =>
  page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);

describe("admin page", () => {
  test("search a fresh user, make them Pro, grant admin through the confirmation, read the log", async () => {
    const member = await newPage();
    const { email, password } = await createAccount(uniqueEmail("frankie"));
    await signIn(member, baseUrl, email, password);
    await member.getByText("Free", { exact: true }).waitFor();

    const admin = await newPage();
    await signIn(admin, baseUrl, "admin@gatehouse.test");
    await admin.goto(`${baseUrl}/admin`);
    await admin.getByRole("heading", { level: 1, name: "Administration" }).waitFor();
    await expect(admin.title()).resolves.toBe("Administration · Gatehouse");
    await expect(admin.getByRole("heading", { level: 1 }).count()).resolves.toBe(1);

    await admin.getByRole("searchbox").fill(email.toUpperCase());
    const planSelect = admin.getByLabel(`Plan of ${email}`);
    await planSelect.waitFor();
    // The search (sent after a short pause in typing) leaves that one user.
    await expect.poll(() => admin.locator("tbody tr").count()).toBe(1);

    // A plan change applies at once, with a toast; the member's open page turns Pro by itself.
    await planSelect.selectOption({ label: "Pro" });
    await admin.getByText(/is now on Pro\./).waitFor();
    await member.getByText("Pro", { exact: true }).waitFor({ timeout: 15_000 });

    // Granting admin asks first; Cancel changes nothing.
    const roleSelect = admin.getByLabel(`Role of ${email}`);
    await roleSelect.selectOption({ label: "Administrator" });
    const dialog = admin.getByRole("alertdialog", { name: "Grant administrator access?" });
    await dialog.waitFor();
    await expect(dialog.textContent()).resolves.toContain(email);
    await screenshot(admin, "admin-confirm");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    await expect(roleSelect.inputValue()).resolves.toBe("user");

    await roleSelect.selectOption({ label: "Administrator" });
    await dialog.getByRole("button", { name: "Make administrator" }).click();
    await admin.getByText(/is now an Administrator\./).waitFor();
    await expect.poll(() => roleSelect.inputValue(), { timeout: 15_000 }).toBe("admin");

    // The audit log: one line per change, Clerk's echo folded in.
    await admin.getByLabel("Person").selectOption({ value: await userIdOf(admin, email) });
    const log = admin.locator(".audit-list > li");
    await expect
      .poll(
        async () => (await log.allTextContents()).filter((t) => /changed .+’s (plan|role)/.test(t)).length,
        {
          timeout: 15_000,
        },
      )
      .toBe(2);
    await admin.getByText(/changed .+’s plan: Free → Pro/).waitFor();
    await admin.getByText(/changed .+’s role: Member → Administrator/).waitFor();
    await expect
      .poll(
        async () => (await log.allTextContents()).filter((t) => t.includes("confirmed by Clerk")).length,
        {
          timeout: 15_000,
        },
      )
      .toBe(2);
    // No separate line for Clerk's echo of those two changes.
    await expect(log.filter({ hasText: /Clerk updated .+ (plan|role):/ }).count()).resolves.toBe(0);
    await screenshot(admin, "admin-audit");

    await admin.setViewportSize(SMALL);
    await admin.getByRole("searchbox").fill("");
    await admin.waitForTimeout(500);
    await expect(noHorizontalScroll(admin)).resolves.toBe(true);
    await screenshot(admin, "admin-360");
  });
});

/** The Clerk id behind an email, from the Person filter's options. */
async function userIdOf(page: import("playwright-core").Page, email: string) {
  const option = page.getByLabel("Person").locator("option", { hasText: email });
  return (await option.getAttribute("value"))!;
}

describe("insights", () => {
  test("a Pro user sees the chart and switches the range", async () => {
    const page = await newPage();
    await signIn(page, baseUrl, "pro@gatehouse.test");
    await page.getByLabel("Title").fill(`Insightful ${Date.now()}`);
    await page.getByRole("button", { name: "Post" }).click();
    await page.getByRole("link", { name: "Insights" }).click();
    await page.getByRole("heading", { level: 1, name: "Insights" }).waitFor();
    await expect(page.title()).resolves.toBe("Insights · Gatehouse");
    await page.getByRole("img", { name: /in the last 30 days/ }).waitFor();
    await page.getByText(/^Last post: /).waitFor();
    await page.getByRole("button", { name: "7 days" }).click();
    await page.getByRole("img", { name: /in the last 7 days/ }).waitFor();
    await expect(page.getByRole("button", { name: "7 days" }).getAttribute("aria-pressed")).resolves.toBe(
      "true",
    );
    await screenshot(page, "insights-pro");
    await page.setViewportSize(SMALL);
    await expect(noHorizontalScroll(page)).resolves.toBe(true);
    await screenshot(page, "insights-360");
  });

  test("a free user sees a preview with the way to Pro", async () => {
    const page = await newPage();
    await signIn(page, baseUrl, "free@gatehouse.test");
    await page.goto(`${baseUrl}/insights`);
    await page.getByRole("heading", { name: "Insights with Pro" }).waitFor();
    await expect(page.getByRole("link", { name: "See plans" }).getAttribute("href")).resolves.toBe(
      "/pricing",
    );
    await screenshot(page, "insights-free-preview");
  });
});
